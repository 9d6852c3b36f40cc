# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Over generated fleets and batches: the incremental admission check answers as the full check (every
host planned again from scratch by the planner), names a host the full check finds undrainable, every
plan it keeps places each guest where the fleet, as it is after the batch, takes it, and is the plan
first fit makes from scratch; and after the admitted placements the preflight's N+1 (the same planner,
over the facts of the fleet as it then is) passes for every host that could be drained before."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.vmfleet.compute.plugins.module_utils.planning.admission import AdmissionControl
from ansible_collections.vmfleet.compute.plugins.module_utils.planning.evacuation import plan_evacuation
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.host_state import HostState
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import build_request_spec
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import Scheduler, build_hosts
from ansible_collections.vmfleet.compute.plugins.module_utils.upgrade_checks.common import SUCCESS
from ansible_collections.vmfleet.compute.plugins.module_utils.upgrade_checks.drain import check_n_plus_one
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.scheduler.host_factory import (
    make_request)
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.upgrade_checks.facts import guest, host

CONFIG = {"host_failures_to_tolerate": 1}
# a group each way: anti-affinity only refuses more as hosts fill, affinity draws guests to its members
POLICIES = {"db": "anti-affinity", "web": "affinity"}

item_st = st.fixed_dictionaries({
    "memory_mb": st.sampled_from([512, 1024, 2048, 3072]),
    "vcpus": st.integers(1, 3),
    "pinned": st.sampled_from([False, False, False, True]),
    "group": st.sampled_from([None, None, None, "db", "web"]),
})

hosts_st = st.lists(st.fixed_dictionaries({
    "guests": st.lists(item_st, max_size=4),
    "enabled": st.sampled_from([True, True, True, False]),
    "zone": st.sampled_from(["default", "default", "default", "az1"]),
    "unmanaged": st.sampled_from([False] * 7 + [True]),
}), min_size=2, max_size=5)


def _flavor(item):
    extra = {"hw:cpu_policy": "dedicated"} if item["pinned"] else {}
    return {"name": "f", "vcpus": item["vcpus"], "memory_mb": item["memory_mb"], "disk_gb": 1, "extra_specs": extra}


def make_fleet(drawn):
    hosts = []
    for index, spec in enumerate(drawn):
        name = "hv%d" % (index + 1)
        facts = host(name, sockets=1, cores=4, threads=1, memory_mb=8192, enabled=spec["enabled"],
                     availability_zone=spec["zone"])
        for number, item in enumerate(spec["guests"]):
            metadata = {"flavor": dict(_flavor(item), root_gb=1)}
            if item["group"]:
                metadata["request"] = {"hints": {"group": {"name": item["group"], "policy": POLICIES[item["group"]]}}}
            facts["guests"].append(guest("%s-vm%d" % (name, number), vcpus=item["vcpus"],
                                         memory_mb=item["memory_mb"], disk_gb=1, metadata=metadata))
            facts["resources"]["memory_mb_used"] += item["memory_mb"]
            facts["resources"]["vcpus_used"] += item["vcpus"]
        if spec["unmanaged"]:
            facts["guests"].append(guest(name + "-byhand", managed=False, memory_mb=512, vcpus=1))
            facts["resources"]["memory_mb_used"] += 512
        facts["resources"]["running_vms"] = len(facts["guests"])
        hosts.append(facts)
    return hosts


class Compared(object):
    """Admission control that also runs the full check on every placement it is asked about."""

    def __init__(self, admission):
        self.admission = admission
        self.answers = []

    def refusal(self, placement):
        incremental = self.admission.refusal(placement)
        full = self.admission.full_check(placement)
        named = self.admission.refused_host
        self.answers.append((placement.name, placement.host, incremental, full))
        if incremental is not None:
            # a refusal is exact: the host it names cannot be drained by a plan made from scratch
            assert named in full and named in incremental, (named, full)
        else:
            # so is an acceptance: the planner from scratch drains every host that could be drained
            assert not full, (placement.name, placement.host, full)
        return incremental

    def accept(self, placement):
        self.admission.accept(placement)


def assert_plans_hold(hosts, admission, placed):
    """Each kept plan, replayed onto the fleet after the batch (the facts plus what was placed), places
    every guest of its host on the host it names, every filter and the NUMA fit passing there."""
    for source, plan in admission.plans.items():
        states = build_hosts(copy.deepcopy(hosts))
        by_name = dict((state.name, state) for state in states)
        for placement in placed:
            by_name[placement.host].consume(placement)
        scheduler = Scheduler([state for state in states if state.name != source], CONFIG, 0)
        facts = [f for f in hosts if f["name"] == source][0]
        assert sorted(spec.name for spec, _placement in plan) == sorted(
            [guest["name"] for guest in facts["guests"]] + [p.name for p in placed if p.host == source])
        for spec, placement in plan:
            again = copy.copy(spec)
            again.force_host, again.group_members = placement.host, None
            outcome = scheduler.place(again)
            assert outcome.placement is not None, (source, spec.name, outcome.error)
            scheduler.by_name[placement.host].io_ops -= 1


requests_st = st.lists(item_st, min_size=1, max_size=6)


@settings(max_examples=120, deadline=None)
@given(drawn=hosts_st, requests=requests_st)
def test_incremental_admission_answers_as_the_full_check(drawn, requests):
    admit_and_compare(drawn, requests)


# fleets wider than a slice of the first fit's scan (admission.SCAN_SLICE), with more guests each: plans
# worked out again that look further than a kept host, and cascades of guests landing elsewhere
wide_hosts_st = st.lists(st.fixed_dictionaries({
    "guests": st.lists(item_st, max_size=6),
    "enabled": st.sampled_from([True, True, True, True, True, False]),
    "zone": st.sampled_from(["default"] * 5 + ["az1"]),
    "unmanaged": st.sampled_from([False] * 11 + [True]),
}), min_size=9, max_size=14)


@settings(max_examples=40, deadline=None)
@given(drawn=wide_hosts_st, requests=st.lists(item_st, min_size=4, max_size=12))
def test_incremental_admission_answers_as_the_full_check_on_wider_fleets(drawn, requests):
    admit_and_compare(drawn, requests)


def admit_and_compare(drawn, requests):
    hosts = make_fleet(drawn)
    admission = AdmissionControl(hosts, CONFIG)
    for facts in hosts:     # a host the drain's planner empties has a plan; one without has the planner's reason
        plan = plan_evacuation(hosts, facts["name"], seed=0)
        if plan.drainable:
            assert facts["name"] in admission.plans
        else:
            reason = admission.undrainable[facts["name"]]
            assert any(("No valid host was found for %s: " % move.name in reason) if move.fits_nowhere
                       else move.named_refusal() in reason for move in plan.refused)
    compared = Compared(admission)
    scheduler = Scheduler(build_hosts(copy.deepcopy(hosts)), CONFIG, 0, admission=compared)
    placed = []
    for number, item in enumerate(requests):
        hints = {"group": {"name": item["group"], "policy": POLICIES[item["group"]]}} if item["group"] else {}
        spec = build_request_spec(make_request("new%d" % number, item["vcpus"], item["memory_mb"], 1,
                                               _flavor(item)["extra_specs"], hints=hints))
        outcome = scheduler.place(spec)
        if outcome.placement is not None:
            placed.append(outcome.placement)
    assert_plans_hold(hosts, admission, placed)
    assert_plans_are_first_fits(admission)


def assert_plans_are_first_fits(admission):
    """Each kept plan not marked to be planned again is the plan first fit makes from scratch now: the
    plans worked out again from a kept one (``_replayed``) are exactly the planner's."""
    for source, plan in admission.plans.items():
        if source in admission.replanned:
            continue
        again = admission._first_fit(source, admission.guests[source])  # pylint: disable=protected-access
        assert again is not None, source
        assert [(spec.name, placement.to_dict()) for spec, placement in plan] == [
            (spec.name, placement.to_dict()) for spec, placement in again], source


floating_st = st.fixed_dictionaries({
    "memory_mb": st.sampled_from([512, 1024, 2048, 3072]),
    "vcpus": st.integers(1, 3),
    "pinned": st.just(False),
    "group": st.sampled_from([None, None, None, "db", "web"]),
})


def facts_after(hosts, placed):
    """The hosts' facts once the ``placed`` builds are defined (and still in flight: an I/O operation
    each, as the scheduler counts them), as the preflight would read them."""
    after = copy.deepcopy(hosts)
    by_name = dict((facts["name"], facts) for facts in after)
    for placement in placed:
        spec, facts = placement.request, by_name[placement.host]
        metadata = {"flavor": {"name": "f", "vcpus": spec.vcpus, "memory_mb": spec.memory_mb, "root_gb": 1,
                               "disk_gb": 1, "extra_specs": {}}}
        if spec.group:
            metadata["request"] = {"hints": {"group": dict(spec.group)}}
        built = guest(spec.name, vcpus=spec.vcpus, memory_mb=spec.memory_mb, disk_gb=1, metadata=metadata)
        built["floating_cpus"] = list(placement.cpuset)
        facts["guests"].append(built)
        resources = facts["resources"]
        for key, more in (("memory_mb_used", spec.memory_mb), ("vcpus_used", spec.vcpus),
                          ("shared_vcpus_used", spec.shared_vcpus), ("local_gb_used", spec.disk_gb),
                          ("running_vms", 1), ("io_ops", 1)):
            resources[key] = resources.get(key, 0) + more
    return after


def assert_facts_are_the_fleet(after, admission):
    """The facts made for the preflight describe the hosts admission control judged on."""
    for facts in after:
        read, judged = HostState.from_facts(facts), admission.states[facts["name"]]
        for attribute in ("memory_mb_used", "vcpus_used", "shared_vcpus_used", "pcpus_used", "local_gb_used",
                          "running_vms", "io_ops", "instances"):
            assert getattr(read, attribute) == getattr(judged, attribute), (facts["name"], attribute)
        # a group whose last member here was planned away and back leaves an empty set behind
        assert read.group_members == dict((name, members) for name, members in judged.group_members.items()
                                          if members)
        assert dict((name, guest.cpus) for name, guest in read.floating.items()) == dict(
            (name, guest.cpus) for name, guest in judged.floating.items())


@settings(max_examples=150, deadline=None)
@given(drawn=hosts_st, requests=st.lists(floating_st, min_size=1, max_size=8))
def test_after_admitted_placements_the_preflight_finds_every_host_drainable(drawn, requests):
    hosts = make_fleet(drawn)
    options = {"scheduler_config": CONFIG}
    admission = AdmissionControl(hosts, CONFIG)
    drainable = set(admission.plans)
    assert drainable == set(row["host"] for row in check_n_plus_one(hosts, options) if row["result"] == SUCCESS)
    scheduler = Scheduler(build_hosts(copy.deepcopy(hosts)), CONFIG, 0, admission=admission)
    placed = []
    for number, item in enumerate(requests):
        hints = {"group": {"name": item["group"], "policy": POLICIES[item["group"]]}} if item["group"] else {}
        spec = build_request_spec(make_request("new%d" % number, item["vcpus"], item["memory_mb"], 1, {},
                                               hints=hints))
        outcome = scheduler.place(spec)
        if outcome.placement is not None:
            placed.append(outcome.placement)
    after = facts_after(hosts, placed)
    assert_facts_are_the_fleet(after, admission)
    failed = [(row["host"], row["details"]) for row in check_n_plus_one(after, options)
              if row["host"] in drainable and row["result"] != SUCCESS]
    assert not failed, failed
