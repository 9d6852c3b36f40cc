# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleets of generated host facts for the upgrade checks (host_factory's hosts, plus pools and guests)."""

from __future__ import annotations

from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.scheduler.host_factory import make_host

GIB = 1024 ** 3


def pool(name="default", capacity_gb=500, available_gb=400, active=True, volumes=()):
    return {"name": name, "type": "dir", "active": active, "path": "/var/lib/libvirt/images",
            "capacity_bytes": capacity_gb * GIB, "allocation_bytes": (capacity_gb - available_gb) * GIB,
            "available_bytes": available_gb * GIB, "volumes": list(volumes)}


def guest(name, vcpus=2, memory_mb=2048, disk_gb=10, state="running", managed=True, cpu_policy="shared",
          vcpupin=(), numa_cells=(), page_size_kb=None, metadata=None, machine_type="pc-q35-7.2",
          allocated_gb=1.0, base=None):
    """``base``: ``(image name, GiB)`` of the base image under the root disk (its backing file), or None."""
    if managed and metadata is None:
        metadata = {"flavor": {"name": "f", "vcpus": vcpus, "memory_mb": memory_mb, "root_gb": disk_gb}}
    return {
        "name": name, "uuid": "uuid-" + name, "state": state, "vcpus": vcpus, "max_vcpus": vcpus,
        "memory_mb": memory_mb, "max_memory_mb": memory_mb, "cpu_policy": cpu_policy, "vcpupin": list(vcpupin),
        "emulatorpin": [], "vcpu_cpuset": [], "floating_cpus": [], "numatune": None,
        "guest_numa_cells": list(numa_cells), "cpu_topology": None,
        "page_size_kb": page_size_kb,
        "disks": [{"target": "vda", "device": "disk", "bus": "virtio", "type": "file", "format": "qcow2",
                   "source": "/var/lib/libvirt/images/%s.qcow2" % name, "pool": "default",
                   "capacity_bytes": disk_gb * GIB, "allocation_bytes": int(allocated_gb * GIB),
                   "backing_chain": ["/var/lib/libvirt/images/%s" % base[0]] if base else [],
                   "base_image": {"name": base[0], "path": "/var/lib/libvirt/images/%s" % base[0],
                                  "allocation_bytes": int(base[1] * GIB)} if base else None}],
        "host_devices": [], "machine_type": machine_type, "managed": managed,
        "interfaces": [{"type": "network", "source": "default", "mac": "52:54:00:00:00:01", "model": "virtio"}],
        "metadata": metadata if managed else None,
        "usage": {"vcpus": vcpus, "memory_mb": memory_mb, "disk_gb": disk_gb},
    }


def host(name, guests=(), pools=None, machine_types=("pc", "pc-q35-7.2", "q35"), maintenance=None, **kwargs):
    facts = make_host(name, **kwargs)
    facts["guests"] = list(guests)
    facts["storage_pools"] = list(pools if pools is not None else [pool()])
    facts["machine_types"] = list(machine_types)
    facts["maintenance"] = maintenance
    facts["config"].update(disabled_by=None, disabled_at=None)
    facts["resources"]["running_vms"] = len(facts["guests"])
    return facts


def fleet(count=3, **kwargs):
    """``count`` identical healthy hosts hv1..hvN (2 sockets x 8 cores x 2 threads, 64 GiB per cell)."""
    return [host("hv%d" % (i + 1), **kwargs) for i in range(count)]


def rows_of(rows, check, host_name=None):
    return [r for r in rows if r["check"] == check and (host_name is None or r["host"] == host_name)]
