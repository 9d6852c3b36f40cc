# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet's capacity as a plain-text table, from host facts (docs/host-facts.md).

Rendering only: every number comes from the facts' ``resources`` and NUMA
``usage``, counted by the resource tracker. Nothing is recounted here.
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.cpuset import format_cpuset

COLUMNS = (
    ("HOST", "<"),
    ("AZ", "<"),
    ("STATUS", "<"),
    ("GUESTS", ">"),
    ("vCPU used/limit", ">"),
    ("pCPU used/total", ">"),
    ("RAM MB used/total", ">"),
    ("RAM free", ">"),
    ("DISK GB used/total", ">"),
    ("DISK free", ">"),
)


def _number(value):
    """Integers as integers, ratios with at most one decimal: 8.0 -> 8, 7.5 -> 7.5."""
    if isinstance(value, float) and not value.is_integer():
        return "%.1f" % value
    return "%d" % value


def _host_row(host):
    res = host["resources"]
    config = host.get("config", {})
    status = "enabled" if config.get("enabled", True) else "disabled"
    return [
        host["name"],
        config.get("availability_zone", ""),
        status,
        _number(res["running_vms"]),
        "%s/%s" % (_number(res["vcpus_used"]), _number(res["vcpus_limit"])),
        "%s/%s" % (_number(res["pcpus_used"]), _number(res["pcpus"])),
        "%s/%s" % (_number(res["memory_mb_used"]), _number(res["memory_mb"])),
        _number(res["free_ram_mb"]),
        "%s/%s" % (_number(res["local_gb_used"]), _number(res["local_gb"])),
        _number(res["free_disk_gb"]),
    ]


def _total_row(hosts):
    def total(key):
        return sum(h["resources"][key] for h in hosts)

    return [
        "TOTAL (%d)" % len(hosts), "", "",
        _number(total("running_vms")),
        "%s/%s" % (_number(total("vcpus_used")), _number(total("vcpus_limit"))),
        "%s/%s" % (_number(total("pcpus_used")), _number(total("pcpus"))),
        "%s/%s" % (_number(total("memory_mb_used")), _number(total("memory_mb"))),
        _number(total("free_ram_mb")),
        "%s/%s" % (_number(total("local_gb_used")), _number(total("local_gb"))),
        _number(total("free_disk_gb")),
    ]


def _cell_line(cell):
    usage = cell.get("usage", {})
    cpus = [c["id"] for c in cell.get("cpus", [])]
    pages_used = usage.get("pages_used", {})
    huge = []
    for pool in cell.get("pages", []):
        size_kb = pool["size_kb"]
        if size_kb == 4:
            continue
        label = "%dG" % (size_kb // 1048576) if size_kb >= 1048576 else "%dM" % (size_kb // 1024)
        used = pages_used.get(size_kb, pages_used.get(str(size_kb), 0))
        huge.append("%s %d/%d" % (label, used, pool["total"]))
    return "  cell %d: cpus %s, pinned %d/%d, memory %d/%d MB bound to guests, %d MB free now%s" % (
        cell["id"], format_cpuset(cpus) or "-", len(usage.get("pinned_cpus", [])), len(cpus),
        usage.get("memory_mb_used", 0), cell.get("memory_mb", 0), cell.get("free_memory_mb", 0),
        (", hugepages " + ", ".join(huge)) if huge else "")


def render_capacity_table(hosts, numa=True):
    """Return the table for ``hosts`` (a list of host facts dicts), rows sorted by name."""
    hosts = sorted(hosts, key=lambda h: h["name"])
    rows = [[title for title, _align in COLUMNS]]
    rows.extend(_host_row(h) for h in hosts)
    if len(hosts) > 1:
        rows.append(_total_row(hosts))
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]

    def line(row):
        cells = []
        for (_title, align), width, text in zip(COLUMNS, widths, row):
            cells.append(text.ljust(width) if align == "<" else text.rjust(width))
        return "  ".join(cells).rstrip()

    out = [line(rows[0]), "  ".join("-" * w for w in widths)]
    for host, row in zip(hosts, rows[1:]):
        out.append(line(row))
        if numa:
            out.extend(_cell_line(cell) for cell in host.get("numa", {}).get("cells", []))
    if len(hosts) > 1:
        out.append("  ".join("-" * w for w in widths))
        out.append(line(rows[-1]))
    out.append("vCPU limit = (threads - reserved) x cpu_allocation_ratio; RAM and disk used include "
               "the host's reservation; usage is what guests were given (Nova's counting).")
    return "\n".join(out)
