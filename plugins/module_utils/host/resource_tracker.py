# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's resource tracker, as pure functions: what a host has, what its guests
were given, and what is left (docs/host-facts.md, "Counting rules").

Usage is theoretical: a guest counts with its flavor (the collection's
metadata) or, for fields the flavor lacks, with what its XML gives it, running
or not. Negative free values are returned as they are.
"""

from __future__ import annotations

import math

from ansible_collections.vmfleet.compute.plugins.module_utils.units import GIB

# Disk types that live on the host's storage (network disks do not).
_LOCAL_DISK_TYPES = ("file", "block", "volume")
# numatune modes that keep a guest's memory on its nodeset.
_BINDING_MODES = ("strict", "restrictive", "interleave")


def track_resources(cpu_ids, cells, memory_mb, guests, storage_pools, config, io_ops=0):
    """Count a host's resources.

    ``cpu_ids``: the host's CPU ids; ``cells``: host NUMA cells (``id``, ``cpus``
    with ``id``); ``memory_mb``: host memory; ``guests``: guest dicts (as
    domain_xml.parse_domain, with disk ``capacity_bytes`` and ``pool`` filled);
    ``storage_pools``: pool dicts; ``config``: host_config.normalize_host_config
    output; ``io_ops``: guests in a migration or build now.

    Returns ``{"resources": {...}, "cell_usage": {cell_id: usage},
    "guest_usage": [usage per guest, in order]}``, and sets each guest's
    ``floating_cpus`` (floating_cpus).
    """
    guest_usage = [usage_of_guest(guest, config) for guest in guests]
    for guest in guests:
        guest["floating_cpus"] = floating_cpus(guest, cpu_ids, config)
    ownership = [owned_cpus(guest, config) for guest in guests]
    pinned = set()
    for vcpu_cpus, emulator_cpus in ownership:
        pinned.update(vcpu_cpus.values())
        pinned.update(emulator_cpus)

    host_cpus = sorted(set(cpu_ids))
    dedicated_set, shared_set = config["cpu_dedicated_set"], config["cpu_shared_set"]
    if dedicated_set is not None:
        pcpus = list(dedicated_set)
    else:
        pcpus = [cpu for cpu in host_cpus if cpu not in set(shared_set or [])]
    if shared_set is not None:
        shared_cpus = list(shared_set)
    elif dedicated_set is not None:
        shared_cpus = [cpu for cpu in host_cpus if cpu not in set(dedicated_set)]
    else:
        shared_cpus = [cpu for cpu in host_cpus if cpu not in pinned]

    memory_used = config["reserved_host_memory_mb"] + sum(u["memory_mb"] for u in guest_usage)
    local_gb = int(sum(
        pool["capacity_bytes"] or 0 for pool in storage_pools
        if pool["name"] in config["instance_pools"] and pool["active"]) // GIB)
    local_used = _ceil_gb(config["reserved_host_disk_mb"]) + sum(u["disk_gb"] for u in guest_usage)
    shared_vcpus_used = sum(
        max(0, usage["vcpus"] - len(vcpu_cpus)) for usage, (vcpu_cpus, _emulator) in zip(guest_usage, ownership))
    resources = {
        "vcpus": len(host_cpus),
        "vcpus_used": sum(u["vcpus"] for u in guest_usage),
        "memory_mb": memory_mb,
        "memory_mb_used": memory_used,
        "free_ram_mb": memory_mb - memory_used,
        "local_gb": local_gb,
        "local_gb_used": local_used,
        "free_disk_gb": local_gb - local_used,
        "pcpus": len(pcpus),
        "pcpus_used": len(pinned),
        "shared_cpus": shared_cpus,
        "shared_vcpus_used": shared_vcpus_used,
        "vcpus_limit": float((len(shared_cpus) - config["reserved_host_cpus"]) * config["cpu_allocation_ratio"]),
        "memory_mb_limit": float(memory_mb * config["ram_allocation_ratio"]),
        "local_gb_limit": float(local_gb * config["disk_allocation_ratio"]),
        "running_vms": len(guests),
        "io_ops": io_ops,
    }
    return {
        "resources": resources,
        "cell_usage": _cell_usage(cells, guests, guest_usage, ownership),
        "guest_usage": guest_usage,
    }


def usage_of_guest(guest, config):
    """``{vcpus, memory_mb, disk_gb}`` the tracker counts for one guest.

    Flavor keys read (Nova's names): ``vcpus``, ``memory_mb``, ``root_gb``,
    ``ephemeral_gb``, ``swap`` (MB). Without a flavor: current vCPUs,
    ``<memory>``, and the virtual capacity of each local disk rounded up to a
    whole GiB (disks in pools that are not instance pools, network disks and
    CD-ROMs are not counted).
    """
    flavor = (guest.get("metadata") or {}).get("flavor")
    flavor = flavor if isinstance(flavor, dict) else {}
    disk_keys = [key for key in ("root_gb", "ephemeral_gb") if flavor.get(key) is not None]
    if disk_keys:
        disk_gb = sum(int(flavor[key]) for key in disk_keys) + _ceil_gb(flavor.get("swap") or 0)
    else:
        disk_gb = sum(
            int(math.ceil((disk["capacity_bytes"] or 0) / float(GIB)))
            for disk in guest["disks"] if _is_local_disk(disk, config))
    return {
        "vcpus": int(flavor["vcpus"]) if flavor.get("vcpus") is not None else guest["vcpus"],
        "memory_mb": int(flavor["memory_mb"]) if flavor.get("memory_mb") is not None else guest["max_memory_mb"],
        "disk_gb": disk_gb,
    }


def owned_cpus(guest, config):
    """Host CPUs a guest owns: ``({vcpu: host_cpu}, [emulator host CPUs])``.

    A vCPU pinned to exactly one host CPU is dedicated unless the guest's
    policy is shared. Emulator threads own a CPU when they are isolated: the
    guest has dedicated vCPUs and its emulator is pinned to one CPU outside
    them and outside ``cpu_shared_set``.
    """
    if guest["cpu_policy"] == "shared":
        return {}, []
    vcpu_cpus = dict(
        (pin["vcpu"], pin["cpus"][0]) for pin in guest["vcpupin"]
        if len(pin["cpus"]) == 1 and pin["vcpu"] < guest["vcpus"])
    emulator = guest["emulatorpin"]
    isolated = (
        vcpu_cpus and len(emulator) == 1
        and emulator[0] not in vcpu_cpus.values()
        and emulator[0] not in (config["cpu_shared_set"] or []))
    return vcpu_cpus, list(emulator) if isolated else []


def floating_cpus(guest, host_cpus, config):
    """Host CPUs (sorted) the guest's floating vCPUs, and its emulator threads unless they
    are isolated, may run on; [] when everything of it runs on CPUs it owns.

    A vCPU without ``<vcpupin>`` runs on ``<vcpu cpuset>``, or anywhere without
    it; emulator threads without ``<emulatorpin>`` likewise (libvirt's
    defaults). What the guest owns itself is not floating (owned_cpus).
    """
    vcpu_cpus, emulator_cpus = owned_cpus(guest, config)
    anywhere = set(guest.get("vcpu_cpuset") or host_cpus)
    pins = dict((pin["vcpu"], set(pin["cpus"])) for pin in guest["vcpupin"])
    may = set()
    for vcpu in range(guest["vcpus"]):
        if vcpu not in vcpu_cpus:
            may |= pins.get(vcpu, anywhere)
    if not emulator_cpus:
        may |= set(guest["emulatorpin"]) or anywhere
    return sorted(may - set(vcpu_cpus.values()) - set(emulator_cpus))


def _cell_usage(cells, guests, guest_usage, ownership):
    usage = dict(
        (cell["id"], {"pinned_cpus": set(), "memory_mb_used": 0, "pages_used": {}, "shared_vcpus_used": 0})
        for cell in cells)
    cell_of_cpu = dict((cpu["id"], cell["id"]) for cell in cells for cpu in cell["cpus"])
    for guest, counted, (vcpu_cpus, emulator_cpus) in zip(guests, guest_usage, ownership):
        for cpu in list(vcpu_cpus.values()) + emulator_cpus:
            if cpu in cell_of_cpu:
                usage[cell_of_cpu[cpu]]["pinned_cpus"].add(cpu)
        for host_cell, vcpus, memory_mb in _bindings(guest, counted):
            if host_cell not in usage:
                continue
            cell = usage[host_cell]
            cell["memory_mb_used"] += memory_mb
            cell["shared_vcpus_used"] += len([vcpu for vcpu in vcpus if vcpu not in vcpu_cpus])
            size = guest["page_size_kb"]
            if size:
                pages = int(math.ceil(memory_mb * 1024.0 / size))
                cell["pages_used"][str(size)] = cell["pages_used"].get(str(size), 0) + pages
    for cell in usage.values():
        cell["pinned_cpus"] = sorted(cell["pinned_cpus"])
    return usage


def _bindings(guest, counted):
    """``(host_cell, guest vCPU ids, memory_mb)`` for each part of a guest bound to one host cell."""
    if guest["guest_numa_cells"]:
        return [(cell["host_cell"], cell["cpus"], cell["memory_mb"])
                for cell in guest["guest_numa_cells"] if cell["host_cell"] is not None]
    numatune = guest["numatune"]
    if numatune and len(numatune["nodeset"]) == 1 and numatune["mode"] in _BINDING_MODES:
        return [(numatune["nodeset"][0], range(counted["vcpus"]), counted["memory_mb"])]
    return []


def _is_local_disk(disk, config):
    if disk["device"] != "disk" or disk["type"] not in _LOCAL_DISK_TYPES:
        return False
    return disk["pool"] is None or disk["pool"] in config["instance_pools"]


def _ceil_gb(megabytes):
    return int(math.ceil(megabytes / 1024.0))
