# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory_host filter: a host's entry from its inventory variables, the same ones the
hypervisor_facts role passes to hypervisor_info, and accepted by the fleet in place of facts."""

from __future__ import annotations

import os
import re

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible_collections.vmfleet.compute.plugins.filter.inventory_host import SETTING_VARIABLES, inventory_host
from ansible_collections.vmfleet.compute.plugins.module_utils.host.hosts_option import host_facts
from ansible_collections.vmfleet.compute.plugins.module_utils.host.settings import inventory_variables
from ansible_collections.vmfleet.compute.plugins.modules import hypervisor_info

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "hypervisor_facts")


def role_passes():
    """hypervisor_info option -> inventory variable, as the role's task passes them."""
    with open(os.path.join(ROLE, "tasks", "main.yml")) as handle:
        text = handle.read()
    return dict(re.findall(r"^    (\w+): \"\{\{ hypervisor_facts_vars\.(vmfleet_\w+) \| default\(omit\) \}\}\"$",
                           text, re.MULTILINE))


def test_the_facts_role_and_the_filter_read_the_declared_variables():
    assert SETTING_VARIABLES == inventory_variables()
    assert role_passes() == inventory_variables()


def test_every_variable_the_role_reads_is_a_hypervisor_info_option():
    assert set(role_passes()) <= set(hypervisor_info.argument_spec())


def test_the_role_names_the_variables_that_are_not_vmfleet_option():
    """The role's documentation says the variables are C(vmfleet_<option>): it must name the others."""
    with open(os.path.join(ROLE, "meta", "argument_specs.yml")) as handle:
        described = " ".join(yaml.safe_load(handle)["argument_specs"]["main"]["description"])
    others = [(option, variable) for option, variable in inventory_variables().items()
              if variable != "vmfleet_" + option]
    assert others
    for option, variable in others:
        assert "C(%s) (O(vmfleet.compute.hypervisor_info#module:%s))" % (variable, option) in described


def test_entry_has_the_set_variables_only():
    hostvars = {"hv1": {"vmfleet_libvirt_uri": "qemu+tcp://10.0.0.1/system", "vmfleet_state_dir": "/srv/hv1",
                        "vmfleet_cpu_allocation_ratio": 2.0, "vmfleet_migration_address": "10.1.0.1",
                        "vmfleet_migration_uri": "qemu+tls://10.0.0.1/system",
                        "vmfleet_drain_hosts": ["hv1"], "ansible_host": "10.0.0.1"}}
    assert inventory_host("hv1", hostvars) == {
        "name": "hv1", "uri": "qemu+tcp://10.0.0.1/system", "state_dir": "/srv/hv1", "cpu_allocation_ratio": 2.0,
        "live_migration_inbound_addr": "10.1.0.1", "live_migration_uri": "qemu+tls://10.0.0.1/system"}


def test_local_uri_by_default():
    assert inventory_host("hv2", {"hv2": {}}) == {"name": "hv2", "uri": "qemu:///system"}


def test_unknown_host_is_named():
    with pytest.raises(AnsibleFilterError, match="'hv9' is not a host of the inventory"):
        inventory_host("hv9", {"hv1": {}})


def test_fleet_takes_the_entry_with_normalized_settings_and_no_facts_yet():
    facts = host_facts(inventory_host("hv1", {"hv1": {"vmfleet_state_dir": "/srv/hv1",
                                                      "vmfleet_reserved_host_memory_mb": 1024}}), 0)
    assert "numa" not in facts and sorted(facts) == ["config", "maintenance", "name", "uri"]
    assert facts["maintenance"] == {"state_dir": "/srv/hv1"}
    assert facts["config"]["reserved_host_memory_mb"] == 1024
    assert facts["config"]["cpu_allocation_ratio"] == 4.0  # Nova's default where the inventory is silent


def test_fleet_entry_errors_name_the_item_and_field():
    with pytest.raises(Exception, match=r"hosts\[1\]\.cpu_allocation_ratio"):
        host_facts({"name": "hv1", "uri": "qemu:///system", "cpu_allocation_ratio": -1}, 1)
    with pytest.raises(Exception, match=r"hosts\[0\]\.topology.*host facts as hypervisor_info returns them"):
        host_facts({"name": "hv1", "uri": "qemu:///system", "topology": {}}, 0)


def test_facts_pass_through_unchanged():
    facts = {"name": "hv1", "uri": "qemu:///system", "numa": {"cells": []}, "config": {}}
    assert host_facts({"hypervisor": facts}, 0) is facts
