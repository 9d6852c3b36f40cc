# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt XML for hosts and guests larger than the test machine.

``capabilities_xml`` numbers CPUs as Linux does on Intel servers: thread t
of core c of socket s is ``t * sockets * cores + s * cores + c``, so the
siblings of CPU 0 on a 2 x 8 x 2 host are 0 and 16. Cores are spread evenly
over the cells in socket order.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zlib

from ansible_collections.vmfleet.compute.plugins.module_utils.cpuset import format_cpuset
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import instance_metadata

SMALL_PAGE_KB = 4


def host_cpu_layout(sockets, cores, threads, cells):
    """``{cell: [(cpu_id, socket, core, siblings)]}`` for the layout above."""
    per_socket = sockets * cores
    layout = dict((cell, []) for cell in range(cells))
    for socket in range(sockets):
        for core in range(cores):
            cell = (socket * cores + core) * cells // per_socket
            siblings = [t * per_socket + socket * cores + core for t in range(threads)]
            for cpu in siblings:
                layout[cell].append((cpu, socket, core, siblings))
    for cpus in layout.values():
        cpus.sort()
    return layout


def capabilities_xml(sockets=2, cores=8, threads=2, cells=2, cell_memory_mib=65536, hugepages=None,
                     arch="x86_64", vendor="Intel", model="Skylake-Server-IBRS", features=("vmx", "pcid"),
                     domain_types=("qemu", "kvm"), host_uuid="5c0e0000-0000-4000-8000-000000000001"):
    """Capabilities XML of a host. ``hugepages``: ``{size_kb: pages per cell}``."""
    hugepages = hugepages or {}
    root = ET.Element("capabilities")
    host = ET.SubElement(root, "host")
    ET.SubElement(host, "uuid").text = host_uuid
    cpu = ET.SubElement(host, "cpu")
    ET.SubElement(cpu, "arch").text = arch
    ET.SubElement(cpu, "model").text = model
    ET.SubElement(cpu, "vendor").text = vendor
    # Like real libvirt, the topology element describes one NUMA node's share.
    ET.SubElement(cpu, "topology", sockets=str(max(1, sockets // cells)), dies="1",
                  cores=str(cores), threads=str(threads))
    for name in features:
        ET.SubElement(cpu, "feature", name=name)
    for size in [SMALL_PAGE_KB] + sorted(hugepages):
        ET.SubElement(cpu, "pages", unit="KiB", size=str(size))
    cells_el = ET.SubElement(ET.SubElement(host, "topology"), "cells", num=str(cells))
    for cell_id, cpus in sorted(host_cpu_layout(sockets, cores, threads, cells).items()):
        cell = ET.SubElement(cells_el, "cell", id=str(cell_id))
        ET.SubElement(cell, "memory", unit="KiB").text = str(cell_memory_mib * 1024)
        huge_kib = sum(size * count for size, count in hugepages.items())
        small = (cell_memory_mib * 1024 - huge_kib) // SMALL_PAGE_KB
        ET.SubElement(cell, "pages", unit="KiB", size=str(SMALL_PAGE_KB)).text = str(small)
        for size, count in sorted(hugepages.items()):
            ET.SubElement(cell, "pages", unit="KiB", size=str(size)).text = str(count)
        distances = ET.SubElement(cell, "distances")
        for other in range(cells):
            ET.SubElement(distances, "sibling", id=str(other), value="10" if other == cell_id else "21")
        cpus_el = ET.SubElement(cell, "cpus", num=str(len(cpus)))
        for cpu_id, socket, core, siblings in cpus:
            ET.SubElement(cpus_el, "cpu", id=str(cpu_id), socket_id=str(socket), die_id="0",
                          core_id=str(core), siblings=format_cpuset(siblings))
    guest = ET.SubElement(root, "guest")
    ET.SubElement(guest, "os_type").text = "hvm"
    guest_arch = ET.SubElement(guest, "arch", name=arch)
    for domain_type in domain_types:
        ET.SubElement(guest_arch, "domain", type=domain_type)
    return ET.tostring(root, encoding="unicode")


def domain_xml(name="vm1", vcpus=2, current_vcpus=None, memory_mib=128, current_memory_mib=None,
               vcpupin=None, emulatorpin=None, numatune=None, memnodes=None, numa_cells=None,
               topology=None, hugepage_kb=None, disks=None, hostdevs=(), machine="pc-q35-7.2",
               metadata=None, uuid=None, domain_type="kvm"):
    """Domain XML of a guest.

    ``vcpupin``: ``{vcpu: "cpuset"}``; ``numatune``: ``(mode, "nodeset")``;
    ``memnodes``: ``{cellid: "nodeset"}``; ``numa_cells``: ``[("cpus", memory_mib)]``;
    ``topology``: ``(sockets, cores, threads)``; ``disks``: dicts with
    ``source``, ``target`` and optional ``format``, ``device``, ``type``,
    ``backing`` (list of paths: a live-XML chain), ``pool``/``volume``;
    ``hostdevs``: PCI addresses; ``metadata``: dict for the collection's metadata.
    """
    root = ET.Element("domain", type=domain_type)
    ET.SubElement(root, "name").text = name
    ET.SubElement(root, "uuid").text = uuid or "00000000-0000-4000-8000-%012x" % zlib.crc32(name.encode())
    if metadata is not None:
        meta = ET.SubElement(root, "metadata")
        meta.append(ET.fromstring(instance_metadata.render_element(metadata)))
    ET.SubElement(root, "memory", unit="KiB").text = str(memory_mib * 1024)
    ET.SubElement(root, "currentMemory", unit="KiB").text = str((current_memory_mib or memory_mib) * 1024)
    if hugepage_kb:
        hugepages = ET.SubElement(ET.SubElement(root, "memoryBacking"), "hugepages")
        ET.SubElement(hugepages, "page", size=str(hugepage_kb), unit="KiB")
    vcpu = ET.SubElement(root, "vcpu", placement="static")
    vcpu.text = str(vcpus)
    if current_vcpus:
        vcpu.set("current", str(current_vcpus))
    if vcpupin or emulatorpin:
        cputune = ET.SubElement(root, "cputune")
        for vcpu_id, cpuset in sorted((vcpupin or {}).items()):
            ET.SubElement(cputune, "vcpupin", vcpu=str(vcpu_id), cpuset=str(cpuset))
        if emulatorpin:
            ET.SubElement(cputune, "emulatorpin", cpuset=str(emulatorpin))
    if numatune or memnodes:
        tune = ET.SubElement(root, "numatune")
        if numatune:
            ET.SubElement(tune, "memory", mode=numatune[0], nodeset=numatune[1])
        for cellid, nodeset in sorted((memnodes or {}).items()):
            ET.SubElement(tune, "memnode", cellid=str(cellid), mode="strict", nodeset=str(nodeset))
    os_el = ET.SubElement(root, "os")
    ET.SubElement(os_el, "type", arch="x86_64", machine=machine).text = "hvm"
    if topology or numa_cells:
        cpu = ET.SubElement(root, "cpu", mode="host-passthrough")
        if topology:
            ET.SubElement(cpu, "topology", sockets=str(topology[0]), dies="1",
                          cores=str(topology[1]), threads=str(topology[2]))
        if numa_cells:
            numa = ET.SubElement(cpu, "numa")
            for cell_id, (cpus, memory) in enumerate(numa_cells):
                ET.SubElement(numa, "cell", id=str(cell_id), cpus=cpus, memory=str(memory), unit="MiB")
    devices = ET.SubElement(root, "devices")
    for disk in disks or []:
        _disk(devices, disk)
    for address in hostdevs:
        domain, bus, slot_function = address.split(":")
        slot, function = slot_function.split(".")
        hostdev = ET.SubElement(devices, "hostdev", mode="subsystem", type="pci", managed="yes")
        ET.SubElement(ET.SubElement(hostdev, "source"), "address", domain="0x" + domain, bus="0x" + bus,
                      slot="0x" + slot, function="0x" + function)
    return ET.tostring(root, encoding="unicode")


def _disk(devices, disk):
    disk_type = disk.get("type", "file")
    element = ET.SubElement(devices, "disk", type=disk_type, device=disk.get("device", "disk"))
    ET.SubElement(element, "driver", name="qemu", type=disk.get("format", "qcow2"))
    if disk_type == "volume":
        ET.SubElement(element, "source", pool=disk["pool"], volume=disk["volume"])
    elif disk_type == "network":
        ET.SubElement(element, "source", protocol="rbd", name=disk["source"])
    elif disk.get("source"):
        ET.SubElement(element, "source", **{"file" if disk_type == "file" else "dev": disk["source"]})
    if "backing" in disk:
        parent = element
        for path in disk["backing"]:
            parent = ET.SubElement(parent, "backingStore", type="file")
            ET.SubElement(parent, "format", type="qcow2")
            ET.SubElement(parent, "source", file=path)
        ET.SubElement(parent, "backingStore")
    ET.SubElement(element, "target", dev=disk["target"], bus=disk.get("bus", "virtio"))
