# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HostState from facts; consume / release (reserve / unreserve)."""

from __future__ import annotations

import pytest

from host_factory import make_host, make_request, pci_device

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler import numa_fit
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.host_state import HostState
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.placement import Placement
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import build_request_spec


def place(host, request, aliases=None):
    spec = build_request_spec(request, aliases)
    result = numa_fit.fit(host, spec)
    return Placement(spec, host.name, cells=result.cells, pci_claims=result.pci_claims)


def test_from_facts_reads_the_contract():
    facts = make_host("hv7", hugepages={2048: 1024}, pinned={0: [0, 16]}, memory_used={0: 1024},
                      pages_used={0: {2048: 256}}, shared_vcpus_used={1: 3}, guests=["a", "b"],
                      aggregates=[{"name": "ssd", "metadata": {"ssd": "true"}}], availability_zone="az1")
    host = HostState.from_facts({"hypervisor": facts, "changed": False})
    assert host.name == "hv7" and host.availability_zone == "az1"
    assert host.aggregate_metadata == {"ssd": {"true"}}
    assert host.instances == {"a", "b"} and host.running_vms == 2
    assert host.ram_headroom == 131072 - 512 - 1024
    assert host.pcpu_headroom == 30 and host.vcpu_headroom == 30 * 4.0 - 3
    cell = host.cell_by_id[0]
    assert cell.siblings[0] == (0, 16) and cell.threads_per_core == 2
    assert cell.pinned == frozenset([0, 16]) and cell.free_pcpus == frozenset(range(1, 8)) | frozenset(range(17, 24))
    assert cell.pages[2048] == [1024, 256]
    # small pages used = guest memory not in hugepages: 1024 MB - 256 x 2 MiB = 512 MiB
    assert cell.pages[4][1] == 512 * 1024 // 4


def test_sets_configured_split_pools():
    host = HostState.from_facts(make_host(threads=1, cpu_dedicated_set=list(range(2, 8)) + list(range(10, 16)),
                                          cpu_shared_set=[0, 1, 8, 9]))
    cell = host.cell_by_id[0]
    assert cell.pcpuset == frozenset(range(2, 8)) and cell.shared_cpus == frozenset([0, 1])


def test_overlapping_sets_are_an_input_error():
    with pytest.raises(InvalidInput) as caught:
        HostState.from_facts(make_host(cpu_dedicated_set=[0, 1, 2], cpu_shared_set=[2, 3]))
    assert "CPUs [2] are in both sets" in caught.value.message


def test_facts_without_name():
    with pytest.raises(InvalidInput):
        HostState.from_facts({"resources": {}})


def test_consume_and_release_dedicated_shrinks_and_restores_the_floating_pool():
    host = HostState.from_facts(make_host(threads=1))
    before = (host.vcpu_headroom, host.pcpu_headroom, host.ram_headroom, host.disk_headroom, host.running_vms)
    placement = place(host, make_request("vm", 4, 2048, 20, extra_specs={"hw:cpu_policy": "dedicated"}))
    host.consume(placement)
    assert host.pcpu_headroom == 12 and host.vcpus_limit == 12 * 4.0
    assert host.ram_headroom == before[2] - 2048 and host.disk_headroom == before[3] - 20
    assert host.running_vms == 1 and host.io_ops == 1 and "vm" in host.instances
    assert host.cell_by_id[0].pinned == frozenset([0, 1, 2, 3])
    with pytest.raises(VmfleetError):
        host.consume(placement)
    assert host.release(placement) is True
    assert host.release(placement) is False          # idempotent
    assert host.release("vm") is False
    assert (host.vcpu_headroom, host.pcpu_headroom, host.ram_headroom, host.disk_headroom,
            host.running_vms) == before


def test_isolate_consumes_siblings_and_hugepages():
    host = HostState.from_facts(make_host(hugepages={2048: 1024}))
    placement = place(host, make_request("vm", 2, 1024, extra_specs={
        "hw:cpu_policy": "dedicated", "hw:cpu_thread_policy": "isolate", "hw:mem_page_size": "2MB"}))
    host.consume(placement)
    cell = host.cell_by_id[0]
    assert cell.pinned == frozenset([0, 1, 16, 17])
    assert host.pcpus_used == 4
    assert cell.pages[2048] == [1024, 512] and cell.memory_used_mb == 1024
    host.release(placement)
    assert cell.pinned == frozenset() and cell.pages[2048] == [1024, 0]


def test_shared_numa_guest_counts_per_cell():
    host = HostState.from_facts(make_host())
    placement = place(host, make_request("vm", 4, 1024, extra_specs={"hw:numa_nodes": 1}))
    host.consume(placement)
    assert host.cell_by_id[0].shared_vcpus_used == 4 and host.shared_vcpus_used == 4


def test_pci_devices_claimed_and_given_back():
    aliases = {"nic": {"vendor_id": "8086", "product_id": "1572", "numa_policy": "legacy"}}
    facts = make_host(pci_devices=[pci_device("0000:3b:00.0", numa_node=0), pci_device("0000:3b:00.1", numa_node=1)],
                      guests=[{"name": "old", "host_devices": [{"type": "pci", "address": "0000:3b:00.1"}]}])
    host = HostState.from_facts(facts)
    assert host.pci_devices == {("8086", "1572"): [("0000:3b:00.0", 0)]}
    placement = place(host, make_request("vm", 2, 1024, extra_specs={"pci_passthrough:alias": "nic:1"}), aliases)
    host.consume(placement)
    assert host.pci_devices[("8086", "1572")] == []
    host.release(placement)
    assert host.pci_devices[("8086", "1572")] == [("0000:3b:00.0", 0)]


def test_consume_refuses_a_placement_made_on_an_older_view():
    host = HostState.from_facts(make_host(threads=1))
    first = place(host, make_request("a", 2, 1024, extra_specs={"hw:cpu_policy": "dedicated"}))
    stale = place(host, make_request("b", 2, 1024, extra_specs={"hw:cpu_policy": "dedicated"}))
    host.consume(first)
    with pytest.raises(VmfleetError) as caught:
        host.consume(stale)
    assert "already pinned" in caught.value.message
    assert host.release(stale) is False
