# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host-facts contract on real hosts: the hypervisor_facts role runs hypervisor_info on every
lab host (through ansible-playbook, so the facts are what a play registers, JSON and all), and
what it returns keeps hypervisor_info's RETURN (tests/facts_contract.py), with a pinned guest
built first so that the guest fields are read from a real domain. The settings in the facts
are those of the inventory's variables, each read through the declared variable."""

import json

import pytest

from lab_tools import INVENTORY, delete_instance, inventory_hosts, run_playbook
from test_targets import inventory  # noqa: F401  pylint: disable=unused-import

from ansible_collections.vmfleet.compute.plugins.module_utils.host.settings import (
    HOST_SETTINGS,
    STATE_DIR_VARIABLE,
    normalize_host_config,
)
from ansible_collections.vmfleet.compute.plugins.modules import hypervisor_info
from ansible_collections.vmfleet.compute.tests.facts_contract import contract_violations, documented_facts

GUEST = "contract-pinned"
FLAVOR = {"name": "contract.pinned", "vcpus": 1, "memory_mb": 128, "root_gb": 1,
          "extra_specs": {"hw:cpu_policy": "dedicated", "hw:numa_nodes": "1"}}


@pytest.fixture(scope="module")
def lab_facts(inventory, tmp_path_factory):  # pylint: disable=redefined-outer-name,unused-argument
    """{host: facts} as the role keeps them, with GUEST defined on one host."""
    delete_instance(GUEST)  # left over by an interrupted run
    built = run_playbook("place_instance.yml", {"instance_name": GUEST, "instance_flavor": FLAVOR})
    try:
        assert built.returncode == 0, built.stdout[-6000:]
        path = tmp_path_factory.mktemp("facts") / "facts.json"
        read = run_playbook("facts_contract.yml", {"facts_path": str(path)})
        assert read.returncode == 0, read.stdout[-6000:]
        with open(path, encoding="utf-8") as handle:
            yield json.load(handle)
    finally:
        delete_instance(GUEST)


def inventory_variables_of(host):
    """The host's inventory variables: its group's, overridden by its own (the lab's inventory is JSON)."""
    with open(INVENTORY, encoding="utf-8") as handle:
        group = json.loads(handle.read().split("\n", 1)[1])["all"]["children"]["hypervisors"]
    return dict(group.get("vars") or {}, **group["hosts"][host])


def test_every_lab_host_keeps_the_contract(lab_facts):  # pylint: disable=redefined-outer-name
    contract = documented_facts(hypervisor_info.RETURN)
    assert sorted(lab_facts) == sorted(inventory_hosts())
    for host, facts in sorted(lab_facts.items()):
        assert contract_violations(facts, contract) == [], host


def test_the_pinned_guest_is_read_with_its_pinning_and_cell(lab_facts):  # pylint: disable=redefined-outer-name
    found = [guest for facts in lab_facts.values() for guest in facts["guests"] if guest["name"] == GUEST]
    assert len(found) == 1
    guest = found[0]
    assert guest["managed"] is True and guest["cpu_policy"] == "dedicated"
    assert len(guest["vcpupin"]) == 1 and len(guest["guest_numa_cells"]) == 1
    assert guest["usage"] == {"vcpus": 1, "memory_mb": 128, "disk_gb": 1}


def test_the_facts_hold_the_inventorys_settings(lab_facts):  # pylint: disable=redefined-outer-name
    """Each setting the inventory sets reaches the facts through its declared variable (the lab sets
    cpu_mode, cpu_models, the migration address, instance pools and disk tiers); the others are the
    declared defaults."""
    for host, facts in sorted(lab_facts.items()):
        variables = inventory_variables_of(host)
        given = dict((s.name, variables[s.variable]) for s in HOST_SETTINGS if s.variable in variables)
        assert "live_migration_inbound_addr" in given and "cpu_models" in given, "the lab's inventory changed"
        expected = normalize_host_config(given)
        for setting in HOST_SETTINGS:
            if setting.variable:
                assert facts["config"][setting.name] == expected[setting.name], (host, setting.name)
        assert facts["maintenance"]["state_dir"] == variables[STATE_DIR_VARIABLE]
