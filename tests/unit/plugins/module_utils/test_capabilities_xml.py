# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.capabilities_xml import parse_capabilities
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.xml_factory import capabilities_xml


def test_two_sockets_eight_cores_two_threads_in_two_cells():
    caps = parse_capabilities(capabilities_xml(sockets=2, cores=8, threads=2, cells=2))
    assert caps["host_uuid"] == "5c0e0000-0000-4000-8000-000000000001"
    assert caps["cpu"] == {
        "arch": "x86_64", "vendor": "Intel", "model": "Skylake-Server-IBRS", "features": ["vmx", "pcid"],
        "sockets": 2, "cores_per_socket": 8, "threads_per_core": 2, "total_threads": 32,
    }
    assert [cell["id"] for cell in caps["cells"]] == [0, 1]
    cell0 = caps["cells"][0]
    assert [cpu["id"] for cpu in cell0["cpus"]] == list(range(0, 8)) + list(range(16, 24))
    assert cell0["cpus"][0] == {"id": 0, "socket_id": 0, "die_id": 0, "core_id": 0, "siblings": [0, 16]}
    assert cell0["memory_mb"] == 65536
    assert cell0["distances"] == {"0": 10, "1": 21}
    assert cell0["pages"] == [{"size_kb": 4, "total": 65536 * 256}]
    assert caps["virt_type"] == "kvm"


def test_four_cells_split_each_socket():
    caps = parse_capabilities(capabilities_xml(sockets=2, cores=8, threads=2, cells=4))
    assert len(caps["cells"]) == 4
    assert [len(cell["cpus"]) for cell in caps["cells"]] == [8, 8, 8, 8]
    assert set(cpu["socket_id"] for cpu in caps["cells"][3]["cpus"]) == {1}
    assert caps["cells"][2]["distances"] == {"0": 21, "1": 21, "2": 10, "3": 21}
    assert caps["cpu"]["sockets"] == 2 and caps["cpu"]["cores_per_socket"] == 8
    assert caps["cpu"]["total_threads"] == 32


def test_eight_cells_with_2m_and_1g_pages():
    hugepages = {2048: 1024, 1048576: 4}
    caps = parse_capabilities(capabilities_xml(sockets=4, cores=16, threads=2, cells=8,
                                               cell_memory_mib=32768, hugepages=hugepages))
    assert len(caps["cells"]) == 8
    assert caps["page_sizes_kb"] == [4, 2048, 1048576]
    for cell in caps["cells"]:
        assert cell["pages"] == [
            {"size_kb": 4, "total": (32768 * 1024 - 2048 * 1024 - 1048576 * 4) // 4},
            {"size_kb": 2048, "total": 1024},
            {"size_kb": 1048576, "total": 4},
        ]
        assert len(cell["cpus"]) == 16
        assert len(cell["distances"]) == 8
    assert caps["cpu"]["sockets"] == 4
    assert caps["cpu"]["total_threads"] == 128


def test_smt_off_and_qemu_only_host():
    caps = parse_capabilities(capabilities_xml(sockets=1, cores=4, threads=1, cells=1, domain_types=("qemu",)))
    assert caps["cpu"]["threads_per_core"] == 1
    assert caps["cells"][0]["cpus"][1]["siblings"] == [1]
    assert caps["virt_type"] == "qemu"


def test_host_without_numa_cells_falls_back_to_cpu_topology():
    xml = """<capabilities><host><cpu><arch>aarch64</arch>
      <topology sockets='1' dies='1' cores='4' threads='2'/></cpu></host></capabilities>"""
    caps = parse_capabilities(xml)
    assert caps["cells"] == []
    assert caps["cpu"]["total_threads"] == 8
    assert caps["cpu"]["vendor"] is None
    assert caps["virt_type"] is None


def test_broken_xml_is_reported():
    with pytest.raises(VmfleetError, match="capabilities"):
        parse_capabilities("<capabilities><host>")


def test_machine_types_of_the_hosts_own_arch_with_aliases():
    text = """<capabilities><host><cpu><arch>x86_64</arch></cpu></host>
      <guest><os_type>hvm</os_type>
        <arch name='x86_64'><machine maxCpus='255'>pc-i440fx-7.2</machine>
          <machine canonical='pc-i440fx-7.2' maxCpus='255'>pc</machine>
          <machine maxCpus='288'>pc-q35-7.2</machine>
          <domain type='kvm'><machine>pc-q35-6.2</machine></domain></arch></guest>
      <guest><os_type>hvm</os_type><arch name='i686'><machine>isapc</machine></arch></guest>
    </capabilities>"""
    assert parse_capabilities(text)["machine_types"] == ["pc", "pc-i440fx-7.2", "pc-q35-6.2", "pc-q35-7.2"]
