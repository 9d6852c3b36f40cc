# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry of checks, running them, the result code and the text table."""

from __future__ import annotations

import textwrap
import traceback

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.host.hosts_option import parse_hosts
from ansible_collections.vmfleet.compute.plugins.module_utils.upgrade_checks import (
    cpu, drain, evacuated, guests, resources, versions)
from ansible_collections.vmfleet.compute.plugins.module_utils.upgrade_checks.common import (
    ERROR, FAILURE, RC, RESULTS, SUCCESS, WARNING, build_options, row)

# name -> check function, in the order the table lists them
CHECKS = {
    "versions": versions.check_versions,
    "version_skew": versions.check_version_skew,
    "cpu_compatibility": cpu.check_cpu_compatibility,
    "n_plus_one": drain.check_n_plus_one,
    "guest_states": guests.check_guest_states,
    "migrations": guests.check_migrations,
    "cordoned": guests.check_cordoned,
    "evacuated": evacuated.check_evacuated,
    "storage": resources.check_storage,
    "hugepages": resources.check_hugepages,
    "settings": resources.check_settings,
    "unmanaged_guests": guests.check_unmanaged_guests,
    "machine_types": guests.check_machine_types,
}
FLEET = "(fleet)"


def run_checks(hosts, options=None, checks=None, cpu_comparison=None):
    """Run the ``checks`` (names; None: all) over ``hosts``; returns ``(rows, rc)``.

    ``cpu_comparison``: how cpu_compatibility asks libvirt, with option ``libvirt_compare``: a factory
    ``hosts -> context manager`` (the module passes ``host.cpu_comparison.FleetCpuComparison``; the checks
    themselves never open a connection). Without it the facts are compared.

    A check that raises becomes one ``Error`` row naming the exception (rc 255);
    the other checks still run.
    """
    hosts = parse_hosts(hosts, entries=False)
    options = build_options(options)
    options["cpu_comparison"] = cpu_comparison if options["libvirt_compare"] else None
    selected = list(CHECKS) if not checks else list(checks)
    for name in selected:
        if name not in CHECKS:
            raise InvalidInput("checks", name, ", ".join(CHECKS))
    rows = []
    for name in selected:
        try:
            produced = CHECKS[name](hosts, options)
        except Exception as exc:  # pylint: disable=broad-except
            where = traceback.extract_tb(exc.__traceback__)[-1]
            produced = [row(name, None, ERROR, "the check crashed: %s: %s (at %s:%d); the other checks ran; "
                            "report this with the host facts" % (type(exc).__name__, exc, where.filename.split("/")[-1],
                                                                 where.lineno))]
        rows.extend(produced)
    return rows, result_code(rows)


def result_code(rows):
    """nova-status's exit code: 0 all success, 1 a warning, 2 a failure, 255 a check crashed."""
    return max([RC[r["result"]] for r in rows] or [0])


def summary(rows, rc):
    counts = dict((result.lower(), sum(1 for r in rows if r["result"] == result)) for result in RESULTS)
    counts["rc"] = rc
    counts["rows"] = len(rows)
    return counts


def verdict(rows, rc, strict=False):
    """``(failed, message)``: fails on a Failure or a crash, and on a Warning when ``strict``."""
    counts = summary(rows, rc)
    text = "upgrade preflight rc %d: %d success, %d warning, %d failure, %d error" % (
        rc, counts["success"], counts["warning"], counts["failure"], counts["error"])
    bad = [r for r in rows if r["result"] in (FAILURE, ERROR) or (strict and r["result"] == WARNING)]
    failed = bool(bad)
    if failed:
        text += ". " + " | ".join("%s %s %s: %s" % (r["check"], r["host"] or FLEET, r["result"], r["details"])
                                  for r in bad)
    return failed, text


def render_table(rows, width=100):
    """Check | Host | Result | Details, details wrapped at ``width`` characters."""
    headers = ("CHECK", "HOST", "RESULT", "DETAILS")
    cells = [(r["check"], r["host"] or FLEET, r["result"], r["details"]) for r in rows]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(headers[:3])]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers[:3], widths)) + "  " + headers[3],
             "  ".join("-" * w for w in widths) + "  " + "-" * min(width, 40)]
    indent = sum(widths) + 2 * 3
    for cell in cells:
        wrapped = textwrap.wrap(cell[3], width) or [""]
        lines.append("  ".join(c.ljust(w) for c, w in zip(cell[:3], widths)) + "  " + wrapped[0])
        lines.extend(" " * indent + more for more in wrapped[1:])
    return "\n".join(lines)


__all__ = ["CHECKS", "SUCCESS", "WARNING", "FAILURE", "ERROR", "run_checks", "result_code", "summary", "verdict",
           "render_table"]
