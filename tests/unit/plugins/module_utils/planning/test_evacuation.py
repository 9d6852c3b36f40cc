# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one evacuation planner over generated facts: placements, refusals, the order, I/O ops."""

from __future__ import annotations

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.planning.evacuation import placement_order, plan_evacuation
from ansible_collections.vmfleet.compute.plugins.module_utils.planning.guest_request import guest_request
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import build_request_spec
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import schedule
from ansible_collections.vmfleet.compute.plugins.module_utils.upgrade_checks import runner
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.upgrade_checks.facts import (
    fleet, guest, host)

GIB_MB = 1024
TINY = {"name": "m1.tiny", "vcpus": 1, "memory_mb": 256, "root_gb": 1}


def tiny(name, state="shutoff"):
    return guest(name, vcpus=1, memory_mb=256, disk_gb=1, state=state, metadata={"flavor": dict(TINY)})


def n_plus_one(hosts, **options):
    rows, _rc = runner.run_checks(hosts, options, ["n_plus_one"])
    return dict((row["host"], row) for row in rows)


def by_name(plan):
    return dict((move.name, move) for move in plan.moves)


def test_thirty_small_guests_all_move_although_max_io_ops_per_host_is_8():
    # issue 14, defect 4: N+1 passed this host and its drain refused 6 guests (IoOpsFilter)
    hosts = fleet()
    hosts[0]["guests"] = [tiny("vm%02d" % i) for i in range(30)]
    plan = plan_evacuation(hosts, "hv1", seed=0)
    assert plan.drainable and len(plan.placed) == 30
    assert set(move.destination for move in plan.moves) == {"hv2", "hv3"}
    row = n_plus_one(hosts)["hv1"]
    assert row["result"] == "Success" and row["details"].startswith("all 30 guests fit on the other hosts")
    # the scheduler's own batch counts each placement as a build in flight: 8 per host, 14 refused
    batch = schedule(hosts[1:], [guest_request(g, "default") for g in hosts[0]["guests"]], None, 0)
    assert len(batch.failed) == 14 and "max_io_ops_per_host is 8" in batch.failed[0].error


def test_the_io_ops_a_destination_already_has_still_count():
    hosts = fleet()
    hosts[0]["guests"] = [tiny("vm%d" % i) for i in range(5)]
    hosts[1]["resources"]["io_ops"] = 8
    plan = plan_evacuation(hosts, "hv1", seed=0)
    assert [move.destination for move in plan.moves] == ["hv3"] * 5
    hosts[2]["resources"]["io_ops"] = 9
    plan = plan_evacuation(hosts, "hv1", seed=0)
    assert not plan.placed and all(move.fits_nowhere for move in plan.moves)
    assert "hv2: IoOpsFilter: 8 builds/migrations in flight, max_io_ops_per_host is 8" in plan.moves[0].refusal
    assert "hv3: IoOpsFilter: 9 builds/migrations in flight" in plan.moves[0].refusal


def test_largest_first_places_a_batch_that_name_order_does_not():
    # hv2 has 6 GiB free, hv3 4 GiB: three 1 GiB guests first would leave no host for the 4 GiB one
    hosts = [host("hv1"), host("hv2", memory_used={0: 65536 - 3 * GIB_MB, 1: 65536 - 3 * GIB_MB}),
             host("hv3", memory_used={0: 65536 - 2 * GIB_MB, 1: 65536 - 2 * GIB_MB})]
    for facts in hosts[1:]:
        facts["resources"]["memory_mb_used"] = 512 + sum(
            cell["usage"]["memory_mb_used"] for cell in facts["numa"]["cells"])
    hosts[0]["guests"] = [guest("vm%d" % i, vcpus=1, memory_mb=size * GIB_MB)
                          for i, size in enumerate((1, 1, 1, 4))]
    in_name_order = schedule(hosts[1:], [guest_request(g, "default") for g in hosts[0]["guests"]], None, 0)
    assert [o.spec.name for o in in_name_order.failed] == ["vm3"]
    plan = plan_evacuation(hosts, "hv1", seed=0)
    assert plan.drainable and by_name(plan)["vm3"].destination == "hv2"
    assert n_plus_one(hosts)["hv1"]["result"] == "Success"


def test_the_order_is_constrained_guests_first_then_the_largest_then_the_name():
    def spec(name, memory_mb, vcpus=1, **extra_specs):
        return build_request_spec({"name": name, "flavor": {"name": "f", "vcpus": vcpus, "memory_mb": memory_mb,
                                                            "disk_gb": 1, "extra_specs": extra_specs}})
    specs = [spec("small", 512), spec("big", 8192), spec("wide", 8192, vcpus=4), spec("b-twin", 512),
             spec("pinned", 256, **{"hw:cpu_policy": "dedicated"}), spec("huge-pages", 1024, **{"hw:mem_page_size": "large"})]
    assert [s.name for s in sorted(specs, key=placement_order)] == [
        "huge-pages", "pinned", "wide", "big", "b-twin", "small"]


def test_each_refusal_the_drain_makes():
    nic = [{"type": "pci", "address": "0000:3b:00.0"}]
    broken = {"name": "bad", "vcpus": 1, "memory_mb": 512, "root_gb": 1, "extra_specs": {"hw:cpu_policy": "DEDICATED"}}
    resized = {"flavor": dict(TINY), "resize": {"source_host": "hv2", "destination_host": "hv1"},
               "state": {"vm_state": "resized"}}
    hosts = fleet()
    hosts[0]["guests"] = [
        guest("legacy", managed=False), dict(guest("gpu"), host_devices=nic), guest("resized", metadata=resized),
        guest("src-copy"), guest("stale"), guest("bad", metadata={"flavor": broken}),
        guest("huge", memory_mb=500000), guest("ok", state="running")]
    hosts[1]["guests"] = [guest("src-copy", metadata={"flavor": dict(TINY), "resize": {"source_host": "hv1"}})]
    hosts[2]["guests"] = [guest("stale")]
    moves = by_name(plan_evacuation(hosts, "hv1", seed=0))
    assert moves["legacy"].by_hand and moves["legacy"].refusal.startswith("created outside the collection")
    assert moves["gpu"].refusal == ("gpu has host devices (0000:3b:00.0): none of hv2, hv3 can be checked to offer "
                                    "the same devices, so it cannot be moved; detach them first")
    assert moves["resized"].refusal == "a resize of resized waits for confirm or revert: confirm or revert it first"
    assert moves["src-copy"].refusal == ("this is the source copy of a resize waiting on hv2: confirm or revert it "
                                         "first")
    assert moves["stale"].refusal == ("stale is defined on several hosts (hv1, hv3) and no resize is pending: remove "
                                      "the stale copy")
    assert moves["bad"].refusal.startswith("bad has a recorded flavor or image that is not a valid request (")
    assert "hw:cpu_policy" in moves["bad"].refusal
    assert moves["huge"].fits_nowhere and moves["huge"].refusal.startswith("No valid host was found for huge: hv2: ")
    assert moves["ok"].destination in ("hv2", "hv3") and moves["ok"].kind == "live"
    assert [m.kind for m in moves.values() if m.name != "ok"] == ["live"] * 7  # generated guests run
    assert not any(m.by_hand for m in moves.values() if m.name != "legacy")
    # refused guests take no room: only the one guest that moves was placed
    assert [m.name for m in moves.values() if m.placement] == ["ok"]


def test_the_source_is_never_a_destination_and_a_lone_host_places_nothing():
    hosts = fleet(1)
    hosts[0]["guests"] = [guest("vm1")]
    [move] = plan_evacuation(hosts, "hv1").moves
    assert move.placement is None and move.refusal == "No valid host was found for vm1: no hosts given"


def test_a_guest_stays_in_the_source_zone_and_keeps_only_the_hints_that_still_hold():
    hosts = [host("hv1", availability_zone="az1"), host("hv2", availability_zone="az2"),
             host("hv3", availability_zone="az1")]
    hints = {"availability_zone": "az2", "force_host": "hv1", "retry_exclude": ["hv3"], "different_host": ["x"]}
    metadata = {"flavor": dict(TINY), "image": {"name": "cirros", "properties": {"hw_machine_type": "q35"}},
                "request": {"hints": hints}}
    hosts[0]["guests"] = [guest("vm1", metadata=metadata)]
    [move] = plan_evacuation(hosts, "hv1").moves
    assert move.destination == "hv3"
    assert move.request["hints"] == {"availability_zone": "az1", "different_host": ["x"]}
    assert move.request["image"] == {"properties": {"hw_machine_type": "q35"}}
    assert move.request["flavor"] == {"name": "m1.tiny", "vcpus": 2, "memory_mb": 2048, "disk_gb": 10,
                                      "extra_specs": {}}  # counted as the tracker counted it (usage)


def test_an_affinity_group_moves_together():
    group = {"group": {"name": "g", "policy": "affinity", "members": ["a", "b", "c"]}}
    hosts = fleet(4)
    hosts[0]["guests"] = [guest(name, metadata={"flavor": dict(TINY), "request": {"hints": group}})
                          for name in ("a", "b", "c")]
    plan = plan_evacuation(hosts, "hv1", seed=0)
    assert plan.drainable and len(set(move.destination for move in plan.moves)) == 1


def test_a_host_without_guests_is_drainable_and_an_unknown_host_is_refused():
    hosts = fleet()
    assert plan_evacuation(hosts, "hv2").drainable and plan_evacuation(hosts, "hv2").moves == []
    with pytest.raises(InvalidInput) as refused:
        plan_evacuation(hosts, "hv9")
    assert refused.value.field == "host" and "hv1, hv2, hv3" in refused.value.message


def test_a_host_the_weighed_batch_cannot_empty_is_drained_by_first_fit():
    # 6000 MB free on hv2 and hv3 for 3000, 3000, 2000, 2000, 2000 MB: the weighers spread the two large
    # guests over both hosts and the third small one fits nowhere; first fit (both large guests start on
    # hv2, checksums of their names) puts them together, and the drain and N+1 take that plan
    hosts = [host("hv1", sockets=1, cores=4, threads=1, memory_mb=16384)] + [
        host(name, sockets=1, cores=4, threads=1, memory_mb=8192,
             guests=[guest(name + "-base", vcpus=1, memory_mb=1680, disk_gb=1)]) for name in ("hv2", "hv3")]
    for facts in hosts[1:]:
        facts["resources"]["memory_mb_used"] = 1680
    hosts[0]["guests"] = [guest("hv1-%s" % name, vcpus=1, memory_mb=memory_mb, disk_gb=1) for name, memory_mb in (
        ("big1", 3000), ("big2", 3000), ("small1", 2000), ("small2", 2000), ("small3", 2000))]
    batch = schedule(hosts[1:], [guest_request(g, "default") for g in hosts[0]["guests"]], None, 0)
    assert [outcome.spec.name for outcome in batch.failed] == ["hv1-small3"]
    plan = plan_evacuation(hosts, "hv1", seed=0)
    assert plan.drainable and dict((move.name, move.destination) for move in plan.moves) == {
        "hv1-big1": "hv2", "hv1-big2": "hv2", "hv1-small1": "hv3", "hv1-small2": "hv3", "hv1-small3": "hv3"}
    assert n_plus_one(hosts)["hv1"]["result"] == "Success"


def test_a_guest_on_a_network_only_some_hosts_have_is_planned_onto_one_of_them():
    # the drain, the preflight's N+1 and admission control ask this planner: none may name a host without the
    # guest's network (the move would find out only at the destination)
    hosts = [host("hv1", networks=("default", "prod")), host("hv2"), host("hv3", networks=("default", "prod"))]
    on_prod = guest("db1")
    on_prod["interfaces"] = [{"type": "network", "source": "prod", "mac": "52:54:00:00:00:09", "model": "virtio"}]
    hosts[0]["guests"] = [on_prod, guest("web1")]
    moves = by_name(plan_evacuation(hosts, "hv1", seed=0))
    assert moves["db1"].destination == "hv3"
    hosts[2]["networks"] = [{"name": "default", "active": True, "bridge": "virbr0"}]  # hv3 loses it too
    moves = by_name(plan_evacuation(hosts, "hv1", seed=0))
    assert moves["db1"].fits_nowhere and moves["web1"].placement is not None
    assert "hv2: NetworkFilter: network 'prod' is not defined here (networks: default)" in moves["db1"].refusal
    row = n_plus_one(hosts)["hv1"]
    assert row["result"] == "Failure" and "db1" in row["details"], row
