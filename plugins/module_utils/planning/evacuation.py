# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where every guest of one host would go if the host were emptied now: the one planner.

A drain plans with it (maintenance/drain_plan.py hands it libvirt's view of the
host), the preflight's N+1 asks it for every host (upgrade_checks/drain.py), so
"N+1 says drainable" means "the drain's plan places every guest". It is pure over
host facts and costs one scheduler batch over the other hosts, so admission
control may ask it too.

Per guest of ``source`` the plan holds its placement, or why it cannot move:

- created outside the collection (no metadata: no flavor to move it with);
- a resize of it waits for confirm or revert (this copy is the resized one, or a
  copy on another host is);
- defined on another host too, without a pending resize (a stale copy);
- host devices (no destination can be checked to offer the same devices);
- its recorded flavor or image is not a valid request;
- no other host takes it (the scheduler's refusals of every host).

How the batch is placed, and why:

- On the other hosts only, as one batch: two guests never count on the same free
  CPUs, and a server group's members see where the others went (an affinity
  group moves together). Each guest stays in the source's availability zone.
- Hardest first: guests that need a NUMA fit (pinned CPUs, hugepages, guest NUMA
  cells, PCI devices), then by memory, vCPUs and disk, largest first, then by
  name. Placing the large and constrained guests while the hosts are emptiest is
  what lets a batch that fits be placed (first-fit decreasing); the name makes
  ties deterministic.
- A planned move is not an I/O operation in flight: IoOpsFilter still refuses a
  destination whose builds and migrations in flight (the facts' ``io_ops``) reach
  ``max_io_ops_per_host``, but the moves of this plan do not add to that count,
  because the drain's executor runs them a few at a time (``max_parallel_inbound``
  per destination, ``max_parallel`` overall) and the scheduler checks the
  destination again, with the migrations really in flight, when each one starts.
  Counting all of them at once refused a host of 30 small guests in a fleet with
  room for hundreds (max_io_ops_per_host 8). They do count as instances
  (NumInstancesFilter) and as used resources.
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.planning.guest_request import guest_request
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import SchedulerConfig, build_config
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import build_request_spec
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import (
    Scheduler, build_hosts, collector_paused)


class GuestMove(object):
    """One guest of the emptied host: how it would move (``kind``: live or cold), its ``request``
    (None when refused before scheduling), and its ``placement`` (a dict) or ``refusal`` (a sentence)."""

    __slots__ = ("name", "kind", "request", "placement", "refusal", "by_hand", "fits_nowhere")

    def __init__(self, name, kind, request=None, refusal=None, by_hand=False):
        self.name, self.kind, self.request = name, kind, request
        self.placement, self.refusal = None, refusal
        self.by_hand = by_hand  # refused because the collection does not manage it: an operator moves it
        self.fits_nowhere = False  # refused by the scheduler (every other host said why), not before it

    @property
    def destination(self):
        return self.placement["host"] if self.placement else None

    def named_refusal(self):
        """The refusal as a sentence that names the guest (the scheduler's and most others do already)."""
        if self.refusal is None or self.fits_nowhere or self.refusal.startswith(self.name + " "):
            return self.refusal
        return "%s: %s" % (self.name, self.refusal)


class Evacuation(object):
    """The plan: ``moves`` in the guests' name order."""

    def __init__(self, source, moves):
        self.source, self.moves = source, moves

    @property
    def placed(self):
        return [move for move in self.moves if move.placement]

    @property
    def refused(self):
        return [move for move in self.moves if move.refusal]

    @property
    def drainable(self):
        """True when every guest has a destination (a host without guests is drainable)."""
        return not self.refused


def plan_evacuation(hosts, source, *, scheduler_config=None, seed=None):
    """The ``Evacuation`` of host ``source`` onto the other ``hosts`` (facts dicts; the source's own
    facts carry its guests as docs/host-facts.md describes them). ``scheduler_config``: a dict as the
    ``schedule`` module takes it, or a built SchedulerConfig. Raises InvalidInput when ``source`` is not
    one of ``hosts`` or the scheduler configuration is wrong."""
    by_name = dict((facts["name"], facts) for facts in hosts)
    if source not in by_name:
        raise InvalidInput("host", source, "one of the given hosts: %s" % ", ".join(sorted(by_name)))
    others = [facts for facts in hosts if facts["name"] != source]
    # a caller asking for many hosts (N+1, admission control) may build the configuration once
    config = scheduler_config if isinstance(scheduler_config, SchedulerConfig) else build_config(scheduler_config)
    zone = (by_name[source].get("config") or {}).get("availability_zone") or "default"
    own = sorted(by_name[source].get("guests") or (), key=lambda g: g["name"])
    elsewhere = _copies_elsewhere(others, set(guest["name"] for guest in own))
    other_names = sorted(facts["name"] for facts in others)
    moves, specs = [], []
    for guest in own:
        move = movable(guest, source, elsewhere.get(guest["name"], ()), other_names)
        moves.append(move)
        if move.refusal:
            continue
        move.request = guest_request(guest, zone)
        try:
            specs.append((build_request_spec(move.request, config.pci_aliases), move))
        except InvalidInput as exc:
            move.request = None  # never given to the scheduler
            move.refusal = "%s has a recorded flavor or image that is not a valid request (%s): fix its " \
                           "metadata" % (guest["name"], exc.message)
    if specs:
        _place(build_hosts(others), sorted(specs, key=lambda pair: placement_order(pair[0])), config, seed)
    return Evacuation(source, moves)


def placement_order(spec):
    """The key that orders a batch: constrained guests first, then the largest (module docstring)."""
    constrained = spec.numa_cells is not None or bool(spec.pci_requests)
    return (0 if constrained else 1, -spec.memory_mb, -spec.vcpus, -spec.disk_gb, spec.name)


def _place(host_states, ordered, config, seed):
    scheduler = Scheduler(host_states, config, seed)
    with collector_paused():
        for spec, move in ordered:
            outcome = scheduler.place(spec)
            if outcome.placement is None:
                move.refusal, move.fits_nowhere = outcome.error, True
                continue
            move.placement = outcome.placement.to_dict()
            # the scheduler counted the placement as an I/O operation in flight (a build); a planned move
            # is not one (module docstring): give it back, so only the facts' io_ops meet IoOpsFilter
            scheduler.by_name[move.placement["host"]].io_ops -= 1


def _copies_elsewhere(others, names):
    """guest name -> [(host name, guest)] for the guests of ``others`` named in ``names`` (only those: a
    fleet's every guest would cost more than the plan)."""
    found = {}
    for facts in others:
        for guest in facts.get("guests") or ():
            if guest.get("name") in names:
                found.setdefault(guest["name"], []).append((facts["name"], guest))
    return found


def movable(guest, source, copies, other_names):
    """A GuestMove without request, refused when the guest cannot move at all (module docstring)."""
    name = guest["name"]
    kind = states.LIVE if guest.get("state") in states.LIVE_GUEST_STATES else states.COLD
    metadata = guest.get("metadata") or {}
    if not metadata:
        return GuestMove(name, kind, by_hand=True, refusal=(
            "created outside the collection (no vmfleet metadata): move it by hand (virsh migrate) or delete it, "
            "then drain again"))
    state = metadata.get("state") if isinstance(metadata.get("state"), dict) else {}
    if metadata.get("resize") or state.get("vm_state") == states.VM_RESIZED:
        return GuestMove(name, kind, refusal="a resize of %s waits for confirm or revert: confirm or revert it "
                                             "first" % name)
    resized = [host for host, copy in copies if (copy.get("metadata") or {}).get("resize")]
    if resized:
        return GuestMove(name, kind, refusal="this is the source copy of a resize waiting on %s: confirm or "
                                             "revert it first" % resized[0])
    if copies:
        return GuestMove(name, kind, refusal="%s is defined on several hosts (%s) and no resize is pending: "
                                             "remove the stale copy" % (name, ", ".join(
                                                 sorted([source] + [host for host, _copy in copies]))))
    devices = guest.get("host_devices") or []
    if devices:
        return GuestMove(name, kind, refusal=(
            "%s has host devices (%s): none of %s can be checked to offer the same devices, so it cannot be "
            "moved; detach them first" % (
                name, ", ".join(d.get("address") or d.get("type") or "?" for d in devices),
                ", ".join(other_names) or "no other host")))
    return GuestMove(name, kind)
