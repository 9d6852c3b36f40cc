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
- When that batch leaves a guest without a host, the same batch is tried once
  more by first fit (``place_first_fit``): each guest, in the same order, on the
  first other host that takes it, the hosts taken in name order round from one
  that only the guest's name decides (``first_fit_start``: the arrivals spread,
  and a guest added to or taken from the batch moves no other guest's start).
  The weighers spread a drain's guests, but they normalise over all the hosts,
  so a change anywhere can change their plan; a first-fit plan depends only on
  the hosts it tries, in an order fixed by the names. That is what lets
  admission control (admission.py) know, without planning again, that a host
  whose first-fit plan puts nothing on the host a placement fills keeps the
  very same plan, and so the preflight's N+1, the drain and admission control
  ask one planner (weighed batch, else first fit) and get one answer. The
  weighed plan is kept whenever it places every guest (it spreads better).
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

import copy
import zlib

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.planning.guest_request import guest_request
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import SchedulerConfig, build_config
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import build_request_spec
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import (
    Outcome, Scheduler, build_hosts, collector_paused)


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
    moves, specs = guest_moves(by_name[source], others, config)
    if specs:
        ordered = sorted(specs, key=lambda pair: placement_order(pair[0]))
        _place(build_hosts(others), ordered, config, seed)
        if any(move.fits_nowhere for _spec, move in ordered):
            _first_fit_instead(build_hosts(others), first_fit_order(source, by_name), ordered, config)
    return Evacuation(source, moves)


def guest_moves(source, others, config, *, copies=None):
    """``(moves, [(RequestSpec, move), ...])`` for the guests of ``source`` (its facts) onto ``others``
    (facts): a GuestMove per guest in name order, refused when it cannot move at all, and the request
    of each one the scheduler is to place (not yet in placement order). ``copies``: ``guests_by_name``
    of the whole fleet, when the caller asks for many hosts (else read from ``others``)."""
    zone = (source.get("config") or {}).get("availability_zone") or "default"
    own = sorted(source.get("guests") or (), key=lambda g: g["name"])
    if copies is None:
        copies = guests_by_name(others, set(guest["name"] for guest in own))
    other_names = sorted(facts["name"] for facts in others) if any(g.get("host_devices") for g in own) else ()
    moves, specs = [], []
    for guest in own:
        elsewhere = [(host, copy) for host, copy in copies.get(guest["name"], ()) if host != source["name"]]
        move = movable(guest, source["name"], elsewhere, other_names)
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
    return moves, specs


def placement_order(spec):
    """The key that orders a batch: constrained guests first, then the largest (module docstring)."""
    constrained = spec.numa_cells is not None or bool(spec.pci_requests)
    return (0 if constrained else 1, -spec.memory_mb, -spec.vcpus, -spec.disk_gb, spec.name)


def _place(host_states, ordered, config, seed):
    scheduler = Scheduler(host_states, config, seed)
    with collector_paused():
        for (_spec, move), outcome in zip(ordered, place_moves(scheduler, [spec for spec, _move in ordered])):
            if outcome.placement is None:
                move.refusal, move.fits_nowhere = outcome.error, True
            else:
                move.placement = outcome.placement.to_dict()


def _first_fit_instead(host_states, order, ordered, config):
    """The first-fit plan of ``ordered`` (pairs of spec and move) when it places every guest: the
    weighed batch's refusals are then replaced; else they stay (its reasons name every host)."""
    with collector_paused():
        placed = list(place_first_fit(Scheduler(host_states, config, 0), order,
                                      [spec for spec, _move in ordered]))
    if len(placed) < len(ordered) or placed[-1].placement is None:
        return
    for (_spec, move), outcome in zip(ordered, placed):
        move.placement, move.refusal, move.fits_nowhere = outcome.placement.to_dict(), None, False


def first_fit_order(source, names):
    """The hosts other than ``source`` (of ``names``: any iterable of host names) in the order first fit
    goes round them: by name. Only names decide it, so the preflight (facts in inventory order) and
    admission control (hosts in schedule order) agree."""
    return sorted(name for name in set(names) if name != source)


def first_fit_start(name, count):
    """Where in a ``first_fit_order`` of ``count`` hosts first fit starts for the guest ``name``: a
    checksum of the name (the same in every process, unlike ``hash``), so that the guests of one host
    spread over the others, and a guest's start depends on nothing else."""
    return zlib.crc32(name.encode("utf-8")) % count


def place_first_fit(scheduler, order, ordered):
    """Yield the ``Outcome`` of each of the ``ordered`` specs placed as a move by first fit: each tries
    the hosts of ``order`` (``first_fit_order``) round from ``first_fit_start`` and takes the first whose
    filters and NUMA fit pass; after a guest no host takes (its Outcome has neither placement nor
    error: the weighed batch's refusal is the one that names reasons) nothing more is yielded."""
    count = len(order)
    for spec in ordered:
        trial = copy.copy(spec)     # the request as the caller gave it stays unforced
        start = first_fit_start(spec.name, count) if count else 0
        for step in range(count):
            trial.force_host = order[(start + step) % count]
            outcome = scheduler.place(trial)
            if outcome.placement is not None:
                break
        else:
            yield Outcome(spec)
            return
        scheduler.by_name[trial.force_host].io_ops -= 1     # a planned move is not an I/O operation
        outcome.placement.request, outcome.placement.forced = spec, False
        outcome.spec = spec
        yield outcome


def place_moves(scheduler, ordered, *, stop_at_refusal=False):
    """Yield the scheduler's ``Outcome`` of each of the ``ordered`` specs placed as a move, in order
    (after a refusal only when not ``stop_at_refusal``): each placement is consumed on its host, less
    the I/O operation the scheduler counted for it, since a planned move is not one (module
    docstring); only the facts' io_ops meet IoOpsFilter."""
    for spec in ordered:
        outcome = scheduler.place(spec)
        if outcome.placement is not None:
            scheduler.by_name[outcome.placement.host].io_ops -= 1
        yield outcome
        if outcome.placement is None and stop_at_refusal:
            return


def guests_by_name(hosts, names=None):
    """guest name -> [(host name, guest)] over ``hosts`` (facts), for the guests named in ``names`` only
    when given (one plan: a fleet's every guest would cost more than the plan)."""
    found = {}
    for facts in hosts:
        for guest in facts.get("guests") or ():
            if names is None or guest.get("name") in names:
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
