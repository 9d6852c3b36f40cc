# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a live migration is driven while it runs: Nova's ``[libvirt]`` knobs,
their defaults, and the decisions the monitor takes from them.

Option names and defaults are Nova's (``live_migration_downtime`` and
friends, without the prefix); two are not Nova's:

- ``progress_timeout``: Nova removed its own in Stein; KubeVirt keeps one,
  150 s without progress aborts the migration. We default to KubeVirt's 150.
- ``compression`` / ``parallel_connections``: libvirt's
  ``VIR_MIGRATE_COMPRESSED`` and ``VIR_MIGRATE_PARALLEL`` (Nova exposes
  neither; off and 1, i.e. libvirt's own defaults).

``native_tls`` is Nova's ``live_migration_with_native_tls`` (libvirt's
``VIR_MIGRATE_TLS``: QEMU encrypts the migration data, and a block
migration's disk mirror, with the x509 certificates of qemu.conf's
``migrate_tls_x509_cert_dir`` on both hosts). Nova's is a per-host
option; here it is chosen per operation, as the others are.

Everything here is pure: the monitor (live_migration.py) feeds it job
statistics and applies what it answers.
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, whole_number
from ansible_collections.vmfleet.compute.plugins.module_utils.units import GIB

ABORT, FORCE_COMPLETE = "abort", "force_complete"
TIMEOUT_ACTIONS = (ABORT, FORCE_COMPLETE)

# name: (default, minimum) -- Nova's minimums where Nova has them
_NUMBERS = {
    "max_downtime": (500, 100),          # ms, live_migration_downtime
    "downtime_steps": (10, 3),           # live_migration_downtime_steps
    "downtime_delay": (75, 3),           # s per GiB, live_migration_downtime_delay
    "completion_timeout": (800, 0),      # s per GiB, 0 = none; live_migration_completion_timeout
    "progress_timeout": (150, 0),        # s without progress, 0 = none (KubeVirt's)
    "bandwidth": (0, 0),                 # MiB/s, 0 = unlimited; live_migration_bandwidth
    "parallel_connections": (1, 1),
}
_FLAGS = {
    "permit_auto_converge": False,       # live_migration_permit_auto_converge
    "permit_post_copy": False,           # live_migration_permit_post_copy
    "compression": False,
    "native_tls": False,                 # live_migration_with_native_tls
}
DEFAULTS = dict([(k, v[0]) for k, v in _NUMBERS.items()] + list(_FLAGS.items()) + [("timeout_action", ABORT)])
# Below this much data (RAM + disks to copy) the timeouts and the ladder count as this much (Nova's floor).
MIN_DATA_GB = 2.0


def normalize(options, field="migration"):
    """The settings dict, defaults filled in; InvalidInput names ``<field>.<key>`` (``<key>`` when
    ``field`` is empty) and what is allowed."""
    options = dict(options or {})
    name = (lambda key: "%s.%s" % (field, key)) if field else (lambda key: key)
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise InvalidInput(name(unknown[0]), options[unknown[0]], ", ".join(sorted(DEFAULTS)),
                           reason="unknown setting")
    settings = dict(DEFAULTS)
    for key, (_default, minimum) in _NUMBERS.items():
        if options.get(key) is not None:
            settings[key] = whole_number(name(key), options[key], minimum)
    for key in _FLAGS:
        if options.get(key) is not None:
            if not isinstance(options[key], bool):
                raise InvalidInput(name(key), options[key], "true or false")
            settings[key] = options[key]
    action = options.get("timeout_action")
    if action is not None:
        if action not in TIMEOUT_ACTIONS:
            raise InvalidInput(name("timeout_action"), action, ", ".join(TIMEOUT_ACTIONS))
        settings["timeout_action"] = action
    if settings["permit_post_copy"] and settings["permit_auto_converge"]:
        # libvirt would accept both; Nova uses auto-converge only without post-copy
        settings["permit_auto_converge"] = False
    return settings


def data_gb(memory_bytes, disk_bytes=0):
    """The GiB a migration moves (RAM, plus disks copied by a block migration), at least MIN_DATA_GB."""
    return max(float(memory_bytes + disk_bytes) / GIB, MIN_DATA_GB)


def downtime_steps(settings, data):
    """Nova's downtime ladder: ``[(seconds after start, max downtime in ms)]``, steps+1 entries."""
    downtime, steps = settings["max_downtime"], settings["downtime_steps"]
    delay = int(settings["downtime_delay"] * data)
    base = downtime / steps
    offset = (downtime - base) / steps
    return [(int(delay * i), int(base + offset * i)) for i in range(steps + 1)]


def completion_timeout(settings, data):
    """Seconds the whole migration may take; 0 = no limit."""
    return int(settings["completion_timeout"] * data)


class Monitor(object):
    """Decides, at each look at the job, what to do next.

    ``observe(elapsed, remaining)`` (``remaining``: bytes still to copy, None while
    libvirt reports nothing yet) returns a list of actions, each one of
    ``("downtime", ms)``, ``("abort", reason)``, ``("post_copy", reason)``,
    ``("pause", reason)``. It remembers the ladder step reached, when the
    remaining data last went down, and whether it already aborted or forced
    completion (decided once).
    """

    def __init__(self, settings, data):
        self.settings = settings
        self.steps = downtime_steps(settings, data)
        self.timeout = completion_timeout(settings, data)
        self.next_step = 0
        self.lowest_remaining = None
        self.progress_at = 0.0
        self.forced = None

    def observe(self, elapsed, remaining):
        actions = []
        while self.next_step < len(self.steps) and elapsed >= self.steps[self.next_step][0]:
            actions.append(("downtime", self.steps[self.next_step][1]))
            self.next_step += 1
        if actions:
            actions = actions[-1:]  # a late look applies only the highest step reached
        if remaining is None:
            self.progress_at = elapsed  # nothing measured yet (libvirt still sets the job up)
        elif self.lowest_remaining is None or remaining < self.lowest_remaining:
            self.lowest_remaining, self.progress_at = remaining, elapsed
        if self.forced is not None:
            return actions  # aborted, or switching over (post-copy, paused): decided once
        progress_timeout = self.settings["progress_timeout"]
        if progress_timeout and elapsed - self.progress_at > progress_timeout:
            self.forced = ABORT
            actions.append((ABORT, "no progress for %d s (progress_timeout %d s): %s bytes still to copy" % (
                elapsed - self.progress_at, progress_timeout, remaining)))
            return actions
        if self.timeout and elapsed > self.timeout:
            reason = "not finished after %d s (completion_timeout %d s per GiB of data: %d s)" % (
                elapsed, self.settings["completion_timeout"], self.timeout)
            if self.settings["timeout_action"] == ABORT:
                self.forced = ABORT
                actions.append((ABORT, reason))
            elif self.settings["permit_post_copy"]:
                self.forced = "post_copy"
                actions.append(("post_copy", reason))
            else:
                self.forced = "pause"
                actions.append(("pause", reason))
        return actions


# Module options (documented by the ``vmfleet.compute.live_migration`` doc fragment).
ARGSPEC = dict(
    [(key, dict(type="int", default=default)) for key, (default, _minimum) in _NUMBERS.items()]
    + [(key, dict(type="bool", default=default)) for key, default in _FLAGS.items()]
    + [("timeout_action", dict(type="str", choices=list(TIMEOUT_ACTIONS), default=ABORT))])


def from_params(params):
    """The settings from a module's parameters (the ARGSPEC keys)."""
    return normalize(dict((key, params.get(key)) for key in ARGSPEC), field="")
