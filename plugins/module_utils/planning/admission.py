# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Admission control (``host_failures_to_tolerate: 1``): N+1 kept, not just checked.

A placement onto host D is refused when, after it, some host H of the fleet could
no longer be drained onto the others by the one planner the drain and the
preflight's N+1 use (evacuation.py). The refusal names H and the planner's
reason (the guest that would not fit, and why each other host refused it).

What is kept, and why it is cheap per placement: for every host its evacuation
plan, each of its guests with the ``Placement`` it would get on another host
(made once, at the start, by a quick first-fit, else by the planner). A plan
whose destinations did not change still places every guest, so a
placement on D only has to look at:

0. the memory bound first: a host whose guests need more memory than the other
   enabled hosts of its zone have left cannot be drained by any plan (RamFilter),
   so that refusal needs no plan.
1. D's own plan, which gains the new guest: placed after D's planned arrivals
   (consumed on their hosts), on the first of a few hosts that takes it, else by
   the scheduler over all the other hosts.
2. the plans of the hosts that send guests to D (D has less room now): their
   arrivals on D are placed again on D alone, in plan order; those that no longer
   fit there are placed by the scheduler over the other hosts, after the rest of
   the plan.

Only when that fails is the host planned again: a quick first-fit plan, then the
planner's own plan from scratch; if that fails too, the placement is refused,
naming the host, and the check stops there. Every other plan is left as it is:
that is what makes the check cost a few one-host placements and at most one
placement over the fleet, not one plan per host.

What the answer means: a refusal always comes from a plan made from scratch on
the fleet as it would be after the placement, by the same planner, seed and
order as ``plan_evacuation``: the full check (``full_check``: every host planned
again) refuses too and names that host among the undrainable ones. An
acceptance means every host keeps a plan that places all its guests on the
fleet after the placement; the planner is greedy, so a plan made from scratch
could in principle miss where the kept plan fits, and admission control then
accepts (the kept plan proves the host drainable).

Hosts that could not be drained before the placement (a guest created outside
the collection, host devices, a pending resize, or no room) are not blamed on
the placement: ``undrainable`` lists them with the planner's reason, and they
never refuse a placement (a fleet with one such host would otherwise take no
guest at all). A move (resize, live migration) is checked as a placement on its
destination while the guest still counts on its source, as it does until the
move completes (a resize: until it is confirmed).

A drain does not apply admission control (maintenance/drain.py): like vSphere
HA's admission control, which lets a host enter maintenance mode, emptying a
host for maintenance must not be refused for leaving the fleet one host short
while it is down.
"""

from __future__ import annotations

import copy

from ansible_collections.vmfleet.compute.plugins.module_utils.planning.evacuation import (
    guest_moves, guests_by_name, place_moves, placement_order)
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import SchedulerConfig, build_config
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.host_state import HostState
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import (
    RequestSpec, build_request_spec)
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import (
    Scheduler, collector_paused, schedule)
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.server_group import GroupIndex

OPTION = "host_failures_to_tolerate"
# the seed the preflight's N+1 plans with (upgrade_checks/drain.py), so both agree on a host
PLAN_SEED = 0
# the other hosts a quick plan tries for one guest before the planner is asked (module docstring)
FIRST_FIT_TRIES = 4
# the other hosts' reasons a refusal quotes from the planner (_refusal_of)
REASONS_SHOWN = 3
# with these filters no host takes more memory than its ram_headroom, only enabled hosts of the zone take any
_MEMORY_BOUND_FILTERS = {"RamFilter", "ComputeFilter", "AvailabilityZoneFilter"}


class _Verdict(object):
    """The answer about one placement: ``reason`` (None: accepted) and the plans it changes
    ({host: list of (spec, Placement)} or {host: None} for a host left undrainable)."""

    __slots__ = ("placement", "reason", "host", "plans", "reasons")

    def __init__(self, placement, reason=None, plans=None, reasons=None, host=None):
        self.placement, self.reason, self.host = placement, reason, host  # host: the one the refusal names
        self.plans = plans or {}
        self.reasons = reasons or {}    # host -> why it cannot be drained, for hosts left undrainable


class AdmissionControl(object):
    """Admission control over ``hosts`` (facts dicts, with their guests) for ``config`` (a dict as
    ``schedule`` takes it, or a SchedulerConfig).

    ``refusal(placement)``: why placing ``placement`` (a scheduler Placement, not consumed yet) would
    leave some host undrainable, or None. ``accept(placement)``: the placement was made (after
    ``refusal`` said None, or forced): the kept plans follow it. ``undrainable``: {host: reason} of
    the hosts that cannot be drained now (they refuse nothing)."""

    def __init__(self, hosts, config=None):
        self.config = config if isinstance(config, SchedulerConfig) else build_config(config)
        self.order = [facts["name"] for facts in hosts]
        self.states = dict((facts["name"], HostState.from_facts(facts)) for facts in hosts)
        self.position = dict((name, index) for index, name in enumerate(self.order))
        self.zones = {}         # availability zone -> its hosts, in fleet order
        for name in self.order:
            self.zones.setdefault(self.states[name].availability_zone, []).append(self.states[name])
        self.guests = {}        # host -> its guests' RequestSpecs, as the planner would move them
        self.plans = {}         # host -> [(spec, Placement)] in placement order; absent when undrainable
        self.senders = {}       # host -> names of the hosts whose plan puts guests on it
        self.undrainable = {}
        self.needed_mb = {}     # host -> the memory its guests need on the other hosts
        self._pending = None
        copies = guests_by_name(hosts)
        with collector_paused():
            for facts in hosts:
                others = [other for other in hosts if other is not facts] if _has_devices(facts) else ()
                moves, specs = guest_moves(facts, others, self.config, copies=copies)
                self.guests[facts["name"]] = [spec for spec, _move in specs]
                self.needed_mb[facts["name"]] = sum(spec.memory_mb for spec, _move in specs)
                blocked = [move.named_refusal() for move in moves if move.refusal]
                if blocked:
                    self.undrainable[facts["name"]] = "; ".join(blocked)
                    continue
                self._keep(facts["name"], *self._any_plan(facts["name"]))

    # --- the answer --------------------------------------------------------------------------

    def refusal(self, placement):
        verdict = self._judge(placement, complete=False)
        self._pending = verdict
        return verdict.reason

    def __call__(self, request, destination):
        """The check as a planner of moves asks it (planning/rebalance.py: ``admission(guest request,
        destination) -> refusal or None``): ``request`` (a ``schedule`` request dict, or a RequestSpec)
        placed on ``destination`` by the scheduler's own filters and NUMA fit there, then ``refusal``.
        When it says None the move counts as made (``accept``): the caller makes it, and the next
        question sees it. The guest still counts on its source too (module docstring)."""
        spec = request if isinstance(request, RequestSpec) else build_request_spec(request, self.config.pci_aliases)
        spec = _as_move(spec, self.states[destination])
        state = self.states[destination]
        outcome = Scheduler([state], self.config, PLAN_SEED).place(spec)
        if outcome.placement is None:
            return outcome.error
        state.release(outcome.placement)
        taken_out = self._take_out(spec.name, destination)
        why = self.refusal(outcome.placement)
        if why is None:
            self.accept(outcome.placement)
        else:
            for host, (guests, plan, needed_mb) in taken_out.items():
                self.guests[host], self.needed_mb[host] = guests, needed_mb
                if plan is not None:
                    self.plans[host] = plan
        return why

    def _take_out(self, name, destination):
        """The moving guest ``name`` leaves its source's plan: once on ``destination`` the source's
        evacuation no longer moves it (its resources still count on the source until the move is made:
        conservative, as the module docstring says); without this its source's plan would place it on
        ``destination`` a second time. Returns what it changed, {host: (guests, plan, needed_mb)}, to put
        back when the move is refused."""
        changed = {}
        for host, specs in self.guests.items():
            if host == destination or not any(spec.name == name for spec in specs):
                continue
            plan = self.plans.get(host)
            changed[host] = (specs, plan, self.needed_mb[host])
            self.guests[host] = [spec for spec in specs if spec.name != name]
            self.needed_mb[host] -= sum(spec.memory_mb for spec in specs if spec.name == name)
            if plan is not None:
                self.plans[host] = [(spec, placement) for spec, placement in plan if spec.name != name]
        return changed

    @property
    def refused_host(self):
        """The host the last ``refusal`` named (None when it accepted)."""
        return self._pending.host if self._pending is not None else None

    def accept(self, placement):
        verdict = self._pending if self._pending is not None and self._pending.placement is placement else None
        self._pending = None
        if verdict is None or verdict.reason is not None:
            verdict = self._judge(placement, complete=True)    # forced past a refusal: every plan follows
        self.states[placement.host].consume(placement)
        self.guests[placement.host].append(_as_move(placement.request, self.states[placement.host]))
        self.needed_mb[placement.host] += placement.request.memory_mb
        for host, plan in verdict.plans.items():
            self._keep(host, plan, verdict.reasons.get(host))

    def full_check(self, placement):
        """The reference the incremental answer is held to: ``{host: reason}`` of every host that could
        be drained before and whose plan made from scratch fails after ``placement`` (slow: one plan
        per host)."""
        state = self.states[placement.host]
        state.consume(placement)
        failed = {}
        try:
            with collector_paused():
                for host in self.order:
                    if host in self.undrainable:
                        continue
                    extra = (_as_move(placement.request, state),) if host == placement.host else ()
                    plan, reason = self._fresh_plan(host, extra)
                    if plan is None:
                        failed[host] = reason
        finally:
            state.release(placement)
        return failed

    # --- the incremental check (module docstring) ------------------------------------------

    def _judge(self, placement, complete):
        """The verdict on ``placement``; unless ``complete``, it stops at the first host that refuses
        (its plans then matter no more): only a forced placement needs every plan after a refusal."""
        destination = placement.host
        state = self.states[destination]
        state.consume(placement)    # as the scheduler will: a build is an I/O operation in flight too
        try:
            with collector_paused():
                return self._judge_consumed(placement, destination, state, complete)
        finally:
            state.release(placement)

    def _judge_consumed(self, placement, destination, state, complete):
        plans, reasons = {}, {}
        first = None if complete else self._short_of_memory(placement, state)
        if first is not None:
            return self._refused(placement, first, plans, reasons)
        if destination in self.plans:
            arriving = _as_move(placement.request, state)
            plan = self._with_one_more(destination, arriving)
            reason = None
            if plan is None:
                plan, reason = self._any_plan(destination, (arriving,))
            plans[destination] = plan
            if plan is None:
                reasons[destination] = reason
                first = (destination, reason)
                if not complete:
                    return self._refused(placement, first, plans, reasons)
        alone = Scheduler([state], self.config, PLAN_SEED)
        for sender in sorted(self.senders.get(destination, ())):
            plan, reason = self._still_fits(sender, destination, alone), None
            if plan is None:
                kept = self.plans[sender]
                plan = self._repaired(sender, [pair for pair in kept if pair[1].host != destination],
                                      [spec for spec, placement in kept if placement.host == destination])
            if plan is None:
                plan, reason = self._any_plan(sender)
                if plan is None:
                    reasons[sender] = reason
                    first = first or (sender, reason)
                    if not complete:
                        return self._refused(placement, first, plans, reasons)
            plans[sender] = plan
        if first is None:
            return _Verdict(placement, None, plans)
        return self._refused(placement, first, plans, reasons)

    @staticmethod
    def _refused(placement, first, plans, reasons):
        host, reason = first
        why = "%s on %s would leave %s undrainable (%s=1): %s" % (
            placement.name, placement.host, host, OPTION, reason)
        return _Verdict(placement, why, plans, reasons, host)

    def _short_of_memory(self, placement, state):
        """``(host, reason)`` for a host of ``state``'s availability zone whose guests need more memory
        than the other enabled hosts there have left with ``placement`` made: RamFilter refuses every
        plan for it, so none is tried (only with the filters that make that so). None otherwise."""
        if not _MEMORY_BOUND_FILTERS <= set(self.config["enabled_filters"]):
            return None
        zone = state.availability_zone
        hosts = self.zones[zone]
        room = dict((host.name, max(0.0, host.ram_headroom) if host.enabled else 0.0) for host in hosts)
        total = sum(room.values())
        for host in hosts:
            if host.name not in self.plans:
                continue
            needed = self.needed_mb[host.name]
            if host.name == state.name:
                needed += placement.request.memory_mb
            if needed > total - room[host.name]:
                return host.name, "its guests need %d MB of memory and the other enabled hosts of availability " \
                                  "zone %s have %d MB left within their ram_allocation_ratio" % (
                                      needed, zone, total - room[host.name])
        return None

    def _any_plan(self, host, extra=()):
        """``(plan, None)`` or ``(None, the planner's reason)``: a quick first-fit plan, else the
        planner's own from scratch (module docstring)."""
        ordered = sorted(self.guests[host] + list(extra), key=placement_order)
        plan = self._first_fit(host, ordered)
        if plan is not None:
            return plan, None
        return self._fresh_plan(host, extra)

    def _first_fit(self, host, ordered, kept=()):
        """A plan that places ``ordered`` (after the ``kept`` plan's arrivals, consumed first) each on
        the first of at most FIRST_FIT_TRIES other hosts of the zone that takes it, trying them from a
        place that turns with the host and the guest, so that the arrivals spread; None when one finds
        no host that way."""
        candidates = [state.name for state in self.zones[self.states[host].availability_zone]
                      if state.enabled and state.name != host]
        if not candidates and ordered:
            return None
        start = self.position[host]
        for _spec, placement in kept:
            self._consume_move(placement)
        placed = []
        try:
            for number, spec in enumerate(ordered):
                for step in range(min(FIRST_FIT_TRIES, len(candidates))):
                    name = candidates[(start + number + step) % len(candidates)]
                    outcome = next(place_moves(Scheduler([self.states[name]], self.config, PLAN_SEED), [spec]))
                    if outcome.placement is not None:
                        placed.append((spec, outcome.placement))
                        break
                else:
                    return None
            return list(kept) + placed
        finally:
            for _spec, placement in reversed(list(kept) + placed):
                self._release_move(placement)

    def _fresh_plan(self, host, extra=()):
        """``(plan, None)`` or ``(None, reason)``: the planner's batch for ``host``'s guests (and
        ``extra``) on the other hosts, from scratch; the hosts are left as they were."""
        ordered = sorted(self.guests[host] + list(extra), key=placement_order)
        return self._placed(self._scheduler_without(host), ordered)

    def _scheduler_without(self, host):
        """A scheduler over every host but ``host``, as the planner makes for it."""
        return Scheduler([self.states[name] for name in self.order if name != host], self.config, PLAN_SEED)

    def _with_one_more(self, host, arriving):
        """``host``'s kept plan with ``arriving`` placed after its arrivals (first fit, else by the
        scheduler), or None when it does not fit or ``_out_of_order``."""
        kept = self.plans[host]
        if _out_of_order(kept, [arriving]):
            return None
        return self._first_fit(host, [arriving], kept) or self._repaired(host, kept, [arriving])

    def _repaired(self, host, kept, specs):
        """The ``kept`` part of ``host``'s plan with ``specs`` placed after it by the scheduler over all
        the other hosts (one placement each, not a plan), or None when one does not fit or
        ``_out_of_order``."""
        if _out_of_order(kept, specs):
            return None
        for _spec, placement in kept:
            self._consume_move(placement)
        try:
            plan, _reason = self._placed(self._scheduler_without(host), specs)
        finally:
            for _spec, placement in reversed(kept):
                self._release_move(placement)
        return None if plan is None else list(kept) + plan

    def _still_fits(self, sender, destination, alone):
        """``sender``'s kept plan with its arrivals on ``destination`` placed there again (alone, in plan
        order, by ``alone``: a scheduler of that host only), or None when one no longer fits."""
        kept = self.plans[sender]
        arrivals = [spec for spec, placement in kept if placement.host == destination]
        alone.groups = GroupIndex(alone.hosts)  # the members another sender's arrivals added are gone again
        again, _reason = self._placed(alone, arrivals)
        if again is None:
            return None
        replaced = iter(again)
        return [next(replaced) if placement.host == destination else (spec, placement)
                for spec, placement in kept]

    def _placed(self, scheduler, ordered):
        """Place ``ordered`` as moves, then give everything back: ``(plan, None)`` or ``(None, reason)``."""
        placed, reason = [], None
        try:
            for outcome in place_moves(scheduler, ordered, stop_at_refusal=True):
                if outcome.placement is None:
                    reason = _refusal_of(outcome)
                else:
                    placed.append((outcome.spec, outcome.placement))
        finally:
            for _spec, placement in reversed(placed):
                self._release_move(placement)
        return (None, reason) if reason is not None else (placed, None)

    def _consume_move(self, placement):
        state = self.states[placement.host]
        state.consume(placement)
        state.io_ops -= 1   # a planned move is not an I/O operation in flight (evacuation.py)

    def _release_move(self, placement):
        state = self.states[placement.host]
        state.release(placement)
        state.io_ops += 1

    def _keep(self, host, plan, reason):
        before = self.plans.get(host)
        if plan is not None and before is not None and len(plan) == len(before) and all(
                new.host == old.host for (_s, new), (_t, old) in zip(plan, before)):
            self.plans[host] = plan     # the same destinations (placed again on one of them)
            return
        for destination in set(placement.host for _spec, placement in before or ()):
            self.senders[destination].discard(host)
        if plan is None:
            self.plans.pop(host, None)
            self.undrainable[host] = reason
            return
        self.plans[host] = plan
        for _spec, placement in plan:
            self.senders.setdefault(placement.host, set()).add(host)


def _refusal_of(outcome):
    """The scheduler's refusal of a guest, with the first REASONS_SHOWN hosts' reasons: it becomes the
    reason of one host in the scheduler's own list, and a request refused on every host of a large fleet
    would otherwise carry every host's reason once per host."""
    verdicts = outcome.rejections
    more = len(verdicts) - REASONS_SHOWN
    return "No valid host was found for %s: %s%s" % (
        outcome.spec.name, "; ".join(str(v) for v in verdicts[:REASONS_SHOWN]) or "no other host",
        "; and %d more hosts" % more if more > 0 else "")


def _out_of_order(kept, specs):
    """True when ``specs`` hold a guest the planner places before some guest of ``kept`` (constrained
    guests first): a pinned guest placed after floating ones can be taken where the planner's order
    refuses it (the NUMA fit does not count the floating guests its pinning crowds), so such a plan is
    not kept."""
    if not kept:
        return False
    last = max(placement_order(spec)[0] for spec, _placement in kept)
    return any(placement_order(spec)[0] < last for spec in specs)


def _has_devices(facts):
    """True when a guest of ``facts`` has host devices: only then does guest_moves name the other hosts."""
    return any(guest.get("host_devices") for guest in facts.get("guests") or ())


def _as_move(spec, state):
    """The request a guest placed by ``spec`` on ``state``'s host would be moved with: what
    guest_request keeps of a build (flavor, image, group and same/different host hints) in the
    host's availability zone, without the build's forced or excluded hosts."""
    moved = copy.copy(spec)
    moved.availability_zone = state.availability_zone
    moved.force_host, moved.force, moved.retry_exclude = None, False, ()
    moved.group_members = None
    return moved


def admission_control(hosts, config):
    """An ``AdmissionControl`` when ``config`` asks for it (``host_failures_to_tolerate`` 1), else None."""
    config = config if isinstance(config, SchedulerConfig) else build_config(config)
    return AdmissionControl(hosts, config) if config[OPTION] else None


def without_admission(config):
    """``config`` (a dict as ``schedule`` takes it, or None) with admission control off: what a drain
    moves its guests with (module docstring)."""
    return dict(config or {}, **{OPTION: 0})


def schedule_admitted(hosts, requests, config=None, seed=None):
    """``scheduler.schedule`` with the admission control ``config`` asks for: what ``schedule``,
    ``instance``, ``resize`` and ``live_migrate`` place with. ``hosts``: facts dicts."""
    config = config if isinstance(config, SchedulerConfig) else build_config(config)
    return schedule(hosts, requests, config, seed, admission=admission_control(hosts, config))
