# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Over generated fleets: a balance never raises the spread, a consolidation empties whole hosts, no plan
breaks a rule of the scheduler (every move replayed through its filters and NUMA fit) or a server group,
and max_moves holds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.vmfleet.compute.plugins.module_utils.planning.rebalance import plan_rebalance
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.planning.rebalance_fleet import (
    after_plan, loaded_host, rule_breaks, vm)

guests_st = st.lists(st.fixed_dictionaries({
    "memory_mb": st.sampled_from([512, 1024, 2048, 4096]),
    "vcpus": st.integers(1, 2),
    "pinned": st.sampled_from([False, False, True]),
    "group": st.sampled_from([None, None, None, ("ha", "anti-affinity"), ("pair", "affinity")]),
    "managed": st.sampled_from([True] * 9 + [False]),
}), max_size=6)

hosts_st = st.lists(st.fixed_dictionaries({
    "guests": guests_st,
    "memory_mb": st.sampled_from([8192, 16384]),
    "enabled": st.sampled_from([True, True, True, False]),
    "zone": st.sampled_from(["default", "default", "default", "az1"]),
}), min_size=1, max_size=5)


def make_fleet(drawn):
    hosts = []
    for index, spec in enumerate(drawn):
        name = "hv%d" % (index + 1)
        guests = []
        for number, item in enumerate(spec["guests"]):
            group, policy = item["group"] or (None, None)
            guests.append(vm("%s-vm%d" % (name, number), vcpus=item["vcpus"], memory_mb=item["memory_mb"],
                             pinned=item["pinned"], group=group, policy=policy, managed=item["managed"]))
        # what fits: the generated guests may overcommit a small host, as a fleet's facts never do
        while sum(g["usage"]["memory_mb"] for g in guests) > spec["memory_mb"] - 512 or \
                sum(g["usage"]["vcpus"] for g in guests if g["cpu_policy"] == "dedicated") > 8:
            guests.pop()
        hosts.append(loaded_host(name, guests, memory_mb=spec["memory_mb"], enabled=spec["enabled"],
                                 availability_zone=spec["zone"]))
    return hosts


@settings(max_examples=60, deadline=None)
@given(drawn=hosts_st, max_moves=st.integers(1, 6), min_gain=st.sampled_from([0, 0.01, 0.05]))
def test_a_balance_lowers_the_spread_and_breaks_no_rule(drawn, max_moves, min_gain):
    hosts = make_fleet(drawn)
    plan = plan_rebalance(hosts, max_moves=max_moves, min_gain=min_gain)
    assert len(plan.moves) <= max_moves
    assert plan.after["spread"] <= plan.before["spread"]
    if plan.moves:
        assert plan.after["spread"] < plan.before["spread"]
    assert all(move.gain >= min_gain and move.gain > 0 for move in plan.moves)
    assert rule_breaks(hosts, plan) == []
    unmovable = set(entry["guest"] for entry in plan.unmovable)
    assert not unmovable & set(move.name for move in plan.moves)


@settings(max_examples=60, deadline=None)
@given(drawn=hosts_st, max_moves=st.integers(1, 12))
def test_a_consolidation_empties_whole_hosts_and_breaks_no_rule(drawn, max_moves):
    hosts = make_fleet(drawn)
    plan = plan_rebalance(hosts, goal="consolidate", max_moves=max_moves)
    assert len(plan.moves) <= max_moves
    layout = after_plan(hosts, plan)
    occupied_before = set(facts["name"] for facts in hosts if facts["guests"])
    for name in plan.emptied:
        assert layout[name] == set()
    assert set(move.source for move in plan.moves) == set(plan.emptied)
    # nothing lands on a host that was empty: the hosts running guests are fewer by the ones emptied
    assert set(name for name, guests in layout.items() if guests) == occupied_before - set(plan.emptied)
    assert rule_breaks(hosts, plan) == []
