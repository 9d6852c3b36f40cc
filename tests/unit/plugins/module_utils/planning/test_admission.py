# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Admission control on small fleets whose numbers are worked out by hand: what it refuses, the
host it names, what it leaves alone (the option off, hosts already undrainable, forced builds, drains)."""

from __future__ import annotations

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.planning.admission import (
    AdmissionControl, admission_control, schedule_admitted, without_admission)
from ansible_collections.vmfleet.compute.plugins.module_utils.planning.guest_request import guest_request
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import build_config
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import build_request_spec
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import Scheduler, build_hosts
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.scheduler.host_factory import make_request
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.upgrade_checks.facts import guest, host

ON = {"host_failures_to_tolerate": 1}


def small_host(name, *guest_memory_mb, **kwargs):
    """A host of 8192 MB (512 reserved: 7680 MB for guests) and 4 CPUs, with managed guests of these sizes."""
    facts = host(name, sockets=1, cores=4, threads=1, memory_mb=8192, **kwargs)
    for number, memory_mb in enumerate(guest_memory_mb):
        facts["guests"].append(guest("%s-vm%d" % (name, number), vcpus=1, memory_mb=memory_mb, disk_gb=1))
        facts["resources"]["memory_mb_used"] += memory_mb
        facts["resources"]["vcpus_used"] += 1
    facts["resources"]["running_vms"] = len(facts["guests"])
    return facts


def request(name, memory_mb, **hints):
    return make_request(name, vcpus=1, memory_mb=memory_mb, disk_gb=1, hints=hints)


def test_the_option_is_off_by_default_and_only_0_or_1():
    assert build_config({})["host_failures_to_tolerate"] == 0
    assert admission_control([small_host("hv1"), small_host("hv2")], {}) is None
    for wrong in (2, -1, "one"):
        with pytest.raises(InvalidInput) as error:
            build_config({"host_failures_to_tolerate": wrong})
        assert error.value.field == "config.host_failures_to_tolerate"
    with pytest.raises(InvalidInput) as error:
        build_config({"host_failures_to_tolerate": 2})
    assert "a whole number from 0 to 1" in str(error.value)
    assert without_admission({"host_failures_to_tolerate": 1, "host_subset_size": 2}) == {
        "host_failures_to_tolerate": 0, "host_subset_size": 2}


def test_a_placement_that_leaves_a_host_undrainable_is_refused_naming_it():
    # free: hv1 3680, hv2 and hv3 5680 MB. 3000 MB on hv2 keeps every host drainable (hv1's 4000 MB guest
    # would go to hv3). A second 3000 MB guest: hv2 has no room; on hv3 it leaves no host with 4000 MB
    # for hv1's guest; on hv1 it leaves nowhere for itself once that guest took hv3
    hosts = [small_host("hv1", 4000), small_host("hv2", 2000), small_host("hv3", 2000)]
    result = schedule_admitted(hosts, [request("new1", 3000), request("new2", 3000)], ON, 0)
    first, second = result.outcomes
    assert first.placement.host == "hv2" and second.placement is None
    reasons = dict((v.host, (v.filter, v.reason)) for v in second.rejections)
    assert reasons["hv2"][0] == "RamFilter"
    assert reasons["hv3"] == ("AdmissionControl", (
        "new2 on hv3 would leave hv1 undrainable (host_failures_to_tolerate=1): No valid host was found for "
        "hv1-vm0: hv2: RamFilter: 2680 MB usable RAM left (8192 MB x 1 - 5512 MB used), request needs 4000 MB; "
        "hv3: RamFilter: 2680 MB usable RAM left (8192 MB x 1 - 5512 MB used), request needs 4000 MB"))
    assert reasons["hv1"][0] == "AdmissionControl"
    assert reasons["hv1"][1].startswith("new2 on hv1 would leave hv1 undrainable (host_failures_to_tolerate=1): "
                                        "No valid host was found for new2: ")
    assert second.error.startswith("No valid host was found for new2: ")
    # without admission control both are placed
    assert not schedule_admitted(hosts, [request("new1", 3000), request("new2", 3000)], {}, 0).failed


def test_a_fleet_without_the_memory_for_a_drain_is_refused_without_planning():
    # each host has 4680 MB free; after a 4000 MB guest on hv1 (680 left), hv1's 7000 MB of guests need
    # more than the 4680 + 4680 - 4000 the others would have left with a second one
    hosts = [small_host("hv1", 3000), small_host("hv2", 3000), small_host("hv3", 3000)]
    result = schedule_admitted(hosts, [request("new1", 4000), request("new2", 4000)], ON, 0)
    assert result.outcomes[0].placement.host == "hv1"
    reasons = dict((v.host, (v.filter, v.reason)) for v in result.outcomes[1].rejections)
    assert reasons["hv1"][0] == "RamFilter"
    for name in ("hv2", "hv3"):
        assert reasons[name] == ("AdmissionControl", (
            "new2 on %s would leave hv1 undrainable (host_failures_to_tolerate=1): its guests need 7000 MB of "
            "memory and the other enabled hosts of availability zone default have 5360 MB left within their "
            "ram_allocation_ratio" % name))


def test_hosts_already_undrainable_refuse_nothing():
    # hv1 has a guest created by hand: it cannot be drained now, and placements are not blamed for it
    hosts = [small_host("hv1", 4000), small_host("hv2", 2000), small_host("hv3", 2000)]
    hosts[0]["guests"].append(guest("by-hand", managed=False, memory_mb=512))
    admission = AdmissionControl(hosts, ON)
    assert list(admission.undrainable) == ["hv1"] and "created outside the collection" in admission.undrainable["hv1"]
    # the second 3000 MB guest of the test above is placed now: only hv1 would have refused it
    result = schedule_admitted(hosts, [request("new1", 3000), request("new2", 3000)], ON, 0)
    assert not result.failed


def test_a_forced_build_is_placed_and_the_host_it_breaks_no_longer_refuses():
    hosts = [small_host("hv1", 4000), small_host("hv2", 2000), small_host("hv3", 2000)]
    admission = AdmissionControl(hosts, ON)
    scheduler = Scheduler(build_hosts(hosts), ON, 0, admission=admission)
    forced = scheduler.place(build_request_spec(request("new1", 6000, force_host="hv3", force=True)))
    assert forced.placement.host == "hv3"   # past its RAM: its 6000 MB guest would fit nowhere (3680, 5680 MB)
    assert admission.undrainable["hv3"].startswith("No valid host was found for new1: ")
    assert set(admission.plans) == {"hv1", "hv2"}
    # hv3, undrainable now, refuses nothing: 1000 MB more on hv2 keeps hv1 and hv2 drainable and is placed
    placed = scheduler.place(build_request_spec(request("new2", 1000, force_host="hv2")))
    assert placed.placement.host == "hv2" and not placed.rejections


def test_a_named_destination_is_refused_with_the_host_and_the_guest_that_would_not_fit():
    hosts = [small_host("hv1", 4000), small_host("hv2", 2000), small_host("hv3", 2000)]
    assert schedule_admitted(hosts, [request("new1", 3000, force_host="hv3")], ON, 0).outcomes[0].placement
    hosts[1] = small_host("hv2", 2000, 3000)     # hv1's 4000 MB guest now fits on hv3 only
    outcome = schedule_admitted(hosts, [request("new2", 3000, force_host="hv3")], ON, 0).outcomes[0]
    assert outcome.placement is None
    assert [(v.host, v.filter) for v in outcome.rejections] == [("hv3", "AdmissionControl")]
    assert outcome.rejections[0].reason.startswith(
        "new2 on hv3 would leave hv1 undrainable (host_failures_to_tolerate=1): No valid host was found for hv1-vm0")


def test_a_planner_of_moves_asks_it_with_a_request_and_a_destination():
    # planning/rebalance.py's admission(guest request, destination): hv2's 6000 MB guest can be drained onto
    # hv3 only, so moving hv1's 2048 MB guest there is refused naming hv2; hv4 (2180 MB free) takes it
    hosts = [small_host("hv1", 2048, 4952), small_host("hv2", 6000), small_host("hv3"), small_host("hv4", 5500)]
    admission = AdmissionControl(hosts, ON)
    moved = guest_request(hosts[0]["guests"][0], "default")
    assert admission(moved, "hv3").startswith(
        "hv1-vm0 on hv3 would leave hv2 undrainable (host_failures_to_tolerate=1): No valid host was found for "
        "hv2-vm0: hv1: RamFilter: 680 MB usable RAM left")
    assert admission(moved, "hv4") is None
    # accepted: hv4 now holds it too, so a second guest of 2048 MB no longer fits there
    assert "RamFilter" in admission(dict(moved, name="other"), "hv4")


def test_a_plan_worked_out_again_tries_first_a_host_a_guest_left():
    # hv1's first-fit plan starts both its guests on hv2 (2200 MB free): the 2048 MB one goes there, the
    # 512 MB one no longer fits and goes on to hv3. With 512 MB more on hv2 the large one no longer fits
    # there and goes to hv3; hv2 is then freer than in the kept plan for the small one, which first fit
    # from scratch puts on hv2: the plan kept after the placement must be that one, not the small guest
    # left on hv3 where it still fits
    hosts = [host("hv1", sockets=1, cores=4, threads=1, memory_mb=8192, guests=[
        guest("hv1-big1", vcpus=1, memory_mb=2048, disk_gb=1),
        guest("hv1-small1", vcpus=1, memory_mb=512, disk_gb=1)])]
    hosts += [small_host("hv2", 5480), small_host("hv3", 3680)]
    hosts[0]["resources"]["memory_mb_used"] = 2560
    admission = AdmissionControl(hosts, ON)
    assert [(spec.name, placement.host) for spec, placement in admission.plans["hv1"]] == [
        ("hv1-big1", "hv2"), ("hv1-small1", "hv3")]
    assert admission(request("new1", 512), "hv2") is None
    kept = [(spec.name, placement.host) for spec, placement in admission.plans["hv1"]]
    assert kept == [("hv1-big1", "hv3"), ("hv1-small1", "hv2")]
    from_scratch = admission._first_fit("hv1", admission.guests["hv1"])  # pylint: disable=protected-access
    assert kept == [(spec.name, placement.host) for spec, placement in from_scratch]
