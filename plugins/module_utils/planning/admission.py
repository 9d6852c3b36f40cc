# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Admission control (``host_failures_to_tolerate: 1``): N+1 kept, not just checked.

A placement onto host D is refused when, after it, some host H of the fleet could
no longer be drained onto the others by the one planner the drain and the
preflight's N+1 use (``plan_evacuation``, evacuation.py: the weighed batch, else
first fit). The refusal names H and the planner's reason (the guest that would not
fit, and why each other host refused it).

One planner, one answer: H is drainable when the weighed batch or the first-fit
plan places every guest, for the drain, the preflight and admission control alike.
Admission control keeps, for every host, the plan first fit makes for it (or, when
first fit misses and the weighed batch does not, that one, marked to be planned
again on every check). Why first fit: it tries the hosts in an order fixed by their
names and takes the first whose filters pass, so a plan that puts nothing on D is
exactly the plan first fit makes again once D holds one more guest (D only refuses
more: less memory, CPUs, disk, room in its server groups). The weighed batch
normalises its weights over every host, so a guest added anywhere could change any
host's weighed plan; had admission control kept weighed plans (it once kept
plans of its own making), an accepted placement could leave a host whose kept plan
fits but whose plan made from scratch, the preflight's, does not: seen in 4 of 19
placements on a tight fleet of 100 hosts.

So a placement on D only asks again:

0. the memory bound first: a host whose guests need more memory than the other
   enabled hosts of its zone have left cannot be drained by any plan (RamFilter),
   so that refusal needs no plan.
1. D's own plan, which gains the new guest: the plan up to where the new guest
   comes in the batch's order stays, first fit goes on from there.
2. the plans of the hosts that send guests to D: each stays up to its first guest
   planned onto D, first fit goes on from there.
3. the hosts whose kept plan is not first fit's: planned again from scratch.

A host whose first fit fails there is planned by the weighed batch from scratch;
if that fails too, the placement is refused, naming the host, and the check stops
there. Every other host keeps its plan (it is the one first fit would make): that
is what makes the check cost a few partial plans, not one plan per host.

What the answer means: it is the full check's (``full_check``: every host planned
again from scratch by the planner, as the preflight does), not an estimate of it:
a refusal comes from the planner failing on the fleet as it would be after the
placement, and an acceptance leaves every host that was drainable drainable by the
planner, so a preflight run after admitted placements passes its N+1 for those
hosts (tests/unit/plugins/module_utils/planning/test_admission_property.py).

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
    first_fit_order, first_fit_start, guest_moves, guests_by_name, place_first_fit, place_moves, placement_order)
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import SchedulerConfig, build_config
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.host_state import HostState
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import (
    RequestSpec, build_request_spec)
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import (
    Scheduler, collector_paused, schedule)

OPTION = "host_failures_to_tolerate"
# the seed the preflight's N+1 plans with (upgrade_checks/drain.py), so both agree on a host
PLAN_SEED = 0
# the other hosts' reasons a refusal quotes from the planner (_refusal_of)
REASONS_SHOWN = 3
# the hosts named by the last refusals that a check asks first (_asked_again)
SUSPECTS = 4
# the hosts whose filters first fit runs at once when it looks further than a plan it keeps (_replayed)
SCAN_SLICE = 8
# how a host differs, for one plan worked out again, from the hosts its kept plan was made on (_replayed)
_FULLER, _DIFFERENT = "fuller", "different"
# with these filters no host takes more memory than its ram_headroom, only enabled hosts of the zone take any
_MEMORY_BOUND_FILTERS = {"RamFilter", "ComputeFilter", "AvailabilityZoneFilter"}


class _Verdict(object):
    """The answer about one placement: ``reason`` (None: accepted) and the plans it changes,
    {host: (plan or None, reason, weighed)}: see ``AdmissionControl._keep``."""

    __slots__ = ("placement", "reason", "host", "plans")

    def __init__(self, placement, reason=None, plans=None, host=None):
        self.placement, self.reason, self.host = placement, reason, host  # host: the one the refusal names
        self.plans = plans or {}


class AdmissionControl(object):
    """Admission control over ``hosts`` (facts dicts, with their guests) for ``config`` (a dict as
    ``schedule`` takes it, or a SchedulerConfig).

    ``refusal(placement)``: why placing ``placement`` (a scheduler Placement, not consumed yet) would
    leave some host undrainable, or None. ``accept(placement)``: the placement was made (after
    ``refusal`` said None, or forced): the kept plans follow it. ``undrainable``: {host: reason} of
    the hosts that cannot be drained now (they refuse nothing). ``plans``: {host: its kept plan}, a
    list of (RequestSpec, Placement) in the planner's order, for every other host."""

    def __init__(self, hosts, config=None):
        self.config = config if isinstance(config, SchedulerConfig) else build_config(config)
        self.order = [facts["name"] for facts in hosts]
        self.position = dict((name, at) for at, name in enumerate(self.order))
        self.states = dict((facts["name"], HostState.from_facts(facts)) for facts in hosts)
        self.zones = {}         # availability zone -> its hosts, in fleet order
        for name in self.order:
            self.zones.setdefault(self.states[name].availability_zone, []).append(self.states[name])
        self.fit_order = dict((name, first_fit_order(name, self.order)) for name in self.order)
        self.fit_index = dict((name, dict((other, at) for at, other in enumerate(order)))
                              for name, order in self.fit_order.items())
        self.guests = {}        # host -> its guests' RequestSpecs, as the planner would move them, in its order
        self.plans = {}         # host -> [(spec, Placement)] in the guests' order; absent when undrainable
        self.replanned = set()  # hosts whose kept plan is not first fit's: planned again on every check
        self.senders = {}       # host -> names of the hosts whose first-fit plan puts guests on it
        self.destinations = {}  # host -> the hosts its first-fit plan puts guests on
        self.undrainable = {}
        self.needed_mb = {}     # host -> the memory its guests need on the other hosts
        self._pending = None
        self.suspects = []      # the hosts the last refusals named, the latest first (_asked_again)
        copies = guests_by_name(hosts)
        with collector_paused():
            for facts in hosts:
                others = [other for other in hosts if other is not facts] if _has_devices(facts) else ()
                moves, specs = guest_moves(facts, others, self.config, copies=copies)
                self.guests[facts["name"]] = sorted((spec for spec, _move in specs), key=placement_order)
                self.needed_mb[facts["name"]] = sum(spec.memory_mb for spec, _move in specs)
                blocked = [move.named_refusal() for move in moves if move.refusal]
                if blocked:
                    self.undrainable[facts["name"]] = "; ".join(blocked)
                    continue
                self._keep(facts["name"], *self._planned(facts["name"], self.guests[facts["name"]]))

    # --- the answer --------------------------------------------------------------------------

    def refusal(self, placement):
        verdict = self._judge(placement, complete=False)
        self._pending = verdict
        if verdict.host is not None:
            self.suspects = [verdict.host] + [host for host in self.suspects if host != verdict.host][:SUSPECTS - 1]
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
            for host, kept in taken_out.items():
                self._put_back(host, kept)
        return why

    def _take_out(self, name, destination):
        """The moving guest ``name`` leaves its source's plan: once on ``destination`` the source's
        evacuation no longer moves it (its resources still count on the source until the move is made:
        conservative, as the module docstring says); without this its source's plan would place it on
        ``destination`` a second time. The source is then planned again on the check (a batch short of
        a guest is not one first fit can go on from). Returns what it changed, to ``_put_back`` when
        the move is refused."""
        changed = {}
        for host, specs in self.guests.items():
            if host == destination or not any(spec.name == name for spec in specs):
                continue
            changed[host] = (specs, self.plans.get(host), self.needed_mb[host], host in self.replanned,
                             self.undrainable.get(host))
            self.guests[host] = [spec for spec in specs if spec.name != name]
            self.needed_mb[host] -= sum(spec.memory_mb for spec in specs if spec.name == name)
            if host in self.plans:
                self._keep(host, [pair for pair in self.plans[host] if pair[0].name != name], None, True)
        return changed

    def _put_back(self, host, kept):
        specs, plan, needed_mb, replanned, reason = kept
        self.guests[host], self.needed_mb[host] = specs, needed_mb
        if plan is not None:
            self._keep(host, plan, reason, replanned)

    @property
    def refused_host(self):
        """The host the last ``refusal`` named (None when it accepted)."""
        return self._pending.host if self._pending is not None else None

    def accept(self, placement):
        verdict = self._pending if self._pending is not None and self._pending.placement is placement else None
        self._pending = None
        if verdict is None or verdict.reason is not None:
            verdict = self._judge(placement, complete=True)    # forced past a refusal: every plan follows
        state = self.states[placement.host]
        state.consume(placement)
        self.guests[placement.host] = _with(self.guests[placement.host], _as_move(placement.request, state))
        self.needed_mb[placement.host] += placement.request.memory_mb
        for host, (plan, reason, weighed) in verdict.plans.items():
            self._keep(host, plan, reason, weighed)

    def full_check(self, placement):
        """The reference the incremental answer is held to: ``{host: reason}`` of every host that could
        be drained before and that the planner, from scratch, as the preflight runs it (the weighed
        batch, else first fit), cannot drain after ``placement`` (slow: one plan per host)."""
        state = self.states[placement.host]
        state.consume(placement)
        failed = {}
        try:
            with collector_paused():
                for host in self.order:
                    if host in self.undrainable:
                        continue
                    batch = self.guests[host]
                    if host == placement.host:
                        batch = _with(batch, _as_move(placement.request, state))
                    plan, reason = self._weighed(host, batch)
                    if plan is None and self._first_fit(host, batch) is None:
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
        plans = {}
        first = None if complete else self._short_of_memory(placement, state)
        if first is not None:
            return self._refused(placement, first, plans)
        arriving = _as_move(placement.request, state)
        for host in self._asked_again(destination):
            batch = self.guests[host]
            if host == destination:
                batch = _with(batch, arriving)
            if host in self.replanned:
                answer = self._planned(host, batch)
            else:
                # D holds one more guest: to the others' plans it is a host that only refuses more
                plan = self._replayed(host, batch, {destination: _FULLER} if host != destination else {})
                answer = (plan, None, False) if plan is not None else (self._weighed(host, batch) + (True,))
            plans[host] = answer
            if answer[0] is None:
                first = first or (host, answer[1])
                if not complete:
                    break
        if first is None:
            return _Verdict(placement, None, plans)
        return self._refused(placement, first, plans)

    def _asked_again(self, destination):
        """The hosts whose answer a placement on ``destination`` can change, the likeliest to refuse
        first: ``destination`` (it gains the guest), the hosts whose first-fit plan sends guests there,
        and those planned again on every check."""
        asked = [destination] if destination in self.plans else []
        asked.extend(sorted(self.senders.get(destination, ()), key=self.position.__getitem__))
        asked.extend(host for host in self.order if host in self.replanned and host != destination)
        # a scheduler asks about one request on host after host: a host that refused it on one is the
        # likeliest to refuse it on the next, and a refusal stops the check (the answer is the same)
        first = [host for host in self.suspects if host in asked]
        return first + [host for host in asked if host not in first] if first else asked

    @staticmethod
    def _refused(placement, first, plans):
        host, reason = first
        why = "%s on %s would leave %s undrainable (%s=1): %s" % (
            placement.name, placement.host, host, OPTION, reason)
        return _Verdict(placement, why, plans, host)

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

    def _planned(self, host, batch):
        """The planner's answer for ``host`` with its guests ``batch``, from scratch: ``(plan, reason,
        weighed)``. First fit is tried first (cheap, and the plan to keep); the weighed batch only when
        it misses: whichever places every guest, the planner's answer is the same (drainable)."""
        plan = self._first_fit(host, batch)
        if plan is not None:
            return plan, None, False
        return self._weighed(host, batch) + (True,)

    def _first_fit(self, host, batch):
        """First fit's plan for ``host``'s ``batch`` from scratch (evacuation.place_first_fit, as the
        planner makes it), or None when a guest fits nowhere. The hosts are left as they were."""
        placed = []
        try:
            for outcome in place_first_fit(self._scheduler_without(host), self.fit_order[host], batch):
                if outcome.placement is None:
                    return None
                placed.append((outcome.spec, outcome.placement))
            return placed
        finally:
            for _spec, placement in reversed(placed):
                self._release_move(placement)

    def _replayed(self, host, batch, changed):
        """First fit's plan for ``host``'s ``batch`` on the hosts as they are now, worked out from its
        kept plan (made before ``changed``: {host: _FULLER or _DIFFERENT} of the hosts not as they were
        then) without trying again what cannot have changed: a guest keeps its host unless a host it
        tried first is _DIFFERENT now (it may take the guest), or its host changed (it may not); a
        _FULLER host (only more taken: a filter it failed fails again) is not tried where it refused.
        A guest that lands elsewhere changes the host it leaves and the one it takes. A guest drawn to
        others (``_drawn_to_others``) may be taken by a fuller host: a batch with one is planned from
        scratch. For any other guest no filter looks at another host than the one it checks, so
        slices of hosts may be filtered at once. None when a guest fits nowhere."""
        if any(_drawn_to_others(spec) for spec in batch):
            return self._first_fit(host, batch)
        order, index = self.fit_order[host], self.fit_index[host]
        kept = dict((spec.name, placement) for spec, placement in self.plans[host])
        changed = dict(changed)
        plan, waiting, consumed = [], {}, []     # waiting: placements kept without consuming, by host

        def tried(name, spec):
            """``spec``'s placement on host ``name`` with this plan's moves there so far, or None."""
            for placement in waiting.pop(name, ()):
                self._consume_move(placement)
                consumed.append(placement)
            trial = copy.copy(spec)
            outcome = Scheduler([self.states[name]], self.config, PLAN_SEED).place(trial)
            if outcome.placement is None:
                return None
            self.states[name].io_ops -= 1   # a planned move is not an I/O operation in flight
            consumed.append(outcome.placement)
            outcome.placement.request = spec
            return outcome.placement

        def scanned(names, spec):
            """``spec``'s placement on the first of ``names`` that takes it, or None. The filters run
            over a slice of them at once (as they would one host at a time), then the NUMA fit one at
            a time; slices that double in size keep the usual case (an early host takes it) cheap."""
            size = SCAN_SLICE
            while names:
                chunk, names, size = names[:size], names[size:], size * 2
                for name in chunk:
                    for placement in waiting.pop(name, ()):
                        self._consume_move(placement)
                        consumed.append(placement)
                trial = copy.copy(spec)
                scheduler = Scheduler([self.states[name] for name in chunk], self.config, PLAN_SEED)
                if trial.group:
                    trial.group_members = scheduler.groups.members_for(trial)
                passed, _refused = scheduler.run_filters(scheduler.hosts, trial)
                found = next((p for p in (tried(state.name, spec) for state in passed) if p), None)
                if found is not None:
                    return found
            return None

        try:
            for spec in batch:
                before = kept.get(spec.name)
                if before is not None and before.host not in changed and _DIFFERENT not in changed.values():
                    # the usual case, made cheap: nothing this guest tried first can take it now
                    plan.append((spec, before))
                    waiting.setdefault(before.host, []).append(before)
                    continue
                if before is None:
                    after = scanned(_round(order, spec), spec)
                else:
                    start = first_fit_start(spec.name, len(order))
                    at = (index[before.host] - start) % len(order)
                    after = next((p for p in (tried(name, spec) for name in sorted(
                        (name for name, how in changed.items()
                         if how is _DIFFERENT and (index[name] - start) % len(order) < at),
                        key=lambda name: (index[name] - start) % len(order))) if p), None)
                    if after is None and before.host not in changed:
                        after = before
                        waiting.setdefault(before.host, []).append(before)
                    elif after is None:
                        after = tried(before.host, spec) or scanned(
                            [order[(start + step) % len(order)] for step in range(at + 1, len(order))], spec)
                if after is None:
                    return None
                if before is not None and after is not before and (
                        after.host != before.host or not _same_footprint(after, before)):
                    changed[before.host] = _DIFFERENT
                if before is None or after.host != before.host:
                    changed.setdefault(after.host, _FULLER)
                plan.append((spec, after))
            return plan
        finally:
            for placement in reversed(consumed):
                self._release_move(placement)

    def _weighed(self, host, batch):
        """``(plan, None)`` or ``(None, reason)``: the planner's weighed batch for ``host``'s guests
        ``batch`` on the other hosts, from scratch; the hosts are left as they were."""
        placed, reason = [], None
        try:
            for outcome in place_moves(self._scheduler_without(host), batch, stop_at_refusal=True):
                if outcome.placement is None:
                    reason = _refusal_of(outcome)
                else:
                    placed.append((outcome.spec, outcome.placement))
        finally:
            for _spec, placement in reversed(placed):
                self._release_move(placement)
        return (None, reason) if reason is not None else (placed, None)

    def _scheduler_without(self, host):
        """A scheduler over every host but ``host``, as the planner makes for it."""
        return Scheduler([self.states[name] for name in self.order if name != host], self.config, PLAN_SEED)

    def _consume_move(self, placement):
        state = self.states[placement.host]
        state.consume(placement)
        state.io_ops -= 1   # a planned move is not an I/O operation in flight (evacuation.py)

    def _release_move(self, placement):
        state = self.states[placement.host]
        state.release(placement)
        state.io_ops += 1

    def _keep(self, host, plan, reason, weighed):
        """Keep ``plan`` for ``host``: first fit's (``weighed`` False: its destinations are indexed, a
        placement there asks it again), else the weighed batch's or one no longer first fit's
        (``weighed``: planned again on every check); a ``plan`` of None makes ``host`` undrainable for
        ``reason``."""
        for destination in self.destinations.pop(host, ()):
            self.senders[destination].discard(host)
        self.replanned.discard(host)
        if plan is None:
            self.plans.pop(host, None)
            self.undrainable[host] = reason
            return
        self.undrainable.pop(host, None)
        self.plans[host] = plan
        if weighed:
            self.replanned.add(host)
            return
        self.destinations[host] = set(placement.host for _spec, placement in plan)
        for destination in self.destinations[host]:
            self.senders.setdefault(destination, set()).add(host)


def _refusal_of(outcome):
    """The scheduler's refusal of a guest, with the first REASONS_SHOWN hosts' reasons: it becomes the
    reason of one host in the scheduler's own list, and a request refused on every host of a large fleet
    would otherwise carry every host's reason once per host."""
    verdicts = outcome.rejections
    more = len(verdicts) - REASONS_SHOWN
    return "No valid host was found for %s: %s%s" % (
        outcome.spec.name, "; ".join(str(v) for v in verdicts[:REASONS_SHOWN]) or "no other host",
        "; and %d more hosts" % more if more > 0 else "")


def _has_devices(facts):
    """True when a guest of ``facts`` has host devices: only then does guest_moves name the other hosts."""
    return any(guest.get("host_devices") for guest in facts.get("guests") or ())


def _round(order, spec):
    """The hosts of ``order`` in the order first fit tries them for ``spec``."""
    start = first_fit_start(spec.name, len(order)) if order else 0
    return [order[(start + step) % len(order)] for step in range(len(order))]


def _drawn_to_others(spec):
    """True when a host may take ``spec`` for what it gained (hard affinity: a member of its group;
    same_host: a guest it names), or depending on other hosts (affinity: where the group is): neither
    the replay's "a fuller host refuses again" nor filtering a slice of hosts alone holds for it."""
    return bool(spec.same_host) or (bool(spec.group) and spec.group["policy"] == "affinity")


def _same_footprint(one, other):
    """True when two placements of one guest on one host take the same CPUs, cells and devices."""
    return (one.cpuset == other.cpuset and one.emulator_cpus == other.emulator_cpus
            and one.pci_claims == other.pci_claims and _cells(one) == _cells(other))


def _cells(placement):
    return None if placement.cells is None else [
        (cell.guest_cell, cell.host_cell, cell.memory_mb, cell.page_size_kb, cell.pinning, cell.cpuset,
         cell.shared_vcpus, cell.reserved, cell.isolate) for cell in placement.cells]


def _with(batch, spec):
    """``batch`` (specs in the planner's order) with ``spec`` in its place."""
    key = placement_order(spec)
    at = sum(1 for other in batch if placement_order(other) < key)
    return batch[:at] + [spec] + batch[at:]


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
