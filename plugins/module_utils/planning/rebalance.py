# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet rebalancing: which guests to move where, planned over host facts before anything moves (pure).

Two goals:

- ``balance``: reduce the *spread* of use across hosts. A host's use is two fractions, RAM
  (``memory_mb_used / memory_mb_limit``, reserved host memory included, as the tracker counts it) and
  vCPU (``vcpus_used / (vcpus * cpu_allocation_ratio)``); the spread is their standard deviation over
  the balanced hosts, both resources together (``sqrt(ram variance + vCPU variance)``), so hosts of
  different sizes are compared by how full they are, not by how much they hold. OpenStack Watcher's
  ``workload_stabilization`` balances the same way, on (weighted) standard deviations of per-host
  use, over telemetry where this counts flavor sizes. The plan is greedy, as Watcher's and Proxmox
  CRS's balancers are: each step simulates moving each movable guest and makes the move that lowers
  the spread most, until ``max_moves`` or until the best move gains less than ``min_gain``
  (Proxmox's "minimum imbalance improvement", vSphere Storage DRS's ``minSpaceUtilizationDifference``:
  a move that gains little is not worth a migration). A move's gain is counted in what it takes off
  the hosts' summed squared deviations from the mean (both resources): a guest of fraction ``d``
  moved between hosts ``g`` apart gains about ``2 d (g - d)`` per resource, however large the fleet,
  where the standard deviation itself changes less with each move as hosts are added, so a threshold
  on it would stop large fleets from balancing at all. Each step weighs, per source, the 16 least
  used hosts of its zone as destinations (for a given guest the emptiest destination gains most;
  with unequal hosts nearly so) and looks at every host only when the rules refused all of those.
- ``consolidate``: empty as many hosts as possible so they can be switched off (OpenNebula OneDRS's
  ``pack`` policy, Watcher's ``vm_workload_consolidation``). The least used hosts are tried first;
  a host is emptied only when every guest on it fits on the other hosts that run guests (an empty
  host filled would empty nothing), the hardest guest first as the drain plans, each onto the fullest
  host that takes it so the others stay emptiable, within what is left of ``max_moves``; otherwise
  nothing of it moves and the plan says why it was kept. ``min_gain`` is the balance's only.

Every move is decided by the scheduler's own filters and NUMA fit on the destination, with the
destination's use after the moves planned before it: pinning, NUMA, hugepages, server groups
(members are read from the fleet, the moving guest itself left out), cordons (ComputeFilter),
availability zones (a guest never leaves its host's zone: planning/guest_request.py), aggregates,
tiers. ``admission`` (a callable ``admission(guest_request, destination) -> refusal or None``) is
asked last, so admission control (``host_failures_to_tolerate``) can refuse a move that would leave
some host undrainable.

Hosts that take part: the enabled ones (not cordoned, not unreachable) that no drain holds. Guests of
the others stay where they are, and those hosts never receive one. Within one plan a host either gives
guests or receives them, never both: the facts say what a guest takes on its host (its vCPUs, memory,
pinned CPUs, pages) well enough to count, not to hand back to the scheduler CPU by CPU, so a host is
never offered CPUs a guest leaving it would free. A later run, from the facts after the moves, may
use them. Guests the drain could not move either (created outside the collection, host devices, a
resize waiting, a stale copy) are listed as ``unmovable`` and stay.
"""

from __future__ import annotations

import heapq
import math

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, whole_number
from ansible_collections.vmfleet.compute.plugins.module_utils.planning.evacuation import movable, placement_order
from ansible_collections.vmfleet.compute.plugins.module_utils.planning.guest_request import guest_request
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler import numa_fit
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import SchedulerConfig, build_config
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import build_request_spec
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import (
    Scheduler, build_hosts, collector_paused)
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.server_group import GroupIndex

DEFAULT_MAX_MOVES = 10
# a move must lower the hosts' summed squared deviations by this much at least: about what a guest of 2% of
# its hosts gains between two hosts 15 points apart (2 x 0.02 x 0.13); smaller gains are not worth a migration
DEFAULT_MIN_GAIN = 0.005
# the destinations a step weighs per source, the least used first: the best move goes there (module docstring)
_NEAREST = 16
# what a gain must exceed at least: floating point noise is no improvement
_NOISE = 1e-9
# a host's part in one plan
_GIVES, _TAKES = "gives", "takes"


class HostLoad(object):
    """What a host holds, in the two measures of the spread."""

    __slots__ = ("name", "zone", "ram_used", "ram_limit", "vcpus_used", "vcpus_limit")

    def __init__(self, facts):
        resources, config = facts.get("resources") or {}, facts.get("config") or {}
        self.name = facts["name"]
        self.zone = config.get("availability_zone") or "default"
        memory = float(resources.get("memory_mb") or 0)
        self.ram_used = float(resources.get("memory_mb_used") or 0)
        self.ram_limit = float(resources.get("memory_mb_limit") or memory * float(
            config.get("ram_allocation_ratio", 1.0))) or 1.0
        self.vcpus_used = float(resources.get("vcpus_used") or 0)
        self.vcpus_limit = float(resources.get("vcpus") or 0) * float(config.get("cpu_allocation_ratio", 4.0)) or 1.0

    @property
    def ram(self):
        return self.ram_used / self.ram_limit

    @property
    def vcpu(self):
        return self.vcpus_used / self.vcpus_limit

    def to_dict(self):
        return {"ram": round(self.ram, 4), "vcpu": round(self.vcpu, 4)}


class Spread(object):
    """The spread of use over a set of HostLoads, kept as sums so a move's effect costs O(1).

    ``value``: the standard deviation of use over both resources, ``sqrt(ram variance + vCPU variance)``.
    ``deviation``: the hosts' summed squared deviations from the mean, both resources (``count`` times the
    summed variances): what a move's gain is counted in, as it does not shrink with the fleet's size."""

    def __init__(self, loads):
        self.count = len(loads)
        self.sums = [0.0, 0.0, 0.0, 0.0]  # sum of ram, of ram squared, of vcpu, of vcpu squared
        for load in loads:
            self._add(load.ram, load.vcpu, 1)

    def _add(self, ram, vcpu, sign):
        self.sums[0] += sign * ram
        self.sums[1] += sign * ram * ram
        self.sums[2] += sign * vcpu
        self.sums[3] += sign * vcpu * vcpu

    def _squares(self, sums):
        """The summed squared deviations of ram and of vcpu."""
        if not self.count:
            return 0.0, 0.0
        return tuple(max(0.0, sums[i + 1] - sums[i] * sums[i] / self.count) for i in (0, 2))

    @property
    def deviation(self):
        return sum(self._squares(self.sums))

    @property
    def value(self):
        return math.sqrt(self.deviation / self.count) if self.count else 0.0

    def gain(self, source, destination, memory_mb, vcpus):
        """How much ``deviation`` drops if a guest of ``memory_mb`` and ``vcpus`` moves from load ``source`` to
        ``destination`` (negative: it grows). Closed form, as a plan weighs every guest on many hosts: with
        the source's fraction ``a`` losing ``s`` and the destination's ``b`` gaining ``d``, the squares lose
        ``2as - s^2 - 2bd - d^2`` and the mean's term changes with the sum ``S`` to ``S - s + d``."""
        # written out for RAM then vCPUs: this is the planner's innermost loop
        taken, given, before = memory_mb / source.ram_limit, memory_mb / destination.ram_limit, self.sums[0]
        after = before - taken + given
        ram = (2 * source.ram_used / source.ram_limit * taken - taken * taken
               - 2 * destination.ram_used / destination.ram_limit * given - given * given
               + (after * after - before * before) / self.count)
        taken, given, before = vcpus / source.vcpus_limit, vcpus / destination.vcpus_limit, self.sums[2]
        after = before - taken + given
        return ram + (2 * source.vcpus_used / source.vcpus_limit * taken - taken * taken
                      - 2 * destination.vcpus_used / destination.vcpus_limit * given - given * given
                      + (after * after - before * before) / self.count)

    def move(self, source, destination, memory_mb, vcpus):
        """Apply a move to the loads and to the sums."""
        for load, sign in ((source, -1), (destination, 1)):
            self._add(load.ram, load.vcpu, -1)
            load.ram_used += sign * memory_mb
            load.vcpus_used += sign * vcpus
            self._add(load.ram, load.vcpu, 1)

    def to_dict(self):
        ram, vcpu = (math.sqrt(part / self.count) if self.count else 0.0 for part in self._squares(self.sums))
        return {"spread": round(self.value, 4), "ram_stddev": round(ram, 4), "vcpu_stddev": round(vcpu, 4),
                "hosts": self.count}


class RebalanceMove(object):
    """One planned move: the guest, how (``kind``: live or cold), from, to, its placement there (a dict),
    the spread it gains (balance), and the ``request`` it was placed with."""

    __slots__ = ("name", "kind", "source", "destination", "placement", "gain", "request", "spec")

    def __init__(self, name, kind, source, request, spec):
        self.name, self.kind, self.source, self.request, self.spec = name, kind, source, request, spec
        self.destination, self.placement, self.gain = None, None, None

    def to_dict(self):
        return {"guest": self.name, "kind": self.kind, "from": self.source, "to": self.destination,
                "gain": None if self.gain is None else round(self.gain, 4), "placement": self.placement}


class Rebalance(object):
    """The plan: ``moves`` in the order they were decided, the spread before and after, each host's use
    before and after, the hosts emptied (consolidate) and kept (with why), the guests that cannot move,
    and the hosts left out (with why)."""

    def __init__(self, goal, moves, before, after, hosts, emptied, kept, unmovable, excluded):
        self.goal, self.moves, self.before, self.after = goal, moves, before, after
        self.hosts, self.emptied, self.kept = hosts, emptied, kept
        self.unmovable, self.excluded = unmovable, excluded

    def to_dict(self):
        return {"goal": self.goal, "moves": [move.to_dict() for move in self.moves],
                "measure_before": self.before, "measure_after": self.after, "hosts": self.hosts,
                "emptied": list(self.emptied), "kept": dict(self.kept), "unmovable": list(self.unmovable),
                "excluded": dict(self.excluded)}


def plan_rebalance(hosts, *, goal=states.BALANCE, max_moves=DEFAULT_MAX_MOVES, min_gain=DEFAULT_MIN_GAIN,
                   scheduler_config=None, admission=None, seed=None):
    """The ``Rebalance`` of ``hosts`` (facts dicts, docs/host-facts.md) for ``goal`` (module docstring).
    Raises InvalidInput, before planning, for a wrong goal, max_moves, min_gain or scheduler
    configuration."""
    max_moves = check_options(goal, max_moves, min_gain)
    config = scheduler_config if isinstance(scheduler_config, SchedulerConfig) else build_config(scheduler_config)
    planner = _Planner(hosts, config, admission, seed)
    before = planner.spread.to_dict()
    loads_before = dict((name, load.to_dict()) for name, load in planner.loads.items())
    with collector_paused():
        if goal == states.BALANCE:
            planner.balance(max_moves, min_gain)
        else:
            planner.consolidate(max_moves)
    table = [dict(host=name, before=loads_before[name], after=planner.loads[name].to_dict())
             for name in sorted(planner.loads)]
    return Rebalance(goal, planner.moves, before, planner.spread.to_dict(), table, planner.emptied, planner.kept,
                     planner.unmovable, planner.excluded)


def check_options(goal, max_moves, min_gain):
    """InvalidInput naming the option when one is wrong; returns ``max_moves`` as an int."""
    if goal not in states.REBALANCE_GOALS:
        raise InvalidInput("goal", goal, "one of %s" % ", ".join(states.REBALANCE_GOALS))
    if isinstance(min_gain, bool) or not isinstance(min_gain, (int, float)) or not 0 <= min_gain <= 1:
        raise InvalidInput("min_gain", min_gain, "a number from 0 to 1 (a gain in squared use fractions: "
                                                 "moving a guest of fraction d across a gap g gains about "
                                                 "2 d (g - d) per resource)")
    return whole_number("max_moves", max_moves, 1)


def measure(hosts):
    """The spread (``Spread.to_dict()``) of the hosts that take part in a rebalance, as they are."""
    return Spread([HostLoad(facts) for facts in hosts if not _left_out(facts)]).to_dict()


class _Planner(object):
    """The state of one plan: the scheduler's host states, each host's load and part, the candidates."""

    def __init__(self, hosts, config, admission, seed):
        hosts = list(hosts or ())
        names = [facts.get("name") for facts in hosts]
        if len(set(names)) != len(names):
            raise InvalidInput("hosts[].name", sorted(n for n in names if names.count(n) > 1)[0], "each host once")
        self.config, self.admission = config, admission
        self.scheduler = Scheduler(build_hosts(hosts), config, seed)
        self.excluded = {}
        for facts in hosts:
            why = _left_out(facts)
            if why:
                self.excluded[facts["name"]] = why
        self.loads = dict((facts["name"], HostLoad(facts)) for facts in hosts if facts["name"] not in self.excluded)
        self.spread = Spread(list(self.loads.values()))
        self.part = {}           # host name -> _GIVES or _TAKES, once it has in this plan
        self.moves, self.emptied, self.kept, self.unmovable = [], [], {}, []
        self.refused = {}        # (guest, destination) -> why: a destination only fills up, so it stays refused
        # consolidation packs onto hosts that run guests already: filling an empty host empties nothing
        self.occupied = set(facts["name"] for facts in hosts if facts.get("guests"))
        self.candidates = self._candidates(hosts)

    def _candidates(self, hosts):
        """host name -> [RebalanceMove without destination] of the movable guests of the balanced hosts."""
        defined = {}
        for facts in hosts:
            for guest in facts.get("guests") or ():
                defined.setdefault(guest.get("name"), []).append((facts["name"], guest))
        found = {}
        for facts in hosts:
            name = facts["name"]
            if name not in self.loads:
                continue
            others = sorted(other for other in self.loads if other != name)
            zone = self.loads[name].zone
            found[name] = []
            for guest in sorted(facts.get("guests") or (), key=lambda g: g["name"]):
                copies = [(host, copy) for host, copy in defined.get(guest["name"], ()) if host != name]
                verdict = movable(guest, name, copies, others)
                if verdict.refusal:
                    self.unmovable.append({"guest": guest["name"], "host": name, "reason": verdict.named_refusal()})
                    continue
                request = guest_request(guest, zone)
                try:
                    spec = build_request_spec(request, self.config.pci_aliases)
                except InvalidInput as exc:
                    self.unmovable.append({"guest": guest["name"], "host": name, "reason": (
                        "%s has a recorded flavor or image that is not a valid request (%s): fix its metadata"
                        % (guest["name"], exc.message))})
                    continue
                found[name].append(RebalanceMove(guest["name"], verdict.kind, name, request, spec))
        return found

    # -- the goals ------------------------------------------------------------------------------------

    def balance(self, max_moves, min_gain):
        while len(self.moves) < max_moves:
            found = self._best_move(min_gain, _NEAREST)
            if found is False:  # every move to the emptiest hosts was refused: look at every host
                found = self._best_move(min_gain, None)
            if not found:
                return  # no move left that gains enough and that the rules allow

    def _best_move(self, min_gain, nearest):
        """Make the move that gains most, looking at the ``nearest`` least used destinations per source (None:
        all). True when made; None when no move gains ``min_gain``; False when some did but the rules
        refused them all."""
        by_zone = {}  # zone -> the hosts that may receive, least used first
        for name in sorted(self.loads, key=lambda name: (self.loads[name].ram + self.loads[name].vcpu, name)):
            if self.part.get(name) != _GIVES:
                by_zone.setdefault(self.loads[name].zone, []).append(name)
        heap = []
        for source, moves in self.candidates.items():
            if not moves or self.part.get(source) == _TAKES:
                continue
            load = self.loads[source]
            destinations = by_zone.get(load.zone, [])
            destinations = [name for name in destinations[:nearest + 1 if nearest else None] if name != source]
            for move in moves:
                for destination in destinations:
                    if (move.name, destination) in self.refused:
                        continue
                    gain = self.spread.gain(load, self.loads[destination], move.spec.memory_mb, move.spec.vcpus)
                    if gain > _NOISE and gain >= min_gain:
                        heap.append((-gain, move.name, destination, move))
        if not heap:
            return None
        heapq.heapify(heap)
        while heap:
            negative_gain, _name, destination, move = heapq.heappop(heap)
            if self._try(move, destination):
                move.gain = -negative_gain
                self._commit(move)
                return True
        return False

    def consolidate(self, max_moves):
        def fullness(name):
            load = self.loads[name]
            return load.ram + load.vcpu

        for source in sorted(self.candidates, key=lambda name: (fullness(name), name)):
            guests = self.candidates[source]
            stuck = [entry for entry in self.unmovable if entry["host"] == source]
            if not guests and not stuck:
                continue  # empty already
            if self.part.get(source) == _TAKES:
                self.kept[source] = "it takes guests of a host emptied before it"
                continue
            if stuck:
                self.kept[source] = "%d of its guests cannot move: %s" % (
                    len(stuck), "; ".join(entry["reason"] for entry in stuck))
                continue
            if len(self.moves) + len(guests) > max_moves:
                self.kept[source] = "emptying it takes %d moves, max_moves %d leaves %d" % (
                    len(guests), max_moves, max_moves - len(self.moves))
                continue
            placed, why = [], None
            for move in sorted(guests, key=lambda m: placement_order(m.spec)):
                # the fullest host that takes it first: what stays empty can be emptied next
                order = sorted((name for name in self._destinations(source) if name in self.occupied),
                               key=lambda name: (-fullness(name), name))
                reasons = []
                for destination in order:
                    if self._try(move, destination):
                        placed.append(move)
                        self._count(move)
                        break
                    reasons.append("%s: %s" % (destination, self.refused[(move.name, destination)]))
                else:
                    why = "%s fits on no other host that runs guests (%s)" % (
                        move.name, "; ".join(reasons) or "none in its zone")
                    break
            if why:
                self._undo(placed)
                self.kept[source] = why
                continue
            for move in placed:
                self.part[source], self.part[move.destination] = _GIVES, _TAKES
                self.moves.append(move)
            self.candidates[source] = []
            self.emptied.append(source)
            self.occupied.discard(source)

    # -- one move -------------------------------------------------------------------------------------

    def _destinations(self, source):
        zone = self.loads[source].zone
        return [name for name, load in self.loads.items()
                if name != source and load.zone == zone and self.part.get(name) != _GIVES]

    def _try(self, move, destination):
        """Place ``move`` on ``destination`` when the scheduler's filters, its NUMA fit and admission control
        take it (the destination consumes it); else remember why not. True when placed."""
        spec, host = move.spec, self.scheduler.by_name[destination]
        if spec.group:
            spec.group_members = self.scheduler.groups.members_for(spec)
        kept, refused = self.scheduler.run_filters([host], spec)
        why = None
        if not kept:
            why = "; ".join("%s: %s" % (name, reason) for name, pairs in refused for _host, reason in pairs)
        else:
            fit = numa_fit.fit(host, spec)
            if not fit:
                why = "NUMATopologyFilter: %s" % fit.reason
            elif self.admission is not None:
                why = self.admission(move.request, destination)
        if why:
            self.refused[(move.name, destination)] = why
            return False
        spec.force_host = destination
        try:
            outcome = self.scheduler.place(spec)
        finally:
            spec.force_host = None
        if outcome.placement is None:  # the checks above are the scheduler's own: this is a defect
            self.refused[(move.name, destination)] = outcome.error
            return False
        # a planned move is not an I/O operation in flight (planning/evacuation.py says why)
        host.io_ops -= 1
        placement = outcome.placement.to_dict()
        for key in ("forced", "weight", "would_fail"):
            del placement[key]  # the host was the plan's choice, not a forced one, and nothing was weighed
        move.destination, move.placement = destination, placement
        return True

    def _count(self, move):
        self.spread.move(self.loads[move.source], self.loads[move.destination], move.spec.memory_mb,
                         move.spec.vcpus)

    def _commit(self, move):
        self._count(move)
        self.part[move.source], self.part[move.destination] = _GIVES, _TAKES
        self.candidates[move.source].remove(move)
        self.moves.append(move)

    def _undo(self, placed):
        """Give back what the tentative placements of a host that cannot be emptied took."""
        for move in placed:
            host = self.scheduler.by_name[move.destination]
            host.io_ops += 1  # _try gave the I/O operation back; release takes it once more
            host.release(move.spec.name)
            self.spread.move(self.loads[move.destination], self.loads[move.source], move.spec.memory_mb,
                             move.spec.vcpus)
            move.destination, move.placement = None, None
        if placed:
            # the group index cannot forget a placement: read it again from the hosts, as they are now
            self.scheduler.groups = GroupIndex(self.scheduler.hosts)


def _left_out(facts):
    """Why a host takes no part in the plan (its guests stay, it receives none), or None."""
    config = facts.get("config") or {}
    draining = (facts.get("maintenance") or {}).get("draining")
    if draining:
        return "a drain holds it (run %s)" % draining.get("run_id")
    if config.get("enabled", True) is False:
        return "disabled: %s" % (config.get("disabled_reason") or "cordoned")
    return None
