# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The evacuate module's states: ``evacuated`` (a failed host's guests rebuilt on the others) and ``cleaned``
(the host is back: its stale copies removed, its cordon lifted).

No guest may ever run twice. So an evacuation:

- needs the operator's word that the host is fenced (``fenced: true``: powered
  off, or its guests killed, and it will not come back with them running); the
  collection cannot see that from outside;
- refuses a host whose libvirtd answers, unless ``force`` (and then leaves alone
  every guest that libvirt says runs there);
- cordons the host first, with the reason ``evacuated``: when it comes back, the
  scheduler, claims and drains refuse it until ``state: cleaned``, which removes
  (destroying first, if something started them) the copies whose guest now runs
  elsewhere, then lifts that cordon. Nothing of the collection starts a guest
  defined on two hosts (the drain plan and the instance module refuse it), and
  the collection never marks a guest to autostart; a guest someone set to
  autostart starts with its libvirtd, before anything can clean it: fence such a
  host until it is cleaned.

Re-running is safe: a guest defined on a reachable host already is not
evacuated again, and a host already cordoned keeps its cordon.

Admission control does not refuse an evacuation: the result's
``failover_capacity`` says whether the fleet, the failed host gone and its
guests placed, still tolerates another host failure (failover.py).
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.evacuation import failover
from ansible_collections.vmfleet.compute.plugins.module_utils.evacuation import plan as evacuation_plan
from ansible_collections.vmfleet.compute.plugins.module_utils.evacuation import rebuild
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import guest as guest_power
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.domain_xml import parse_domain
from ansible_collections.vmfleet.compute.plugins.module_utils.migration.storage import shares_storage
from ansible_collections.vmfleet.compute.plugins.module_utils.state import cordon as host_cordon
from ansible_collections.vmfleet.compute.plugins.module_utils.state import journal as migration_journal
from ansible_collections.vmfleet.compute.plugins.module_utils.storage import volumes as storage_volumes

CORDON_REASON = ("%s: its guests were rebuilt on other hosts; run vmfleet.compute.evacuate state=cleaned once it "
                 "is back, before anything starts its old copies" % states.EVACUATED_CORDON_REASON)
_COUNTED = (states.GUEST_EVACUATED, states.GUEST_REBUILT, states.GUEST_NOT_EVACUATED, states.GUEST_ALREADY_ELSEWHERE,
            states.GUEST_FAILED, states.GUEST_PLANNED)


def evacuate(fleet, host, *, fenced, allow_rebuild=False, force=False, scheduler_config=None, seed=None,
             max_attempts=3, by=None, check_mode=False):
    """Rebuild the guests of the failed ``host`` on the other hosts of ``fleet`` (module docstring); returns the
    result dict: ``guests`` (one entry per guest remembered), ``summary``, ``cordon``, ``remembered_at``."""
    if fenced is not True:
        raise InvalidInput("fenced", fenced, "true, once %s is fenced (powered off, or its guests killed, and it "
                                             "will not come back with them running)" % host,
                           reason="evacuating a host that is not fenced could run its guests twice")
    fleet.host(host, "host")
    fleet.refresh()
    active = _active_on(fleet, host, force)
    settled, held = _settle(fleet, host, check_mode)
    remembered = fleet.store.remembered_guests(host)
    if remembered is None:
        raise VmfleetError("the fleet state store (%s) has no record of the guests of %s: its facts were never read "
                           "with this store, so nothing can be rebuilt; nothing was changed"
                           % (fleet.store.url.describe(), host), host=host)
    evacuees = evacuation_plan.plan(fleet, host, remembered["guests"], allow_rebuild=allow_rebuild,
                                    active_on_source=active, held=held, scheduler_config=scheduler_config,
                                    seed=seed)
    cordon_changed, cordon = _cordon(fleet.store, host, by, check_mode)
    if not check_mode:
        for evacuee in evacuees:
            if evacuee.placement and evacuee.result is None:
                try:
                    rebuild.run(fleet, host, evacuee, scheduler_config=scheduler_config, max_attempts=max_attempts,
                                seed=seed)
                except VmfleetError as exc:
                    evacuee.result, evacuee.error = states.GUEST_FAILED, exc.message
    capacity = _failover_capacity(fleet, host, evacuees, scheduler_config, check_mode)
    guests = [e.to_dict(host) for e in evacuees]
    failed = [g for g in guests if g["result"] == states.GUEST_FAILED]
    changed = cordon_changed or any(g["result"] in (states.GUEST_EVACUATED, states.GUEST_REBUILT, states.GUEST_PLANNED)
                                    for g in guests)
    result = {"changed": changed or bool(settled), "host": host, "state": states.EVACUATED, "guests": guests,
              "settled": settled,
              "summary": _summary(guests), "cordon": cordon, "remembered_at": remembered["seen_at"],
              "failover_capacity": capacity,
              "warnings": ["%s was not evacuated: %s" % (g["guest"], g["reason"]) for g in guests
                           if g["result"] == states.GUEST_NOT_EVACUATED]}
    lost = failover.warning(host, capacity)
    if lost:
        result["warnings"].append(lost)
    if failed:
        result.update(failed=True, msg="evacuation of %s: %d guest(s) could not be defined on another host (%s); "
                                       "they run nowhere; the others are listed in guests" % (
                                           host, len(failed), "; ".join(g["error"] for g in failed)))
    return result


def _failover_capacity(fleet, host, evacuees, scheduler_config, check_mode):
    """failover.py's answer for the fleet without ``host``: in check mode, the facts with the plan's placements
    made; otherwise the facts read again now, the guests defined."""
    others = [name for name in fleet.reachable() if name != host]
    placements = ()
    if check_mode:
        placements = [placement for _rank, placement in sorted(
            (e.scheduled for e in evacuees if e.scheduled is not None), key=lambda pair: pair[0])]
    else:
        fleet.refresh(others)
    facts = [f for f in fleet.facts_list() if f["name"] in others and f["name"] not in fleet.unreachable]
    return failover.failover_capacity(facts, scheduler_config, placements)


def _settle(fleet, host, check_mode):
    """Finish the journal records an interrupted run left ``migrating``: a guest defined on its destination is
    evacuated (started there when it was to be, and is not), one defined nowhere was not. Returns what was
    found, as sentences, and ``{guest: reason}`` of those held back: their destination does not answer, so
    whether they are defined there is not known."""
    found, held = [], {}
    for record in migration_journal.read(fleet.store, host, statuses=states.IN_FLIGHT_STATUSES):
        if record.get("kind") != states.EVACUATION or record.get("source") != host or \
                record.get("status") != states.MIGRATING:
            continue
        name, dest = record["guest"], record.get("destination")
        if dest not in fleet.reachable():
            held[name] = "an interrupted evacuation to %s may have defined it there, and %s does not answer: run " \
                         "again once it does" % (dest, dest)
            continue
        if check_mode:
            found.append("%s: an interrupted evacuation to %s is to be settled" % (name, dest))
            continue
        copies = dict(fleet.find_domains(name, [dest]))
        if dest not in copies:
            migration_journal.update(fleet.store, record, status=states.ERROR, cleaned_up=True,
                                     error="interrupted before %s was defined on %s" % (name, dest))
            found.append("%s: an interrupted evacuation to %s had not defined it" % (name, dest))
            continue
        started = record.get("start") and guest_power.start(copies[dest], dest)
        migration_journal.update(fleet.store, record, status=states.COMPLETED)
        found.append("%s: an interrupted evacuation had defined it on %s%s" % (
            name, dest, ", started now" if started else ""))
    return found, held


def _active_on(fleet, host, force):
    """The guests libvirt of ``host`` says are running; refuses a host that answers, unless ``force``."""
    if host in fleet.unreachable:
        return set()
    if not force:
        raise VmfleetError("host %s answers at %s: its guests may still run there, and evacuating them would run "
                           "them twice. Evacuate only a host whose libvirtd is down, or set force: true once it is "
                           "fenced; nothing was changed" % (host, fleet.host(host).uri), host=host)
    return set(domain.name() for domain in fleet.conn(host).listAllDomains(0) if domain.isActive())


def _cordon(store, host, by, check_mode):
    changed, _before, after = host_cordon.set_state(store, states.CORDONED, host, CORDON_REASON, by,
                                                    check_mode=check_mode)
    return changed, after


def _summary(guests):
    counts = dict((result.replace(" ", "_"), sum(1 for g in guests if g["result"] == result)) for result in _COUNTED)
    counts.update(guests=len(guests), data_lost=sum(1 for g in guests if g["data_lost"]))
    return counts


# --- the host is back: state cleaned -----------------------------------------------------------------

def clean(fleet, host, *, check_mode=False):
    """Remove the copies left on ``host`` of the guests evacuated from it that are defined on another host now,
    then lift the evacuation's cordon when none is left; returns the result dict (``cleaned``, ``kept``)."""
    fleet.host(host, "host")
    fleet.refresh()
    if host in fleet.unreachable:
        raise VmfleetError("host %s does not answer (%s): clean its stale guests once its libvirtd is back; nothing "
                           "was changed" % (host, fleet.host(host).facts["config"].get("disabled_reason")), host=host)
    others = [name for name in fleet.reachable() if name != host]
    conn = fleet.conn(host)
    cleaned, kept = [], []
    for record in _evacuations_from(fleet.store, host):
        name = record["guest"]
        domain = guest_power.find(conn, name)
        if domain is None:
            if not check_mode:
                migration_journal.update(fleet.store, record, cleaned_at=migration_journal.now_text())
            continue
        copies = fleet.find_domains(name, others)
        if not copies:
            kept.append({"guest": name, "reason": "no other host of the fleet has it defined (deleted since, or "
                                                  "its host is down): this copy may be the only one; remove it or "
                                                  "start it by hand"})
            continue
        entry = {"guest": name, "how": record.get("how"), "running_on": copies[0][0],
                 "destroyed": bool(domain.isActive()), "deleted_disks": [], "kept_disks": []}
        stale = parse_domain(domain.XMLDesc(0))
        if record.get("how") == states.EVACUATE_REBUILD:
            entry["deleted_disks"], entry["kept_disks"] = _stale_disks(fleet, host, stale, copies[0])
        if not check_mode:
            guest_power.undefine(domain)
            for path in entry["deleted_disks"]:
                storage_volumes.delete_at(conn, path)
            migration_journal.update(fleet.store, record, cleaned_at=migration_journal.now_text())
        cleaned.append(entry)
    cordon = fleet.store.cordon(host)
    lift = bool(cordon) and not kept and (cordon.get("reason") or "").startswith(states.EVACUATED_CORDON_REASON)
    if lift and not check_mode:
        fleet.store.remove_cordon(host)
    result = {"changed": bool(cleaned) or lift, "host": host, "state": states.CLEANED, "cleaned": cleaned,
              "kept": kept, "cordon": None if lift else cordon}
    if kept:
        result["warnings"] = ["%s is kept on %s: %s" % (k["guest"], host, k["reason"]) for k in kept] + [
            "%s stays cordoned until every stale guest is cleaned" % host]
    return result


def _evacuations_from(store, host):
    """The latest completed evacuation record of each guest evacuated from ``host`` and not yet cleaned."""
    latest = {}
    for record in migration_journal.read(store, host):
        if record.get("kind") == states.EVACUATION and record.get("source") == host and \
                record.get("status") == states.COMPLETED:
            latest[record["guest"]] = record  # oldest first: the last one wins
    return [record for _name, record in sorted(latest.items()) if not record.get("cleaned_at")]


def _stale_disks(fleet, host, stale, copy):
    """The disk files of a rebuilt guest's old copy to delete (its data was declared lost when it was rebuilt),
    and those kept because the new copy uses the same file (a folder the two hosts share)."""
    copy_host, copy_domain = copy
    in_use = set(d["source"] for d in parse_domain(copy_domain.XMLDesc(0))["disks"] if d.get("source"))
    delete, keep = [], []
    for disk in stale["disks"]:
        if disk["device"] != "disk" or disk["type"] != "file" or not disk["source"]:
            continue
        path = disk["source"]
        shared = path in in_use and shares_storage(fleet.conn(host), fleet.conn(copy_host), path)
        (keep if shared else delete).append(path)
    return delete, keep
