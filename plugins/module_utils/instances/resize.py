# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resize (a cold migration with a new flavor) and cold migration, with
confirm and revert, as Nova does them.

resize: schedule the new flavor (in the source's availability zone; the
source host only with ``allow_resize_to_same_host``), claim on the
destination, shut the guest down, copy its disks (only the overlay of the
root disk, re-pointed at the destination's cached base image, which is
copied there first when missing), grow them to the new flavor, define the
guest there with the new flavor and a new NUMA placement, and start it when
it was running. The source definition and disks are left untouched: the
instance then waits in ``resized`` until

- confirm: the source definition and disks are deleted (its resources freed);
- revert: the destination copy is deleted and the original definition runs
  again on the source, with its flavor, pinning and disk content as before.

What a revert needs (the source host, its original XML, whether it ran) is
kept in the destination guest's metadata (``resize``), not in a database.
A failure part-way undoes what was done on the destination and leaves the
guest defined (and running, when it was) on its source; the error says so.
"""

from __future__ import annotations

import datetime

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.instances import claims
from ansible_collections.vmfleet.compute.plugins.module_utils.instances import move_destination
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.location import InstanceLocation
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.model import domain_xml
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import guest as guest_power
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import instance_metadata
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.domain_xml import parse_domain
from ansible_collections.vmfleet.compute.plugins.module_utils.state import journal as migration_journal
from ansible_collections.vmfleet.compute.plugins.module_utils.storage import pool_space
from ansible_collections.vmfleet.compute.plugins.module_utils.storage import volume_copy
from ansible_collections.vmfleet.compute.plugins.module_utils.storage import volumes as storage_volumes
from ansible_collections.vmfleet.compute.plugins.module_utils.storage.instance_disks import (
    base_image, create_disks, delete_guest_disks, disk_layout)

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


# --- resize ---------------------------------------------------------------------------------

def check_resize(old, new):
    """Nova's refusals: the same flavor (for a resize) and smaller disks."""
    for key, label in (("root_gb", "root disk"), ("ephemeral_gb", "ephemeral disk")):
        # Nova refuses a root_gb of 0 (the image's size) after a sized root disk too
        if new[key] < old[key]:
            raise InvalidInput("flavor.%s" % key, new[key], "%d or more (the current flavor %s has %d GiB)" % (
                old[key], old["name"], old[key]), reason="a resize cannot shrink the %s" % label)


def resize(fleet, located, *, flavor=None, allow_same_host=False, destination=None, scheduler_config=None,
           max_attempts=3, shutdown_timeout=60, confirm_window=0, seed=None, check_mode=False):
    """Resize (``flavor`` given) or cold-migrate (``flavor`` None) the instance at ``located`` (an
    InstanceLocation); returns the result dict."""
    located.require_managed(fleet)
    name = located.name
    old_flavor = located.metadata["flavor"]
    kind = "resize" if flavor is not None else "cold"
    if located.pending:
        if flavor in (None, located.metadata["flavor"]):
            return {"changed": False, "host": located.host, "migration": located.pending,
                    "actions": ["already resized to %s, waiting for confirm or revert" % located.host]}
        raise VmfleetError("%s has a resize waiting for confirm or revert (on %s): confirm or revert it first"
                           % (name, located.host), instance=name, host=located.host)
    if flavor is not None:
        if flavor == old_flavor:
            raise InvalidInput("flavor", flavor["name"], "a flavor other than the current one",
                               reason="%s already has this flavor (use no flavor to cold-migrate)" % name)
        check_resize(old_flavor, flavor)
    move_destination.check_host_devices(located, fleet)
    instance = move_destination.instance_from(located, flavor or old_flavor, scheduler_config)
    excluded, attempts = [], []
    while True:
        try:
            placement = move_destination.plan_destination(fleet, located, instance, allow_same_host, destination,
                                                          excluded, seed)
        except VmfleetError as exc:
            # the hosts tried already refused for reasons of their own: say those, not only "already tried"
            raise move_destination.no_host_left(exc, attempts, "%s of %s failed" % (kind, name), instance=name,
                                                host=located.host)
        try:
            missing = move_destination.references_missing(fleet.conn(placement["host"]), instance, placement["host"],
                                                          must_be_active=bool(located.domain.isActive()))
            if missing:
                raise claims.ClaimFailed(placement["host"], [missing])
            if check_mode:
                return {"changed": True, "host": located.host, "destination": placement["host"],
                        "placement": placement, "actions": ["%s %s from %s to %s" % (
                            kind, name, located.host, placement["host"])], "attempts": list(attempts)}
            result = _move(fleet, located, instance, placement["host"], kind, shutdown_timeout, confirm_window)
            result["attempts"] = attempts + [{"host": placement["host"], "result": "resized"}]
            return result
        except claims.ClaimFailed as failure:
            attempts.append({"host": placement["host"], "result": failure.message})
            excluded.append(placement["host"])
            if destination or len(attempts) >= max_attempts:
                failure.details.update(attempts=attempts)
                raise


def _move(fleet, located, instance, dest_name, kind, shutdown_timeout, confirm_window):
    source, dest = fleet.host(located.host), fleet.host(dest_name)
    same_host = source.name == dest.name
    src_conn, dst_conn = fleet.conn(source.name), fleet.conn(dest.name)
    # the inactive (persistent) definition is what a revert restores
    source_xml = located.domain.XMLDesc(libvirt_client.libvirt.VIR_DOMAIN_XML_INACTIVE)
    was_running = bool(located.domain.isActive())
    # what a run that finds this record interrupted needs to put things back (settle()): the power state,
    # the claim, the volumes this move may create on the destination
    record = migration_journal.new_record(instance.name, source.name, dest.name, kind,
                                          old_flavor=located.metadata["flavor"]["name"],
                                          new_flavor=instance.flavor["name"], uuid=located.guest["uuid"],
                                          power_state=guest_power.state_name(located.domain), same_host=same_host)
    prefix = "%s.resize-%s" % (instance.name, record["id"][:8]) if same_host else None
    disks = disk_layout(instance, dest, dst_conn, prefix)
    record["prepared_volumes"] = [{"pool": d["pool"], "volume": d["volume"]} for d in disks]
    confirm_after = None
    if confirm_window:
        confirm_after = (datetime.datetime.now(datetime.timezone.utc)
                         + datetime.timedelta(seconds=confirm_window)).strftime(_TIME_FORMAT)
    pending = {"migration_id": record["id"], "kind": kind, "source_host": source.name, "destination_host": dest.name,
               "same_host": same_host, "source_xml": source_xml, "source_was_running": was_running,
               "old_flavor": located.metadata["flavor"], "confirm_after": confirm_after}

    def render(placement, facts):
        return domain_xml(instance, facts, placement, disks, states.VM_RESIZED, extra_metadata={"resize": pending})

    claim = claims.claim(dst_conn, dest.as_claim_target(), instance.spec(), render, instance.scheduler_config,
                         fleet=fleet)
    record["claim_id"] = claim.id
    migration_journal.write(fleet.store, record)
    actions = ["claimed on %s" % dest.name] + claim.actions()
    undo = _Undo(fleet, located, dest, same_host, source_xml, was_running, claim)
    step = "shutting the guest down on %s" % source.name
    try:
        stopped = guest_power.stop(located.domain, source.name, shutdown_timeout)
        if stopped:
            actions.append("stopped on %s (%s)" % (source.name, stopped))
        step = "copying the disks to %s" % dest.name
        moved = _copy_disks(fleet, located, instance, source, dest, disks, undo)
        actions.extend(moved["actions"])
        step = "defining the guest on %s" % dest.name
        undo.defined = True
        dst_conn.defineXML(claim.domain_xml)
        actions.append("defined on %s" % dest.name)
        if was_running:
            step = "starting the guest on %s" % dest.name
            guest_power.start(dst_conn.lookupByName(instance.name), dest.name)
            actions.append("started on %s" % dest.name)
    except Exception as exc:  # pylint: disable=broad-except
        where = undo.run()
        reason = getattr(exc, "message", None) or str(exc)
        full = pool_space.shortfall(dst_conn, [d["pool"] for d in disks], dest.name, _bytes_to_copy(located, src_conn))
        message = "%s of %s from %s to %s failed while %s: %s. %s" % (
            kind, instance.name, source.name, dest.name, step, "%s (%s)" % (full, reason) if full else reason,
            where["msg"])
        # the upgrade preflight reports failed moves that left something behind
        migration_journal.update(fleet.store, record, status=states.ERROR, error=message,
                                 cleaned_up=not where["leftovers"], leftovers=where["leftovers"])
        raise VmfleetError(message, instance=instance.name, host=where["host"], running=where["running"],
                           leftovers=where["leftovers"], migration=record)
    # kept, spent, for admission checks on facts read before the move (claims.py)
    claims.spend(dest.as_claim_target(), claim.id)
    migration_journal.update(fleet.store, record, status=states.FINISHED,
                             data_bytes=moved["bytes"], finished_at=None)
    return {"changed": True, "host": dest.name, "source": source.name, "destination": dest.name,
            "placement": claim.placement, "migration": record, "actions": actions, "domain_xml": claim.domain_xml}


def _bytes_to_copy(located, src_conn):
    """What the copy writes on the destination: the data the guest's disks hold on the source."""
    total = 0
    for disk in located.guest["disks"]:
        if disk["device"] == "disk" and disk.get("source"):
            try:
                total += storage_volumes.describe(src_conn.storageVolLookupByPath(disk["source"]))["allocation_bytes"]
            except libvirt_client.libvirt.libvirtError:
                continue  # not in a pool: not copied by volume either
    return total


def _copy_disks(fleet, located, instance, source, dest, disks, undo):
    """Copy each source disk to its new volume (the root as an overlay on the destination's base), grow it,
    and create the disks the new flavor adds."""
    src_conn, dst_conn = fleet.conn(source.name), fleet.conn(dest.name)
    by_target = dict((d["target"], d) for d in located.guest["disks"] if d["device"] == "disk")
    actions, copied = [], 0
    base = base_image(fleet, instance, dest, disks[0]["pool"], check_mode=False)
    if base["action"] != "cached":
        actions.append("base image %s %s to %s" % (instance.image["name"], base["action"], dest.name))
    for disk in disks:
        pool = storage_volumes.active_pool(dst_conn, disk["pool"], dest.name)
        old = by_target.get(disk["target"])
        if old is None:
            undo.volumes.append(disk)
            create_disks(dst_conn, [disk], base["path"], dest.name)
            actions.append("created %s on %s" % (disk["volume"], dest.name))
            continue
        src_volume = storage_volumes.volume_at(src_conn, old["source"], "disk %s of %s" % (
            disk["target"], instance.name))
        described = storage_volumes.describe(src_volume)
        undo.volumes.append(disk)
        result = volume_copy.copy_volume(src_volume, pool, disk["volume"],
                                         backing_path=base["path"] if described["backing_path"] else None)
        copied += result["bytes"]
        actions.append("copied %s to %s:%s (%d bytes)" % (old["source"], dest.name, disk["volume"], result["bytes"]))
        if disk["capacity_bytes"] > described["capacity_bytes"]:
            storage_volumes.grow(storage_volumes.lookup(pool, disk["volume"]), disk["capacity_bytes"])
            actions.append("grew %s to %d GiB" % (disk["volume"], disk["capacity_bytes"] // 1024 ** 3))
    return {"actions": actions, "bytes": copied}


class _Undo(object):
    """Puts things back after a failed move: the destination's guest and volumes go, the claim is dropped,
    the source definition is restored and started again when it ran. Best effort on the destination
    (it may be the part that failed); what could not be removed is reported."""

    def __init__(self, fleet, located, dest, same_host, source_xml, was_running, claim):
        self.fleet, self.located, self.dest = fleet, located, dest
        self.same_host, self.source_xml, self.was_running, self.claim = same_host, source_xml, was_running, claim
        self.volumes, self.defined = [], False

    def run(self):
        libvirt = libvirt_client.libvirt
        leftovers = []
        name = self.located.guest["name"]
        try:
            conn = self.fleet.conn(self.dest.name)
            if self.defined and not self.same_host:
                _remove_domain(conn, name)
            for disk in self.volumes:
                storage_volumes.delete(storage_volumes.active_pool(conn, disk["pool"], self.dest.name), disk["volume"])
        except (VmfleetError, libvirt.libvirtError) as exc:
            what = (["the guest definition"] if self.defined and not self.same_host else []) + [
                "volume %s" % d["volume"] for d in self.volumes]
            leftovers.append("%s on %s could not be cleaned up (%s): remove %s there if present" % (
                name, self.dest.name, getattr(exc, "message", None) or exc, ", ".join(what) or "nothing"))
        try:
            claims.drop(self.dest.as_claim_target(), self.claim.id)
        except VmfleetError as exc:
            leftovers.append(exc.message)
        source = self.located.host
        src_conn = self.fleet.conn(source)
        domain = src_conn.defineXML(self.source_xml)  # the source as it was (same host: replaces the new one)
        running = False
        if self.was_running:
            guest_power.start(domain, source)
            running = True
        return {"host": source, "running": running, "leftovers": leftovers,
                "msg": "%s is defined on its source %s%s%s" % (
                    name, source, " and running again" if running else " (shut off, as it was)",
                    "; " + "; ".join(leftovers) if leftovers else "")}


def _remove_domain(conn, name):
    """Remove the guest ``name`` from a host when it is defined there."""
    domain = guest_power.find(conn, name)
    if domain is not None:
        guest_power.undefine(domain)


# --- a move whose run died -------------------------------------------------------------------

def settle(fleet, record):
    """Settle a resize or cold migration left ``migrating`` by a run that died (``record``: its journal
    record): when its copy was defined on the destination the move waits for confirm or revert as usual (and
    runs there when the guest ran); otherwise what it made on the destination goes, its claim is dropped and
    the guest runs again on its source when it ran before. Returns a line saying what was found."""
    name, source, dest = record["guest"], record["source"], record["destination"]
    dst_conn = fleet.conn(dest)
    copy = guest_power.find(dst_conn, uuid=record["uuid"])
    ran = record.get("power_state") in states.LIVE_GUEST_STATES
    if copy is not None and (_pending_of(copy) or {}).get("migration_id") == record["id"]:
        if ran:
            guest_power.start(copy, dest)
        _drop_claim(fleet, record)
        migration_journal.update(fleet.store, record, status=states.FINISHED, finished_at=None)
        return "%s: the interrupted %s to %s had defined its copy there; it waits for confirm or revert" % (
            name, record["kind"], dest)
    leftovers = _delete_prepared(fleet, record, copy)
    _drop_claim(fleet, record)
    domain = guest_power.find(fleet.conn(source), uuid=record["uuid"])
    if domain is None:
        where = "%s is not defined on its source %s: look for it with virsh list --all" % (name, source)
    else:
        if ran:
            guest_power.start(domain, source)
        where = "%s is %s on its source %s%s" % (
            name, guest_power.state_name(domain), source, ", as before" if ran == guest_power.is_active(domain)
            else "")
    message = "interrupted (the run that started it ended without recording the outcome). %s%s" % (
        where, "; left behind: " + "; ".join(leftovers) if leftovers else ", and nothing is left on %s" % dest)
    migration_journal.update(fleet.store, record, status=states.ERROR, error=message,
                             cleaned_up=not leftovers, leftovers=leftovers)
    return "%s: %s" % (name, message)


def clean_leftovers(fleet, record):
    """Remove what a failed resize or cold migration left on a destination that could not be cleaned then
    (its volumes, its claim), once the guest is not there. True when the record is clean."""
    libvirt = libvirt_client.libvirt
    if not record.get("uuid") or record.get("destination") in fleet.unreachable:
        return False  # a record of an earlier version: it does not say what it made
    try:
        copy = guest_power.find(fleet.conn(record["destination"]), uuid=record["uuid"])
        if copy is not None and not record.get("same_host"):
            return False  # the guest is there (it may have moved later): its disks are not leftovers
        left = _delete_prepared(fleet, record, copy)
    except (VmfleetError, libvirt.libvirtError):
        return False
    _drop_claim(fleet, record)
    migration_journal.update(fleet.store, record, cleaned_up=not left, leftovers=left)
    return not left


def _pending_of(domain):
    return (parse_domain(domain.XMLDesc(0)).get("metadata") or {}).get("resize")


def _delete_prepared(fleet, record, copy):
    """Delete the volumes the move may have made on its destination; what could not be deleted. On another
    host they are the guest's own names, so only while no copy of the guest is defined there."""
    dest = record["destination"]
    conn, left = fleet.conn(dest), []
    # by name too: a guest of that name built again since (another uuid) owns volumes of these names
    if not record.get("same_host") and (copy is not None or guest_power.find(conn, record["guest"]) is not None):
        return ["%s is defined on %s: its volumes there were kept" % (record["guest"], dest)]
    for item in record.get("prepared_volumes") or ():
        try:
            storage_volumes.delete(storage_volumes.active_pool(conn, item["pool"], dest), item["volume"])
        except VmfleetError as exc:
            left.append("volume %s in pool %s on %s (%s)" % (item["volume"], item["pool"], dest, exc.message))
    return left


def _drop_claim(fleet, record):
    if record.get("claim_id"):
        claims.drop(fleet.host(record["destination"]).as_claim_target(), record["claim_id"])


# --- confirm / revert -----------------------------------------------------------------------

def _finish_metadata(domain, metadata, vm_state):
    """Rewrite the guest's metadata without the pending resize."""
    libvirt = libvirt_client.libvirt
    data = dict((k, v) for k, v in metadata.items() if k != "resize")
    data["state"] = {"vm_state": vm_state, "task": None}
    flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG | (libvirt.VIR_DOMAIN_AFFECT_LIVE if domain.isActive() else 0)
    domain.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, instance_metadata.render(data),
                       instance_metadata.PREFIX, instance_metadata.NAMESPACE, flags)


def _journal_finish(fleet, pending, status):
    record = migration_journal.load(fleet.store, pending["migration_id"])
    if record is not None:
        migration_journal.update(fleet.store, record, status=status)


def confirm(fleet, located, check_mode=False):
    """Delete the source's definition and disks of a pending resize (``located``: an InstanceLocation)."""
    located.require_managed(fleet)
    name = located.name
    pending = located.pending
    if not pending:
        return {"changed": False, "host": located.host, "actions": []}
    if check_mode:
        return {"changed": True, "host": located.host, "actions": ["confirm: delete the source copy on %s"
                                                                   % pending["source_host"]]}
    source_guest = parse_domain(pending["source_xml"])
    src_conn = fleet.conn(pending["source_host"])
    if pending["same_host"]:
        keep = set(d["source"] for d in located.guest["disks"])
        delete_guest_disks(src_conn, source_guest, keep)
    else:
        source = located.source_copy()
        if source and source[1].isActive():
            raise VmfleetError("the source copy of %s on %s is running: something started it after the resize; "
                               "stop it, then confirm" % (name, source[0]), instance=name, host=source[0])
        if source:
            source[1].undefine()
        delete_guest_disks(src_conn, source_guest)
    _finish_metadata(located.domain, located.metadata, states.VM_ACTIVE)
    _journal_finish(fleet, pending, states.CONFIRMED)
    return {"changed": True, "host": located.host,
            "actions": ["confirmed: source copy deleted from %s" % pending["source_host"]]}


def revert(fleet, located, check_mode=False):
    """Delete the destination copy and run the original again on the source (``located``: an InstanceLocation)."""
    located.require_managed(fleet)
    pending = located.pending
    if not pending:
        return {"changed": False, "host": located.host, "actions": []}
    source = pending["source_host"]
    if check_mode:
        return {"changed": True, "host": source, "actions": ["revert: back to %s" % source]}
    guest_power.undefine(located.domain)
    keep = set(d["source"] for d in parse_domain(pending["source_xml"])["disks"]) if pending["same_host"] else ()
    delete_guest_disks(fleet.conn(located.host), located.guest, keep)
    domain = fleet.conn(source).defineXML(pending["source_xml"])
    actions = ["deleted the resized copy on %s" % located.host, "restored on %s" % source]
    if pending["source_was_running"]:
        guest_power.start(domain, source)
        actions.append("started on %s" % source)
    _journal_finish(fleet, pending, states.REVERTED)
    return {"changed": True, "host": source, "actions": actions}


def confirm_if_due(fleet, located, now=None):
    """Nova's resize_confirm_window: confirm a pending resize whose window has passed; the actions taken
    (the caller locates the instance again when there are any)."""
    due = (located.pending or {}).get("confirm_after")
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if due and datetime.datetime.strptime(due, _TIME_FORMAT).replace(tzinfo=datetime.timezone.utc) <= now:
        return ["auto-confirmed (resize_confirm_window passed at %s)" % due] + confirm(fleet, located)["actions"]
    return []


# --- the resize module's states -------------------------------------------------------------

def ensure_resize(fleet, name, *, state=states.RESIZED, flavor=None, allow_same_host=False, destination=None,
                  scheduler_config=None, max_attempts=3, shutdown_timeout=60, confirm_window=0, seed=None,
                  check_mode=False):
    """Resize or cold-migrate instance ``name`` (``state`` resized), or confirm or revert its pending resize;
    a pending resize whose ``confirm_window`` passed is confirmed first. Returns the result dict."""
    location = InstanceLocation(fleet, name)
    actions = [] if check_mode else confirm_if_due(fleet, location)
    if actions:
        location = InstanceLocation(fleet, name)
    if state == states.CONFIRMED:
        result = confirm(fleet, location, check_mode)
    elif state == states.REVERTED:
        result = revert(fleet, location, check_mode)
    else:
        result = resize(fleet, location, flavor=flavor, allow_same_host=allow_same_host, destination=destination,
                        scheduler_config=scheduler_config, max_attempts=max_attempts,
                        shutdown_timeout=shutdown_timeout, confirm_window=confirm_window, seed=seed,
                        check_mode=check_mode)
    result["actions"] = actions + result["actions"]
    result["changed"] = result["changed"] or bool(actions)
    return result
