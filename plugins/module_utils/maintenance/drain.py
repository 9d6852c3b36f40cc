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
  5 overall, plus a limit of migrations into each destination.
- Interrupted drains: the drain holds ``<state_dir>/drain.lock`` while it
  runs; a new run waits for a drain still running, settles the migrations a
  killed run left ``migrating`` in the journal (live_migration.settle), then
  plans the guests still on the host, so nothing moves twice.

The report lists per guest from, to, kind, duration, downtime, data,
attempts and result, and a summary; it is also written to
``<state_dir>/drain-report.json``.
"""

from __future__ import annotations

import collections
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
from ansible_collections.vmfleet.compute.plugins.module_utils.state import cordon as host_cordon
from ansible_collections.vmfleet.compute.plugins.module_utils.state import folder as state_folder
from ansible_collections.vmfleet.compute.plugins.module_utils.state import journal as migration_journal

DRAIN_LOCK = "drain.lock"
REPORT_FILE = "drain-report.json"
# facts the fleet itself read this recently are planned with as they are (no second read of every host)
FRESH_SECONDS = 5
# KubeVirt: parallelOutboundMigrationsPerNode 2, parallelMigrationsPerCluster 5
DEFAULT_LIMITS = {"max_parallel_outbound": 2, "max_parallel_inbound": 2, "max_parallel": 5}


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
    source = fleet.host(host_name, "name")
    state_dir = state_folder.require(source.state_dir, host_name)
    started = time.monotonic()
    with state_folder.host_lock(state_dir, timeout=lock_timeout, host=host_name, lock_file=DRAIN_LOCK):
        cordoned = False
        settled = []
        if not check_mode:
            cordoned = host_cordon.set_state(state_dir, states.CORDONED, host_name,
                                             reason or "draining for maintenance", by)[0]
            settled = _settle_interrupted(fleet, host_name, settings)
        # plan from what is there now: the facts given may be from the start of the play (a fleet built from
        # the hosts' entries has just read them, and reads them again only when settling changed something)
        fleet.refresh(None if settled else fleet.stale(FRESH_SECONDS))
        items = plan_drain(fleet, host_name, scheduler_config, seed)
        report = DrainReport(host_name, items, settled, cordoned)
        refused = [item for item in items if item.refusal]
        if refused and not allow_partial:
            report.finish("not started", started)
            raise VmfleetError("cannot drain %s: %d of %d guests cannot be moved, so none was (allow_partial moves "
                               "the others): %s" % (host_name, len(refused), len(items), "; ".join(
                                   "%s: %s" % (item.name, item.refusal) for item in refused)),
                               host=host_name, report=report.to_dict())
        if check_mode:
            return report.finish(states.DRAIN_PLANNED, started)
        _Executor(fleet, host_name, settings, scheduler_config, limits, max_attempts, shutdown_timeout,
                  seed).run([item for item in items if not item.refusal])
        remaining = [name for name, _domain, _state in guests_on(fleet, host_name)]
        failed = [item for item in items if item.result == states.GUEST_FAILED]
        result = states.DRAINED if not remaining else (
            states.DRAIN_PARTIAL if allow_partial and not failed else states.DRAIN_FAILED)
        report.remaining = remaining
        report.finish(result, started)
        _write_report(state_dir, report.to_dict())
        if result == states.DRAIN_FAILED:
            raise VmfleetError("drain of %s did not finish: %s still on it%s" % (
                host_name, ", ".join(remaining), "".join(
                    "; %s: %s" % (item.name, item.outcome.get("error")) for item in failed)),
                host=host_name, report=report.to_dict())
        return report.to_dict()


def _settle_interrupted(fleet, host_name, settings):
    """Settle the live migrations out of this host that an earlier run left ``migrating``, and remove what
    failed ones left on destinations that were unreachable then."""
    lines = []
    state_dir = fleet.host(host_name).state_dir
    for record in migration_journal.read(state_dir):
        if record.get("source") != host_name:
            continue
        if record.get("status") == states.ERROR and record.get("kind") == states.LIVE \
                and record.get("cleaned_up") is False:
            if live_migration.clean_leftovers(fleet, record):
                lines.append("%s: removed what the failed migration %s left on %s" % (
                    record.get("guest"), record["id"][:8], record.get("destination")))
            continue
        if record.get("status") != states.MIGRATING:
            continue
        if record.get("kind") == states.LIVE and record.get("uuid") and record.get("destination") in fleet.hosts:
            wait_for = max(60, migration_policy.completion_timeout(settings, migration_policy.MIN_DATA_GB))
            lines.append(live_migration.settle(fleet, record, wait_timeout=wait_for))
        else:
            error = "interrupted %s migration: the guest stays where libvirt has it; look on %s for volumes it " \
                    "may have left" % (record.get("kind"), record.get("destination"))
            migration_journal.update([state_dir], record, status=states.ERROR, error=error)
            lines.append("%s: interrupted %s migration to %s marked as error" % (
                record.get("guest"), record.get("kind"), record.get("destination")))
    return lines


class _Executor(object):
    """Runs the moves with the concurrency limits; retries a failed move on another destination."""

    def __init__(self, fleet, host_name, settings, scheduler_config, limits, max_attempts, shutdown_timeout, seed):
        self.fleet, self.source, self.settings = fleet, host_name, settings
        self.scheduler_config, self.limits, self.max_attempts = scheduler_config, limits, max_attempts
        self.shutdown_timeout, self.seed = shutdown_timeout, seed

    def run(self, items):
        queue = list(items)
        running = {}
        inbound = collections.Counter()
        # one source host per drain: its outbound limit and the overall one bound the workers together
        workers = min(self.limits["max_parallel_outbound"], self.limits["max_parallel"])
        with ThreadPoolExecutor(max_workers=workers) as pool:
            while queue or running:
                for item in list(queue):
                    if len(running) >= workers:
                        break
                    if inbound[item.destination] >= self.limits["max_parallel_inbound"]:
                        continue
                    queue.remove(item)
                    inbound[item.destination] += 1
                    running[pool.submit(self._move, item)] = item
                done, _pending = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    item = running.pop(future)
                    inbound[item.destination] -= 1
                    error = future.exception()
                    if error is None:
                        item.attempts.append({"host": item.destination, "result": states.GUEST_MIGRATED})
                        item.result = states.GUEST_MIGRATED
                        item.outcome.update(future.result())
                    elif self._retry(item, error):
                        queue.append(item)

    def _move(self, item):
        location = InstanceLocation(self.fleet, item.name, [self.source])
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
        instance_resize.confirm(self.fleet, InstanceLocation(self.fleet, item.name, [self.source, moved["host"]]))
        return {"duration_s": round(time.monotonic() - started, 2), "downtime_ms": None,
                "data_bytes": moved["migration"].get("data_bytes"), "running_on": moved["host"]}

    def _retry(self, item, error):
        """Record a failed attempt; True when the item goes back into the queue with a new destination."""
        message = getattr(error, "message", None) or "%s: %s" % (type(error).__name__, error)
        item.attempts.append({"host": item.destination, "result": message})
        details = getattr(error, "details", {}) or {}
        item.outcome.update(error=message, running_on=details.get("host"))
        if details.get("host") not in (None, self.source):
            item.result = states.GUEST_FAILED  # it is not on the source any more: never move it again blindly
            return False
        if len(item.attempts) >= self.max_attempts:
            item.result = states.GUEST_FAILED
            return False
        tried = [attempt["host"] for attempt in item.attempts]
        self.fleet.refresh()
        try:
            location = InstanceLocation(self.fleet, item.name, [self.source])
            placement = move_destination.plan_destination(
                self.fleet, location, item.instance, False, None, tried, self.seed, same_host_option=None)
        except VmfleetError as exc:
            item.result = states.GUEST_FAILED
            item.outcome["error"] = "%s; no other destination: %s" % (message, exc.message)
            return False
        item.destination, item.placement = placement["host"], placement
        return True


def _write_report(state_dir, report):
    try:
        state_folder.write_json("%s/%s" % (state_dir.rstrip("/"), REPORT_FILE), report, "drain report")
    except VmfleetError:
        pass  # the report is also the task's result; a full disk must not turn a drain into a failure
