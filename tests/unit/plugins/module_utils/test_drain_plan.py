# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of a host drain over libvirt's test driver: which guests move, how, where, and why not."""

from __future__ import annotations

import tempfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

libvirt = pytest.importorskip("libvirt")

# pylint: disable=wrong-import-position
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.maintenance.drain import drain
from ansible_collections.vmfleet.compute.plugins.module_utils.maintenance.drain_plan import (
    DrainItem, guests_on, plan_drain)
from ansible_collections.vmfleet.compute.plugins.module_utils.state import cordon as host_cordon
from ansible_collections.vmfleet.compute.plugins.module_utils.states import COLD, CORDONED, LIVE
from ansible_collections.vmfleet.compute.plugins.module_utils.upgrade_checks.runner import run_checks
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.libvirt_test_fleet import (
    fleet, flavor, guest, pending_resize)

DEDICATED = {"hw:cpu_policy": "dedicated"}


def plan_by_name(items):
    return dict((item.name, item) for item in items)


def test_guests_on_lists_every_guest_of_the_host_in_name_order_with_its_state(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("zeta"), guest("alpha", state="shutoff"), guest("mid", state="paused")],
                             "hv2": [guest("other")]})
    listed = guests_on(hosts, "hv1")
    assert [(name, state) for name, _domain, state in listed] == [
        ("alpha", "shutoff"), ("mid", "paused"), ("zeta", "running")]
    assert [domain.name() for _name, domain, _state in listed] == ["alpha", "mid", "zeta"]


@pytest.mark.parametrize("state, kind", [
    ("running", LIVE), ("paused", LIVE), ("blocked", LIVE),
    ("shutoff", COLD), ("shutdown", COLD), ("crashed", COLD), ("pmsuspended", COLD),
])
def test_running_and_paused_guests_move_live_the_others_cold(tmp_path, state, kind):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1", state=state)], "hv2": []})
    [item] = plan_drain(hosts, "hv1", seed=1)
    assert (item.kind, item.refusal, item.destination) == (kind, None, "hv2")
    assert item.placement["host"] == "hv2" and item.placement["name"] == "vm1"


def test_a_guest_without_metadata_is_refused_and_the_others_are_still_planned(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("hand-made", managed=False), guest("vm1")], "hv2": []})
    items = plan_by_name(plan_drain(hosts, "hv1", seed=1))
    assert items["hand-made"].refusal.startswith("created outside the collection (no vmfleet metadata)")
    assert items["hand-made"].destination is None and items["hand-made"].placement is None
    assert items["vm1"].refusal is None and items["vm1"].destination == "hv2"


def test_a_guest_with_host_devices_is_refused_naming_the_devices_and_the_other_hosts(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("gpu", hostdevs=["0000:3b:00.1", "0000:af:00.0"])], "hv2": [], "hv3": []})
    [item] = plan_drain(hosts, "hv1", seed=1)
    assert item.refusal == ("gpu has host devices (0000:3b:00.1, 0000:af:00.0): none of hv2, hv3 can be checked "
                            "to offer the same devices, so it cannot be moved; detach them first")
    assert item.instance is None and item.destination is None


def test_the_resized_copy_of_a_pending_resize_is_refused_until_confirmed_or_reverted(tmp_path):
    # resized from hv2 onto hv1; the drain of hv1 finds the resized copy
    hosts = fleet(tmp_path, {"hv1": [guest("vm1", extra_metadata={"resize": pending_resize("hv2", "hv1")})],
                             "hv2": [guest("vm1")]})
    [item] = plan_drain(hosts, "hv1", seed=1)
    assert item.refusal == "a resize of vm1 waits for confirm or revert: confirm or revert it first"


def test_the_source_copy_of_a_pending_resize_is_refused_naming_where_the_resize_waits(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1")],
                             "hv2": [guest("vm1", extra_metadata={"resize": pending_resize("hv1", "hv2")})]})
    [item] = plan_drain(hosts, "hv1", seed=1)
    assert item.refusal == ("this is the source copy of a resize waiting on hv2: confirm or revert it first")


def test_a_guest_defined_on_two_hosts_without_a_resize_is_refused_as_a_stale_copy(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1")], "hv2": [guest("vm1")], "hv3": []})
    [item] = plan_drain(hosts, "hv1", seed=1)
    assert item.refusal == ("vm1 is defined on several hosts (hv1, hv2) and no resize is pending: remove the "
                            "stale copy")


def test_a_guest_whose_recorded_flavor_is_not_a_valid_request_is_refused_saying_so(tmp_path):
    broken = flavor("m1.broken", extra_specs={"hw:numa_nodes": "0"})
    hosts = fleet(tmp_path, {"hv1": [guest("vm1", instance_flavor=broken), guest("vm2")], "hv2": []})
    items = plan_by_name(plan_drain(hosts, "hv1", seed=1))
    assert items["vm1"].refusal.startswith("vm1 has a recorded flavor or image that is not a valid request "
                                           "(invalid hw:numa_nodes")
    assert items["vm1"].instance is None and items["vm2"].destination == "hv2"


def test_a_guest_no_host_takes_carries_the_schedulers_reasons(tmp_path):
    big = flavor("m1.huge", vcpus=2, memory_mb=200000)
    hosts = fleet(tmp_path, {"hv1": [guest("huge", instance_flavor=big), guest("small")], "hv2": []})
    items = plan_by_name(plan_drain(hosts, "hv1", seed=1))
    assert items["huge"].refusal.startswith("No valid host was found for huge: ")
    assert "hv2: " in items["huge"].refusal and items["huge"].destination is None
    assert items["small"].refusal is None and items["small"].destination == "hv2"


def test_the_drained_host_is_never_a_destination_even_when_it_is_the_only_other_choice(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1")]})
    [item] = plan_drain(hosts, "hv1", seed=1)
    assert item.destination is None
    assert item.refusal.startswith("No valid host was found for vm1")


def test_cordoned_hosts_take_nothing(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm%d" % i) for i in range(4)], "hv2": [], "hv3": []},
                  per_host={"hv2": {"enabled": False}})
    items = plan_drain(hosts, "hv1", seed=3)
    assert [item.destination for item in items] == ["hv3"] * 4


def test_a_host_cordoned_in_the_store_takes_nothing_from_a_drain(tmp_path):
    # drain() reads the hosts again (their cordons too) from the test driver, whose node has 3 GiB free
    small = flavor("m1.tiny", vcpus=1, memory_mb=256, root_gb=1)
    hosts = fleet(tmp_path, {"hv1": [guest("vm1", instance_flavor=small), guest("vm2", instance_flavor=small)],
                             "hv2": [], "hv3": []})
    host_cordon.set_state(hosts.store, CORDONED, "hv3", "disk swap", "ops")
    report = drain(hosts, "hv1", check_mode=True, seed=4)
    assert report["result"] == "planned" and report["cordoned_now"] is False
    assert [(g["guest"], g["to"]) for g in report["guests"]] == [("vm1", "hv2"), ("vm2", "hv2")]
    assert hosts.store.cordon("hv1") is None  # check mode cordons nothing


def test_a_drain_with_a_guest_it_cannot_move_moves_none_unless_partial_is_allowed(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1"), guest("hand-made", managed=False)], "hv2": []})
    with pytest.raises(VmfleetError) as refused:
        drain(hosts, "hv1", check_mode=True, seed=1)
    assert refused.value.message.startswith(
        "cannot drain hv1: 1 of 2 guests cannot be moved, so none was (allow_partial moves the others): "
        "hand-made: created outside the collection")
    report = refused.value.details["report"]
    assert report["result"] == "not started"
    assert [(g["guest"], g["result"]) for g in report["guests"]] == [("hand-made", "not moved"), ("vm1", "planned")]

    partial = drain(hosts, "hv1", check_mode=True, seed=1, allow_partial=True)
    assert partial["result"] == "planned"
    assert [(g["guest"], g["to"], g["result"]) for g in partial["guests"]] == [
        ("hand-made", None, "not moved"), ("vm1", "hv2", "planned")]
    assert partial["summary"]["not_moved"] == 1


def test_guests_stay_in_the_availability_zone_of_the_drained_host(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm%d" % i) for i in range(4)], "hv2": [], "hv3": [], "hv4": []},
                  per_host={"hv1": {"availability_zone": "az1"}, "hv2": {"availability_zone": "az1"}})
    items = plan_drain(hosts, "hv1", seed=5)
    assert set(item.destination for item in items) == {"hv2"}
    assert all(item.instance.request["hints"]["availability_zone"] == "az1" for item in items)


def test_a_whole_drain_is_one_batch_so_two_guests_never_count_on_the_same_free_cpus(tmp_path):
    # each other host has 4 dedicated CPUs: two 2-vCPU pinned guests fill one, the fifth guest fits nowhere
    pinned = flavor("p2", vcpus=2, memory_mb=1024, extra_specs=DEDICATED)
    hosts = fleet(tmp_path, {"hv1": [guest("vm%d" % i, instance_flavor=pinned) for i in range(5)],
                             "hv2": [], "hv3": []},
                  sockets=1, cores=4, threads=1, memory_mb=16384)
    items = plan_drain(hosts, "hv1", seed=2)
    placed = [item for item in items if item.destination]
    assert sorted(item.destination for item in placed) == ["hv2", "hv2", "hv3", "hv3"]
    refused = [item for item in items if item.refusal]
    assert len(refused) == 1 and "0 free dedicated CPUs" in refused[0].refusal


@settings(max_examples=25, deadline=None)
@given(guest_vcpus=st.lists(st.sampled_from([1, 2, 4]), min_size=1, max_size=7),
       host_cores=st.lists(st.sampled_from([2, 4, 6]), min_size=1, max_size=3),
       seed=st.integers(0, 1000))
def test_planned_guests_never_share_a_pinned_cpu_nor_exceed_a_host(guest_vcpus, host_cores, seed):
    names = ["hv%d" % (i + 2) for i in range(len(host_cores))]
    guests = [guest("vm%d" % i, instance_flavor=flavor("p%d" % vcpus, vcpus=vcpus, memory_mb=512,
                                                       extra_specs=DEDICATED))
              for i, vcpus in enumerate(guest_vcpus)]
    with tempfile.TemporaryDirectory() as folder:
        layout = dict((name, []) for name in names)
        layout["hv1"] = guests
        per_host = dict((name, {"cores": cores}) for name, cores in zip(names, host_cores))
        hosts = fleet(folder, layout, sockets=1, threads=1, memory_mb=16384, per_host=per_host)
        items = plan_drain(hosts, "hv1", seed=seed)
    assert [item.name for item in items] == sorted(item.name for item in items)
    pinned = dict((name, []) for name in names)
    for item in items:
        assert (item.destination is None) == (item.refusal is not None)
        if item.destination:
            assert item.destination != "hv1"
            pinned[item.destination].extend(
                pin["cpu"] for cell in item.placement["numa"] for pin in cell["pinning"])
    for name, cores in zip(names, host_cores):
        assert len(pinned[name]) == len(set(pinned[name])) <= cores
    assert sum(len(cpus) for cpus in pinned.values()) == sum(
        item.instance.flavor["vcpus"] for item in items if item.destination)
    # a refused guest really had no room left: no host has as many CPUs free as it asks
    for item in items:
        if item.refusal:
            vcpus = item.instance.flavor["vcpus"]
            assert all(cores - len(pinned[name]) < vcpus for name, cores in zip(names, host_cores))


def test_a_drain_item_reports_planned_not_moved_or_its_result():
    planned = DrainItem("vm1", LIVE, destination="hv2", placement={"host": "hv2"})
    refused = DrainItem("vm2", COLD, refusal="no room")
    assert planned.to_dict("hv1") == {
        "guest": "vm1", "from": "hv1", "to": "hv2", "kind": LIVE, "result": "planned", "attempts": [],
        "reason": None, "placement": {"host": "hv2"}, "duration_s": None, "downtime_ms": None, "data_bytes": None}
    assert refused.to_dict("hv1")["result"] == "not moved" and refused.to_dict("hv1")["reason"] == "no room"
    planned.result = "migrated"
    planned.attempts.append({"host": "hv2", "result": "migrated"})
    planned.outcome.update(duration_s=3.5, downtime_ms=40, data_bytes=1024)
    report = planned.to_dict("hv1")
    assert (report["result"], report["duration_s"], report["downtime_ms"], report["data_bytes"]) == (
        "migrated", 3.5, 40, 1024)
    report["attempts"].append("changed by the reader")
    assert len(planned.attempts) == 1


def test_thirty_tiny_guests_are_all_planned_although_max_io_ops_per_host_is_8(tmp_path):
    # issue 14, defect 4: the plan counted every planned move as an I/O op in flight and refused 6 guests
    tiny = flavor("m1.tiny", vcpus=1, memory_mb=256, root_gb=1)
    hosts = fleet(tmp_path, {"hv1": [guest("vm%02d" % i, state="shutoff", instance_flavor=tiny) for i in range(30)],
                             "hv2": [], "hv3": []})
    items = plan_drain(hosts, "hv1", seed=1)
    assert [item.refusal for item in items] == [None] * 30
    assert set(item.destination for item in items) == {"hv2", "hv3"}
    assert set(item.kind for item in items) == {COLD}


def test_the_drain_plan_and_n_plus_one_agree_on_the_facts_libvirt_gives(tmp_path):
    # the hosts read from the test driver: N+1 over those facts and the drain over libvirt place alike
    tiny = flavor("m1.tiny", vcpus=1, memory_mb=256, root_gb=1)
    hosts = fleet(tmp_path, {"hv1": [guest("vm%d" % i, instance_flavor=tiny) for i in range(3)]
                             + [guest("hand-made", managed=False)], "hv2": [], "hv3": []})
    hosts.refresh()
    rows, _rc = run_checks(hosts.facts_list(), {}, ["n_plus_one"])
    n_plus_one = dict((row["host"], row) for row in rows)["hv1"]
    items = plan_drain(hosts, "hv1", seed=0)
    planned = ", ".join("%s->%s" % (item.name, item.destination) for item in items if item.destination)
    assert n_plus_one["result"] == "Warning" and "(%s)" % planned in n_plus_one["details"]
    assert [item.name for item in items if item.refusal] == ["hand-made"]
