# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of a host drain: libvirt's view of the host handed to the one planner.

The planner (planning/evacuation.py) is the one N+1 of the preflight asks too:
it places every guest of the host at once on the other hosts, constrained and
large guests first, and says why each guest it cannot move cannot (host
devices, a resize waiting for confirm or revert, a stale copy, created outside
the collection, no room). This module reads what it needs from libvirt now:
the host's guests, each one's copies on the other reachable hosts (a pending
resize, a stale copy), with what the resource tracker counts for them, and
turns the planner's answer into DrainItems. Running (and paused) guests are
live-migrated, the others cold-migrated. A guest that cannot be moved makes
the drain fail with the reasons, before anything moves, unless the caller
allows a partial drain.
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.host.resource_tracker import usage_of_guest
from ansible_collections.vmfleet.compute.plugins.module_utils.instances import move_destination
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.location import InstanceLocation
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.guest import state_name
from ansible_collections.vmfleet.compute.plugins.module_utils.planning.evacuation import plan_evacuation


class DrainItem(object):
    """One guest of the drained host: how it moves, where to, and what happened so far."""

    def __init__(self, name, kind, instance=None, destination=None, placement=None, refusal=None, source=None):
        self.name, self.kind, self.instance = name, kind, instance
        self.destination, self.placement, self.refusal = destination, placement, refusal
        self.source = source      # where it moves from, when the run moves guests of several hosts (a rebalance)
        self.attempts = []        # [{host, result}]
        self.result = None        # migrated | failed | not moved
        self.outcome = {}         # duration_s, downtime_ms, data_bytes, error, running_on

    def to_dict(self, source):
        return dict({
            "guest": self.name, "from": self.source or source, "to": self.destination, "kind": self.kind,
            "result": self.result or (states.GUEST_NOT_MOVED if self.refusal else states.GUEST_PLANNED),
            "attempts": list(self.attempts), "reason": self.refusal, "placement": self.placement,
            "duration_s": None, "downtime_ms": None, "data_bytes": None,
        }, **self.outcome)


def guests_on(fleet, host_name):
    """``[(name, domain, state)]`` of every guest libvirt lists on the host, in name order."""
    domains = fleet.conn(host_name).listAllDomains(0)
    listed = []
    for domain in domains:
        listed.append((domain.name(), domain, state_name(domain)))
    return sorted(listed, key=lambda entry: entry[0])


def plan_drain(fleet, host_name, scheduler_config=None, seed=None):
    """The DrainItems of every guest on ``host_name``, in name order; planned ones carry a destination and
    placement, the others a refusal (the caller decides whether that stops the drain)."""
    locations = {}
    guests = []
    for name, _domain, state in guests_on(fleet, host_name):
        location = InstanceLocation(fleet, name, fleet.reachable())
        locations[name] = location
        guests.extend(dict(guest, state=state) for host, _domain, _xml, guest in location.copies if host == host_name)
    plan = plan_evacuation(_libvirt_view(fleet, host_name, guests, locations), host_name,
                           scheduler_config=scheduler_config, seed=seed)
    items = []
    for move in plan.moves:
        item = DrainItem(move.name, move.kind, refusal=move.refusal)
        if move.request is not None:
            # what the executor moves it with (and plans a retry with): the Instance its metadata records
            location = locations[move.name]
            try:
                item.instance = move_destination.instance_from(location, location.metadata["flavor"],
                                                               scheduler_config)
            except VmfleetError as exc:
                # an interface the destination cannot re-create: the facts do not carry interfaces, so
                # only the drain sees this (N+1 does not)
                item.refusal, move.placement = exc.message, None
            else:
                item.instance.request["hints"]["availability_zone"] = move.request["hints"]["availability_zone"]
        if move.placement:
            item.placement, item.destination = move.placement, move.destination
        items.append(item)
    return items


def _libvirt_view(fleet, host_name, guests, locations):
    """The fleet's facts with libvirt's view of now where the plan needs it: the drained host's guests as
    listed (with what the tracker counts for them), and each one's copies on other hosts."""
    config = fleet.host(host_name).config
    tracked = [dict(guest, usage=_usage(guest, config)) for guest in guests]
    copies = {}
    for location in locations.values():
        for host, _domain, _xml, guest in location.copies:
            if host != host_name:
                copies.setdefault(host, []).append(guest)
    # a source never read (unreachable since the start) is still the host whose guests the plan moves
    listed = fleet.facts_list()
    if host_name not in set(facts["name"] for facts in listed):
        listed.append(fleet.host(host_name).facts)
    view = []
    for facts in listed:
        if facts["name"] == host_name:
            facts = dict(facts, guests=tracked)
        elif copies.get(facts["name"]):
            # libvirt's copy now, rather than the facts' (a resize may have been confirmed since)
            now = dict((guest["name"], guest) for guest in copies[facts["name"]])
            facts = dict(facts, guests=[guest for guest in facts.get("guests") or ()
                                        if guest.get("name") not in now] + list(now.values()))
        view.append(facts)
    return view


def _usage(guest, config):
    """What the resource tracker counts for the guest (the planner requests as much)."""
    if not guest.get("metadata"):
        return None  # the planner refuses it before it asks
    return usage_of_guest(guest, config)
