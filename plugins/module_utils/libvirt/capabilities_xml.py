# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host half of libvirt's capabilities XML (``virConnectGetCapabilities``).

Returns the host UUID, the host CPU (arch, vendor, model, features and the
whole-host topology), the NUMA cells (memory, CPUs, page pools, distances)
and the best virtualisation type the host offers its guests.
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.cpuset import parse_cpuset
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.xml_values import (
    int_or_none,
    parse_xml,
    size_kib,
)

# Preferred first: hardware acceleration, then emulation.
_VIRT_TYPE_ORDER = ("kvm", "qemu")


def parse_capabilities(text):
    """Parse capabilities XML into a dict.

    Keys: ``host_uuid``, ``cpu`` (arch, vendor, model, features, sockets,
    cores_per_socket, threads_per_core, total_threads), ``cells`` (id,
    memory_mb, cpus, pages [{size_kb, total}], distances {"id": value}),
    ``page_sizes_kb``, ``virt_type`` and ``machine_types``.
    """
    root = parse_xml(text, "capabilities")
    host = root.find("host")
    if host is None:
        host = root.makeelement("host", {})
    cpu = host.find("cpu")
    if cpu is None:
        cpu = host.makeelement("cpu", {})
    cells = [_parse_cell(cell) for cell in host.findall("topology/cells/cell")]
    arch = (cpu.findtext("arch") or "").strip() or None
    return {
        "host_uuid": (host.findtext("uuid") or "").strip() or None,
        "cpu": dict(
            arch=arch,
            vendor=(cpu.findtext("vendor") or "").strip() or None,
            model=(cpu.findtext("model") or "").strip() or None,
            features=[f.get("name") for f in cpu.findall("feature") if f.get("name")],
            **_host_topology(cpu, cells)
        ),
        "cells": cells,
        "page_sizes_kb": sorted(int(p.get("size")) for p in cpu.findall("pages") if p.get("size")),
        "virt_type": _best_virt_type(root, arch),
        "machine_types": _machine_types(root, arch),
    }


def _machine_types(root, arch):
    """Machine types the host's QEMU offers for its own arch (names and aliases), sorted."""
    names = set()
    for guest_arch in root.findall("guest/arch"):
        if arch and guest_arch.get("name") != arch:
            continue
        for machine in guest_arch.iter("machine"):
            if (machine.text or "").strip():
                names.add(machine.text.strip())
            if machine.get("canonical"):
                names.add(machine.get("canonical"))
    return sorted(names)


def _parse_cell(cell):
    memory_kib = size_kib(cell.find("memory")) or 0
    return {
        "id": int(cell.get("id")),
        "memory_mb": int(memory_kib // 1024),
        "cpus": [_parse_cpu(cpu) for cpu in cell.findall("cpus/cpu")],
        "pages": sorted(
            ({"size_kb": int(page.get("size")), "total": int_or_none(page.text) or 0}
             for page in cell.findall("pages")),
            key=lambda page: page["size_kb"],
        ),
        "distances": dict(
            (str(int(sibling.get("id"))), int(sibling.get("value")))
            for sibling in cell.findall("distances/sibling")
        ),
    }


def _parse_cpu(cpu):
    cpu_id = int(cpu.get("id"))
    siblings = cpu.get("siblings")
    return {
        "id": cpu_id,
        "socket_id": int_or_none(cpu.get("socket_id")),
        "die_id": int_or_none(cpu.get("die_id")),
        "core_id": int_or_none(cpu.get("core_id")),
        "siblings": parse_cpuset(siblings, "siblings") if siblings else [cpu_id],
    }


def _host_topology(cpu, cells):
    """Whole-host sockets, cores per socket and threads per core.

    Counted from the CPUs the cells list (distinct socket ids, distinct
    cores): ``<cpu><topology>`` describes one NUMA node on some libvirt
    versions, so it is only the fallback for hosts without cells.
    """
    cpus = [c for cell in cells for c in cell["cpus"]]
    if cpus and all(c["socket_id"] is not None and c["core_id"] is not None for c in cpus):
        sockets = len(set(c["socket_id"] for c in cpus))
        cores = len(set((c["socket_id"], c["die_id"], c["core_id"]) for c in cpus))
        return {
            "sockets": sockets,
            "cores_per_socket": cores // sockets,
            "threads_per_core": max(1, len(cpus) // cores),
            "total_threads": len(cpus),
        }
    topology = cpu.find("topology")
    if topology is None:
        return {"sockets": None, "cores_per_socket": None, "threads_per_core": None,
                "total_threads": len(cpus) or None}
    sockets = int_or_none(topology.get("sockets")) or 1
    dies = int_or_none(topology.get("dies")) or 1
    cores = int_or_none(topology.get("cores")) or 1
    threads = int_or_none(topology.get("threads")) or 1
    return {
        "sockets": sockets,
        "cores_per_socket": cores * dies,
        "threads_per_core": threads,
        "total_threads": len(cpus) or sockets * dies * cores * threads,
    }


def _best_virt_type(root, host_arch):
    """kvm when any guest of the host's arch may use it, else qemu, else what is offered."""
    offered = []
    for guest in root.findall("guest"):
        arch = guest.find("arch")
        if arch is None or (host_arch and arch.get("name") != host_arch):
            continue
        offered.extend(d.get("type") for d in arch.findall("domain") if d.get("type"))
    for virt_type in _VIRT_TYPE_ORDER:
        if virt_type in offered:
            return virt_type
    return offered[0] if offered else None
