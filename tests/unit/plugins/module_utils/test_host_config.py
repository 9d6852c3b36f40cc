# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.host.settings import (
    check_against_host,
    normalize_host_config,
)


def test_nova_defaults():
    assert normalize_host_config({}) == {
        "reserved_host_memory_mb": 512, "reserved_host_disk_mb": 0, "reserved_host_cpus": 0,
        "cpu_allocation_ratio": 4.0, "ram_allocation_ratio": 1.0, "disk_allocation_ratio": 1.0,
        "cpu_dedicated_set": None, "cpu_shared_set": None, "availability_zone": "default",
        "aggregates": [], "instance_pools": ["default"], "disk_tiers": {}, "cpu_mode": None, "cpu_models": [],
        "live_migration_inbound_addr": None, "live_migration_uri": None, "enabled": True, "disabled_reason": None,
    }


def test_disk_tiers_map_to_instance_pools():
    config = normalize_host_config({"instance_pools": ["default", "fast"], "disk_tiers": {"hdd": "default", "ssd": "fast"}})
    assert config["disk_tiers"] == {"hdd": "default", "ssd": "fast"}
    with pytest.raises(InvalidInput) as error:
        normalize_host_config({"disk_tiers": {"ssd": "fast"}})
    assert error.value.field == "disk_tiers" and "not in instance_pools" in str(error.value)
    with pytest.raises(InvalidInput):
        normalize_host_config({"disk_tiers": ["ssd"]})


def test_none_means_default_and_sets_are_parsed():
    config = normalize_host_config({
        "reserved_host_memory_mb": None, "cpu_dedicated_set": "4-12,^8,15", "cpu_shared_set": "0-3",
        "aggregates": ["gpu", {"name": "ssd-hosts", "metadata": {"ssd": True, "tier": 1}}],
        "instance_pools": ["default", "fast", "default"], "enabled": False, "disabled_reason": "maintenance",
    })
    assert config["reserved_host_memory_mb"] == 512
    assert config["cpu_dedicated_set"] == [4, 5, 6, 7, 9, 10, 11, 12, 15]
    assert config["cpu_shared_set"] == [0, 1, 2, 3]
    assert config["aggregates"] == [{"name": "gpu", "metadata": {}},
                                    {"name": "ssd-hosts", "metadata": {"ssd": "true", "tier": "1"}}]
    assert config["instance_pools"] == ["default", "fast"]
    assert (config["enabled"], config["disabled_reason"]) == (False, "maintenance")


@pytest.mark.parametrize("field, value, message", [
    ("reserved_host_memory_mb", -1, "reserved_host_memory_mb=-1"),
    ("reserved_host_disk_mb", "lots", "whole number"),
    ("reserved_host_cpus", -2, "0 or more"),
    ("cpu_allocation_ratio", 0, "greater than 0"),
    ("ram_allocation_ratio", -1.5, "greater than 0"),
    ("disk_allocation_ratio", "x", "greater than 0"),
    ("cpu_dedicated_set", "4-2", "reversed"),
    ("cpu_shared_set", "^3", "non-empty"),
    ("availability_zone", " ", "non-empty name"),
    ("aggregates", [{"metadata": {}}], "aggregate names"),
    ("aggregates", ["a", "a"], "listed twice"),
    ("aggregates", [{"name": "a", "meta": {}}], "aggregate names"),
    ("instance_pools", ["default", ""], "non-empty names"),
    ("live_migration_uri", "compute-01.example.net", "qemu\\+ssh, qemu\\+tls, qemu\\+tcp, qemu"),
    ("live_migration_uri", "qemu:///system", "a libvirt URI naming this host"),
    ("live_migration_uri", "qemu+unix://compute-01/system", "qemu\\+tls://compute-01.example.net/system"),
    ("live_migration_uri", "xen+ssh://compute-01/system", "a libvirt URI naming this host"),
    ("live_migration_uri", "qemu+tls://compute-01/", "a libvirt URI naming this host"),
    ("live_migration_uri", "qemu+tls://compute-01:port/system", "a libvirt URI naming this host"),
    ("live_migration_uri", ["qemu+tls://compute-01/system"], "a libvirt URI naming this host"),
])
def test_invalid_values_name_the_field(field, value, message):
    with pytest.raises(InvalidInput, match=message) as caught:
        normalize_host_config({field: value})
    assert caught.value.field == field


@pytest.mark.parametrize("uri", ["qemu+tls://compute-01.example.net/system", "qemu+ssh://root@10.0.1.13/system",
                                 "qemu+tcp://[fd00::13]:16509/system", "qemu://compute-01/system?no_verify=0"])
def test_a_peer_migration_uri_of_each_remote_scheme_is_kept(uri):
    assert normalize_host_config({"live_migration_uri": " %s " % uri})["live_migration_uri"] == uri


def test_overlapping_sets_are_refused():
    with pytest.raises(InvalidInput, match="CPUs 4-5 are in both sets"):
        normalize_host_config({"cpu_dedicated_set": "2-5", "cpu_shared_set": "4-7"})


def test_cpus_the_host_lacks_are_refused():
    config = normalize_host_config({"cpu_dedicated_set": "8-40"})
    with pytest.raises(InvalidInput, match="CPUs 32-40 do not exist on this host") as caught:
        check_against_host(config, range(32))
    assert caught.value.field == "cpu_dedicated_set"
    check_against_host(normalize_host_config({"cpu_dedicated_set": "8-31"}), range(32))


def test_reserved_cpus_cannot_exceed_the_floating_pool():
    config = normalize_host_config({"cpu_shared_set": "0-1", "reserved_host_cpus": 3})
    with pytest.raises(InvalidInput, match="reserved_host_cpus"):
        check_against_host(config, range(8))
    check_against_host(normalize_host_config({"reserved_host_cpus": 8}), range(8))
