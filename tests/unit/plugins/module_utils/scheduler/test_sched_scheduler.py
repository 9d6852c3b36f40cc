# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pipeline: batch consumption, forced hosts, why-not reasons, subset picks, configuration."""

from __future__ import annotations

import pytest

from host_factory import make_host, make_request

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import build_config
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.host_state import HostState
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import schedule

DED = {"hw:cpu_policy": "dedicated"}


def hosts(*names, **kwargs):
    return [make_host(name, **kwargs) for name in names]


def test_batch_consumes_pinned_cpus_before_the_next_request():
    # one host, one cell of 4 CPUs: two 2-vCPU pinned guests fit, the third does not
    facts = [make_host("hv1", sockets=1, cores=4, threads=1, memory_mb=16384)]
    requests = [make_request("vm%d" % i, 2, 1024, extra_specs=DED) for i in range(3)]
    result = schedule(facts, requests).to_dict()
    plan = result["plan"]
    assert [p["host"] for p in plan] == ["hv1", "hv1", None]
    pins = [[e["cpu"] for e in p["numa"][0]["pinning"]] for p in plan[:2]]
    assert pins == [[0, 1], [2, 3]]
    assert plan[2]["error"] == ("No valid host was found for vm2: hv1: VCPUFilter: 0 free dedicated CPUs "
                                "(4 - 4 pinned), request needs 2")


def test_batch_consumes_hugepages_and_cell_memory():
    facts = [make_host("hv1", sockets=1, cores=8, threads=1, hugepages={1048576: 2})]
    requests = [make_request("a", 1, 1024, extra_specs={"hw:mem_page_size": "1GB"}),
                make_request("b", 1, 1024, extra_specs={"hw:mem_page_size": "1GB"}),
                make_request("c", 1, 1024, extra_specs={"hw:mem_page_size": "1GB"})]
    result = schedule(facts, requests)
    assert [o.placement and o.placement.host for o in result.outcomes] == ["hv1", "hv1", None]
    assert "cell 0 has 0 MB in 1048576 KiB pages free, guest cell 0 needs 1024 MB" in result.outcomes[2].error


def test_spread_by_ram_weigher_then_stack_with_negative_multiplier():
    facts = [make_host("hv1", memory_mb=8192, cells=1), make_host("hv2", memory_mb=16384, cells=1)]
    requests = [make_request("a", 1, 4096), make_request("b", 1, 4096), make_request("c", 1, 4096)]
    spread = schedule(facts, requests, {"weighers": ["RAMWeigher"]})
    assert [p.host for p in spread.placed] == ["hv2", "hv2", "hv1"]
    stack = schedule(facts, requests, {"weighers": ["RAMWeigher"], "ram_weight_multiplier": -1.0})
    assert [p.host for p in stack.placed] == ["hv1", "hv2", "hv2"]


def test_no_valid_host_lists_every_host_with_its_filter_and_reason():
    facts = [make_host("hv1", enabled=False), make_host("hv2", availability_zone="az2"),
             make_host("hv3", threads=1, pinned={0: list(range(6)), 1: list(range(8, 14))})]
    request = make_request("db", 4, 2048, extra_specs=dict(DED, **{"hw:cpu_thread_policy": "isolate"}),
                           hints={"availability_zone": "default"})
    outcome = schedule(facts, [request]).outcomes[0]
    assert outcome.placement is None
    lines = [str(v) for v in outcome.rejections]
    assert lines == [
        "hv1: ComputeFilter: host is disabled: maintenance",
        "hv2: AvailabilityZoneFilter: host is in availability zone az2, request asks for default",
        "hv3: NUMATopologyFilter: cell 0 has 2 free dedicated CPUs under the isolate policy, guest cell 0 needs 4; "
        "cell 1 has 2 free dedicated CPUs under the isolate policy, guest cell 0 needs 4",
    ]
    assert outcome.error == "No valid host was found for db: " + "; ".join(lines)


def test_forced_host_still_runs_filters():
    facts = hosts("hv1", "hv2")
    request = make_request("vm", 2, 10 ** 6, hints={"force_host": "hv1"})
    outcome = schedule(facts, [request]).outcomes[0]
    assert outcome.placement is None
    assert [(v.host, v.filter) for v in outcome.rejections] == [("hv1", "RamFilter")]


def test_forced_host_with_force_skips_filters_and_lists_them():
    facts = hosts("hv1", "hv2", enabled=False)
    request = make_request("vm", 2, 10 ** 6, hints={"force_host": "hv2", "force": True})
    placement = schedule(facts, [request]).outcomes[0].placement
    assert placement.host == "hv2" and placement.forced
    assert [v.filter for v in placement.would_fail] == ["ComputeFilter", "RamFilter"]
    data = placement.to_dict()
    assert "usable RAM left" in data["would_fail"][1]["reason"]


def test_forced_pinned_guest_that_cannot_fit_is_placed_without_cells():
    facts = [make_host("hv1", threads=1)]
    request = make_request("vm", 12, 1024, extra_specs=DED, hints={"force_host": "hv1", "force": True})
    placement = schedule(facts, [request]).outcomes[0].placement
    assert placement.cells is None
    assert [v.filter for v in placement.would_fail] == ["NUMATopologyFilter"]
    unfiltered = schedule(facts, [request], {"enabled_filters": ["ComputeFilter"]}).placed[0]
    assert [v.filter for v in unfiltered.would_fail] == ["NUMATopologyClaim"]


def test_unknown_forced_host_is_an_input_error():
    with pytest.raises(InvalidInput) as caught:
        schedule(hosts("hv1"), [make_request(hints={"force_host": "hv9"})])
    assert caught.value.field == "hints.force_host"


def test_anti_affinity_within_a_batch():
    facts = hosts("hv1", "hv2")
    group = {"name": "db", "policy": "anti-affinity"}
    requests = [make_request("db%d" % i, 2, 1024, hints={"group": group}) for i in range(3)]
    result = schedule(facts, requests)
    assert sorted(p.host for p in result.placed) == ["hv1", "hv2"]
    failed = result.failed[0]
    assert all(v.filter == "ServerGroupAntiAffinityFilter" for v in failed.rejections)


def test_affinity_follows_existing_members_and_batch():
    facts = [make_host("hv1"), make_host("hv2", guests=["web0"])]
    group = {"name": "web", "policy": "affinity", "members": ["web0"]}
    requests = [make_request("web%d" % i, 2, 1024, hints={"group": group}) for i in (1, 2)]
    assert [p.host for p in schedule(facts, requests).placed] == ["hv2", "hv2"]


def test_soft_anti_affinity_spreads_in_batch():
    facts = hosts("hv1", "hv2", "hv3")
    group = {"name": "g", "policy": "soft-anti-affinity"}
    requests = [make_request("g%d" % i, 1, 512, hints={"group": group}) for i in range(3)]
    config = {"weighers": ["ServerGroupSoftAntiAffinityWeigher"]}
    assert sorted(p.host for p in schedule(facts, requests, config).placed) == ["hv1", "hv2", "hv3"]


def test_host_subset_size_random_pick_is_seedable():
    facts = hosts("hv1", "hv2", "hv3", "hv4")
    requests = [make_request("vm%d" % i, 1, 512) for i in range(8)]
    config = {"host_subset_size": 3}
    first = [p.host for p in schedule(facts, requests, config, seed=3).placed]
    again = [p.host for p in schedule(facts, requests, config, seed=3).placed]
    assert first == again
    picks = set()
    for seed in range(10):
        picks.update(p.host for p in schedule(facts, requests[:1], config, seed=seed).placed)
    assert len(picks) > 1


def test_hoststates_are_consumed_in_place_and_can_be_released():
    states = [HostState.from_facts(make_host("hv1"))]
    result = schedule(states, [make_request("vm", 2, 1024, extra_specs=DED)])
    assert states[0].pcpus_used == 2
    states[0].release(result.placed[0])
    assert states[0].pcpus_used == 0


def test_retry_filter_and_same_host():
    facts = [make_host("hv1", guests=["db"]), make_host("hv2")]
    request = make_request("vm", hints={"retry_exclude": ["hv2"], "same_host": ["db"]})
    assert schedule(facts, [request]).placed[0].host == "hv1"


def test_disabled_filters_are_not_run():
    facts = [make_host("hv1", enabled=False)]
    result = schedule(facts, [make_request()], {"enabled_filters": ["RamFilter", "CoreFilter"]})
    assert result.placed[0].host == "hv1"


def test_result_shape():
    data = schedule(hosts("hv1"), [make_request("vm", 4, 2048, extra_specs=dict(DED, **{"hw:numa_nodes": 2}))]
                    ).to_dict()
    entry = data["plan"][0]
    assert entry["cpu_topology"] == {"sockets": 4, "cores": 1, "threads": 1}
    assert [c["host_cell"] for c in entry["numa"]] == [0, 1]
    assert entry["numa"][0]["pinning"] == [{"vcpu": 0, "cpu": 0}, {"vcpu": 1, "cpu": 16}]
    assert entry["emulator_cpus"] == "0,8,16,24"
    assert data["rejections"] == {"vm": []}


@pytest.mark.parametrize("config, field", [
    ({"enabled_filters": ["NoSuchFilter"]}, "config.enabled_filters"),
    ({"weighers": ["FooWeigher"]}, "config.weighers"),
    ({"host_subset_size": 0}, "config.host_subset_size"),
    ({"max_io_ops_per_host": "x"}, "config.max_io_ops_per_host"),
    ({"ram_weight_multiplier": "big"}, "config.ram_weight_multiplier"),
    ({"colour": "blue"}, "config.colour"),
    ({"pci_aliases": [{"name": "x", "vendor_id": "zz", "product_id": "1"}]}, "config.pci_aliases[0].vendor_id"),
    ({"pci_aliases": [{"name": "x", "vendor_id": "8086", "product_id": "1572", "numa_policy": "socket"}]},
     "config.pci_aliases[0].numa_policy"),
])
def test_config_validation(config, field):
    with pytest.raises(InvalidInput) as caught:
        build_config(config)
    assert caught.value.field == field


def test_config_defaults_are_novas():
    config = build_config()
    assert config["max_io_ops_per_host"] == 8 and config["max_instances_per_host"] == 50
    assert config["host_subset_size"] == 1
    assert config["io_ops_weight_multiplier"] == -1.0 and config["num_instances_weight_multiplier"] == 0.0
    assert config["ram_weight_multiplier"] == 1.0 and config["soft_affinity_weight_multiplier"] == 1.0
    assert [f.name for f in config.filters][0] == "ComputeFilter"
    assert [f.name for f in config.filters][-1] == "NUMATopologyFilter"


def test_claim_failure_moves_on_to_the_next_host():
    # without NUMATopologyFilter the NUMA fit is still claimed: a host whose cells cannot take the
    # guest is skipped (reported as NUMATopologyClaim) and the next best host is used
    facts = [make_host("hv1", threads=1, memory_mb=65536), make_host("hv2", threads=1, memory_mb=8192)]
    request = make_request("vm", 10, 1024, extra_specs={"hw:cpu_policy": "dedicated", "hw:numa_nodes": 2})
    narrow = make_request("wide", 9, 1024, extra_specs={"hw:cpu_policy": "dedicated"})
    config = {"enabled_filters": ["VCPUFilter"], "weighers": ["RAMWeigher"], "host_subset_size": 3}
    result = schedule(facts, [narrow, request], config, seed=1)
    assert result.outcomes[0].placement is None
    assert [v.filter for v in result.outcomes[0].rejections] == ["NUMATopologyClaim", "NUMATopologyClaim"]
    assert result.outcomes[1].placement.host in ("hv1", "hv2")


def test_hyperthreading_trait_places_on_hosts_with_or_without_smt():
    """Issue 14: trait:HW_CPU_HYPERTHREADING goes through the filters, and a refused host says why."""
    facts = [make_host("smt", threads=2), make_host("nosmt", threads=1)]
    requests = [make_request("off", 2, 1024, extra_specs={"resources:PCPU": "2",
                                                          "trait:HW_CPU_HYPERTHREADING": "forbidden"}),
                make_request("on", 2, 1024, extra_specs={"resources:PCPU": "2",
                                                         "trait:HW_CPU_HYPERTHREADING": "required"})]
    result = schedule(facts, requests)
    assert [(o.spec.name, o.placement.host) for o in result.outcomes] == [("off", "nosmt"), ("on", "smt")]
    assert [str(v) for v in result.outcomes[0].rejections] == [
        "smt: NUMATopologyFilter: host has SMT (hyperthreading), the flavor has trait:HW_CPU_HYPERTHREADING=forbidden"]
