# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rebalance planner on small fleets whose right answer is known."""

from __future__ import annotations

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.planning.rebalance import (
    DEFAULT_MIN_GAIN, HostLoad, Spread, plan_rebalance)
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.planning.rebalance_fleet import (
    after_plan, loaded_host, rule_breaks, vm)


def all_on_hv1(count=8, **kwargs):
    return [loaded_host("hv1", [vm("vm%d" % i, **kwargs) for i in range(count)]), loaded_host("hv2"),
            loaded_host("hv3")]


def test_balance_spreads_guests_of_one_host_and_the_spread_drops():
    hosts = all_on_hv1()
    plan = plan_rebalance(hosts)
    assert plan.after["spread"] < plan.before["spread"]
    counts = sorted(len(names) for names in after_plan(hosts, plan).values())
    assert counts == [2, 3, 3]  # as even as 8 equal guests on 3 equal hosts get
    assert all(move.source == "hv1" and move.gain >= DEFAULT_MIN_GAIN for move in plan.moves)
    assert rule_breaks(hosts, plan) == []


def test_max_moves_and_min_gain_bound_the_plan():
    hosts = all_on_hv1()
    # the moves gain 0.068, 0.059, 0.039, 0.029 and 0.010 (squared use fractions), then nothing
    assert [round(move.gain, 3) for move in plan_rebalance(hosts, min_gain=0).moves] == [
        0.068, 0.059, 0.039, 0.029, 0.01]
    assert len(plan_rebalance(hosts, max_moves=2).moves) == 2
    assert plan_rebalance(hosts, min_gain=0.07).moves == []
    assert len(plan_rebalance(hosts, min_gain=0.035).moves) == 3


def test_a_moves_gain_is_what_it_takes_off_the_summed_squared_deviations():
    hosts = [loaded_host("hv1", [vm("a%d" % i, vcpus=2, memory_mb=3000) for i in range(4)], memory_mb=32768),
             loaded_host("hv2", [vm("b0")], cores=8), loaded_host("hv3", [vm("c0"), vm("c1")], memory_mb=8192)]

    def squared_deviations(loads):
        total = 0.0
        for part in ("ram", "vcpu"):
            values = [getattr(load, part) for load in loads]
            mean = sum(values) / len(values)
            total += sum((value - mean) ** 2 for value in values)
        return total

    for source, destination in (("hv1", "hv2"), ("hv1", "hv3"), ("hv3", "hv1")):
        loads = dict((facts["name"], HostLoad(facts)) for facts in hosts)
        spread = Spread(list(loads.values()))
        before = squared_deviations(loads.values())
        gain = spread.gain(loads[source], loads[destination], 3000, 2)
        spread.move(loads[source], loads[destination], 3000, 2)
        assert abs(gain - (before - squared_deviations(loads.values()))) < 1e-12
        assert abs(spread.deviation - squared_deviations(loads.values())) < 1e-12


def test_a_balanced_fleet_plans_nothing():
    hosts = [loaded_host("hv%d" % n, [vm("vm%d-%d" % (n, i)) for i in range(3)]) for n in (1, 2, 3)]
    plan = plan_rebalance(hosts, min_gain=0)
    assert plan.moves == [] and plan.after == plan.before


def test_pinned_guests_move_only_where_free_host_cpus_are_left():
    # hv2 has 8 threads, 6 pinned already: at most 2 more pinned vCPUs go there
    busy = loaded_host("hv2", [vm("db%d" % i, vcpus=2, memory_mb=512, pinned=True) for i in range(3)],
                       memory_mb=65536)
    hosts = [loaded_host("hv1", [vm("p%d" % i, vcpus=2, memory_mb=4096, pinned=True) for i in range(4)]), busy]
    plan = plan_rebalance(hosts, min_gain=0)
    assert [move.destination for move in plan.moves] == ["hv2"]
    pinned = [pin["cpu"] for cell in plan.moves[0].placement["numa"] for pin in cell["pinning"]]
    assert sorted(pinned) == [6, 7]  # the only host CPUs the db guests left
    assert rule_breaks(hosts, plan) == []


def test_anti_affinity_members_never_share_a_host_and_affinity_groups_stay_together():
    hosts = [loaded_host("hv1", [vm("a1", group="ha"), vm("a2", group="ha"), vm("b1", group="tight", policy="affinity"),
                                 vm("b2", group="tight", policy="affinity"), vm("x1"), vm("x2")]),
             loaded_host("hv2", [vm("a3", group="ha")]), loaded_host("hv3")]
    plan = plan_rebalance(hosts, min_gain=0)
    moved = dict((move.name, move.destination) for move in plan.moves)
    assert "b1" not in moved and "b2" not in moved  # their group holds them on hv1
    assert moved.get("a1") != "hv2" and moved.get("a2") != "hv2"
    assert rule_breaks(hosts, plan) == []


def test_cordoned_draining_and_other_zone_hosts_take_no_part():
    hosts = all_on_hv1() + [loaded_host("hv4", enabled=False), loaded_host("hv5", availability_zone="az2"),
                            loaded_host("hv6", maintenance={"draining": {"run_id": "r1"}})]
    plan = plan_rebalance(hosts, min_gain=0)
    assert set(move.destination for move in plan.moves) == {"hv2", "hv3"}
    assert sorted(plan.excluded) == ["hv4", "hv6"]
    assert "run r1" in plan.excluded["hv6"] and plan.excluded["hv4"].startswith("disabled")
    assert plan.before["hosts"] == 4  # hv1, hv2, hv3 and hv5: the hosts that take part


def test_guests_that_cannot_move_are_listed_and_stay():
    hosts = all_on_hv1(count=3)
    hosts[0]["guests"].append(dict(vm("outside", managed=False)))
    hosts[0]["guests"].append(dict(vm("device"), host_devices=[{"type": "pci", "address": "0000:3b:00.0"}]))
    plan = plan_rebalance(hosts, min_gain=0)
    assert sorted(entry["guest"] for entry in plan.unmovable) == ["device", "outside"]
    assert not set(move.name for move in plan.moves) & {"device", "outside"}


def test_admission_control_refuses_a_destination():
    asked = []

    def admission(request, destination):
        asked.append((request["name"], destination))
        return "hv3 would leave hv2 undrainable" if destination == "hv3" else None

    hosts = all_on_hv1()
    plan = plan_rebalance(hosts, admission=admission)
    assert plan.moves and set(move.destination for move in plan.moves) == {"hv2"}
    assert any(destination == "hv3" for _name, destination in asked)


def test_consolidate_empties_the_least_used_host_onto_the_others():
    hosts = [loaded_host("hv1", [vm("a%d" % i, memory_mb=2048) for i in range(4)]),
             loaded_host("hv2", [vm("b%d" % i, memory_mb=1024) for i in range(3)]),
             loaded_host("hv3", [vm("c0", memory_mb=2048)]), loaded_host("hv4")]
    plan = plan_rebalance(hosts, goal="consolidate")
    assert plan.emptied == ["hv3", "hv2"]
    layout = after_plan(hosts, plan)
    assert layout["hv2"] == set() and layout["hv3"] == set() and layout["hv4"] == set()  # hv4 stays empty
    assert plan.kept == {"hv1": "it takes guests of a host emptied before it"}
    assert rule_breaks(hosts, plan) == []


def test_consolidate_keeps_a_host_it_cannot_empty_whole_and_moves_nothing_of_it():
    small = loaded_host("hv1", [vm("a0", memory_mb=15000)])
    pair = [vm("c0", memory_mb=1024), vm("c1", memory_mb=1024)]
    hosts = [small, loaded_host("hv2", [vm("b0", memory_mb=4096)]), loaded_host("hv3", pair)]
    plan = plan_rebalance(hosts, goal="consolidate", max_moves=1)
    # hv3 is the least used but needs 2 moves; hv2 then goes (1 move); hv1's guest fits nowhere anyway
    assert plan.emptied == ["hv2"] and "max_moves 1 leaves 1" in plan.kept["hv3"]
    assert [move.name for move in plan.moves] == ["b0"]


def test_wrong_input_is_refused_naming_the_field():
    hosts = all_on_hv1()
    for options, field in (({"goal": "spread"}, "goal"), ({"max_moves": 0}, "max_moves"),
                           ({"min_gain": -1}, "min_gain"), ({"min_gain": True}, "min_gain"),
                           ({"scheduler_config": {"filters": ["NoSuchFilter"]}}, "filters")):
        with pytest.raises(InvalidInput) as error:
            plan_rebalance(hosts, **options)
        assert field in error.value.field
