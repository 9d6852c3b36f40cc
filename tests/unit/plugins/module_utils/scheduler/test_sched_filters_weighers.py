# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each filter passes and refuses with a one-line reason; weighers normalise and multiply."""

from __future__ import annotations

import pytest

from host_factory import group_member, make_host, make_request, pci_device

from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import build_config
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.filters import (
    FILTERS, Bounds, extra_spec_matches, version_satisfies)
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.host_state import HostState
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import build_request_spec
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.server_group import GroupIndex
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.weighers import WEIGHERS, weigh

CONFIG = build_config({"pci_aliases": [{"name": "nic", "vendor_id": "0x8086", "product_id": "1572",
                                        "numa_policy": "required"}]})


def spec_of(fleet=(), **kwargs):
    """The request's spec, its server group's members worked out from ``fleet`` (HostStates) as the
    scheduler does."""
    spec = build_request_spec(make_request(**kwargs), CONFIG.pci_aliases)
    if spec.group:
        spec.group_members = GroupIndex(fleet).members_for(spec)
    return spec


SSD = [{"name": "ssd", "metadata": {"ssd": "true", "cpu_gen": "5"}}]
NIC0 = [pci_device("0000:3b:00.0", numa_node=0)]

# (filter, host facts kwargs, request kwargs, passes, text in the reason)
CASES = [
    ("ComputeFilter", {}, {}, True, None),
    ("ComputeFilter", {"enabled": False}, {}, False, "host is disabled: maintenance"),
    ("RetryFilter", {}, {"hints": {"retry_exclude": ["other"]}}, True, None),
    ("RetryFilter", {}, {"hints": {"retry_exclude": ["hv1"]}}, False, "already tried"),
    ("AvailabilityZoneFilter", {"availability_zone": "az1"}, {"hints": {"availability_zone": "az1"}}, True, None),
    ("AvailabilityZoneFilter", {}, {"hints": {"availability_zone": "az1"}}, False,
     "availability zone default, request asks for az1"),
    ("SameHostFilter", {"guests": ["db1"]}, {"hints": {"same_host": ["db1", "db2"]}}, True, None),
    ("SameHostFilter", {}, {"hints": {"same_host": ["db1"]}}, False, "runs none of db1"),
    ("DifferentHostFilter", {}, {"hints": {"different_host": ["db1"]}}, True, None),
    ("DifferentHostFilter", {"guests": ["db1"]}, {"hints": {"different_host": ["db1"]}}, False, "runs db1"),
    # the fleet of these cases has host "busy" running m0 of group g (its metadata names the group)
    ("ServerGroupAffinityFilter", {"guests": [group_member("m9", "g", "affinity")]},
     {"hints": {"group": {"name": "g", "policy": "affinity"}}}, True, None),
    ("ServerGroupAffinityFilter", {}, {"hints": {"group": {"name": "g", "policy": "affinity"}}}, False,
     "group g (affinity) has its members on busy (m0)"),
    ("ServerGroupAntiAffinityFilter", {}, {"hints": {"group": {"name": "g", "policy": "anti-affinity"}}}, True,
     None),
    ("ServerGroupAntiAffinityFilter", {"guests": ["m1"]},
     {"hints": {"group": {"name": "g", "policy": "anti-affinity", "members": ["m1"]}}}, False,
     "group g has member m1 on hv1"),
    ("ServerGroupAntiAffinityFilter", {"guests": [group_member("m2", "g"), group_member("m3", "g"), "x"]},
     {"hints": {"group": {"name": "g", "policy": "anti-affinity"}}}, False, "group g has members m2, m3 on hv1"),
    ("ServerGroupAntiAffinityFilter", {"guests": [group_member("vm1", "g")]},
     {"hints": {"group": {"name": "g", "policy": "anti-affinity"}}}, True, None),     # itself, moving away
    ("IoOpsFilter", {"io_ops": 7}, {}, True, None),
    ("IoOpsFilter", {"io_ops": 8}, {}, False, "8 builds/migrations in flight, max_io_ops_per_host is 8"),
    ("NumInstancesFilter", {"running_vms": 49}, {}, True, None),
    ("NumInstancesFilter", {"running_vms": 50}, {}, False, "50 instances, max_instances_per_host is 50"),
    ("RamFilter", {"memory_mb": 2048, "cells": 1}, {"memory_mb": 1536}, True, None),
    ("RamFilter", {"memory_mb": 2048, "cells": 1}, {"memory_mb": 1537}, False,
     "1536 MB usable RAM left (2048 MB x 1 - 512 MB used), request needs 1537 MB"),
    ("RamFilter", {"memory_mb": 2048, "cells": 1, "ram_allocation_ratio": 1.5}, {"memory_mb": 2560}, True, None),
    ("VCPUFilter", {"threads": 1}, {"vcpus": 64}, True, None),
    ("VCPUFilter", {"threads": 1}, {"vcpus": 65}, False, "64 floating vCPUs left"),
    ("VCPUFilter", {"threads": 1, "pinned": {0: [0, 1, 2, 3]}}, {"vcpus": 13, "extra_specs": {
        "hw:cpu_policy": "dedicated"}}, False, "12 free dedicated CPUs (16 - 4 pinned), request needs 13"),
    ("VCPUFilter", {"threads": 1}, {"vcpus": 16, "extra_specs": {"hw:cpu_policy": "dedicated",
                                                                 "hw:emulator_threads_policy": "isolate"}},
     False, "request needs 17"),
    ("CoreFilter", {"threads": 1}, {"vcpus": 65}, False, "floating vCPUs left"),
    ("DiskFilter", {"local_gb": 100, "local_gb_used": 90}, {"disk_gb": 10}, True, None),
    ("DiskFilter", {"local_gb": 100, "local_gb_used": 90}, {"disk_gb": 11}, False,
     "10 GB usable disk left (100 GB x 1 - 90 GB used), request needs 11 GB"),
    ("ImagePropertiesFilter", {}, {"image": {"hw_architecture": "amd64", "img_hv_type": "kvm",
                                             "img_hv_requested_version": ">=6.0,<8"}}, True, None),
    ("ImagePropertiesFilter", {}, {"image": {"hw_architecture": "aarch64"}}, False,
     "host architecture is x86_64, image needs aarch64"),
    ("ImagePropertiesFilter", {"virt_type": "qemu"}, {"image": {"img_hv_type": "kvm"}}, False,
     "host offers qemu guests, image needs kvm"),
    ("ImagePropertiesFilter", {}, {"image": {"img_hv_requested_version": ">=8.0"}}, False,
     "hypervisor version 7.2.0 does not satisfy >=8.0"),
    ("AggregateInstanceExtraSpecsFilter", {"aggregates": SSD},
     {"extra_specs": {"ssd": "true", "aggregate_instance_extra_specs:cpu_gen": ">= 4", "hw:cpu_policy": "shared"}},
     True, None),
    ("AggregateInstanceExtraSpecsFilter", {"aggregates": SSD}, {"extra_specs": {"ssd": "<or> false <or> no"}},
     False, "aggregate metadata ssd=true does not match"),
    ("AggregateInstanceExtraSpecsFilter", {}, {"extra_specs": {"gpu": "true"}}, False, "no aggregate of the host"),
    ("PciPassthroughFilter", {"pci_devices": NIC0}, {"extra_specs": {"pci_passthrough:alias": "nic:1"}}, True,
     None),
    ("PciPassthroughFilter", {"pci_devices": NIC0}, {"extra_specs": {"pci_passthrough:alias": "nic:2"}}, False,
     "1 free 8086:1572 device(s) for alias nic, 2 needed"),
    ("NUMATopologyFilter", {}, {"vcpus": 4, "extra_specs": {"hw:cpu_policy": "dedicated"}}, True, None),
    ("NUMATopologyFilter", {"threads": 1}, {"vcpus": 10, "extra_specs": {"hw:cpu_policy": "dedicated"}}, False,
     "cell 0 has 8 dedicated CPUs in all, guest cell 0 needs 10"),
    ("NUMATopologyFilter", {"pci_devices": NIC0, "threads": 1, "pinned": {0: list(range(8))}},
     {"vcpus": 2, "extra_specs": {"hw:cpu_policy": "dedicated", "pci_passthrough:alias": "nic:1"}}, False,
     "0 free 8086:1572 device(s) for alias nic on host cells [1] (numa policy required), 1 needed"),
]


@pytest.mark.parametrize("case", CASES, ids=["%s-%d" % (c[0], i) for i, c in enumerate(CASES)])
def test_filter_verdicts(case):
    name, host_kwargs, request_kwargs, passes, text = case
    flt = FILTERS.get(name) or FILTERS["VCPUFilter"]
    host = HostState.from_facts(make_host(**dict({"name": "hv1"}, **host_kwargs)))
    busy = HostState.from_facts(make_host("busy", guests=[group_member("m0", "g")]))
    spec = spec_of([host, busy], **request_kwargs)
    verdict = flt.check(host, spec, CONFIG)
    assert verdict.passed is passes, verdict.reason
    assert verdict.filter == flt.name and verdict.host == host.name
    if text:
        assert text in verdict.reason
        assert str(verdict) == "%s: %s: %s" % (host.name, flt.name, verdict.reason)
    # the bulk path answers the same
    kept, refused = flt.filter_hosts([host], spec, CONFIG) if flt.applies(spec) else ([host], [])
    assert (len(kept) == 1) is passes
    if not passes:
        assert str(refused[0][1]) == verdict.reason


@pytest.mark.parametrize("value, requirement, expected", [
    ("true", "true", True), ("true", "True", False), ("5", ">= 4", True), ("3", ">= 4", False),
    ("5", "= 4", True), ("ssd fast", "<in> fast", True), ("ssd fast", "<all-in> fast ssd", True),
    ("b", "<or> a <or> b", True), ("c", "<or> a <or> b", False), ("abc", "s== abc", True),
    ("abc", "s!= abc", False), ("x", "== 1", False), ("2", "!= 1", True), ("1", "<= 1", True),
])
def test_extra_spec_operators(value, requirement, expected):
    assert extra_spec_matches(value, requirement) is expected


@pytest.mark.parametrize("version, requirement, expected", [
    ("7.2.0", ">=7.0", True), ("7.2.0", ">= 6.0, < 7", False), ("7.2.0", "7.2", True), ("7.2.0", "!=7.2.0", False),
])
def test_hypervisor_version(version, requirement, expected):
    assert version_satisfies(version, requirement) is expected


def test_bounds_skip_filters_that_cannot_refuse():
    hosts = [HostState.from_facts(make_host("a")), HostState.from_facts(make_host("b", io_ops=3))]
    bounds = Bounds(hosts)
    spec = spec_of(vcpus=2, memory_mb=1024)
    assert FILTERS["RamFilter"].passes_all(bounds, spec, CONFIG)
    assert FILTERS["IoOpsFilter"].passes_all(bounds, spec, CONFIG)
    assert not FILTERS["IoOpsFilter"].passes_all(bounds, spec, build_config({"max_io_ops_per_host": 3}))
    hosts[0].io_ops = 9
    bounds.widen(hosts[0])
    assert bounds["io_ops"] == (0, 9)      # only ever widened: stays safe


# ------------------------------------------------------------------ weighers

def hosts_with(**per_host):
    names = sorted(per_host)
    return [HostState.from_facts(make_host(name, **per_host[name])) for name in names]


@pytest.mark.parametrize("weigher, per_host, expected", [
    ("RAMWeigher", {"a": {"memory_mb": 4096}, "b": {"memory_mb": 8192}, "c": {"memory_mb": 6144}},
     [0.0, 1.0, 0.5]),
    ("CPUWeigher", {"a": {"threads": 1}, "b": {"threads": 2}}, [0.0, 1.0]),
    ("DiskWeigher", {"a": {"local_gb": 100}, "b": {"local_gb": 300}, "c": {"local_gb": 200}}, [0.0, 1.0, 0.5]),
    ("IoOpsWeigher", {"a": {"io_ops": 0}, "b": {"io_ops": 4}, "c": {"io_ops": 2}}, [-0.0, -1.0, -0.5]),
    ("NumInstancesWeigher", {"a": {"running_vms": 1}, "b": {"running_vms": 3}}, [0.0, 0.0]),
    ("RAMWeigher", {"a": {}, "b": {}}, [0.0, 0.0]),
])
def test_weigher_normalised_times_default_multiplier(weigher, per_host, expected):
    hosts = hosts_with(**per_host)
    w = WEIGHERS[weigher]
    assert weigh(hosts, spec_of(), [(w, w.default)]) == pytest.approx(expected)


def test_num_instances_weigher_with_multiplier():
    hosts = hosts_with(a={"running_vms": 1}, b={"running_vms": 3})
    assert weigh(hosts, spec_of(), [(WEIGHERS["NumInstancesWeigher"], -2.0)]) == pytest.approx([0.0, -2.0])


def test_weighers_sum():
    hosts = hosts_with(a={"memory_mb": 4096, "local_gb": 300}, b={"memory_mb": 8192, "local_gb": 100})
    weighers = [(WEIGHERS["RAMWeigher"], 1.0), (WEIGHERS["DiskWeigher"], 2.0)]
    assert weigh(hosts, spec_of(), weighers) == pytest.approx([2.0, 1.0])


@pytest.mark.parametrize("policy, expected", [("soft-affinity", [0.0, 1.0, 0.5]),
                                              ("soft-anti-affinity", [1.0, 0.0, 0.5])])
def test_soft_affinity_weighers(policy, expected):
    hosts = hosts_with(a={}, b={"guests": ["m1", "m2"]}, c={"guests": ["m3"]})
    spec = spec_of(hosts, hints={"group": {"name": "g", "policy": policy, "members": ["m1", "m2", "m3"]}})
    name = "ServerGroupSoftAffinityWeigher" if policy == "soft-affinity" else "ServerGroupSoftAntiAffinityWeigher"
    assert weigh(hosts, spec, [(WEIGHERS[name], 1.0)]) == pytest.approx(expected)
    other = WEIGHERS["ServerGroupSoftAntiAffinityWeigher" if policy == "soft-affinity" else
                     "ServerGroupSoftAffinityWeigher"]
    assert weigh(hosts, spec, [(other, 1.0)]) == [0.0, 0.0, 0.0]


def test_disk_tier_filter_keeps_hosts_with_the_tier():
    from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import schedule
    ssd = make_host("ssd-host")
    ssd["config"]["disk_tiers"] = {"ssd": "fast"}
    plain = make_host("plain-host")
    flavor = {"vcpus": 1, "memory_mb": 512, "extra_specs": {"vmfleet:disk_tier": "ssd"}}
    result = schedule([plain, ssd], [{"name": "vm", "flavor": flavor}])
    assert [p.host for p in result.placed] == ["ssd-host"]
    reasons = result.rejections_dict()["vm"]
    assert [(r["host"], r["filter"], r["reason"]) for r in reasons] == [
        ("plain-host", "DiskTierFilter", "no storage tier ssd here (disk_tiers: none)")]


def network_host(name, networks=("default",), interfaces=("eno1", "lo")):
    facts = make_host(name, networks=networks)
    facts["host_interfaces"] = None if interfaces is None else list(interfaces)
    return facts


@pytest.mark.parametrize("networks, expected", [
    ([{"network": "prod"}], [("plain", "NetworkFilter", "network 'prod' is not defined here (networks: default)")]),
    ([{"network": "prod"}, {"bridge": "br-storage"}], [
        ("plain", "NetworkFilter", "network 'prod' is not defined here (networks: default)"),
        ("prod-no-bridge", "NetworkFilter", "no bridge 'br-storage' here")]),
    # a network's own bridge counts, though libvirt's interface driver may not list it
    ([{"bridge": "virbr1"}], [("plain", "NetworkFilter", "no bridge 'virbr1' here")]),
])
def test_network_filter_keeps_hosts_with_the_guests_networks_and_bridges(networks, expected):
    from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import schedule
    hosts = [network_host("plain"), network_host("prod-no-bridge", networks=("default", "prod")),
             network_host("prod", networks=("default", "prod"), interfaces=("br-storage", "eno1"))]
    result = schedule(hosts, [{"name": "vm", "flavor": {"vcpus": 1, "memory_mb": 512}, "networks": networks}],
                      {"weighers": []}, seed=0)
    reasons = result.rejections_dict()["vm"]
    assert [(r["host"], r["filter"], r["reason"]) for r in reasons] == expected
    assert result.placed[0].host not in [host for host, _f, _r in expected]


def test_network_filter_does_not_rule_out_a_host_whose_facts_cannot_tell():
    unknown = make_host("old-facts")
    del unknown["networks"], unknown["host_interfaces"]  # facts of an older collection
    no_driver = network_host("no-interface-driver", interfaces=None)
    spec = spec_of(networks=[{"network": "prod"}])
    assert FILTERS["NetworkFilter"].check(HostState.from_facts(unknown), spec, CONFIG)
    bridge = spec_of(networks=[{"bridge": "br-storage"}])
    assert FILTERS["NetworkFilter"].check(HostState.from_facts(no_driver), bridge, CONFIG)
    assert not FILTERS["NetworkFilter"].applies(spec_of())
