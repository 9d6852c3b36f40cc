# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of a host drain: every guest of the host placed elsewhere at once.

The scheduler places all of them as one batch on the other hosts' current
facts, so two guests never count on the same free CPUs, and anti-affinity
groups see each other's new hosts. Running (and paused) guests are
live-migrated, the others cold-migrated. A guest that cannot be moved at
all (host devices, a resize waiting for confirm or revert, created outside
the collection) or that does not fit anywhere makes the plan fail with the
reasons, before anything moves, unless the caller allows a partial drain.
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.guest import state_name
from ansible_collections.vmfleet.compute.plugins.module_utils.instances import move_destination
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.location import InstanceLocation
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import schedule


class DrainItem(object):
    """One guest of the drained host: how it moves, where to, and what happened so far."""

    def __init__(self, name, kind, instance=None, destination=None, placement=None, refusal=None):
        self.name, self.kind, self.instance = name, kind, instance
        self.destination, self.placement, self.refusal = destination, placement, refusal
        self.attempts = []        # [{host, result}]
        self.result = None        # migrated | failed | not moved
        self.outcome = {}         # duration_s, downtime_ms, data_bytes, error, running_on

    def to_dict(self, source):
        return dict({
            "guest": self.name, "from": source, "to": self.destination, "kind": self.kind,
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
    """The DrainItems of every guest on ``host_name``; planned ones carry a destination and placement,
    the others a refusal (the caller decides whether that stops the drain)."""
    items, movable = [], []
    for name, _domain, state in guests_on(fleet, host_name):
        item = _classify(fleet, host_name, name, state, scheduler_config)
        items.append(item)
        if item.refusal is None:
            movable.append(item)
    specs = []
    zone = fleet.host(host_name).config.get("availability_zone") or "default"
    for item in movable:
        item.instance.request["hints"]["availability_zone"] = zone
        specs.append(item.instance.spec([host_name]))
    if specs:
        config = movable[0].instance.scheduler_config
        result = schedule(fleet.facts_list(), specs, config, seed)
        for item, outcome in zip(movable, result.outcomes):
            if outcome.placement is None:
                item.refusal = outcome.error
            else:
                item.placement = outcome.placement.to_dict()
                item.destination = item.placement["host"]
    return items


def _classify(fleet, host_name, name, state, scheduler_config):
    kind = states.LIVE if state in states.LIVE_GUEST_STATES else states.COLD
    location = InstanceLocation(fleet, name, fleet.reachable())
    here = [guest for host, _domain, _xml, guest in location.copies if host == host_name]
    metadata = (here[0].get("metadata") if here else None) or {}
    if not metadata:
        return DrainItem(name, kind, refusal="created outside the collection (no vmfleet metadata): move it by "
                                             "hand (virsh migrate) or delete it, then drain again")
    if location.pending:
        if location.host == host_name:
            return DrainItem(name, kind, refusal="a resize of %s waits for confirm or revert: confirm or revert "
                                                 "it first" % name)
        return DrainItem(name, kind, refusal="this is the source copy of a resize waiting on %s: confirm or "
                                             "revert it first" % location.host)
    try:
        location.require_managed(fleet)
        move_destination.check_host_devices(location, fleet)
    except VmfleetError as exc:
        return DrainItem(name, kind, refusal=exc.message)
    instance = move_destination.instance_from(location, metadata["flavor"], scheduler_config)
    return DrainItem(name, kind, instance=instance)
