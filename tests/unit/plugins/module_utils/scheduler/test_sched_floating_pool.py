# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A pin is never given while a floating guest of the host may run on that CPU (issue 14, defect 2):
the floating guests give the CPU up, or the pin is refused (scheduler/floating_pool.py)."""

from __future__ import annotations

from host_factory import make_host, make_request
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.host_state import HostState
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import schedule

DEDICATED = {"hw:cpu_policy": "dedicated"}


def floating(name, cpus, vcpus=1, state="running"):
    """A floating guest of a host's facts that may run on ``cpus`` (as resource_tracker fills ``floating_cpus``)."""
    return {"name": name, "state": state, "vcpus": vcpus, "floating_cpus": sorted(cpus)}


def two_cpu_host(guests, ratio):
    """A lab host: one cell of CPUs 0 and 1, no CPU sets, the floating guests ``guests`` on it."""
    facts = make_host("hv3", sockets=1, cores=2, threads=1, cells=1, memory_mb=8192, cpu_allocation_ratio=ratio,
                      guests=guests)
    facts["resources"]["shared_vcpus_used"] = sum(g["vcpus"] for g in guests)
    return HostState.from_facts(facts)


def reasons(outcome):
    return [verdict.reason for verdict in outcome.rejections]


def test_the_issue_scenario_second_pin_is_refused_and_the_first_takes_the_cpu_from_the_floating_guests():
    # hv3 after the drains of the issue: demo-web2 floats over both CPUs, rel-b4a on CPU 1 only
    host = two_cpu_host([floating("demo-web2", [0, 1]), floating("rel-b4a", [1])], ratio=4.0)
    result = schedule([host], [make_request("demo-db1", vcpus=1, extra_specs=DEDICATED),
                               make_request("demo-db2", vcpus=1, extra_specs=DEDICATED)])
    first, second = result.outcomes
    assert first.placement.cells[0].pinning == {0: 0}
    assert host.shrunk["demo-db1"] == {"demo-web2": frozenset([0])}
    assert host.floating["demo-web2"].cpus == frozenset([1]) and host.floating["rel-b4a"].cpus == frozenset([1])
    assert second.placement is None
    assert reasons(second) == ["floating guest demo-web2 may run only on CPUs 1: the pin would leave it no CPU"]
    assert host.vcpu_headroom >= 0


def test_a_pin_that_leaves_too_few_floating_cpus_for_the_floating_vcpus_is_refused():
    # the drain report of the issue: "VCPUFilter: -1 floating vCPUs left (0 limit - 1 used)"
    host = two_cpu_host([floating("demo-web2", [0, 1]), floating("web3", [0, 1])], ratio=1.0)
    outcome = schedule([host], [make_request("demo-db1", vcpus=1, extra_specs=DEDICATED)]).outcomes[0]
    assert outcome.placement is None
    assert reasons(outcome) == ["pinning CPUs 0 leaves 1 floating vCPUs of room (1 CPUs x 1), the host's floating "
                                "guests have 2 and the request 0"]
    assert host.floating["demo-web2"].cpus == frozenset([0, 1]) and host.vcpu_headroom == 0


def test_a_floating_guest_only_claimed_cannot_give_a_cpu_up():
    host = two_cpu_host([floating("web-claimed", [0, 1], state="claimed")], ratio=4.0)
    outcome = schedule([host], [make_request("demo-db1", vcpus=1, extra_specs=DEDICATED)]).outcomes[0]
    assert reasons(outcome) == ["floating guest web-claimed, claimed and not defined yet, may run on CPUs 0 that "
                                "the pin needs"]


def test_release_gives_the_floating_guests_their_cpus_back_in_the_model():
    host = two_cpu_host([floating("demo-web2", [0, 1])], ratio=4.0)
    placed = schedule([host], [make_request("demo-db1", vcpus=1, extra_specs=DEDICATED)]).outcomes[0].placement
    assert host.floating["demo-web2"].cpus == frozenset([1])
    host.release(placed)
    assert host.floating["demo-web2"].cpus == frozenset([0, 1]) and "demo-db1" not in host.shrunk


def test_a_floating_request_placed_after_a_pin_floats_on_what_is_left():
    host = two_cpu_host([], ratio=4.0)
    result = schedule([host], [make_request("db", vcpus=1, extra_specs=DEDICATED), make_request("web", vcpus=2)])
    assert result.outcomes[1].placement.cpuset == (1,)
    assert host.floating["web"].cpus == frozenset([1])


def test_cpu_sets_keep_pins_off_the_shared_set():
    facts = make_host("hv1", sockets=1, cores=4, threads=1, cells=1, cpu_dedicated_set=[2, 3], cpu_shared_set=[0, 1],
                      cpu_allocation_ratio=1.0, guests=[floating("web", [0, 1], vcpus=2)])
    facts["resources"]["shared_vcpus_used"] = 2
    host = HostState.from_facts(facts)
    outcome = schedule([host], [make_request("db", vcpus=2, extra_specs=DEDICATED)]).outcomes[0]
    assert outcome.placement is not None and host.shrunk["db"] == {}


POLICIES = st.sampled_from([{}, DEDICATED, {"hw:cpu_policy": "mixed", "hw:cpu_dedicated_mask": "^0"}])


@settings(max_examples=150, deadline=None)
@given(cores=st.integers(2, 6), ratio=st.sampled_from([1.0, 2.0, 4.0]),
       guests=st.lists(st.tuples(st.integers(1, 2), st.integers(1, 63)), max_size=4),
       requests=st.lists(st.tuples(st.integers(1, 3), POLICIES), min_size=1, max_size=6))
def test_no_cpu_is_ever_pinned_and_in_a_floating_guests_set(cores, ratio, guests, requests):
    cpus = list(range(cores))
    existing = [floating("g%d" % i, [c for c in cpus if mask >> c & 1] or [0], vcpus)
                for i, (vcpus, mask) in enumerate(guests)]
    facts = make_host("hv1", sockets=1, cores=cores, threads=1, cells=1, memory_mb=65536,
                      cpu_allocation_ratio=ratio, guests=existing)
    facts["resources"]["shared_vcpus_used"] = used = sum(g["vcpus"] for g in existing)
    host = HostState.from_facts(facts)
    room = host.vcpu_headroom
    specs = []
    for i, (vcpus, policy) in enumerate(requests):
        if policy.get("hw:cpu_policy") == "mixed" and vcpus < 2:
            vcpus = 2
        specs.append(make_request("r%d" % i, vcpus=vcpus, memory_mb=256, extra_specs=policy))
    schedule([host], specs)
    pinned = host.cells[0].pinned
    for name, guest in host.floating.items():
        assert guest.cpus, name
        assert not guest.cpus & pinned, (name, sorted(guest.cpus), sorted(pinned))
    if room >= 0 and used:
        assert host.vcpu_headroom >= 0
