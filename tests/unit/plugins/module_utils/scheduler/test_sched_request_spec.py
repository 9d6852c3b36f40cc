# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Request specs: every refusal Nova makes, with the field, the value and what is allowed."""

from __future__ import annotations

import pytest

from host_factory import make_request

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import (
    PAGE_ANY, PAGE_LARGE, PAGE_SMALL, build_request_spec, build_request_specs, parse_page_size)

ALIASES = {"nic": {"vendor_id": "8086", "product_id": "1572", "numa_policy": "legacy"}}

# (id, vcpus, memory, extra specs, image properties, hints, field, text in the message)
INVALID = [
    ("nodes-zero", 4, 4096, {"hw:numa_nodes": "0"}, {}, {}, "hw:numa_nodes", "1 or more"),
    ("nodes-text", 4, 4096, {"hw:numa_nodes": "two"}, {}, {}, "hw:numa_nodes", "whole number"),
    ("image-nodes-bad", 4, 4096, {}, {"hw_numa_nodes": "-1"}, {}, "hw_numa_nodes", "1 or more"),
    ("image-overrides-nodes", 4, 4096, {"hw:numa_nodes": "2"}, {"hw_numa_nodes": "2"}, {}, "hw_numa_nodes",
     "may not override"),
    ("uneven-cpus", 3, 4096, {"hw:numa_nodes": "2"}, {}, {}, "hw:numa_nodes", "do not split evenly"),
    ("uneven-memory", 4, 4097, {"hw:numa_nodes": "2"}, {}, {}, "hw:numa_nodes", "do not split evenly"),
    ("cpus-missing-node", 4, 4096, {"hw:numa_nodes": "2", "hw:numa_cpus.0": "0-1", "hw:numa_mem.0": "2048",
                                    "hw:numa_mem.1": "2048"}, {}, {}, "hw:numa_cpus.1", "every guest NUMA node"),
    ("mem-missing", 4, 4096, {"hw:numa_nodes": "2", "hw:numa_cpus.0": "0-1", "hw:numa_cpus.1": "2-3"}, {}, {},
     "hw:numa_mem.0", "every guest NUMA node"),
    ("cpu-out-of-range", 4, 4096, {"hw:numa_nodes": "2", "hw:numa_cpus.0": "0-1", "hw:numa_cpus.1": "2-4",
                                   "hw:numa_mem.0": "2048", "hw:numa_mem.1": "2048"}, {}, {}, "hw:numa_cpus.1",
     "vCPU 4 is out of range"),
    ("cpu-duplicated", 4, 4096, {"hw:numa_nodes": "2", "hw:numa_cpus.0": "0-2", "hw:numa_cpus.1": "2-3",
                                 "hw:numa_mem.0": "2048", "hw:numa_mem.1": "2048"}, {}, {}, "hw:numa_cpus.1",
     "vCPU 2 is already in another node"),
    ("cpu-unassigned", 4, 4096, {"hw:numa_nodes": "2", "hw:numa_cpus.0": "0", "hw:numa_cpus.1": "2-3",
                                 "hw:numa_mem.0": "2048", "hw:numa_mem.1": "2048"}, {}, {}, "hw:numa_cpus.N",
     "vCPUs [1] are in no node"),
    ("memory-sum", 4, 4096, {"hw:numa_nodes": "2", "hw:numa_cpus.0": "0-1", "hw:numa_cpus.1": "2-3",
                             "hw:numa_mem.0": "2048", "hw:numa_mem.1": "1024"}, {}, {}, "hw:numa_mem.N",
     "sum to 3072 MB"),
    ("layout-without-nodes", 4, 4096, {"hw:numa_cpus.0": "0-3", "hw:numa_mem.0": "4096"}, {}, {}, "hw:numa_nodes",
     "without hw:numa_nodes"),
    ("image-overrides-layout", 4, 4096, {"hw:numa_nodes": "1", "hw:numa_cpus.0": "0-3", "hw:numa_mem.0": "4096"},
     {"hw_numa_cpus.0": "0-3", "hw_numa_mem.0": "4096"}, {}, "hw_numa_cpus.0", "may not override"),
    ("bad-cpu-policy", 2, 2048, {"hw:cpu_policy": "pinned"}, {}, {}, "hw:cpu_policy", "shared, dedicated, mixed"),
    ("bad-image-cpu-policy", 2, 2048, {}, {"hw_cpu_policy": "x"}, {}, "hw_cpu_policy", "shared, dedicated, mixed"),
    ("image-pins-shared-flavor", 2, 2048, {"hw:cpu_policy": "shared"}, {"hw_cpu_policy": "dedicated"}, {},
     "hw_cpu_policy", "may not override"),
    ("image-dedicated-on-mixed", 4, 2048, {"hw:cpu_policy": "mixed", "hw:cpu_dedicated_mask": "0-1"},
     {"hw_cpu_policy": "dedicated"}, {}, "hw_cpu_policy", "may not override"),
    ("bad-thread-policy", 2, 2048, {"hw:cpu_policy": "dedicated", "hw:cpu_thread_policy": "spread"}, {}, {},
     "hw:cpu_thread_policy", "prefer, isolate, require"),
    ("thread-policy-shared", 2, 2048, {"hw:cpu_thread_policy": "isolate"}, {}, {}, "hw:cpu_thread_policy",
     "needs pinned CPUs"),
    ("image-thread-policy-shared", 2, 2048, {}, {"hw_cpu_thread_policy": "require"}, {}, "hw:cpu_thread_policy",
     "needs pinned CPUs"),
    ("image-overrides-thread-policy", 2, 2048, {"hw:cpu_policy": "dedicated", "hw:cpu_thread_policy": "isolate"},
     {"hw_cpu_thread_policy": "require"}, {}, "hw_cpu_thread_policy", "may not override"),
    ("bad-emulator-policy", 2, 2048, {"hw:cpu_policy": "dedicated", "hw:emulator_threads_policy": "pin"}, {}, {},
     "hw:emulator_threads_policy", "share, isolate"),
    ("emulator-isolate-shared", 2, 2048, {"hw:emulator_threads_policy": "isolate"}, {}, {},
     "hw:emulator_threads_policy", "needs pinned CPUs"),
    ("realtime-shared", 2, 2048, {"hw:cpu_realtime": "yes", "hw:cpu_realtime_mask": "^0"}, {}, {},
     "hw:cpu_realtime", "needs pinned CPUs"),
    ("realtime-all-no-emulator", 2, 2048, {"hw:cpu_policy": "dedicated", "hw:cpu_realtime": "yes"}, {}, {},
     "hw:cpu_realtime_mask", "every vCPU is realtime"),
    ("mixed-without-mask", 4, 2048, {"hw:cpu_policy": "mixed"}, {}, {}, "hw:cpu_dedicated_mask",
     "exactly one of"),
    ("mask-without-mixed", 4, 2048, {"hw:cpu_policy": "dedicated", "hw:cpu_dedicated_mask": "0-1"}, {}, {},
     "hw:cpu_dedicated_mask", "only with hw:cpu_policy=mixed"),
    ("mask-on-shared", 4, 2048, {"hw:cpu_dedicated_mask": "0-1"}, {}, {}, "hw:cpu_dedicated_mask",
     "needs pinned CPUs"),
    ("mask-all-cpus", 4, 2048, {"hw:cpu_policy": "mixed", "hw:cpu_dedicated_mask": "0-3"}, {}, {},
     "hw:cpu_dedicated_mask", "at least one dedicated and one shared"),
    ("mask-out-of-range", 4, 2048, {"hw:cpu_policy": "mixed", "hw:cpu_dedicated_mask": "2-5"}, {}, {},
     "hw:cpu_dedicated_mask", "subset of the vCPUs 0-3"),
    ("page-size-bad", 2, 2048, {"hw:mem_page_size": "huge"}, {}, {}, "hw:mem_page_size", "small, large, any"),
    ("page-size-zero", 2, 2048, {"hw:mem_page_size": "0"}, {}, {}, "hw:mem_page_size", "small, large, any"),
    ("page-size-unit", 2, 2048, {"hw:mem_page_size": "2M"}, {}, {}, "hw:mem_page_size", "small, large, any"),
    ("image-page-size-alone", 2, 2048, {}, {"hw_mem_page_size": "2MB"}, {}, "hw_mem_page_size",
     "flavor sets no page size"),
    ("image-page-size-fixed", 2, 2048, {"hw:mem_page_size": "small"}, {"hw_mem_page_size": "1GB"}, {},
     "hw_mem_page_size", "fixed hw:mem_page_size=small"),
    ("image-page-size-invalid", 2, 2048, {"hw:mem_page_size": "large"}, {"hw_mem_page_size": "big"}, {},
     "hw_mem_page_size", "small, large, any"),
    ("image-max-over-flavor", 4, 2048, {"hw:cpu_max_sockets": "2"}, {"hw_cpu_max_sockets": 4}, {},
     "hw_cpu_max_sockets", "may only lower"),
    ("image-pref-over-max", 4, 2048, {"hw:cpu_max_sockets": "2"}, {"hw_cpu_sockets": 4}, {}, "hw_cpu_sockets",
     "exceeds the limits"),
    ("topology-impossible", 6, 2048, {"hw:cpu_max_sockets": "4", "hw:cpu_max_cores": "1",
                                      "hw:cpu_max_threads": "1"}, {}, {}, "hw:cpu_max_sockets",
     "no sockets*cores*threads = 6"),
    ("max-not-number", 4, 2048, {"hw:cpu_max_cores": "many"}, {}, {}, "hw:cpu_max_cores", "whole number"),
    ("pci-unknown-alias", 2, 2048, {"pci_passthrough:alias": "gpu:1"}, {}, {}, "pci_passthrough:alias",
     "unknown alias 'gpu'"),
    ("pci-bad-count", 2, 2048, {"pci_passthrough:alias": "nic:zero"}, {}, {}, "pci_passthrough:alias",
     "whole number"),
    ("pci-bad-policy", 2, 2048, {"hw:pci_numa_affinity_policy": "socket"}, {}, {}, "hw:pci_numa_affinity_policy",
     "required, preferred, legacy"),
    ("pci-image-overrides", 2, 2048, {"hw:pci_numa_affinity_policy": "required"},
     {"hw_pci_numa_affinity_policy": "preferred"}, {}, "hw_pci_numa_affinity_policy", "may not override"),
    ("group-policy", 2, 2048, {}, {}, {"group": {"name": "g", "policy": "together"}}, "hints.group.policy",
     "affinity, anti-affinity"),
    ("force-without-host", 2, 2048, {}, {}, {"force": True}, "hints.force", "only together"),
    # issue 14: what Nova's extra spec validation and numa_get_constraints refuse
    ("policy-upper-case", 2, 2048, {"hw:cpu_policy": "DEDICATED"}, {}, {}, "hw:cpu_policy",
     "shared, dedicated, mixed"),
    ("image-policy-upper-case", 2, 2048, {}, {"hw_cpu_policy": "Dedicated"}, {}, "hw_cpu_policy",
     "shared, dedicated, mixed"),
    ("thread-policy-upper-case", 2, 2048, {"hw:cpu_policy": "dedicated", "hw:cpu_thread_policy": "Isolate"}, {}, {},
     "hw:cpu_thread_policy", "prefer, isolate, require"),
    ("page-size-space", 2, 2048, {"hw:mem_page_size": "2 MB"}, {}, {}, "hw:mem_page_size", "small, large, any"),
    ("page-size-lower-case", 2, 2048, {"hw:mem_page_size": "2mb"}, {}, {}, "hw:mem_page_size", "small, large, any"),
    ("image-page-size-space", 2, 2048, {"hw:mem_page_size": "large"}, {"hw_mem_page_size": "2 MB"}, {},
     "hw_mem_page_size", "small, large, any"),
    ("unknown-hw-key-typo", 2, 2048, {"hw:cpu_polcy": "dedicated"}, {}, {}, "hw:cpu_polcy",
     "did you mean hw:cpu_policy?"),
    ("unknown-hw-key", 2, 2048, {"hw:bogus": "1"}, {}, {}, "hw:bogus", "hw:cpu_policy, hw:cpu_realtime"),
    ("unknown-own-key", 2, 2048, {"vmfleet:disk_teir": "ssd"}, {}, {}, "vmfleet:disk_teir",
     "did you mean vmfleet:disk_tier?"),
    ("unknown-quota-key", 2, 2048, {"quota:cpu_sharez": "10"}, {}, {}, "quota:cpu_sharez", "unknown extra spec"),
    ("quota-not-number", 2, 2048, {"quota:cpu_shares": "lots"}, {}, {}, "quota:cpu_shares", "whole number of 0"),
    ("serial-ports-negative", 2, 2048, {"hw:serial_port_count": "-1"}, {}, {}, "hw:serial_port_count",
     "whole number of 0"),
    ("usb-ports-over", 2, 2048, {"hw:redirected_usb_ports": "16"}, {}, {}, "hw:redirected_usb_ports", "0 to 15"),
    ("cpu-quota-not-number", 2, 2048, {"quota:cpu_quota": "1.5"}, {}, {}, "quota:cpu_quota", "whole number"),
    ("hw-bool-malformed", 2, 2048, {"hw:cpu_realtime": "maybe"}, {}, {}, "hw:cpu_realtime", "true or false"),
    ("hw-mask-malformed", 4, 2048, {"hw:cpu_policy": "mixed", "hw:cpu_dedicated_mask": "1 - 3"}, {}, {},
     "hw:cpu_dedicated_mask", "guest CPU list"),
    ("numa-mem-not-number", 4, 4096, {"hw:numa_nodes": "2", "hw:numa_cpus.0": "0-1", "hw:numa_cpus.1": "2-3",
                                      "hw:numa_mem.0": "2GB", "hw:numa_mem.1": "2048"}, {}, {}, "hw:numa_mem.0",
     "whole number"),
    ("mixed-one-vcpu", 1, 2048, {"hw:cpu_policy": "mixed", "hw:cpu_dedicated_mask": "^0"}, {}, {}, "hw:cpu_policy",
     "needs at least 2 vCPUs"),
    ("pcpu-with-policy", 4, 2048, {"resources:PCPU": "4", "hw:cpu_policy": "dedicated"}, {}, {}, "resources:PCPU",
     "not both"),
    ("vcpu-with-image-policy", 4, 2048, {"resources:VCPU": "4"}, {"hw_cpu_policy": "dedicated"}, {},
     "resources:VCPU", "not both"),
    ("pcpu-and-vcpu", 4, 2048, {"resources:PCPU": "2", "resources:VCPU": "2"}, {}, {}, "resources:VCPU",
     "not both"),
    ("pcpu-count", 4, 2048, {"resources:PCPU": "2"}, {}, {}, "resources:PCPU", "exactly 4"),
    ("pcpu-count-emulator", 4, 2048, {"resources:PCPU": "4", "hw:emulator_threads_policy": "isolate"}, {}, {},
     "resources:PCPU", "exactly 5"),
    ("pcpu-not-number", 4, 2048, {"resources:PCPU": "four"}, {}, {}, "resources:PCPU", "whole number"),
    ("pcpu-with-mask", 4, 2048, {"resources:PCPU": "4", "hw:cpu_dedicated_mask": "^0"}, {}, {},
     "hw:cpu_dedicated_mask", "only with hw:cpu_policy=mixed"),
    ("vcpu-with-thread-policy", 4, 2048, {"resources:VCPU": "4", "hw:cpu_thread_policy": "require"}, {}, {},
     "hw:cpu_thread_policy", "needs pinned CPUs"),
    ("resources-memory", 2, 2048, {"resources:MEMORY_MB": "2048"}, {}, {}, "resources:MEMORY_MB",
     "not supported here"),
    ("resources-custom", 2, 2048, {"resources:CUSTOM_GPU": "1"}, {}, {}, "resources:CUSTOM_GPU",
     "resources:PCPU, resources:VCPU"),
    ("resources-named-group", 2, 2048, {"resources_net:PCPU": "2"}, {}, {}, "resources_net:PCPU",
     "named request groups"),
    ("pcpu-groups-count", 4, 2048, {"resources1:PCPU": "2", "resources2:PCPU": "1"}, {}, {}, "resources1:PCPU",
     "exactly 4"),
    ("trait-other", 2, 2048, {"trait:HW_CPU_X86_AVX2": "required"}, {}, {}, "trait:HW_CPU_X86_AVX2",
     "trait:HW_CPU_HYPERTHREADING"),
    ("trait-value", 2, 2048, {"hw:cpu_policy": "dedicated", "trait:HW_CPU_HYPERTHREADING": "yes"}, {}, {},
     "trait:HW_CPU_HYPERTHREADING", "required, forbidden"),
    ("trait-and-thread-policy", 2, 2048, {"hw:cpu_policy": "dedicated", "hw:cpu_thread_policy": "isolate",
                                          "trait:HW_CPU_HYPERTHREADING": "forbidden"}, {}, {},
     "trait:HW_CPU_HYPERTHREADING", "not both"),
    ("trait-contradicts-group", 2, 2048, {"resources:PCPU": "2", "trait:HW_CPU_HYPERTHREADING": "forbidden",
                                          "trait1:HW_CPU_HYPERTHREADING": "required"}, {}, {},
     "trait:HW_CPU_HYPERTHREADING", "both required and forbidden"),
    ("trait-without-pinning", 2, 2048, {"trait:HW_CPU_HYPERTHREADING": "required"}, {}, {},
     "trait:HW_CPU_HYPERTHREADING", "needs pinned CPUs"),
    ("image-trait-other", 2, 2048, {"hw:cpu_policy": "dedicated"}, {"trait:CUSTOM_FAST": "required"}, {},
     "traits_required", "not supported here"),
    ("capabilities", 2, 2048, {"capabilities:cpu_info:vendor": "Intel"}, {}, {}, "capabilities:cpu_info:vendor",
     "ComputeCapabilitiesFilter"),
    ("accel", 2, 2048, {"accel:device_profile": "fpga"}, {}, {}, "accel:device_profile", "Cyborg"),
]


@pytest.mark.parametrize("case", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_requests_name_field_value_and_allowed(case):
    name, vcpus, memory, specs, props, hints, field, text = case
    with pytest.raises(InvalidInput) as caught:
        build_request_spec(make_request("vm", vcpus, memory, extra_specs=specs, image=props, hints=hints), ALIASES)
    assert caught.value.field == field
    assert text in caught.value.message
    assert "allowed" in caught.value.message


@pytest.mark.parametrize("flavor, field", [
    ({"vcpus": 0, "memory_mb": 1}, "flavor.vcpus"),
    ({"vcpus": 1, "memory_mb": "x"}, "flavor.memory_mb"),
    ({"vcpus": 1, "memory_mb": 1, "disk_gb": -1}, "flavor.disk_gb"),
    ({"vcpus": 1, "memory_mb": 1, "root_gb": -1}, "flavor.root_gb"),
    ({"vcpus": 1, "memory_mb": 1, "root_gb": 1, "swap": "x"}, "flavor.swap"),
    ({"memory_mb": 1}, "flavor.vcpus"),
])
def test_flavor_numbers(flavor, field):
    with pytest.raises(InvalidInput) as caught:
        build_request_spec({"name": "vm", "flavor": flavor})
    assert caught.value.field == field


def test_batch_errors_name_the_request_and_stop_before_placing():
    good = make_request("ok", 2, 2048)
    bad = make_request("bad", 2, 2048, extra_specs={"hw:numa_nodes": "0"})
    with pytest.raises(InvalidInput) as caught:
        build_request_specs([good, bad])
    assert caught.value.message.startswith("requests[1] (bad): invalid hw:numa_nodes='0'")
    assert caught.value.details["request"] == 1


def test_batch_names_unique():
    with pytest.raises(InvalidInput) as caught:
        build_request_specs([make_request("a"), make_request("a")])
    assert "unique" in caught.value.message


@pytest.mark.parametrize("text, expected", [
    ("small", PAGE_SMALL), ("large", PAGE_LARGE), ("any", PAGE_ANY), ("2048", 2048), ("2MB", 2048),
    ("2MiB", 2048), ("1GB", 1048576), ("1GiB", 1048576), ("1048576KB", 1048576), (2048, 2048),
])
def test_page_sizes(text, expected):
    assert parse_page_size(text, "hw:mem_page_size") == expected


def test_image_may_choose_page_size_when_flavor_allows():
    spec = build_request_spec(make_request(extra_specs={"hw:mem_page_size": "large"},
                                           image={"hw_mem_page_size": "1GB"}))
    assert spec.page_size == 1048576


def test_auto_split_and_dedicated_cells():
    spec = build_request_spec(make_request(vcpus=8, memory_mb=8192,
                                           extra_specs={"hw:numa_nodes": 2, "hw:cpu_policy": "dedicated"}))
    assert [(c.id, c.pcpus, c.cpus, c.memory_mb) for c in spec.numa_cells] == [
        (0, (0, 1, 2, 3), (), 4096), (1, (4, 5, 6, 7), (), 4096)]
    assert spec.pcpus_needed == 8 and spec.shared_vcpus == 0


def test_manual_layout_uneven():
    spec = build_request_spec(make_request(vcpus=6, memory_mb=6144, extra_specs={
        "hw:numa_nodes": "2", "hw:numa_cpus.0": "0,1", "hw:numa_cpus.1": "2-5", "hw:numa_mem.0": "1024",
        "hw:numa_mem.1": "5120"}))
    assert [(c.cpus, c.memory_mb) for c in spec.numa_cells] == [((0, 1), 1024), ((2, 3, 4, 5), 5120)]


def test_image_layout_when_flavor_has_none():
    spec = build_request_spec(make_request(vcpus=4, memory_mb=4096, image={
        "hw_numa_nodes": 2, "hw_numa_cpus.0": "0-1", "hw_numa_cpus.1": "2-3", "hw_numa_mem.0": 1024,
        "hw_numa_mem.1": 3072}))
    assert [c.memory_mb for c in spec.numa_cells] == [1024, 3072]


def test_mixed_mask_and_emulator():
    spec = build_request_spec(make_request(vcpus=4, memory_mb=4096, extra_specs={
        "hw:cpu_policy": "mixed", "hw:cpu_dedicated_mask": "^0", "hw:emulator_threads_policy": "isolate"}))
    cell = spec.numa_cells[0]
    assert cell.cpus == (0,) and cell.pcpus == (1, 2, 3)
    assert spec.shared_vcpus == 1 and spec.pcpus_needed == 4


def test_mixed_with_realtime_mask():
    spec = build_request_spec(make_request(vcpus=4, extra_specs={
        "hw:cpu_policy": "mixed", "hw:cpu_realtime": "true", "hw:cpu_realtime_mask": "^0-1"}))
    assert spec.numa_cells[0].pcpus == (2, 3)
    assert spec.realtime_cpus == (2, 3)


def test_no_numa_topology_for_plain_shared_guest():
    spec = build_request_spec(make_request())
    assert spec.numa_cells is None and spec.cpu_policy is None


def test_image_policy_used_when_flavor_silent():
    spec = build_request_spec(make_request(image={"hw_cpu_policy": "dedicated", "hw_cpu_thread_policy": "prefer"}))
    assert spec.cpu_policy == "dedicated" and spec.thread_policy == "prefer"


def test_pci_alias_policy_from_flavor():
    spec = build_request_spec(make_request(extra_specs={"pci_passthrough:alias": "nic:2",
                                                        "hw:pci_numa_affinity_policy": "required"}), ALIASES)
    request = spec.pci_requests[0]
    assert (request.alias, request.count, request.vendor_id, request.numa_policy) == ("nic", 2, "8086", "required")


def test_hints():
    spec = build_request_spec(make_request(hints={
        "availability_zone": "az1", "group": {"name": "g", "policy": "anti-affinity", "members": ["a"]},
        "same_host": ["x"], "different_host": ["y"], "force_host": "hv1", "force": True,
        "retry_exclude": ["hv2"]}))
    assert spec.availability_zone == "az1" and spec.group["members"] == ["a"]
    assert spec.same_host == ("x",) and spec.different_host == ("y",)
    assert spec.force_host == "hv1" and spec.force and spec.retry_exclude == ("hv2",)


@pytest.mark.parametrize("specs, field", [
    ({"hw:numa_nodes": "2", "hw:numa_cpus.0": "0-1", "hw:numa_mem.0": "2048", "hw:numa_mem.1": "2048"},
     "hw:numa_cpus.1"),
    ({"hw:numa_nodes": "2", "hw:numa_cpus.0": "0-1", "hw:numa_cpus.1": "2-3"}, "hw:numa_mem.0"),
])
def test_missing_numa_layout_is_reported_as_missing(specs, field):
    with pytest.raises(InvalidInput) as caught:
        build_request_spec(make_request("vm", 4, 4096, extra_specs=specs))
    assert caught.value.field == field
    assert caught.value.message.startswith("missing %s: " % field)
    assert "None" not in caught.value.message


@pytest.mark.parametrize("specs", [
    {"hw:watchdog_action": "reset", "hw:boot_menu": "yes", "hw_rng:allowed": "True", "quota:cpu_shares": "512",
     "os:secure_boot": "required", "hw:numa_mem.0": "2048", "hw:numa_cpus.0": "0-1", "hw:numa_nodes": 1},
    {"aggregate_instance_extra_specs:ssd": "true", "ssd": "true", "mycorp:owner": "team-a", "vmfleet:disk_tier": "ssd"},
    {"resources:VCPU": "0", "resources:PCPU": "0"},
])
def test_keys_nova_accepts_pass(specs):
    spec = build_request_spec(make_request("vm", 2, 2048, extra_specs=specs))
    assert spec.cpu_policy is None


def test_pcpu_resources_mean_dedicated():
    """Nova (since Train): resources:PCPU=N pins every vCPU, as hw:cpu_policy=dedicated would."""
    spec = build_request_spec(make_request("vm", 4, 4096, extra_specs={"resources:PCPU": "4"}))
    assert spec.cpu_policy == "dedicated" and spec.pcpus_needed == 4 and spec.shared_vcpus == 0
    assert [c.pcpus for c in spec.numa_cells] == [(0, 1, 2, 3)]
    spec = build_request_spec(make_request("vm", 4, 4096, extra_specs={
        "resources:PCPU": "5", "hw:emulator_threads_policy": "isolate"}))
    assert spec.cpu_policy == "dedicated" and spec.pcpus_needed == 5


def test_vcpu_resources_mean_shared():
    spec = build_request_spec(make_request("vm", 4, 4096, extra_specs={"resources:VCPU": "4"}))
    assert spec.cpu_policy == "shared" and spec.numa_cells is None and spec.shared_vcpus == 4


@pytest.mark.parametrize("specs, image, thread_policy, trait", [
    ({"resources:PCPU": "2", "trait:HW_CPU_HYPERTHREADING": "forbidden"}, {}, "isolate", "forbidden"),
    ({"hw:cpu_policy": "dedicated", "trait:HW_CPU_HYPERTHREADING": "required"}, {}, "require", "required"),
    ({"hw:cpu_policy": "dedicated"}, {"trait:HW_CPU_HYPERTHREADING": "required"}, "require", "required"),
    ({"hw:cpu_policy": "dedicated"}, {"traits_required": ["HW_CPU_HYPERTHREADING"]}, "require", "required"),
])
def test_hyperthreading_trait_sets_the_thread_policy(specs, image, thread_policy, trait):
    spec = build_request_spec(make_request("vm", 2, 2048, extra_specs=specs, image=image))
    assert spec.cpu_policy == "dedicated"
    assert (spec.thread_policy, spec.smt_trait) == (thread_policy, trait)


def test_page_sizes_nova_refuses():
    for text in ("2 MB", "2mb", "2M", "1gb", "2kB"):
        with pytest.raises(InvalidInput):
            parse_page_size(text, "hw:mem_page_size")


@pytest.mark.parametrize("flavor, disk_gb", [
    ({"root_gb": 10}, 10),
    ({"root_gb": 10, "ephemeral_gb": 5, "swap": 1}, 16),     # swap in MB, rounded up to a GiB
    ({"root_gb": 0, "swap": 2048}, 2),
    ({"disk_gb": 7}, 7),                                    # the scheduler's own total, without Nova's keys
    ({"disk_gb": 7, "root_gb": 3}, 3),                      # Nova's keys win (schedule's alias sets both)
    ({}, 0),
])
def test_the_disk_a_flavor_takes_is_novas_sum(flavor, disk_gb):
    spec = build_request_spec({"name": "vm", "flavor": dict(flavor, vcpus=1, memory_mb=1)})
    assert spec.disk_gb == disk_gb


@pytest.mark.parametrize("networks, field", [
    ({"network": "lan"}, "networks"),
    ([{"network": "lan", "bridge": "br0"}], "networks[0]"),
    ([{"network": "lan"}, {"mac": "52:54:00:00:00:01"}], "networks[1]"),
    (["lan"], "networks[0]"),
    ([{"bridge": 7}], "networks[0]"),
])
def test_a_requests_networks_are_each_one_network_or_one_bridge(networks, field):
    with pytest.raises(InvalidInput) as caught:
        build_request_spec(make_request(networks=networks))
    assert caught.value.field == field and "{network: NAME}" in caught.value.message


def test_a_requests_networks_and_bridges_are_kept_once_each():
    spec = build_request_spec(make_request(networks=[
        {"network": "lan", "mac": None}, {"bridge": "br0"}, {"network": "lan"}, {"network": "dmz", "bridge": None}]))
    assert (spec.networks, spec.bridges) == (("lan", "dmz"), ("br0",))
