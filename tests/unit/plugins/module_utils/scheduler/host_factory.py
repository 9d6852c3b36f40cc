# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generate host facts in the docs/host-facts.md shape, for hosts larger than
the test machine: any sockets x cores x threads, 1 to 8 NUMA cells (cells may
split a socket, as sub-NUMA clustering does), hugepages, partly used cells.

CPU numbering follows Linux on x86: thread t of core c (counted over the whole
host) is CPU ``t * cores_total + c``, so the siblings of CPU 0 are
``[0, cores_total]``.
"""

from __future__ import annotations

SMALL_KB = 4


def make_host(name="hv1", sockets=2, cores=8, threads=2, cells=None, memory_mb=65536, hugepages=None,
              pinned=None, memory_used=None, pages_used=None, shared_vcpus_used=None,
              cpu_dedicated_set=None, cpu_shared_set=None, enabled=True, availability_zone="default",
              aggregates=(), guests=(), running_vms=None, io_ops=0, local_gb=500, local_gb_used=0,
              vcpus_used=0, reserved_host_memory_mb=512, cpu_allocation_ratio=4.0, ram_allocation_ratio=1.0,
              disk_allocation_ratio=1.0, reserved_host_cpus=0, pci_devices=(), arch="x86_64",
              virt_type="kvm", hypervisor_version="7.2.0", networks=("default",)):
    """Facts of one host. ``memory_mb`` and ``hugepages`` ({size_kb: count}) are per cell;
    ``pinned`` / ``memory_used`` / ``pages_used`` / ``shared_vcpus_used`` are {cell: value}."""
    cells = cells or sockets
    hugepages = hugepages or {}
    pinned, memory_used = pinned or {}, memory_used or {}
    pages_used, shared_vcpus_used = pages_used or {}, shared_vcpus_used or {}
    cores_total = sockets * cores
    if cores_total % cells:
        raise ValueError("cores do not split evenly over cells")
    per_cell = cores_total // cells
    cell_facts = []
    all_cpus = []
    for cell in range(cells):
        cpus = []
        for core in range(cell * per_cell, (cell + 1) * per_cell):
            siblings = [t * cores_total + core for t in range(threads)]
            for cpu in siblings:
                cpus.append({"id": cpu, "socket_id": core // cores, "die_id": 0, "core_id": core % cores,
                             "siblings": siblings})
        cpus.sort(key=lambda c: c["id"])
        all_cpus.extend(c["id"] for c in cpus)
        huge_kb = sum(size * count for size, count in hugepages.items())
        pages = [{"size_kb": SMALL_KB, "total": (memory_mb * 1024 - huge_kb) // SMALL_KB,
                  "free": (memory_mb * 1024 - huge_kb) // SMALL_KB}]
        used_pages = dict(pages_used.get(cell, {}))
        for size, count in sorted(hugepages.items()):
            pages.append({"size_kb": size, "total": count, "free": count - used_pages.get(size, 0)})
        cell_facts.append({
            "id": cell, "memory_mb": memory_mb, "free_memory_mb": memory_mb - memory_used.get(cell, 0),
            "cpus": cpus, "pages": pages,
            "distances": dict((other, 10 if other == cell else 21) for other in range(cells)),
            "usage": {"pinned_cpus": sorted(pinned.get(cell, ())), "memory_mb_used": memory_used.get(cell, 0),
                      "pages_used": used_pages, "shared_vcpus_used": shared_vcpus_used.get(cell, 0)},
        })
    all_cpus.sort()
    pinned_all = sorted(c for cpus in pinned.values() for c in cpus)
    if cpu_dedicated_set is not None:
        pcpus = len(cpu_dedicated_set)
    else:
        pcpus = len([c for c in all_cpus if c not in (cpu_shared_set or ())])
    if cpu_shared_set is not None:
        shared = sorted(cpu_shared_set)
    elif cpu_dedicated_set is not None:
        shared = []
    else:
        shared = [c for c in all_cpus if c not in pinned_all]
    total_memory = memory_mb * cells
    guest_memory = sum(memory_used.values())
    memory_mb_used = reserved_host_memory_mb + guest_memory
    return {
        "name": name, "hostname": "lab-" + name, "uri": "qemu+tcp://127.0.0.1:16601/system",
        "host_uuid": "00000000-0000-0000-0000-%012d" % abs(hash(name) % 10 ** 12),
        "hypervisor_type": "QEMU", "virt_type": virt_type, "libvirt_version": "9.0.0",
        "hypervisor_version": hypervisor_version,
        "cpu": {"arch": arch, "vendor": "Intel", "model": "Skylake-Client-IBRS", "features": ["vmx"],
                "sockets": sockets, "cores_per_socket": cores, "threads_per_core": threads,
                "total_threads": cores_total * threads},
        "numa": {"cells": cell_facts},
        "pci_devices": list(pci_devices),
        "storage_pools": [],
        "networks": [{"name": network, "active": True, "bridge": "virbr%d" % index}
                     for index, network in enumerate(networks)],
        "host_interfaces": ["eno1", "lo"],
        "guests": [dict(g) if isinstance(g, dict) else {"name": g} for g in guests],
        "config": {
            "reserved_host_memory_mb": reserved_host_memory_mb, "reserved_host_disk_mb": 0,
            "reserved_host_cpus": reserved_host_cpus, "cpu_allocation_ratio": cpu_allocation_ratio,
            "ram_allocation_ratio": ram_allocation_ratio, "disk_allocation_ratio": disk_allocation_ratio,
            "cpu_dedicated_set": sorted(cpu_dedicated_set) if cpu_dedicated_set is not None else None,
            "cpu_shared_set": sorted(cpu_shared_set) if cpu_shared_set is not None else None,
            "availability_zone": availability_zone, "aggregates": list(aggregates),
            "instance_pools": ["default"], "disk_tiers": {}, "cpu_mode": None, "cpu_models": [],
            "live_migration_inbound_addr": None, "live_migration_uri": None, "enabled": enabled,
            "disabled_reason": None if enabled else "maintenance",
        },
        "resources": {
            "vcpus": cores_total * threads, "vcpus_used": vcpus_used,
            "memory_mb": total_memory, "memory_mb_used": memory_mb_used,
            "free_ram_mb": total_memory - memory_mb_used,
            "local_gb": local_gb, "local_gb_used": local_gb_used, "free_disk_gb": local_gb - local_gb_used,
            "pcpus": pcpus, "pcpus_used": len(pinned_all), "shared_cpus": shared,
            "shared_vcpus_used": sum(shared_vcpus_used.values()),
            "vcpus_limit": (len(shared) - reserved_host_cpus) * cpu_allocation_ratio,
            "memory_mb_limit": total_memory * ram_allocation_ratio,
            "local_gb_limit": local_gb * disk_allocation_ratio,
            "running_vms": len(guests) if running_vms is None else running_vms, "io_ops": io_ops,
        },
    }


def make_request(name="vm1", vcpus=2, memory_mb=2048, disk_gb=10, extra_specs=None, image=None, hints=None,
                 flavor_name=None, networks=None):
    return {"name": name,
            "flavor": {"name": flavor_name or "f%d-%d" % (vcpus, memory_mb), "vcpus": vcpus,
                       "memory_mb": memory_mb, "root_gb": disk_gb, "extra_specs": dict(extra_specs or {})},
            "image": {"properties": dict(image or {})},
            "networks": networks,
            "hints": dict(hints or {})}


def pci_device(address, vendor="0x8086", product="0x1572", numa_node=0):
    return {"address": address, "vendor_id": vendor, "product_id": product, "vendor": "Intel Corporation",
            "product": "Ethernet Controller X710", "class": "0x020000", "numa_node": numa_node,
            "driver": "vfio-pci", "capability": "pci"}


def group_member(name, group, policy="anti-affinity"):
    """A guest of a host's facts whose collection metadata names server group ``group`` (as a guest built
    with ``hints.group`` carries it)."""
    hints = {"group": {"name": group, "policy": policy}}
    return {"name": name, "metadata": {"request": {"name": name, "hints": hints}}}
