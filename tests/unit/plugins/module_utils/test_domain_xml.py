# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import xml.etree.ElementTree as ET

from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.domain_xml import parse_domain
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.xml_factory import domain_xml


def test_pinned_numa_guest_with_hugepages():
    guest = parse_domain(domain_xml(
        name="db1", vcpus=4, memory_mib=4096,
        vcpupin={0: "2", 1: "18", 2: "3", 3: "19"}, emulatorpin="4",
        numatune=("strict", "0"), memnodes={0: "0", 1: "1"},
        numa_cells=[("0-1", 2048), ("2-3", 2048)], topology=(1, 2, 2), hugepage_kb=2048,
        disks=[{"source": "/var/lib/libvirt/images/db1.qcow2", "target": "vda",
                "backing": ["/var/lib/libvirt/images/_base/cirros.qcow2"]}],
        hostdevs=["0000:3b:00.0"]))
    assert guest["name"] == "db1"
    assert (guest["vcpus"], guest["max_vcpus"], guest["memory_mb"], guest["max_memory_mb"]) == (4, 4, 4096, 4096)
    assert guest["cpu_policy"] == "dedicated"
    assert guest["vcpupin"] == [{"vcpu": 0, "cpus": [2]}, {"vcpu": 1, "cpus": [18]},
                                {"vcpu": 2, "cpus": [3]}, {"vcpu": 3, "cpus": [19]}]
    assert guest["emulatorpin"] == [4]
    assert guest["numatune"] == {"mode": "strict", "nodeset": [0], "memnodes": [
        {"cellid": 0, "mode": "strict", "nodeset": [0]}, {"cellid": 1, "mode": "strict", "nodeset": [1]}]}
    assert guest["guest_numa_cells"] == [
        {"id": 0, "cpus": [0, 1], "memory_mb": 2048, "host_cell": 0},
        {"id": 1, "cpus": [2, 3], "memory_mb": 2048, "host_cell": 1}]
    assert guest["cpu_topology"] == {"sockets": 1, "cores": 2, "threads": 2}
    assert guest["page_size_kb"] == 2048
    assert guest["disks"] == [{
        "target": "vda", "device": "disk", "bus": "virtio", "type": "file", "format": "qcow2",
        "source": "/var/lib/libvirt/images/db1.qcow2", "pool": None, "capacity_bytes": None,
        "allocation_bytes": None, "backing_chain": ["/var/lib/libvirt/images/_base/cirros.qcow2"]}]
    assert guest["host_devices"] == [{"type": "pci", "address": "0000:3b:00.0"}]
    assert guest["machine_type"] == "pc-q35-7.2"
    assert guest["managed"] is False and guest["metadata"] is None


def test_plain_guest_defaults():
    guest = parse_domain(domain_xml(vcpus=4, current_vcpus=2, memory_mib=1024, current_memory_mib=512))
    assert (guest["vcpus"], guest["max_vcpus"]) == (2, 4)
    assert (guest["memory_mb"], guest["max_memory_mb"]) == (512, 1024)
    assert guest["cpu_policy"] == "shared"
    assert guest["vcpupin"] == [] and guest["emulatorpin"] == []
    assert guest["numatune"] is None and guest["guest_numa_cells"] == []
    assert guest["cpu_topology"] is None and guest["page_size_kb"] is None
    assert guest["disks"] == [] and guest["host_devices"] == []


def test_mixed_policy_when_some_vcpus_are_pinned_to_one_cpu():
    guest = parse_domain(domain_xml(vcpus=4, vcpupin={0: "2", 1: "3", 2: "8-15", 3: "8-15"}))
    assert guest["cpu_policy"] == "mixed"


def test_metadata_policy_wins_over_pinning():
    # A floating guest pinned to a one-CPU shared set looks dedicated by its pins alone.
    guest = parse_domain(domain_xml(vcpus=1, vcpupin={0: "7"}, metadata={"request": {"cpu_policy": "shared"}}))
    assert guest["cpu_policy"] == "shared"
    assert guest["managed"] is True
    flavor = {"extra_specs": {"hw:cpu_policy": "dedicated"}}
    assert parse_domain(domain_xml(vcpus=1, metadata={"flavor": flavor}))["cpu_policy"] == "dedicated"


def test_memory_units_and_default_hugepage_size():
    xml = """<domain type='kvm'><name>u</name><uuid>x</uuid>
      <memory unit='GiB'>2</memory><currentMemory unit='b'>1073741824</currentMemory>
      <vcpu>1</vcpu><memoryBacking><hugepages/></memoryBacking>
      <cpu><numa><cell id='0' cpus='0' memory='2' unit='G'/></numa></cpu></domain>"""
    guest = parse_domain(xml)
    assert guest["max_memory_mb"] == 2048 and guest["memory_mb"] == 1024
    assert guest["page_size_kb"] == 2048
    assert guest["guest_numa_cells"] == [{"id": 0, "cpus": [0], "memory_mb": 2048, "host_cell": None}]
    one_gig = parse_domain(domain_xml(hugepage_kb=1048576))
    assert one_gig["page_size_kb"] == 1048576


def test_disk_kinds():
    guest = parse_domain(domain_xml(disks=[
        {"type": "volume", "pool": "default", "volume": "vm1-root", "target": "vda"},
        {"type": "network", "source": "rbd-pool/vm1-data", "target": "vdb", "format": "raw"},
        {"type": "block", "source": "/dev/vg0/vm1", "target": "vdc", "format": "raw", "backing": []},
        {"type": "file", "device": "cdrom", "source": "/isos/boot.iso", "target": "sda", "bus": "sata",
         "format": "raw"},
    ]))
    vda, vdb, vdc, sda = guest["disks"]
    assert (vda["source"], vda["pool"], vda["backing_chain"]) == ("default/vm1-root", "default", None)
    assert (vdb["type"], vdb["source"], vdb["format"]) == ("network", "rbd:rbd-pool/vm1-data", "raw")
    assert (vdc["source"], vdc["backing_chain"]) == ("/dev/vg0/vm1", [])
    assert (sda["device"], sda["bus"]) == ("cdrom", "sata")


def test_unknown_children_are_ignored():
    xml = domain_xml(name="odd").replace("<devices>", "<devices><serial type='pty'/>")
    assert parse_domain(xml)["name"] == "odd"


def test_interfaces_on_a_network_are_the_networks_as_a_running_guest_shows_them():
    root = ET.fromstring(domain_xml(name="web1"))
    for text in (
            # as libvirt shows a running guest on a network forwarding onto a bridge, and on a macvtap one
            "<interface type='bridge'><mac address='52:54:00:00:00:01'/><source network='lan' bridge='br0'/>"
            "<model type='virtio'/></interface>",
            "<interface type='direct'><mac address='52:54:00:00:00:02'/>"
            "<source network='dmz' dev='eno2' mode='bridge'/></interface>",
            "<interface type='bridge'><mac address='52:54:00:00:00:03'/><source bridge='br-storage'/></interface>",
            "<interface type='user'><mac address='52:54:00:00:00:04'/></interface>"):
        root.find("devices").append(ET.fromstring(text))
    assert parse_domain(ET.tostring(root, encoding="unicode"))["interfaces"] == [
        {"type": "network", "source": "lan", "mac": "52:54:00:00:00:01", "model": "virtio"},
        {"type": "network", "source": "dmz", "mac": "52:54:00:00:00:02", "model": None},
        {"type": "bridge", "source": "br-storage", "mac": "52:54:00:00:00:03", "model": None},
        {"type": "user", "source": None, "mac": "52:54:00:00:00:04", "model": None}]
