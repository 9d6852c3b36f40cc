# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Over generated fleets: N+1 says a host is drainable exactly when the drain's planner places every
guest, and every placement the planner makes is one the fleet can take."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.vmfleet.compute.plugins.module_utils.planning.evacuation import plan_evacuation
from ansible_collections.vmfleet.compute.plugins.module_utils.upgrade_checks import runner
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.upgrade_checks.facts import guest, host

MAX_IO_OPS = 8  # the scheduler's default max_io_ops_per_host

guests_st = st.lists(st.fixed_dictionaries({
    "memory_mb": st.sampled_from([256, 512, 1024, 2048, 4096]),
    "vcpus": st.integers(1, 3),
    "pinned": st.booleans(),
    "managed": st.sampled_from([True] * 9 + [False]),
    "device": st.sampled_from([False] * 9 + [True]),
    "state": st.sampled_from(["running", "shutoff", "paused"]),
}), max_size=7)

hosts_st = st.lists(st.fixed_dictionaries({
    "guests": guests_st,
    "memory_used": st.integers(0, 7000),
    "io_ops": st.sampled_from([0, 0, 1, 7, 8, 12]),
    "enabled": st.sampled_from([True, True, True, False]),
    "zone": st.sampled_from(["default", "default", "az1"]),
}), min_size=1, max_size=4)


def make_fleet(drawn):
    hosts = []
    for index, spec in enumerate(drawn):
        name = "hv%d" % (index + 1)
        facts = host(name, sockets=1, cores=4, threads=2, memory_mb=8192, memory_used={0: spec["memory_used"]},
                     io_ops=spec["io_ops"], enabled=spec["enabled"], availability_zone=spec["zone"])
        facts["resources"]["memory_mb_used"] += spec["memory_used"]
        for number, item in enumerate(spec["guests"]):
            extra = {"hw:cpu_policy": "dedicated"} if item["pinned"] else {}
            flavor = {"name": "f", "vcpus": item["vcpus"], "memory_mb": item["memory_mb"], "root_gb": 1,
                      "extra_specs": extra}
            vm = guest("%s-vm%d" % (name, number), vcpus=item["vcpus"], memory_mb=item["memory_mb"], disk_gb=1,
                       state=item["state"], managed=item["managed"], metadata={"flavor": flavor})
            if item["device"]:
                vm["host_devices"] = [{"type": "pci", "address": "0000:3b:00.%d" % number}]
            facts["guests"].append(vm)
        hosts.append(facts)
    return hosts


@settings(max_examples=80, deadline=None)
@given(drawn=hosts_st)
def test_n_plus_one_says_drainable_exactly_when_the_drain_plan_places_every_guest(drawn):
    hosts = make_fleet(drawn)
    rows, _rc = runner.run_checks(hosts, {}, ["n_plus_one"])
    by_host = dict((row["host"], row) for row in rows)
    facts = dict((h["name"], h) for h in hosts)
    for source in facts:
        plan = plan_evacuation(hosts, source, seed=0)
        every_guest_placed = all(move.placement is not None for move in plan.moves)
        assert len(plan.moves) == len(facts[source]["guests"])
        assert (by_host[source]["result"] == "Success") == every_guest_placed == plan.drainable, (
            source, by_host[source]["details"])
        if by_host[source]["result"] == "Warning":
            assert all(move.by_hand for move in plan.refused) and plan.refused
        taken = {}
        for move in plan.moves:
            assert (move.placement is None) == (move.refusal is not None)
            if move.placement is None:
                continue
            destination = facts[move.destination]
            assert move.destination != source
            assert destination["config"]["enabled"]
            assert destination["config"]["availability_zone"] == facts[source]["config"]["availability_zone"]
            assert destination["resources"]["io_ops"] < MAX_IO_OPS  # existing I/O still refuses a host
            taken[move.destination] = taken.get(move.destination, 0) + move.request["flavor"]["memory_mb"]
        for name, memory_mb in taken.items():
            resources = facts[name]["resources"]
            assert resources["memory_mb_used"] + memory_mb <= resources["memory_mb_limit"]
        # the same facts give the same plan (N+1 and the drain use seed 0 / the caller's seed)
        again = plan_evacuation(hosts, source, seed=0)
        assert [m.destination for m in again.moves] == [m.destination for m in plan.moves]
