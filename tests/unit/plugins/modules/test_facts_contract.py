# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hypervisor_info's RETURN is the host-facts contract: what libvirt's test driver gives through
gather_host_facts keeps it, and so do the generated facts the other unit tests feed the
scheduler and the checks. Together they exercise every path RETURN documents.
(The lab's integration test, test_facts_contract.py there, checks real hosts.)"""

from __future__ import annotations

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.host.settings import normalize_host_config
from ansible_collections.vmfleet.compute.plugins.module_utils.state import cordon, journal
from ansible_collections.vmfleet.compute.plugins.modules import hypervisor_info
from ansible_collections.vmfleet.compute.tests.facts_contract import (
    contract_violations,
    documented_facts,
    documented_paths,
)
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.scheduler.host_factory import pci_device
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.upgrade_checks.facts import guest, host, pool
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.xml_factory import domain_xml

CONTRACT = documented_facts(hypervisor_info.RETURN)
URI = "test:///default"


def generated_facts():
    """A factory host using what RETURN describes: a pinned NUMA guest on hugepages with a base
    image and a passed-through device, a cordon and a journal entry, a PCI device."""
    pinned = guest("db1", cpu_policy="dedicated", vcpupin=[{"vcpu": 0, "cpus": [2]}, {"vcpu": 1, "cpus": [3]}],
                   numa_cells=[{"id": 0, "cpus": [0, 1], "memory_mb": 2048, "host_cell": 0}], page_size_kb=2048,
                   base=("cirros.qcow2", 0.1))
    pinned.update(emulatorpin=[4], vcpu_cpuset=[2, 3, 4], floating_cpus=[4],
                  host_devices=[{"type": "pci", "address": "0000:3b:00.0"}])
    record = journal.new_record("db1", "hv1", "hv2", "resize", old_flavor="m1.small", new_flavor="m1.large")
    facts = host("hv1", guests=[pinned], hugepages={2048: 1024}, pinned={0: [2, 3]}, memory_used={0: 2048},
                 pages_used={0: {"2048": 1024}}, pci_devices=[pci_device("0000:3b:00.0")],
                 pools=[pool(volumes=["cirros.qcow2"])],
                 maintenance={"store": "SQLite file /var/lib/vmfleet/state.db", "draining": None,
                              "cordon": cordon.new_record("hv1", "kernel upgrade", "ops"), "journal": [record]})
    return facts


@pytest.fixture(scope="module")
def test_driver_facts():
    """gather_host_facts on libvirt's test:///default driver, with a guest that has NUMA cells,
    pinning, a CPU topology and numatune (each connection to test:///default starts afresh)."""
    pytest.importorskip("libvirt")
    from ansible_collections.vmfleet.compute.plugins.module_utils.host.facts import gather_host_facts
    from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection

    with connection.connection(URI, "test-host") as conn:
        conn.defineXML(domain_xml(name="facts-shape", vcpus=2, vcpupin={0: "1", 1: "9"}, memnodes={0: "0"},
                                  numa_cells=[("0-1", 128)], topology=(1, 2, 1), numatune=("strict", "0"),
                                  domain_type="test"))
        config = normalize_host_config({"cpu_dedicated_set": "8-15", "cpu_shared_set": "0-7", "aggregates": ["ssd"],
                                        "cpu_mode": "custom", "cpu_models": ["kvm64"],
                                        "live_migration_inbound_addr": "10.1.0.1",
                                        "live_migration_uri": "qemu+tls://hv1.example.net/system"})
        return gather_host_facts(conn, None, URI, config, maintenance={
            "store": "SQLite file /srv/state.db", "cordon": cordon.new_record("hv1", "kernel upgrade", "ops"),
            "journal": [], "draining": {"run_id": "r1", "owner": "ops on ctl1 (pid 7)",
                                        "lease_expires_at": "2026-11-21T08:35:00Z"}})


def test_the_test_drivers_facts_keep_the_contract(test_driver_facts):
    assert contract_violations(test_driver_facts, CONTRACT) == []


def test_generated_facts_keep_the_contract():
    assert contract_violations(generated_facts(), CONTRACT) == []


def test_together_they_exercise_every_documented_path(test_driver_facts):
    seen = set()
    contract_violations(test_driver_facts, CONTRACT, seen=seen)
    contract_violations(generated_facts(), CONTRACT, seen=seen)
    assert sorted(set(documented_paths(CONTRACT)) - seen) == []


SMALL_CONTRACT = {"type": "dict", "contains": {
    "name": {"description": "Name.", "type": "str"},
    "uuid": {"description": "UUID; null when libvirt gives none.", "type": "str"},
    "state": {"description": "State.", "type": "str", "choices": ["running", "shutoff"]},
    "vcpus": {"description": "vCPUs.", "type": "int"},
    "ratio": {"description": "Ratio.", "type": "float"},
    "cpus": {"description": "CPUs.", "type": "list", "elements": "int"},
    "disks": {"description": "Disks.", "type": "list", "elements": "dict",
              "contains": {"target": {"description": "Target.", "type": "str"}}},
    "metadata": {"description": "Free-form.", "type": "dict"},
}}
KEPT = {"name": "vm1", "uuid": None, "state": "running", "vcpus": 2, "ratio": 4, "cpus": [1, 2],
        "disks": [{"target": "vda"}], "metadata": {"anything": {"goes": 1}}}


def test_the_checker_passes_what_keeps_the_contract():
    assert contract_violations(KEPT, SMALL_CONTRACT, path="guest") == []


@pytest.mark.parametrize("change, problem", [
    ({"name": None}, "guest.name: null, but its description does not say it may be"),
    ({"vcpus": True}, "guest.vcpus: bool True, documented as int"),
    ({"ratio": "4"}, "guest.ratio: str '4', documented as float"),
    ({"state": "gone"}, "guest.state: 'gone', not one of the documented choices ['running', 'shutoff']"),
    ({"cpus": [1, "2"]}, "guest.cpus[]: str '2', documented as int"),
    ({"disks": [{"target": "vda", "bus": "virtio"}]}, "guest.disks[].bus: returned, not documented"),
    ({"disks": [{}]}, "guest.disks[].target: documented, not returned"),
    ({"extra": 1}, "guest.extra: returned, not documented"),
])
def test_the_checker_names_each_break(change, problem):
    assert contract_violations(dict(KEPT, **change), SMALL_CONTRACT, path="guest") == [problem]


def test_a_missing_key_is_named():
    facts = dict(KEPT)
    del facts["vcpus"]
    assert contract_violations(facts, SMALL_CONTRACT, path="guest") == ["guest.vcpus: documented, not returned"]
