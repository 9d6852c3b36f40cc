# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Storage free space, hugepages, and settings that are dangerous during an upgrade."""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.units import GIB
from ansible_collections.vmfleet.compute.plugins.module_utils.upgrade_checks.common import (
    FAILURE, SUCCESS, WARNING, gib, guests, host_rows, names)

_LOCAL_TYPES = ("file", "block", "volume")


def _instance_pools(host):
    return set((host.get("config") or {}).get("instance_pools") or ("default",))


def drain_source(host):
    """What a drain of ``host`` moves by block migration: the bytes its guests' disks in its instance pools
    hold (allocation), and ``{name: bytes}`` of the base images under them."""
    pools = _instance_pools(host)
    overlay_bytes, bases = 0, {}
    for guest in guests(host):
        for disk in guest.get("disks") or ():
            if disk.get("device") not in ("disk", "lun") or disk.get("type") not in _LOCAL_TYPES:
                continue
            if disk.get("pool") is not None and disk.get("pool") not in pools:
                continue
            overlay_bytes += disk.get("allocation_bytes") or 0
            base = disk.get("base_image") or {}
            if base.get("name"):
                bases[base["name"]] = base.get("allocation_bytes") or 0
    return overlay_bytes, bases


def cached_images(host):
    """Names of the volumes in the host's instance pools (a base image there is not copied again)."""
    pools = _instance_pools(host)
    return set(name for pool in host.get("storage_pools") or () if pool["name"] in pools
               for name in pool.get("volumes") or ())


def drain_need(source, cached):
    """Bytes a drain writes onto a destination holding the ``cached`` images: the source's overlays and each
    base image it lacks, once (``source``: drain_source()); and those images' names."""
    overlay_bytes, bases = source
    missing = sorted(name for name in bases if name not in cached)
    return overlay_bytes + sum(bases[name] for name in missing), missing


def check_storage(hosts, options):
    """Each instance pool must hold a whole drain of the most demanding other host (its guests' allocated
    bytes and the base images the pool lacks), keeping ``storage_min_free_gb`` free (Failure); below
    ``storage_warn_free_percent`` of the pool free afterwards: Warning."""
    min_free = options["storage_min_free_gb"] * GIB
    warn_percent = options["storage_warn_free_percent"]

    sources = dict((h["name"], drain_source(h)) for h in hosts)  # each host's guests walked once

    def per_host(host):
        cached = cached_images(host)
        others = [(drain_need(sources[h["name"]], cached), h["name"]) for h in hosts if h["name"] != host["name"]]
        (need, bases), biggest = max(others, key=lambda o: o[0][0]) if others else ((0, []), None)
        pools = dict((p["name"], p) for p in host.get("storage_pools") or ())
        failures, warnings, fine = [], [], []
        for name in (host.get("config") or {}).get("instance_pools") or ("default",):
            pool = pools.get(name)
            if pool is None:
                failures.append("instance pool %s does not exist: define it or fix instance_pools" % name)
                continue
            if not pool.get("active"):
                failures.append("instance pool %s is not active: virsh pool-start %s" % (name, name))
                continue
            available = pool.get("available_bytes") or 0
            capacity = pool.get("capacity_bytes") or 0
            after = available - need
            what = "pool %s: %s free of %s, a drain of %s onto it needs %s%s" % (
                name, gib(available), gib(capacity), biggest or "another host", gib(need),
                " (with base images to copy: %s)" % ", ".join(bases) if bases else "")
            if after < min_free:
                failures.append("%s and must leave %s free (storage_min_free_gb): free space in the pool "
                                "(old images, unused volumes) or grow it" % (what, gib(min_free)))
            elif capacity and after * 100.0 / capacity < warn_percent:
                warnings.append("%s, leaving %.1f%% free (below storage_warn_free_percent %.1f%%): free space soon"
                                % (what, after * 100.0 / capacity, warn_percent))
            else:
                fine.append(what)
        if failures:
            return FAILURE, "; ".join(failures + warnings)
        if warnings:
            return WARNING, "; ".join(warnings)
        return SUCCESS, "; ".join(fine) or "no instance pools configured"
    return host_rows("storage", hosts, per_host)


def check_hugepages(hosts, options):
    """Hugepages reserved that no guest uses (memory held for nothing), or none left."""
    def per_host(host):
        unused, exhausted, fine = [], [], []
        for cell in (host.get("numa") or {}).get("cells") or ():
            pages = cell.get("pages") or []
            if not pages:
                continue
            smallest = min(p["size_kb"] for p in pages)
            used_by_size = (cell.get("usage") or {}).get("pages_used") or {}
            for page in pages:
                size, total = page["size_kb"], page.get("total") or 0
                if size == smallest or not total:
                    continue
                used = int(used_by_size.get(str(size), used_by_size.get(size, 0)) or 0)
                label = "cell %s: %d x %d KiB pages (%d MiB)" % (cell["id"], total, size, total * size // 1024)
                free = page.get("free")
                if used == 0 and (free is None or free == total):
                    unused.append("%s reserved, no guest uses them" % label)
                elif used >= total or free == 0:
                    exhausted.append("%s, %d given to guests, %s free now" % (label, used, free))
                else:
                    fine.append("%s, %d in use" % (label, used))
        if exhausted or unused:
            advice = []
            if unused:
                advice.append("release unused pages (vm.nr_hugepages / hugepages= on the kernel command line) "
                              "or place hugepage guests there")
            if exhausted:
                advice.append("no hugepage guest can be drained onto this host: reserve more pages")
            return WARNING, "; ".join(exhausted + unused) + ". " + "; ".join(advice)
        return SUCCESS, "; ".join(fine) or "no hugepages reserved"
    return host_rows("hugepages", hosts, per_host)


def _pinned_guests(host):
    return [g["name"] for g in guests(host)
            if g.get("cpu_policy") in ("dedicated", "mixed") or g.get("page_size_kb")]


def check_settings(hosts, options):
    """RAM overcommit with pinned guests, no reserved host memory, CPU ratios far above the defaults."""
    max_ratio = options["max_cpu_allocation_ratio"]

    def per_host(host):
        config = host.get("config") or {}
        problems = []
        pinned = _pinned_guests(host)
        ram_ratio = float(config.get("ram_allocation_ratio", 1.0))
        if ram_ratio > 1.0 and pinned:
            problems.append("ram_allocation_ratio %s with pinned / hugepage guests (%s): their memory cannot be "
                            "overcommitted, set ram_allocation_ratio 1.0" % (ram_ratio, names(pinned)))
        if int(config.get("reserved_host_memory_mb", 512)) == 0:
            problems.append("reserved_host_memory_mb is 0: the host's own processes (libvirtd, QEMU overhead, "
                            "the upgrade itself) compete with guests; reserve at least 512 MiB")
        cpu_ratio = float(config.get("cpu_allocation_ratio", 4.0))
        if cpu_ratio > max_ratio:
            problems.append("cpu_allocation_ratio %s is far above the default 4.0 (over max_cpu_allocation_ratio "
                            "%s): a drain would pack guests onto few CPUs; lower it" % (cpu_ratio, max_ratio))
        if problems:
            return WARNING, "; ".join(problems)
        return SUCCESS, "ram_allocation_ratio %s, cpu_allocation_ratio %s, reserved_host_memory_mb %s" % (
            ram_ratio, cpu_ratio, config.get("reserved_host_memory_mb", 512))
    return host_rows("settings", hosts, per_host)
