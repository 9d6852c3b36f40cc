# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where one request goes: the host, and per guest NUMA cell the host cell,
memory, page size, pinning, floating CPU set and emulator CPUs.

A ``Placement`` is what ``HostState.consume`` reserves and ``release`` gives
back, and what the ``schedule`` module returns (``to_dict``).
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.cpuset import format_cpuset


class CellPlacement(object):
    """One guest NUMA cell on one host cell."""

    __slots__ = ("guest_cell", "host_cell", "memory_mb", "page_size_kb", "pinning", "cpuset",
                 "shared_vcpus", "reserved", "isolate")

    def __init__(self, guest_cell, host_cell, memory_mb, page_size_kb, pinning, cpuset, shared_vcpus,
                 reserved=(), isolate=False):
        self.guest_cell = guest_cell      # guest cell id
        self.host_cell = host_cell        # host cell id
        self.memory_mb = memory_mb
        self.page_size_kb = page_size_kb  # None when the host cell reports no page sizes
        self.pinning = pinning            # {vcpu: host cpu} for the cell's dedicated vCPUs
        self.cpuset = cpuset              # host CPUs the cell's shared vCPUs float on
        self.shared_vcpus = shared_vcpus  # guest vCPU ids that float
        self.reserved = reserved          # host CPUs taken for isolated emulator threads
        self.isolate = isolate            # thread siblings of pinned CPUs are taken too

    def to_dict(self):
        return {
            "guest_cell": self.guest_cell,
            "host_cell": self.host_cell,
            "memory_mb": self.memory_mb,
            "page_size_kb": self.page_size_kb,
            "vcpus": sorted(list(self.pinning) + list(self.shared_vcpus)),
            "pinning": [{"vcpu": v, "cpu": c} for v, c in sorted(self.pinning.items())],
            "cpuset": format_cpuset(self.cpuset) if self.shared_vcpus else None,
            "emulator_cpus": sorted(self.reserved),
        }


class Placement(object):
    """One request placed on one host."""

    def __init__(self, request, host, cells=None, topology=None, emulator_cpus=(), cpuset=(),
                 pci_claims=(), weight=0.0, forced=False, would_fail=()):
        self.request = request            # RequestSpec
        self.host = host                  # host name
        self.cells = cells                # list of CellPlacement, or None (no guest NUMA topology)
        self.topology = topology          # cpu_topology.Topology
        self.emulator_cpus = tuple(emulator_cpus)
        self.cpuset = tuple(cpuset)       # non-NUMA floating guests: the host's shared CPUs
        self.pci_claims = tuple(pci_claims)  # ((vendor_id, product_id), (address, numa_node))
        self.weight = weight
        self.forced = forced
        self.would_fail = list(would_fail)   # verdicts of the filters (and the claim) skipped by force

    @property
    def name(self):
        return self.request.name

    def pinned_cpus(self):
        return set(c for cell in self.cells or () for c in cell.pinning.values()) | \
            set(c for cell in self.cells or () for c in cell.reserved)

    def to_dict(self):
        spec = self.request
        return {
            "name": spec.name,
            "host": self.host,
            "flavor": spec.flavor_name,
            "vcpus": spec.vcpus,
            "memory_mb": spec.memory_mb,
            "disk_gb": spec.disk_gb,
            "cpu_policy": spec.cpu_policy or "shared",
            "cpu_thread_policy": spec.thread_policy,
            "emulator_threads_policy": spec.emulator_policy,
            "cpu_topology": self.topology.to_dict() if self.topology else None,
            "numa": [cell.to_dict() for cell in self.cells] if self.cells is not None else None,
            "cpuset": format_cpuset(self.cpuset) if self.cpuset else None,
            "emulator_cpus": format_cpuset(self.emulator_cpus) if self.emulator_cpus else None,
            "pci_devices": [device[0] for key, device in self.pci_claims],
            "weight": round(self.weight, 6),
            "forced": self.forced,
            "would_fail": [v.to_dict() for v in self.would_fail],
        }
