# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drain a host: cordon it, plan every guest elsewhere, move them with
bounded parallelism, retry failures elsewhere, and check with libvirt that
the host is empty.

What operators report about drains elsewhere, and what this does instead:

- Nova's ``host-evacuate-live`` fires requests and neither waits nor
  verifies: here each move is watched to its end, and the drain is finished
  only when libvirt lists no guest on the host.
- Drains that never end: every live migration is bounded by Nova's
  completion timeout and a progress timeout; a guest that fails is retried
  on another destination up to ``max_attempts``, then reported, running on
  its source.
- Concurrency: KubeVirt's defaults, 2 migrations out of a host at a time and
  5 overall, plus a limit of migrations into each destination, counted
  fleet-wide in the state store: two drains of two hosts share them, and a
  host being drained is never a destination.
- Interrupted drains: the drain holds the host's drain lock in the state
  store (a lease it renews); a new run waits for a drain still running,
  settles the moves a killed run left ``migrating`` in the journal
  (migration/settle.py, the path every operation takes), then plans the guests still on the host, so
  nothing moves twice.
- Cancelled (host_maintenance ``state: drain_cancelled`` records the request
  in the store, KubeVirt's evacuation cancel): the drain looks every few
  seconds, aborts its live migrations (each guest back on its source), starts
  no other move, and fails saying where every guest runs; the host stays
  cordoned.
- The store going away mid-drain: no new move starts; the moves under way end
  (each leaves its guest running on its source or its destination) and the
  drain fails saying where every guest runs. The next run settles and goes on.

The report lists per guest from, to, kind, duration, downtime, data,
attempts and result, and a summary; it is also kept in the store with the
drain run.
"""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError, whole_number
from ansible_collections.vmfleet.compute.plugins.module_utils.instances import move_destination
from ansible_collections.vmfleet.compute.plugins.module_utils.instances import resize as instance_resize
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.location import InstanceLocation
from ansible_collections.vmfleet.compute.plugins.module_utils.maintenance.drain_plan import guests_on, plan_drain
from ansible_collections.vmfleet.compute.plugins.module_utils.maintenance.drain_report import DrainReport
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import live as live_migration
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import policy as migration_policy
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import settle as migration_settle
from ansible_collections.vmfleet.compute.plugins.module_utils.planning.admission import without_admission
from ansible_collections.vmfleet.compute.plugins.module_utils.state import cordon as host_cordon
from ansible_collections.vmfleet.compute.plugins.module_utils.state import run_owner
from ansible_collections.vmfleet.compute.plugins.module_utils.state.errors import StoreError
from ansible_collections.vmfleet.compute.plugins.module_utils.state.lease_keeper import LeaseKeeper

# facts the fleet itself read this recently are planned with as they are (no second read of every host)
FRESH_SECONDS = 5
# how long the executor waits for a move before it renews its drain lease and looks for free slots again
POLL_SECONDS = 5
# KubeVirt: parallelOutboundMigrationsPerNode 2, parallelMigrationsPerCluster 5
DEFAULT_LIMITS = {"max_parallel_outbound": 2, "max_parallel_inbound": 2, "max_parallel": 5}
# the limits as module options (host_maintenance's drain, rebalance)
LIMITS_ARGSPEC = dict((key, dict(type="int", default=value)) for key, value in DEFAULT_LIMITS.items())


def normalize_limits(limits):
    out = dict(DEFAULT_LIMITS)
    for key in DEFAULT_LIMITS:
        if (limits or {}).get(key) is not None:
            out[key] = whole_number(key, limits[key], 1)
    return out


def drain(fleet, host_name, *, settings=None, scheduler_config=None, limits=None, max_attempts=3,
          allow_partial=False, shutdown_timeout=60, seed=None, reason=None, by=None, lock_timeout=3600,
          check_mode=False):
    """Drain ``host_name``; returns the report. Raises VmfleetError (with ``report``) when the plan does
    not fit (nothing moved) or when guests are still on the host at the end."""
    settings = migration_policy.normalize(settings)
    limits = normalize_limits(limits)
    whole_number("max_attempts", max_attempts, 1)
    fleet.host(host_name, "name")
    store = fleet.store
    started = time.monotonic()
    if check_mode:  # a plan takes no lock and writes nothing
        fleet.refresh(fleet.stale(FRESH_SECONDS))
        report = DrainReport(host_name, plan_drain(fleet, host_name, scheduler_config, seed), [], False)
        _refuse_unless_all_fit(host_name, report, allow_partial, started)
        return report.finish(states.DRAIN_PLANNED, started)
    run = store.begin_drain(host_name, _owner(by), timeout=lock_timeout, holder_gone=_holder_gone)
    report, ended = None, False
    try:
        # settling and planning may outlast the lease: renewed meanwhile (the executor renews it after)
        with LeaseKeeper(store, run.id) as lease:
            cordoned = host_cordon.set_state(store, states.CORDONED, host_name,
                                             reason or "draining for maintenance", by)[0]
            settled = migration_settle.settle_host(fleet, host_name, settings)
            # plan from what is there now: the facts given may be from the start of the play (a fleet built
            # from the hosts' entries has just read them, and reads them again only when settling changed
            # something)
            fleet.refresh(None if settled else fleet.stale(FRESH_SECONDS))
            items = plan_drain(fleet, host_name, scheduler_config, seed)
            report = DrainReport(host_name, items, settled, cordoned)
        lease.check()
        _refuse_unless_all_fit(host_name, report, allow_partial, started)
        # a drain is not refused by admission control (planning/admission.py): the host is emptied for maintenance
        executor = MoveExecutor(fleet, host_name, run.id, settings=settings,
                                scheduler_config=without_admission(scheduler_config),
                                limits=limits, max_attempts=max_attempts, shutdown_timeout=shutdown_timeout,
                                seed=seed)
        executor.run([item for item in items if not item.refusal])
        remaining = [name for name, _domain, _state in guests_on(fleet, host_name)]
        failed = [item for item in items if item.result == states.GUEST_FAILED]
        result = states.DRAINED if not remaining else (
            states.DRAIN_PARTIAL if allow_partial and not failed and not executor.stopped else states.DRAIN_FAILED)
        report.remaining = remaining
        report.finish(result, started)
        ended = _end_run(store, run.id, report)
        if executor.cancelled:
            raise VmfleetError("drain of %s %s: the migrations under way were aborted and no other move started; "
                               "every guest runs where the report says (%s still on %s). The host stays cordoned: "
                               "drain it again, or uncordon it" % (
                                   host_name, executor.stopped, ", ".join(remaining) or "none", host_name),
                               host=host_name, report=report.to_dict())
        if executor.stopped:
            raise VmfleetError("drain of %s stopped: %s; every guest runs where the report says (%s still on %s); "
                               "run the drain again when the store is back: it settles and goes on" % (
                                   host_name, executor.stopped, ", ".join(remaining) or "none", host_name),
                               host=host_name, report=report.to_dict())
        if result == states.DRAIN_FAILED:
            raise VmfleetError("drain of %s did not finish: %s still on it%s" % (
                host_name, ", ".join(remaining), "".join(
                    "; %s: %s" % (item.name, item.outcome.get("error")) for item in failed)),
                host=host_name, report=report.to_dict())
        return report.to_dict()
    except BaseException as error:
        if not ended:
            _end_run(store, run.id, report, error)
        raise


def cancel(store, host_name, by=None, check_mode=False):
    """Ask the drain running on ``host_name`` (in any controller) to stop; the result dict."""
    running = store.draining_hosts().get(host_name)
    if running is None:
        return {"changed": False, "drain_run": None, "actions": ["no drain runs on %s" % host_name]}
    if not check_mode:
        store.request_drain_cancel(host_name, by)
    return {"changed": True, "drain_run": running["run_id"], "actions": [
        "asked drain run %s (%s) to stop: it aborts its migrations within %d s and fails saying where every "
        "guest runs" % (running["run_id"], running["owner"], POLL_SECONDS)]}


def _refuse_unless_all_fit(host_name, report, allow_partial, started):
    refused = [item for item in report.items if item.refusal]
    if refused and not allow_partial:
        report.finish("not started", started)
        raise VmfleetError("cannot drain %s: %d of %d guests cannot be moved, so none was (allow_partial moves "
                           "the others): %s" % (host_name, len(refused), len(report.items), "; ".join(
                               "%s: %s" % (item.name, item.refusal) for item in refused)),
                           host=host_name, report=report.to_dict())


# who runs this drain, for another run that finds the host's drain lock held; and whether that holder is a
# process of this machine that no longer exists (a killed playbook's module), so its lease need not run out
_owner, _holder_gone = run_owner.describe, run_owner.gone


def _end_run(store, run_id, report, error=None):
    """Record the run's result and report and release its lock, so the next run need not wait for a lease to
    run out; a store that is gone cannot be told (the run's lease then runs out)."""
    result = report.result if report is not None and report.result else states.DRAIN_FAILED
    recorded = report.to_dict() if report is not None else {"error": str(error)}
    try:
        store.finish_drain(run_id, result, recorded)
    except (StoreError, VmfleetError):
        pass  # the store is gone: the run's lease runs out
    return True


class MoveExecutor(object):
    """Runs the moves within the fleet-wide limits (a slot in the state store for each move); retries a
    failed move on another destination; renews the run's lease while it waits. The moves leave
    ``host_name`` (a drain), or each its item's ``source`` (a rebalance: ``host_name`` None)."""

    def __init__(self, fleet, host_name, run_id, *, settings, scheduler_config, limits, max_attempts,
                 shutdown_timeout, seed):
        self.fleet, self.store, self.source, self.run_id = fleet, fleet.store, host_name, run_id
        self.settings, self.scheduler_config, self.limits = settings, scheduler_config, limits
        self.max_attempts, self.shutdown_timeout, self.seed = max_attempts, shutdown_timeout, seed
        self.stopped = None  # why no further move was started (the store went away, a cancel), or None
        self.cancelled = False
        self.running = {}  # future -> (item, move slot id)

    def run(self, items):
        queue = list(items)
        running = self.running
        # the outbound limit of each source host and the overall one bound the workers together
        sources = len(set(self._source(item) for item in items)) or 1
        workers = min(self.limits["max_parallel_outbound"] * sources, self.limits["max_parallel"])
        with ThreadPoolExecutor(max_workers=workers) as pool:
            while (queue and not self.stopped) or running:
                if not self.stopped:
                    self._start(pool, queue, running, workers)
                if not running:
                    if queue and not self.stopped:
                        time.sleep(1)  # every slot is held by other drains: wait for one to end
                    continue
                done, _pending = wait(list(running), timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
                self._renew()
                for future in done:
                    item, slot = running.pop(future)
                    self._give_back(slot)
                    error = future.exception()
                    if error is None:
                        item.attempts.append({"host": item.destination, "result": states.GUEST_MIGRATED})
                        item.result = states.GUEST_MIGRATED
                        item.outcome.update(future.result())
                    elif self._retry(item, error):
                        queue.append(item)
        for item in queue:  # never started: they run on the source, as the report says
            item.outcome.setdefault("error", "not started: %s" % self.stopped)
            if self.cancelled:
                item.result = states.GUEST_NOT_MOVED

    def _start(self, pool, queue, running, workers):
        """Start the queued moves the fleet-wide limits allow now."""
        for item in list(queue):
            if len(running) >= workers:
                return
            try:
                slot = self.store.start_move(item.name, self._source(item), item.destination, self.limits,
                                             run_id=self.run_id)
            except StoreError as exc:
                self.stopped = exc.message
                return
            if slot.id is None:
                if item.destination in self._draining():
                    # another drain took the destination after the plan: plan this guest elsewhere
                    queue.remove(item)
                    if self._retry(item, VmfleetError("destination %s is being drained" % item.destination)):
                        queue.append(item)
                continue
            queue.remove(item)
            running[pool.submit(self._move, item)] = (item, slot.id)

    def _draining(self):
        try:
            return self.store.draining_hosts()
        except StoreError:
            return {}

    def _renew(self):
        try:
            self.store.renew_drain(self.run_id)
            cancel = None if self.cancelled else self.store.drain_cancel_requested(self.run_id)
        except (StoreError, VmfleetError) as exc:
            self.stopped = self.stopped or exc.message
            return
        if cancel:
            self.cancelled = True
            self.stopped = "cancelled by %s at %s" % (cancel.get("by") or "unknown", cancel.get("at"))
            self._abort_running()

    def _abort_running(self):
        """Abort the live migrations under way (each then puts its guest back on the source, as after any
        failure); a cold migration runs to its end (its copy cannot be aborted half-way and left usable)."""
        for item, _slot in list(self.running.values()):
            if item.kind == states.LIVE:
                live_migration.abort_job(self.fleet, item.name, self._source(item), "drain run %s" % self.run_id)

    def _give_back(self, slot):
        try:
            self.store.finish_move(slot)
        except StoreError:
            pass  # the store is gone: the slot ends with the run's lease

    def _source(self, item):
        return item.source or self.source

    def _move(self, item):
        location = InstanceLocation(self.fleet, item.name, [self._source(item)])
        if item.kind == states.LIVE:
            moved = live_migration.live_migrate(
                self.fleet, location, destination=item.destination, settings=self.settings,
                scheduler_config=self.scheduler_config, max_attempts=1, seed=self.seed)
            return {"duration_s": moved["duration_s"], "downtime_ms": moved["downtime_ms"],
                    "data_bytes": moved["data_bytes"], "running_on": moved["host"], "storage": moved["storage"]}
        started = time.monotonic()
        moved = instance_resize.resize(self.fleet, location, destination=item.destination,
                                       scheduler_config=self.scheduler_config, max_attempts=1,
                                       shutdown_timeout=self.shutdown_timeout, seed=self.seed)
        instance_resize.confirm(self.fleet, InstanceLocation(self.fleet, item.name,
                                                             [self._source(item), moved["host"]]))
        return {"duration_s": round(time.monotonic() - started, 2), "downtime_ms": None,
                "data_bytes": moved["migration"].get("data_bytes"), "running_on": moved["host"]}

    def _retry(self, item, error):
        """Record a failed attempt; True when the item goes back into the queue with a new destination."""
        message = getattr(error, "message", None) or "%s: %s" % (type(error).__name__, error)
        item.attempts.append({"host": item.destination, "result": message})
        details = getattr(error, "details", {}) or {}
        item.outcome.update(error=message, running_on=details.get("host"))
        if self.cancelled:
            item.result = states.GUEST_NOT_MOVED if details.get("host") == self._source(item) else states.GUEST_FAILED
            return False
        if details.get("host") not in (None, self._source(item)):
            item.result = states.GUEST_FAILED  # it is not on the source any more: never move it again blindly
            return False
        if len(item.attempts) >= self.max_attempts:
            item.result = states.GUEST_FAILED
            return False
        tried = [attempt["host"] for attempt in item.attempts]
        self.fleet.refresh()
        try:
            location = InstanceLocation(self.fleet, item.name, [self._source(item)])
            placement = move_destination.plan_destination(
                self.fleet, location, item.instance, False, None, tried, self.seed, same_host_option=None)
        except VmfleetError as exc:
            item.result = states.GUEST_FAILED
            item.outcome["error"] = "%s; no other destination: %s" % (message, exc.message)
            return False
        item.destination, item.placement = placement["host"], placement
        return True
