# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A libvirt domain XML, read into the guest dict of docs/host-facts.md.

Only what the XML says: the caller adds what needs the libvirt API (state,
disk capacity and allocation, the disks' pools, usage).
"""

from __future__ import annotations

import math

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.cpuset import parse_cpuset
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import instance_metadata
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.xml_values import (
    int_or_none,
    parse_xml,
    size_kib,
)

# <memoryBacking><hugepages/> without a <page>: the host's default hugepage size,
# 2 MiB on x86_64 and most other hosts KVM runs on.
DEFAULT_HUGEPAGE_KB = 2048
CPU_POLICIES = ("dedicated", "shared", "mixed")


def parse_domain(text):
    """Domain XML text -> guest dict (without ``state`` and ``usage``).

    Disks carry target, device, bus, type, format, source and the backing
    chain the XML shows (``None`` when the XML has no ``<backingStore>``,
    which inactive definitions usually lack); capacity, allocation and pool
    are left as None for the caller.
    """
    root = parse_xml(text, "domain XML")
    vcpu = root.find("vcpu")
    max_vcpus = int_or_none(vcpu.text) if vcpu is not None else None
    max_vcpus = max_vcpus or 1
    current = int_or_none(vcpu.get("current")) if vcpu is not None else None
    max_memory_kib = size_kib(root.find("memory")) or 0
    current_memory_kib = size_kib(root.find("currentMemory")) or max_memory_kib
    vcpupin = [
        {"vcpu": int(pin.get("vcpu")), "cpus": parse_cpuset(pin.get("cpuset"), "vcpupin cpuset")}
        for pin in root.findall("cputune/vcpupin")
    ]
    vcpupin.sort(key=lambda pin: pin["vcpu"])
    emulatorpin = root.find("cputune/emulatorpin")
    numatune = _parse_numatune(root.find("numatune"))
    metadata_element = instance_metadata.find(root.find("metadata"))
    metadata = instance_metadata.parse(metadata_element) if metadata_element is not None else None
    vcpus = current or max_vcpus
    os_type = root.find("os/type")
    return {
        "name": root.findtext("name"),
        "uuid": root.findtext("uuid"),
        "vcpus": vcpus,
        "max_vcpus": max_vcpus,
        "memory_mb": _mib(current_memory_kib),
        "max_memory_mb": _mib(max_memory_kib),
        "cpu_policy": _cpu_policy(metadata, vcpupin, vcpus),
        "vcpu_cpuset": parse_cpuset(vcpu.get("cpuset"), "vcpu cpuset") if vcpu is not None else [],
        "vcpupin": vcpupin,
        "emulatorpin": parse_cpuset(emulatorpin.get("cpuset"), "emulatorpin cpuset") if emulatorpin is not None else [],
        "numatune": numatune,
        "guest_numa_cells": _parse_guest_cells(root.findall("cpu/numa/cell"), numatune),
        "cpu_topology": _parse_cpu_topology(root.find("cpu/topology")),
        "page_size_kb": _page_size_kb(root.find("memoryBacking/hugepages")),
        "disks": [_parse_disk(disk) for disk in root.findall("devices/disk")],
        "host_devices": [_parse_hostdev(dev) for dev in root.findall("devices/hostdev")],
        "interfaces": [parse_interface(element) for element in root.findall("devices/interface")],
        "machine_type": os_type.get("machine") if os_type is not None else None,
        "managed": metadata is not None,
        "metadata": metadata,
    }


def metadata_cpu_policy(metadata):
    """The CPU policy the collection recorded (request, then flavor extra specs), or None."""
    metadata = metadata or {}
    flavor = metadata.get("flavor")
    sources = (metadata.get("request"), flavor.get("extra_specs") if isinstance(flavor, dict) else None)
    for source in sources:
        if not isinstance(source, dict):
            continue
        policy = source.get("cpu_policy") or source.get("hw:cpu_policy")
        if policy in CPU_POLICIES:
            return policy
    return None


def _cpu_policy(metadata, vcpupin, vcpus):
    recorded = metadata_cpu_policy(metadata)
    if recorded:
        return recorded
    pinned_one = set(pin["vcpu"] for pin in vcpupin if len(pin["cpus"]) == 1)
    if not pinned_one:
        return "shared"
    return "dedicated" if pinned_one >= set(range(vcpus)) else "mixed"


def _mib(kib):
    return int(math.ceil(kib / 1024.0))


def _parse_numatune(element):
    if element is None:
        return None
    memory = element.find("memory")
    return {
        "mode": memory.get("mode", "strict") if memory is not None else None,
        "nodeset": parse_cpuset(memory.get("nodeset"), "numatune nodeset") if memory is not None else [],
        "memnodes": [
            {
                "cellid": int(node.get("cellid")),
                "mode": node.get("mode", "strict"),
                "nodeset": parse_cpuset(node.get("nodeset"), "numatune memnode nodeset"),
            }
            for node in element.findall("memnode")
        ],
    }


def _parse_guest_cells(cells, numatune):
    memnodes = dict((node["cellid"], node["nodeset"]) for node in (numatune or {}).get("memnodes", []))
    parsed = []
    for index, cell in enumerate(cells):
        cell_id = int_or_none(cell.get("id"))
        cell_id = index if cell_id is None else cell_id
        nodeset = memnodes.get(cell_id, [])
        memory = cell.makeelement("memory", {"unit": cell.get("unit", "KiB")})
        memory.text = cell.get("memory")
        parsed.append({
            "id": cell_id,
            "cpus": parse_cpuset(cell.get("cpus"), "guest NUMA cell cpus"),
            "memory_mb": _mib(size_kib(memory) or 0),
            "host_cell": nodeset[0] if len(nodeset) == 1 else None,
        })
    return parsed


def _parse_cpu_topology(element):
    if element is None:
        return None
    return {
        "sockets": int_or_none(element.get("sockets")) or 1,
        "cores": int_or_none(element.get("cores")) or 1,
        "threads": int_or_none(element.get("threads")) or 1,
    }


def _page_size_kb(hugepages):
    if hugepages is None:
        return None
    page = hugepages.find("page")
    if page is None or not page.get("size"):
        return DEFAULT_HUGEPAGE_KB
    size = page.makeelement("size", {"unit": page.get("unit", "KiB")})
    size.text = page.get("size")
    return int(size_kib(size))


def _parse_disk(disk):
    driver = disk.find("driver")
    target = disk.find("target")
    source = disk.find("source")
    disk_type = disk.get("type")
    return {
        "target": target.get("dev") if target is not None else None,
        "device": disk.get("device", "disk"),
        "bus": target.get("bus") if target is not None else None,
        "type": disk_type,
        "format": driver.get("type") if driver is not None else None,
        "source": _source_text(disk_type, source),
        "pool": source.get("pool") if source is not None and disk_type == "volume" else None,
        "capacity_bytes": None,
        "allocation_bytes": None,
        "backing_chain": _backing_chain(disk),
    }


def _source_text(disk_type, source):
    """The disk's source as one string: a path, ``pool/volume``, or ``protocol:name``."""
    if source is None:
        return None
    if disk_type == "volume":
        return "%s/%s" % (source.get("pool"), source.get("volume"))
    if disk_type == "network":
        return "%s:%s" % (source.get("protocol"), source.get("name"))
    return source.get("file") or source.get("dev") or source.get("dir") or source.get("name")


def _backing_chain(disk):
    """Paths below the disk's top image, from ``<backingStore>``; None when the XML has none.

    An empty ``<backingStore/>`` ends a chain; live XML always carries it.
    """
    node = disk.find("backingStore")
    if node is None:
        return None
    chain = []
    while node is not None and len(node):
        chain.append(_source_text(node.get("type"), node.find("source")))
        node = node.find("backingStore")
    return chain


def parse_interface(element):
    """One ``<interface>`` -> ``{type, source, mac, model}``.

    A running guest's XML shows the type libvirt gave an interface on a network (``bridge`` for a network that
    forwards onto a bridge, ``direct`` for a macvtap one) with the network still named in its source: the
    interface is the network's (type ``network``), wherever it is read."""
    kind = element.get("type")
    source = element.find("source")
    if source is not None and source.get("network"):
        kind = states.INTERFACE_NETWORK
    mac, model = element.find("mac"), element.find("model")
    return {"type": kind,
            "source": source.get(kind) or source.get("dev") if source is not None else None,
            "mac": mac.get("address") if mac is not None else None,
            "model": model.get("type") if model is not None else None}


def _parse_hostdev(hostdev):
    dev_type = hostdev.get("type")
    address = hostdev.find("source/address")
    text = None
    if address is not None and dev_type == "pci":
        text = "%04x:%02x:%02x.%x" % tuple(
            int_or_none(address.get(key)) or 0 for key in ("domain", "bus", "slot", "function"))
    elif address is not None:
        text = ":".join(address.get(key) for key in ("bus", "device") if address.get(key))
    else:
        ids = [hostdev.find("source/%s" % key) for key in ("vendor", "product")]
        text = ":".join(node.get("id") for node in ids if node is not None and node.get("id")) or None
    return {"type": dev_type, "address": text}
