# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rebalance the fleet: plan with planning/rebalance.py, then move through the drain's executor.

Plan first: the whole plan (moves, the spread before and after) is made over the facts read now,
before anything moves; check mode returns it and changes nothing.

Then move, as a drain moves (maintenance/drain.py's MoveExecutor): running guests live-migrate,
shut-off ones cold-migrate and are confirmed; every move takes a slot in the store, so the
fleet-wide limits (``max_parallel``, ``max_parallel_outbound`` per source, ``max_parallel_inbound``
per destination) count the drains' moves and the rebalance's together, and a host a drain takes
meanwhile is never a destination; each move's claim re-runs the scheduler's filters on its
destination; a failed move leaves its guest running on its source and, with ``max_attempts`` above 1,
is tried on another destination the scheduler picks (its weighers, not the plan's measure); the
journal records each move; the report is the drain's, per guest, kept in the store with the run.

One rebalance at a time, fleet-wide: the run holds the store's drain lock under the key
``states.REBALANCE_LOCK`` (no host is named so), a lease the executor renews. Re-run after an
interruption (a killed playbook), it takes over the dead run's lock, settles the migrations the
journal left ``migrating`` on every host, and plans again from where the guests are now: what moved
does not move again, and a fleet already balanced plans nothing.
"""

from __future__ import annotations

import time

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError, whole_number
from ansible_collections.vmfleet.compute.plugins.module_utils.instances import move_destination
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.location import InstanceLocation
from ansible_collections.vmfleet.compute.plugins.module_utils.maintenance import drain as host_drain
from ansible_collections.vmfleet.compute.plugins.module_utils.maintenance.drain_plan import DrainItem
from ansible_collections.vmfleet.compute.plugins.module_utils.maintenance.drain_report import DrainReport
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import policy as migration_policy
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import settle as migration_settle
from ansible_collections.vmfleet.compute.plugins.module_utils.planning import rebalance as planner
from ansible_collections.vmfleet.compute.plugins.module_utils.planning.admission import admission_control
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import build_config
from ansible_collections.vmfleet.compute.plugins.module_utils.state.lease_keeper import LeaseKeeper


def rebalance(fleet, *, goal=states.BALANCE, max_moves=planner.DEFAULT_MAX_MOVES, min_gain=planner.DEFAULT_MIN_GAIN,
              settings=None, scheduler_config=None, limits=None, max_attempts=1, shutdown_timeout=60, seed=None,
              admission=None, by=None, lock_timeout=3600, check_mode=False):
    """Plan and (unless ``check_mode``) make the moves; returns the report (a dict). Raises InvalidInput
    before anything is locked or moved for a wrong option; VmfleetError (with ``report``) when a move
    failed or the store went away, saying where every guest of the plan runs."""
    planner.check_options(goal, max_moves, min_gain)
    config = build_config(scheduler_config)  # a wrong one is refused before the lock is taken
    settings = migration_policy.normalize(settings)
    limits = host_drain.normalize_limits(limits)
    whole_number("max_attempts", max_attempts, 1)
    options = dict(goal=goal, max_moves=max_moves, min_gain=min_gain, scheduler_config=config,
                   admission=admission, seed=seed)
    started = time.monotonic()
    if check_mode:  # a plan takes no lock and writes nothing
        fleet.refresh(fleet.stale(host_drain.FRESH_SECONDS))
        plan = planner.plan_rebalance(fleet.facts_list(), **_admitted(options, fleet, config))
        report = _report(plan, _items(fleet, plan, scheduler_config), [])
        return _finish(report, plan, states.DRAIN_PLANNED, started)
    store = fleet.store
    run = store.begin_drain(states.REBALANCE_LOCK, host_drain._owner(by), timeout=lock_timeout,
                            holder_gone=host_drain._holder_gone)
    report, result = None, None
    try:
        settled = []
        # settling and planning may outlast the lease: renewed meanwhile (the executor renews it after)
        with LeaseKeeper(store, run.id) as lease:
            for name in fleet.reachable():
                settled.extend(migration_settle.settle_host(fleet, name, settings))
            fleet.refresh()  # plan from what runs where now, settled moves included
            plan = planner.plan_rebalance(fleet.facts_list(), **_admitted(options, fleet, config))
            items = _items(fleet, plan, scheduler_config)
        lease.check()
        report = _report(plan, items, settled)
        executor = host_drain.MoveExecutor(
            fleet, None, run.id, settings=settings, scheduler_config=scheduler_config, limits=limits,
            max_attempts=max_attempts, shutdown_timeout=shutdown_timeout, seed=seed)
        executor.run([item for item in items if not item.refusal])
        fleet.refresh()
        failed = [item for item in items if item.result == states.GUEST_FAILED or item.refusal]
        result = states.REBALANCED if not failed and not executor.stopped else states.DRAIN_FAILED
        done = _finish(report, plan, result, started, now=planner.measure(fleet.facts_list()))
        host_drain._end_run(store, run.id, report)
        run = None
        if executor.stopped:
            raise VmfleetError("rebalance stopped: %s; every guest runs where the report says; run it again when "
                               "the store is back: it settles and goes on" % executor.stopped, report=done)
        if failed:
            why = ["%s: %s (runs on %s)" % (item.name, item.refusal or item.outcome.get("error"),
                                            item.outcome.get("running_on") or item.source) for item in failed]
            raise VmfleetError("rebalance did not finish: %s" % "; ".join(why), report=done)
        return done
    except BaseException as error:
        if run is not None:
            if report is not None and report.result is None:
                report.finish(states.DRAIN_FAILED, started)
            host_drain._end_run(store, run.id, report, error)
        raise


def _admitted(options, fleet, config):
    """``options`` with the admission control the scheduler configuration asks for
    (``host_failures_to_tolerate``), over the facts read now, unless the caller gave one. It errs on the
    side of refusing: a guest it admitted counts on its source and its destination until the plan is
    made, and a host that consolidation tried and could not empty keeps the guests it admitted away."""
    if options["admission"] is not None:
        return options
    return dict(options, admission=admission_control(fleet.facts_list(), config))


def _items(fleet, plan, scheduler_config):
    """The plan's moves as the executor's items: each with the Instance its metadata records (what a retry
    plans with), or a refusal when libvirt's copy of the guest cannot be moved as planned."""
    items = []
    for move in plan.moves:
        item = DrainItem(move.name, move.kind, destination=move.destination, placement=move.placement,
                         source=move.source)
        try:
            location = InstanceLocation(fleet, move.name, [move.source])
            if not location or not location.metadata:
                raise VmfleetError("%s is no longer on %s, or no longer carries its metadata" % (
                    move.name, move.source))
            item.instance = move_destination.instance_from(location, location.metadata["flavor"], scheduler_config)
            item.instance.request["hints"]["availability_zone"] = move.request["hints"]["availability_zone"]
        except VmfleetError as exc:
            item.refusal, item.destination = exc.message, None
        items.append(item)
    return items


def _report(plan, items, settled):
    return DrainReport(None, items, settled, False, title="rebalance (%s)" % plan.goal)


def _finish(report, plan, result, started, now=None):
    """The report as the module returns it: the drain's per guest and summary, and the plan's measure."""
    done = report.finish(result, started)
    for key in ("host", "cordoned_now", "remaining"):
        done.pop(key, None)
    done.update(plan.to_dict())
    done["measure_now"] = now
    return done
