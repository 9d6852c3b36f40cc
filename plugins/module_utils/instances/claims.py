# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compute-side claims: the host re-checks a placement before anything is built.

The scheduler works from facts gathered a while ago, and two playbooks may
schedule onto one host at the same time. So, as Nova's compute host does,
the target re-checks in its exclusive section of the fleet state store (a row
lock on the host in PostgreSQL, the write lock in SQLite, held for the claim only):
what libvirt says now, plus the claims still in flight there, must leave
room for the request (pinned CPUs free, memory per cell, allocation ratios).
The check is the scheduler's own filters and NUMA fit run on that one host,
so a claim refuses exactly what scheduling would refuse.

A claim is recorded in the store with the domain XML it is for; until that
guest is defined, every later claim, from any controller, counts it as a guest.
The guest's metadata carries the claim id (``placement.claim``): once the
guest is defined, the claim is spent and dropped. A claim whose operation
died (a killed playbook) expires after its time to live.

A claim that pins CPUs first takes them out of the host's floating guests,
live and persistently, in the same exclusive section (scheduler/floating_pool.py
decides whether it may, libvirt/floating_pins.py does it): a pinned CPU is
never shared with a floating guest, even for the time of a build.

Under admission control (``host_failures_to_tolerate: 1``) the claim also
re-checks that every host of the fleet stays drainable with the placement made
(planning/admission.py, the scheduler's own check): two controllers may both
have passed admission on the same old facts. The section is then fleet-wide
(the store's claims lock), so claims on two different hosts decide one after
the other, and the check counts what the store knows at that moment: the
claims in flight on every host as guests there (host/claimed_guests.py), over
the facts the caller has of the other hosts, and libvirt now for this one. A
refusal names the host that would become undrainable, in admission control's
words, and leaves nothing behind (it comes before the claim is recorded and
before any CPU is taken from a floating guest). A build's claim whose guest
is defined is kept, spent, until it expires (``spend``), and counted on its
host unless the caller's facts list that guest or that host's libvirt no
longer defines it: a build finished before this claim began is seen too. So
is a move's (a live migration, a resize, an evacuation): a live migration's
or an evacuation's claim also names the host the guest left
(``moves_from``), whose facts, read before the move, no longer count the
guest, as they would if read now. A resize's source keeps its copy until
the resize is confirmed (Nova counts both), so its facts keep counting it;
after the confirm, facts read before it count the guest on both hosts (the
safe side) until they are read again or the claim expires. What it cannot
see: a spent claim older than its time to live.
"""

from __future__ import annotations

import copy
import uuid

from ansible_collections.vmfleet.compute.plugins.module_utils.cpuset import format_cpuset
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.host.claimed_guests import (
    with_claimed_guests, without_guests)
from ansible_collections.vmfleet.compute.plugins.module_utils.host.facts import gather_host_facts
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.domain_xml import parse_domain
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.floating_pins import take_cpus
from ansible_collections.vmfleet.compute.plugins.module_utils.planning.admission import OPTION, admission_control
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import SchedulerConfig, build_config
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.host_state import HostState
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import Scheduler
from ansible_collections.vmfleet.compute.plugins.module_utils.state.store import DEFAULT_CLAIM_TTL as DEFAULT_TTL


class ClaimFailed(VmfleetError):
    """The host cannot take the request now. A playbook's retry excludes the host
    (schedule's ``hints.retry_exclude``) and schedules again."""

    def __init__(self, host, reasons):
        message = "claim failed on %s: %s" % (host, "; ".join(reasons) or "the host refused the request")
        super().__init__(message, claim_failed=True, host=host, reasons=list(reasons), retry_exclude=[host])
        self.host = host


class Claim(object):
    """Resources held on one host for one guest that is about to be defined there."""

    def __init__(self, claim_id, host, placement, domain_xml, facts, repinned=None):
        self.id = claim_id
        self.host = host              # host name
        self.placement = placement    # Placement.to_dict() plus "claim": id
        self.domain_xml = domain_xml  # what will be defined
        self.facts = facts            # the host's facts at claim time, earlier claims included
        self.repinned = repinned or {}  # floating guest -> host CPUs the claim took out of its set

    def to_dict(self):
        return {"id": self.id, "host": self.host, "placement": self.placement}

    def actions(self):
        """What the claim did to other guests, for the operation's report."""
        return ["took CPUs %s from floating guest %s" % (format_cpuset(cpus), guest)
                for guest, cpus in sorted(self.repinned.items())]


def _claim_of(guest):
    placement = (guest.get("metadata") or {}).get("placement")
    return placement.get("claim") if isinstance(placement, dict) else None


def claim(conn, host, spec, render, scheduler_config=None, ttl=DEFAULT_TTL, *, fleet=None, moves_from=None):
    """Claim resources for ``spec`` (a RequestSpec) on ``host`` and return a ``Claim``.

    ``host``: ``{name, uri, config, store}`` (FleetHost.as_claim_target: config is host_config's normalized
    settings, store the fleet state store). ``render(placement, facts)`` returns the domain XML for the
    placement dict (which already holds the claim id under ``claim``). ``fleet``: the caller's Fleet (its
    facts of the other hosts, and their connections): with it, and ``host_failures_to_tolerate`` 1 in
    ``scheduler_config``, the claim re-checks admission control (module docstring); an evacuation's claims
    carry the setting 0 (admission control must not refuse them). ``moves_from``: the host the guest leaves
    when the move ends (its definition goes with it: a live migration, an evacuation), recorded with the claim
    for admission checks made after the claim is spent. Raises ClaimFailed when the host cannot take the
    request now; nothing is recorded then.
    """
    store = host["store"]
    config = scheduler_config if isinstance(scheduler_config, SchedulerConfig) else build_config(scheduler_config)
    # a forced build skips admission control, as it does in the scheduler
    admitting = fleet is not None and bool(config[OPTION]) and not spec.force
    with store.host_section(host["name"], fleet_wide=admitting) as section:
        spent = set(_claim_of(g) for g in _defined_guests(conn, section.claims)) - {None}
        for claim_id in spent:
            section.spend(claim_id)  # its guest is defined: libvirt counts it now
        pending = [parse_domain(c["domain_xml"]) for c in section.claims if c.get("domain_xml")]
        maintenance = {"store": store.url.describe(), "cordon": section.cordon, "journal": None, "draining": None}
        facts = gather_host_facts(conn, host["name"], host.get("uri"), host["config"], maintenance=maintenance,
                                  pending=pending)
        placement, state = _place_on(facts, spec, scheduler_config)
        if admitting:
            _admit(facts, spec, config, fleet, section)
        claim_id = str(uuid.uuid4())
        placement["claim"] = claim_id
        domain_xml = render(placement, facts)
        repinned = _take_from_floating(conn, state, spec.name)
        record = {"id": claim_id, "instance": spec.name, "domain_xml": domain_xml}
        if moves_from:
            record["moves_from"] = moves_from
        section.add(record, ttl=ttl)
    return Claim(claim_id, host["name"], placement, domain_xml, facts, repinned)


def _admit(facts, spec, config, fleet, section):
    """Admission control over the fleet as the store knows it now (module docstring): ``facts`` (this host,
    read now, its claims counted), the ``fleet``'s facts of the others with the claims of the ``section``'s
    ``elsewhere`` counted, and the guests that spent move claims say have left a host taken off its facts.
    Raises ClaimFailed naming the host that would become undrainable."""
    added, moved_away = {}, {}
    for other in fleet.facts_list():
        if other["name"] != facts["name"]:
            added[other["name"]] = _claimed_guests(fleet, other, section.elsewhere.get(other["name"]) or (),
                                                   moved_away)
    _moved_here(facts, section.spent, moved_away)
    hosts = []
    for other in fleet.facts_list():
        if other["name"] == facts["name"]:
            hosts.append(facts)
            continue
        hosts.append(with_claimed_guests(without_guests(other, moved_away.get(other["name"]) or set()),
                                         added[other["name"]]))
    if facts not in hosts:
        hosts.append(facts)
    control = admission_control(hosts, config)
    why = control(spec, facts["name"])
    if why is not None:
        failure = ClaimFailed(facts["name"], [why])
        failure.details["undrainable"] = control.refused_host
        raise failure


def _claimed_guests(fleet, facts, records, moved_away):
    """The guests (parsed domains) of ``records``, claims alive on the host of ``facts``, that its facts do not
    list: those in flight, and the spent ones whose guest that host's libvirt still defines (a guest deleted
    since, even by hand, is not counted; when the host cannot be asked, it is, to be safe). A spent move claim
    whose guest is on the host (counted here or listed by the facts) adds its UUID to ``moved_away`` under the
    host the guest left."""
    known = set(guest.get("uuid") for guest in facts.get("guests") or ())
    guests = []
    for record in records:
        try:
            guest = parse_domain(record["domain_xml"])
        except (KeyError, VmfleetError):
            continue  # an unreadable claim holds nothing (as on its own host)
        if guest["uuid"] not in known and record.get("spent") and not _still_defined(fleet, facts["name"], guest):
            continue  # gone from there since (deleted, or moved on)
        if record.get("spent"):
            _left_behind(record, facts["name"], guest["uuid"], moved_away)
        if guest["uuid"] not in known:
            guests.append(guest)
    return guests


def _moved_here(facts, spent, moved_away):
    """This host's spent move claims whose guest its facts (read now) list: taken off the facts of the host
    each left, which may have been read before the move."""
    here = set(guest.get("uuid") for guest in facts.get("guests") or ())
    for record in spent:
        try:
            uuid_text = parse_domain(record["domain_xml"])["uuid"]
        except (KeyError, VmfleetError):
            continue
        if uuid_text in here:
            _left_behind(record, facts["name"], uuid_text, moved_away)


def _left_behind(record, host, uuid_text, moved_away):
    """A spent move claim on ``host``, whose guest is there: the host it left (``moves_from``) holds it no more."""
    if record.get("moves_from") not in (None, host):
        moved_away.setdefault(record["moves_from"], set()).add(uuid_text)


def _still_defined(fleet, host, guest):
    libvirt = libvirt_client.libvirt
    try:
        return libvirt_client.or_none(fleet.conn(host).lookupByUUIDString, libvirt.VIR_ERR_NO_DOMAIN,
                                      guest["uuid"]) is not None
    except (libvirt.libvirtError, VmfleetError):
        return True  # the host does not answer: what it holds cannot be known


def _take_from_floating(conn, state, name):
    """Take the CPUs the claim pins out of the floating guests that may run on them (floating_pool.py).
    A failure refuses the claim: the guests already narrowed keep a smaller set, nothing is shared."""
    libvirt = libvirt_client.libvirt
    repinned = {}
    for guest, cpus in sorted(state.shrunk.get(name, {}).items()):
        try:
            take_cpus(conn, guest, cpus, state.floating[guest].cpus)
        except libvirt.libvirtError as exc:
            raise ClaimFailed(state.name, ["CPUs %s could not be taken from floating guest %s: %s"
                                           % (format_cpuset(cpus), guest, exc)])
        repinned[guest] = sorted(cpus)
    return repinned


def drop(host, claim_id):
    """Forget a claim (its operation gave up, or it needs no more counting)."""
    host["store"].drop_claim(host["name"], claim_id)


def spend(host, claim_id):
    """The claim's guest is defined: libvirt counts it on the host now; the store keeps the claim, spent, for
    the admission checks of claims on other hosts until it expires (module docstring)."""
    host["store"].spend_claim(host["name"], claim_id)


def forget_guest(host, guest):
    """``guest`` (a parsed domain) is deleted from ``host``: drop the spent claim its metadata names, if the store
    still keeps it, so that no admission check counts a guest that is gone."""
    claim_id = _claim_of(guest)
    if claim_id:
        drop(host, claim_id)


def _defined_guests(conn, claims):
    """The guests defined on the host for these claims (looked up by UUID: a claim is spent once its guest,
    carrying the claim id in its metadata, is defined)."""
    libvirt = libvirt_client.libvirt
    guests = []
    for claim_record in claims:
        try:
            uuid_text = parse_domain(claim_record["domain_xml"])["uuid"]
            guests.append(parse_domain(conn.lookupByUUIDString(uuid_text).XMLDesc(0)))
        except (KeyError, VmfleetError):
            continue  # an unreadable claim holds nothing (live_claims drops it)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                raise libvirt_client.unreachable(claim_record.get("host"), conn.getURI(), exc)
    return guests


def _place_on(facts, spec, scheduler_config):
    """The scheduler's filters and NUMA fit on this one host, with its current usage."""
    state = HostState.from_facts(facts)
    # the claim is for this host whatever the request's retry list says (the caller's spec is left alone)
    spec = copy.copy(spec)
    spec.force_host, spec.force, spec.retry_exclude = facts["name"], False, ()
    outcome = Scheduler([state], scheduler_config).place(spec)
    if outcome.placement is None:
        raise ClaimFailed(facts["name"], [str(verdict) for verdict in outcome.rejections] or [outcome.error])
    return outcome.placement.to_dict(), state
