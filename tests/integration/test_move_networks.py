# -*- coding: utf-8 -*-
"""A move to a host that lacks the guest's libvirt network is refused before anything is claimed or copied,
naming the host and the network, through ansible-playbook on the lab: the guest keeps running on its source,
nothing is left on the destination or in the store. The scheduler's NetworkFilter reads the hosts' networks
from their facts, so neither a move nor a drain's plan names such a host; each move still checks its
destination itself, as a build checks its host (the facts may be old)."""

import os
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import pytest

from lab_tools import delete_instance, inventory_hosts, run_playbook, state_store, virsh

NAME = "mn-guest"
NETWORK = "mn-only"
BRIDGE = "vmfmn0"
LAB_NETWORK = "vmfleet"  # every lab host's network (lab/lab.py)
FLAVOR = {"name": "mn.small", "vcpus": 1, "memory_mb": 128, "root_gb": 1}


def hosts():
    return sorted(inventory_hosts())


@pytest.fixture()
def guest_on_a_network_of_its_host_only():
    first = hosts()[0]
    delete_instance(NAME)
    # a network of the first host only, as the lab's own: forwarding onto a bridge of that host's namespace
    netns = inventory_hosts()[first]["vmfleet_lab_netns"]
    subprocess.run(["ip", "-n", netns, "link", "add", BRIDGE, "type", "bridge"], check=False)
    assert subprocess.run(["ip", "-n", netns, "link", "set", BRIDGE, "up"], check=False).returncode == 0
    with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as handle:
        handle.write("<network><name>%s</name><forward mode='bridge'/><bridge name='%s'/></network>" % (
            NETWORK, BRIDGE))
    try:
        assert virsh(first, "net-define", handle.name).returncode == 0
    finally:
        os.unlink(handle.name)
    assert virsh(first, "net-start", NETWORK).returncode == 0
    built = run_playbook("place_instance.yml", {"instance_name": NAME, "instance_flavor": FLAVOR, "target_host": first,
                                                "instance_state": "running",
                                                "instance_networks": [{"network": NETWORK}]})
    assert built.returncode == 0, built.stdout
    yield first
    delete_instance(NAME)
    virsh(first, "net-destroy", NETWORK)
    virsh(first, "net-undefine", NETWORK)
    subprocess.run(["ip", "-n", netns, "link", "del", BRIDGE], check=False)


def test_a_live_migration_to_a_host_without_the_guests_network_is_refused_and_moves_nothing(
        guest_on_a_network_of_its_host_only):
    first = guest_on_a_network_of_its_host_only
    second = hosts()[1]
    named = run_playbook("live_migrate_instance.yml", {"instance_name": NAME, "target_host": second})
    assert named.returncode != 0, named.stdout
    assert "%s cannot be live-migrated: No valid host was found for %s: %s: NetworkFilter: network '%s' is not " \
        "defined here (networks: %s)" % (NAME, NAME, second, NETWORK, LAB_NETWORK) in named.stdout, named.stdout
    # left to the scheduler: every other host is refused by the facts, none has the network
    chosen = run_playbook("live_migrate_instance.yml", {"instance_name": NAME})
    assert chosen.returncode != 0, chosen.stdout
    for other in hosts()[1:]:
        assert "%s: NetworkFilter: network '%s' is not defined here" % (other, NETWORK) in chosen.stdout, \
            chosen.stdout
    assert virsh(first, "domstate", NAME).stdout.strip() == "running"
    for other in hosts()[1:]:
        assert virsh(other, "dominfo", NAME).returncode != 0, other
    with state_store() as store:
        assert not [c for host in hosts() for c in store.claims(host) if c.get("instance") == NAME]
        assert not store.migrations(guest=NAME)  # refused before anything was recorded


def test_a_cold_migration_to_a_host_without_the_guests_network_is_refused_and_moves_nothing(
        guest_on_a_network_of_its_host_only):
    first = guest_on_a_network_of_its_host_only
    second = hosts()[1]
    run = run_playbook("resize_instance.yml", {"instance_name": NAME, "target_host": second})
    assert run.returncode != 0, run.stdout
    assert "%s: NetworkFilter: network '%s' is not defined here" % (second, NETWORK) in run.stdout, run.stdout
    assert virsh(first, "domstate", NAME).stdout.strip() == "running"
    assert virsh(second, "dominfo", NAME).returncode != 0


def test_a_drains_plan_names_no_host_without_the_guests_network(guest_on_a_network_of_its_host_only, tmp_path):
    first = guest_on_a_network_of_its_host_only
    report = tmp_path / "report.json"
    plan = run_playbook("drain.yml", {"drain_host": first, "drain_check": True, "report_file": str(report)})
    assert plan.returncode != 0, plan.stdout
    assert "%s: No valid host was found" % NAME in plan.stdout, plan.stdout
    for other in hosts()[1:]:
        assert "%s: NetworkFilter: network '%s' is not defined here" % (other, NETWORK) in plan.stdout, plan.stdout
    assert virsh(first, "domstate", NAME).stdout.strip() == "running"


def interfaces(host, name):
    """(type, network or bridge) of each interface of ``name``'s persistent definition on ``host``."""
    root = ET.fromstring(virsh(host, "dumpxml", "--inactive", name).stdout)
    return [(i.get("type"), i.find("source").get("network") or i.find("source").get("bridge"))
            for i in root.findall("devices/interface")]


def test_a_moved_guest_stays_on_its_libvirt_network():
    # a running guest's XML shows an interface on the lab's network (it forwards onto a bridge) as type
    # bridge: a cold migration once rebuilt the guest from it, and it left the network for the bare bridge
    first, second = hosts()[:2]
    name = "mn-keep"
    delete_instance(name)
    try:
        built = run_playbook("place_instance.yml", {"instance_name": name, "instance_flavor": FLAVOR,
                                                    "target_host": first, "instance_state": "running",
                                                    "instance_networks": [{"network": LAB_NETWORK}]})
        assert built.returncode == 0, built.stdout
        assert interfaces(first, name) == [("network", LAB_NETWORK)]
        moved = run_playbook("resize_instance.yml", {"instance_name": name, "target_host": second})
        assert moved.returncode == 0, moved.stdout
        assert interfaces(second, name) == [("network", LAB_NETWORK)]
        confirmed = run_playbook("resize_instance.yml", {"instance_name": name, "resize_state": "confirmed"})
        assert confirmed.returncode == 0, confirmed.stdout
        back = run_playbook("live_migrate_instance.yml", {"instance_name": name, "target_host": first})
        assert back.returncode == 0, back.stdout
        assert interfaces(first, name) == [("network", LAB_NETWORK)]
    finally:
        delete_instance(name)
