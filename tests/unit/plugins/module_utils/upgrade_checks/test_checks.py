# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each upgrade check over generated facts: the healthy case and each problem it must name."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.upgrade_checks import guests as guest_checks
from ansible_collections.vmfleet.compute.plugins.module_utils.upgrade_checks import runner
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.upgrade_checks.facts import (
    fleet, guest, host, pool)


def run(hosts, check, **options):
    rows, rc = runner.run_checks(hosts, options, [check])
    return rows, rc


def results(rows):
    return dict((r["host"], r["result"]) for r in rows)


def test_healthy_fleet_is_all_success_rc_0():
    hosts = fleet(guests=())
    hosts[0]["guests"] = [guest("vm1"), guest("vm2", cpu_policy="dedicated", vcpupin=[{"vcpu": 0, "cpus": [2]},
                                                                                      {"vcpu": 1, "cpus": [3]}])]
    rows, rc = runner.run_checks(hosts)
    assert rc == 0, runner.render_table(rows)
    assert set(r["result"] for r in rows) == {"Success"}
    assert [r["check"] for r in rows if r["host"] is None] == ["version_skew"]
    assert len(rows) == 12 * 3 + 1


def test_versions_below_target_fail_and_name_the_component():
    hosts = fleet()
    hosts[1]["hypervisor_version"] = "8.2.0"
    rows, rc = run(hosts, "versions", target_qemu_version="8.0", target_libvirt_version="9.0.0")
    assert rc == 2
    assert results(rows) == {"hv1": "Failure", "hv2": "Success", "hv3": "Failure"}
    assert "QEMU 7.2.0 is older than the target's minimum 8.0" in rows[0]["details"]
    assert "libvirt" not in rows[0]["details"].split(":")[0]


def test_no_target_versions_is_success():
    rows, rc = run(fleet(), "versions")
    assert rc == 0 and "no target versions given" in rows[0]["details"]


def test_bad_target_version_names_the_field():
    with pytest.raises(InvalidInput) as err:
        run(fleet(), "versions", target_libvirt_version="ten")
    assert err.value.field == "target_libvirt_version"


def test_version_skew_warns_which_hosts_are_newer():
    hosts = fleet()
    hosts[2]["libvirt_version"] = "10.0.0"
    rows, rc = run(hosts, "version_skew")
    assert rc == 1 and rows[0]["host"] is None
    assert "9.0.0 on hv1/hv2, 10.0.0 on hv3" in rows[0]["details"]
    assert "onto hv3 (libvirt 10.0.0) cannot come back" in rows[0]["details"]


def test_cpu_missing_features_fail_when_no_host_can_take_the_running_guests():
    hosts = fleet()
    hosts[0]["cpu"]["features"] = ["vmx", "avx512f"]
    hosts[0]["guests"] = [guest("vm1"), guest("vm-off", state="shutoff")]
    rows, rc = run(hosts, "cpu_compatibility")
    assert rc == 2
    assert results(rows) == {"hv1": "Failure", "hv2": "Success", "hv3": "Success"}
    assert "vm1 can live-migrate to no other host: hv2 (lacks avx512f)" in rows[0]["details"]
    assert "vm-off" not in rows[0]["details"]


def test_cpu_one_incompatible_destination_is_a_warning():
    hosts = fleet()
    hosts[2]["cpu"]["vendor"] = "AMD"
    hosts[0]["guests"] = [guest("vm1")]
    rows, rc = run(hosts, "cpu_compatibility")
    assert results(rows)["hv1"] == "Warning"
    assert "cannot live-migrate to hv3 (vendor AMD, not Intel)" in rows[0]["details"]
    assert results(rows)["hv3"] == "Success"  # no running guest there


def test_n_plus_one_places_every_guest_with_the_scheduler():
    hosts = fleet()
    hosts[0]["guests"] = [guest("vm%d" % i, memory_mb=4096) for i in range(4)]
    rows, rc = run(hosts, "n_plus_one")
    assert rc == 0
    assert "all 4 guests fit on the other hosts" in rows[0]["details"]
    assert "vm0->hv" in rows[0]["details"]


def test_n_plus_one_names_the_host_and_the_filters_when_memory_is_short():
    # each host has 2 x 64 GiB; two 100 GiB guests on hv1, the others already hold 100 GiB
    hosts = fleet(memory_used={0: 50000, 1: 50000})
    hosts[0]["guests"] = [guest("big1", memory_mb=100000), guest("big2", memory_mb=100000)]
    for other in hosts[1:]:
        other["resources"]["memory_mb_used"] = 100512
    rows, rc = run(hosts, "n_plus_one")
    assert rc == 2
    assert rows[0]["result"] == "Failure"
    assert "hv1 cannot be drained: 2 of 2 guests fit nowhere else" in rows[0]["details"]
    assert "No valid host was found for big1" in rows[0]["details"]
    assert "RamFilter" in rows[0]["details"]


def test_n_plus_one_pinned_guest_needs_free_dedicated_cpus():
    # the other hosts have every CPU pinned already
    all_cpus = dict((cell, list(range(cell * 8, cell * 8 + 8)) + list(range(16 + cell * 8, 24 + cell * 8)))
                    for cell in (0, 1))
    hosts = [host("hv1"), host("hv2", pinned=all_cpus), host("hv3", pinned=all_cpus)]
    # the flavor the collection recorded asks for dedicated CPUs: the drain moves it with that flavor
    flavor = {"name": "p2", "vcpus": 2, "memory_mb": 2048, "root_gb": 10,
              "extra_specs": {"hw:cpu_policy": "dedicated"}}
    hosts[0]["guests"] = [guest("pinned", cpu_policy="dedicated", metadata={"flavor": flavor},
                                vcpupin=[{"vcpu": 0, "cpus": [2]}, {"vcpu": 1, "cpus": [3]}])]
    rows, rc = run(hosts, "n_plus_one")
    assert rc == 2
    assert "No valid host was found for pinned" in rows[0]["details"]
    assert "0 free dedicated CPUs" in rows[0]["details"]


def test_n_plus_one_respects_anti_affinity():
    members = ["a", "b", "c"]
    hints = {"group": {"name": "g", "policy": "anti-affinity", "members": members}}
    hosts = fleet()
    for index, name in enumerate(members):
        hosts[index]["guests"] = [guest(name, metadata={"flavor": {"vcpus": 1, "memory_mb": 512},
                                                        "request": {"hints": hints}})]
    rows, rc = run(hosts, "n_plus_one")
    assert rc == 2
    assert all(r["result"] == "Failure" for r in rows)
    assert "ServerGroupAntiAffinityFilter" in rows[0]["details"]


def test_n_plus_one_cordoned_hosts_take_nothing_and_a_lone_host_fails():
    hosts = fleet(2)
    hosts[1]["config"]["enabled"] = False
    hosts[0]["guests"] = [guest("vm1")]
    rows, rc = run(hosts, "n_plus_one")
    assert results(rows) == {"hv1": "Failure", "hv2": "Success"}
    assert "ComputeFilter" in rows[0]["details"]
    rows, rc = run(hosts[:1], "n_plus_one")
    assert "no other host" in rows[0]["details"]


def test_n_plus_one_fails_for_a_guest_with_host_devices_even_when_hosts_have_the_device():
    nic = {"address": "0000:3b:00.0", "vendor_id": "0x8086", "product_id": "0x1572", "numa_node": 0,
           "capability": "pci"}
    hosts = fleet(pci_devices=[nic])
    passthrough = guest("nfv1")
    passthrough["host_devices"] = [{"type": "pci", "address": "0000:3b:00.0"}]
    hosts[0]["guests"] = [passthrough, guest("vm1")]
    rows, rc = run(hosts, "n_plus_one")
    assert rc == 2 and rows[0]["result"] == "Failure"
    # the drain's own refusal (one planner), word for word
    assert rows[0]["details"] == ("hv1 cannot be drained: nfv1 has host devices (0000:3b:00.0): none of hv2, hv3 "
                                  "can be checked to offer the same devices, so it cannot be moved; detach them first")


def test_n_plus_one_fails_while_a_resize_awaits_confirmation():
    hosts = fleet()
    resized = guest("vm1", metadata={"flavor": {"vcpus": 1, "memory_mb": 512}, "state": {"vm_state": "resized"}})
    hosts[0]["guests"] = [resized, guest("vm2")]
    rows, rc = run(hosts, "n_plus_one")
    assert rows[0]["result"] == "Failure"
    assert "a resize of vm1 waits for confirm or revert: confirm or revert it first" in rows[0]["details"]
    assert "fit nowhere" not in rows[0]["details"]  # vm2 fits


def test_n_plus_one_fails_for_a_recorded_flavor_that_is_not_a_valid_request():
    hosts = fleet()
    broken = {"name": "bad", "vcpus": 1, "memory_mb": 512, "root_gb": 1, "extra_specs": {"hw:numa_nodes": "0"}}
    hosts[0]["guests"] = [guest("vm1", metadata={"flavor": broken}), guest("vm2")]
    rows, rc = run(hosts, "n_plus_one")
    assert rc == 2 and rows[0]["result"] == "Failure"
    assert "vm1 has a recorded flavor or image that is not a valid request (invalid hw:numa_nodes" in rows[0]["details"]
    assert "fit nowhere" not in rows[0]["details"]  # vm2 fits


def test_n_plus_one_scheduler_config_is_the_drains():
    # a limit of 1 I/O op per host: a destination with one migration in flight takes nothing
    hosts = fleet()
    hosts[0]["guests"] = [guest("vm1")]
    hosts[1]["resources"]["io_ops"] = hosts[2]["resources"]["io_ops"] = 1
    rows, rc = run(hosts, "n_plus_one", scheduler_config={"max_io_ops_per_host": 1})
    assert rows[0]["result"] == "Failure" and "max_io_ops_per_host is 1" in rows[0]["details"]
    rows, rc = run(hosts, "n_plus_one", scheduler_config={"max_io_ops_per_host": 2})
    assert rows[0]["result"] == "Success"
    with pytest.raises(InvalidInput) as refused:
        run(hosts, "n_plus_one", scheduler_config={"max_io_ops_per_host": -1})
    assert refused.value.message.startswith("scheduler_config: invalid config.max_io_ops_per_host=-1")


def test_n_plus_one_warns_that_unmanaged_guests_are_moved_by_hand():
    hosts = fleet()
    hosts[0]["guests"] = [guest("legacy", managed=False), guest("vm1")]
    rows, rc = run(hosts, "n_plus_one")
    assert rc == 1 and rows[0]["result"] == "Warning"
    # the drain refuses what it does not manage, so it is not placed (nor counted) as if it moved
    assert "1 of 2 guests fit on the other hosts (vm1->hv" in rows[0]["details"]
    assert "move legacy by hand (virsh migrate) or adopt them" in rows[0]["details"]


@pytest.mark.parametrize("state, meta, expected", [
    ("paused", None, "vm is paused: resume it"),
    ("crashed", None, "vm is crashed: destroy and start it again"),
    ("running", {"vm_state": "resized"}, "vm is resized and awaiting confirmation"),
])
def test_blocking_guest_states_fail(state, meta, expected):
    hosts = fleet()
    metadata = {"flavor": {"vcpus": 1, "memory_mb": 512}, "state": meta} if meta else None
    hosts[0]["guests"] = [guest("vm", state=state, metadata=metadata)]
    rows, rc = run(hosts, "guest_states")
    assert rc == 2 and results(rows)["hv1"] == "Failure"
    assert expected in rows[0]["details"]


def test_migrations_in_flight_warn_and_journal_leftovers_fail():
    hosts = fleet()
    hosts[0]["resources"]["io_ops"] = 1
    hosts[1]["maintenance"] = {"state_dir": "/x", "cordon": None, "journal": [
        {"id": 1, "guest": "vm1", "source": "hv2", "destination": "hv3", "status": "failed"},
        {"id": 2, "guest": "vm2", "source": "hv2", "destination": "hv1", "status": "completed"}]}
    hosts[2]["maintenance"] = {"state_dir": "/y", "cordon": None, "journal": None}
    rows, rc = run(hosts, "migrations")
    assert rc == 2
    assert results(rows) == {"hv1": "Warning", "hv2": "Failure", "hv3": "Success"}
    assert "1 guests in a libvirt job" in rows[0]["details"]
    assert "vm1 hv2->hv3 (failed)" in rows[1]["details"] and "vm2" not in rows[1]["details"]
    assert "no journal yet" in rows[2]["details"]


def test_a_move_in_flight_past_the_timeout_fails_as_interrupted_and_a_recent_one_warns():
    def started(seconds_ago):
        when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=seconds_ago)
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")
    limit = guest_checks.IN_FLIGHT_TIMEOUT_SECONDS
    hosts = fleet()
    hosts[0]["maintenance"] = {"cordon": None, "journal": [
        {"id": 1, "guest": "vm1", "source": "hv1", "destination": "hv2", "status": "migrating",
         "started_at": started(limit + 60)}]}
    hosts[1]["maintenance"] = {"cordon": None, "journal": [
        {"id": 2, "guest": "vm2", "source": "hv2", "destination": "hv3", "status": "migrating",
         "started_at": started(limit - 60)}]}
    rows, rc = run(hosts, "migrations")
    assert rc == 2
    assert results(rows) == {"hv1": "Failure", "hv2": "Warning", "hv3": "Success"}
    assert "moves in flight for over 6 h (journal): vm1 hv1->hv2 (migrating) since" in rows[0]["details"]
    assert "settles them" in rows[0]["details"]
    assert "journal in flight: vm2 hv2->hv3 (migrating)" in rows[1]["details"]


def test_cordoned_host_warns_with_reason_and_author():
    hosts = fleet()
    hosts[1]["config"].update(enabled=False, disabled_reason="kernel", disabled_by="ops", disabled_at="2026-01-01T00:00:00Z")
    rows, rc = run(hosts, "cordoned")
    assert rc == 1 and results(rows)["hv2"] == "Warning"
    assert "cordoned (kernel, by ops at 2026-01-01T00:00:00Z)" in rows[1]["details"]


def test_storage_fails_when_a_drain_does_not_fit_and_warns_when_tight():
    hosts = fleet()
    hosts[1]["guests"] = [guest("vm%d" % i, allocated_gb=20) for i in range(5)]  # 100 GiB to drain
    hosts[0]["storage_pools"] = [pool(available_gb=100)]   # 0 left: Failure
    hosts[2]["storage_pools"] = [pool(available_gb=140)]   # 40 of 500 left (8%): Warning
    rows, rc = run(hosts, "storage")
    assert rc == 2
    assert results(rows) == {"hv1": "Failure", "hv2": "Success", "hv3": "Warning"}
    assert "a drain of hv2 onto it needs 100.0 GiB" in rows[0]["details"]
    assert "below storage_warn_free_percent" in rows[2]["details"]


def test_storage_counts_the_base_images_a_drain_would_copy_once_each():
    hosts = fleet()
    # hv2: two guests over the same 8 GiB image and one over a 4 GiB one, 1 GiB of overlay each
    hosts[1]["guests"] = [guest("vm1", base=("ubuntu.qcow2", 8)), guest("vm2", base=("ubuntu.qcow2", 8)),
                          guest("vm3", base=("centos.qcow2", 4))]
    hosts[0]["storage_pools"] = [pool(capacity_gb=20, available_gb=14)]                          # copies both
    hosts[2]["storage_pools"] = [pool(capacity_gb=20, available_gb=14, volumes=["ubuntu.qcow2"])]  # copies centos
    rows, rc = run(hosts, "storage", storage_min_free_gb=1)
    assert results(rows) == {"hv1": "Failure", "hv2": "Success", "hv3": "Success"} and rc == 2
    assert ("a drain of hv2 onto it needs 15.0 GiB (with base images to copy: centos.qcow2, ubuntu.qcow2)"
            in rows[0]["details"])
    assert "a drain of hv2 onto it needs 7.0 GiB (with base images to copy: centos.qcow2)" in rows[2]["details"]


def test_storage_missing_or_inactive_pool_fails():
    hosts = fleet(2)
    hosts[0]["storage_pools"] = []
    hosts[1]["storage_pools"] = [pool(active=False)]
    rows, rc = run(hosts, "storage")
    assert "does not exist" in rows[0]["details"] and "not active" in rows[1]["details"]


def test_hugepages_unused_or_exhausted_warn():
    hosts = fleet(hugepages={2048: 512})
    hosts[1]["numa"]["cells"][0]["usage"]["pages_used"] = {"2048": 512}
    hosts[1]["numa"]["cells"][1]["usage"]["pages_used"] = {"2048": 256}
    for page in hosts[1]["numa"]["cells"][1]["pages"]:
        if page["size_kb"] == 2048:
            page["free"] = 256
    rows, rc = run(hosts, "hugepages")
    assert results(rows) == {"hv1": "Warning", "hv2": "Warning", "hv3": "Warning"}
    assert "cell 0: 512 x 2048 KiB pages (1024 MiB) reserved, no guest uses them" in rows[0]["details"]
    assert "cell 0: 512 x 2048 KiB pages (1024 MiB), 512 given to guests" in rows[1]["details"]
    assert "reserve more pages" in rows[1]["details"]
    rows, rc = run(fleet(), "hugepages")
    assert rc == 0 and rows[0]["details"] == "no hugepages reserved"


def test_dangerous_settings_warn():
    hosts = [host("hv1", ram_allocation_ratio=1.5,
                  guests=[guest("p", cpu_policy="dedicated", vcpupin=[{"vcpu": 0, "cpus": [1]}])]),
             host("hv2", reserved_host_memory_mb=0), host("hv3", cpu_allocation_ratio=32.0),
             host("hv4", ram_allocation_ratio=1.5)]
    rows, rc = run(hosts, "settings")
    assert results(rows) == {"hv1": "Warning", "hv2": "Warning", "hv3": "Warning", "hv4": "Success"}
    assert "ram_allocation_ratio 1.5 with pinned / hugepage guests (p)" in rows[0]["details"]
    assert "reserved_host_memory_mb is 0" in rows[1]["details"]
    assert "cpu_allocation_ratio 32.0 is far above" in rows[2]["details"]


def test_unmanaged_guests_are_reported_with_their_counted_usage():
    hosts = fleet()
    hosts[0]["guests"] = [guest("handmade", managed=False, vcpus=3, memory_mb=300, disk_gb=2)]
    rows, rc = run(hosts, "unmanaged_guests")
    assert rc == 1 and results(rows)["hv1"] == "Warning"
    assert "handmade (3 vCPU, 300 MiB, 2 GiB)" in rows[0]["details"]


def test_machine_types_against_the_target_and_the_other_hosts():
    hosts = fleet()
    hosts[0]["guests"] = [guest("old", machine_type="pc-i440fx-2.11"), guest("new")]
    rows, rc = run(hosts, "machine_types", target_machine_types=["pc-q35-7.2", "pc-q35-8.2"])
    assert rc == 2 and results(rows)["hv1"] == "Failure"
    assert "no longer offers pc-i440fx-2.11 (old)" in rows[0]["details"]
    rows, rc = run(hosts, "machine_types")
    assert rc == 1
    assert "hv2 lacks pc-i440fx-2.11" in rows[0]["details"]
