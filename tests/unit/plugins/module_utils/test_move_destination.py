# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a moved instance is rebuilt from its domain and metadata, and where the scheduler sends it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

libvirt = pytest.importorskip("libvirt")

# pylint: disable=wrong-import-position
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.instances import move_destination
from ansible_collections.vmfleet.compute.plugins.module_utils.instances import resize as instance_resize
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.location import InstanceLocation
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import live as live_migration
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.libvirt_test_fleet import (
    fleet, flavor, guest, network, pool)
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.xml_factory import domain_xml

MODELS = ("virtio", "e1000", "e1000e", "rtl8139")


def with_devices(*device_xml):
    """A guest's domain XML with these elements added to <devices>."""
    root = ET.fromstring(domain_xml("vm1"))
    root.find("devices").extend(ET.fromstring(text) for text in device_xml)
    return ET.tostring(root, encoding="unicode")


def interface_xml(kind, source, mac, model=None):
    model_xml = '<model type="%s"/>' % model if model else ""
    return '<interface type="%s"><mac address="%s"/><source %s="%s"/>%s</interface>' % (
        kind, mac, kind, source, model_xml)


def locate(hosts, name="vm1"):
    return InstanceLocation(hosts, name)


# --- interfaces_of ------------------------------------------------------------------------------

@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["network", "bridge"]),
                          st.text(alphabet="abcdefghij0123456789-", min_size=1, max_size=12),
                          st.integers(0, 2 ** 24 - 1), st.sampled_from((None,) + MODELS)), max_size=5))
def test_interfaces_are_read_back_as_instance_request_gives_them_macs_kept(interfaces):
    rows = [(kind, source, "52:54:00:%02x:%02x:%02x" % (n >> 16, (n >> 8) & 255, n & 255), model)
            for kind, source, n, model in interfaces]
    xml = with_devices(*(interface_xml(*row) for row in rows))
    assert move_destination.interfaces_of(xml) == [
        {"type": kind, "source": source, "mac": mac, "model": model or "virtio"} for kind, source, mac, model in rows]


@pytest.mark.parametrize("element, kind", [
    ('<interface type="user"><mac address="52:54:00:00:00:01"/></interface>', "user"),
    ('<interface type="direct"><mac address="52:54:00:00:00:01"/><source dev="eth0" mode="vepa"/></interface>',
     "direct"),
    ('<interface type="network"><mac address="52:54:00:00:00:01"/></interface>', "network"),
])
def test_an_interface_another_host_cannot_recreate_is_an_error_naming_its_type(element, kind):
    with pytest.raises(VmfleetError) as refused:
        move_destination.interfaces_of(with_devices(interface_xml("bridge", "br0", "52:54:00:00:00:02"), element))
    assert refused.value.message == "interface of type %s cannot be re-created on another host" % kind


# --- instance_from and check_host_devices ---------------------------------------------------------

def test_the_instance_is_rebuilt_from_metadata_xml_and_uuid_with_the_flavor_asked(tmp_path):
    old, new = flavor("m1.small"), flavor("m1.large", vcpus=4, memory_mb=4096, root_gb=20, ephemeral_gb=5)
    nics = [("bridge", "br-prod", "52:54:00:aa:bb:01"), ("network", "default", "52:54:00:aa:bb:02")]
    hints = {"group": {"name": "web", "policy": "anti-affinity"}}
    hosts = fleet(tmp_path, {"hv1": [guest("vm1", instance_flavor=old, hints=hints, interfaces=nics)]})
    located = locate(hosts)
    instance = move_destination.instance_from(located, new, {"host_subset_size": 2})
    assert (instance.name, instance.flavor, instance.uuid) == ("vm1", new, located.domain.UUIDString())
    assert instance.image == {"name": "cirros-0.6.qcow2", "properties": {}, "source": None}
    assert instance.networks == [{"type": kind, "source": source, "mac": mac, "model": "virtio"}
                                 for kind, source, mac in nics]
    assert instance.request["hints"] == hints
    assert instance.request["flavor"]["disk_gb"] == 25 and instance.request["flavor"]["vcpus"] == 4
    assert instance.scheduler_config["host_subset_size"] == 2
    # the metadata read from the guest is not changed by what the move does to the request
    instance.request["hints"]["availability_zone"] = "az9"
    assert located.metadata["request"]["hints"] == hints


def test_a_guest_without_host_devices_may_move(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1")], "hv2": []})
    assert move_destination.check_host_devices(locate(hosts), hosts) is None


@pytest.mark.parametrize("others, named", [(["hv2", "hv3"], "hv2, hv3"), ([], "no other host")])
def test_a_guest_with_host_devices_is_refused_naming_devices_and_hosts(tmp_path, others, named):
    layout = dict((name, []) for name in others)
    layout["hv1"] = [guest("vm1", hostdevs=["0000:3b:00.1"])]
    hosts = fleet(tmp_path, layout)
    with pytest.raises(VmfleetError) as refused:
        move_destination.check_host_devices(locate(hosts), hosts)
    assert refused.value.message == ("vm1 has host devices (0000:3b:00.1): none of %s can be checked to offer "
                                     "the same devices, so it cannot be moved; detach them first" % named)
    assert refused.value.details == {"instance": "vm1", "host": "hv1"}


# --- plan_destination -----------------------------------------------------------------------------

def planned(hosts, allow_same_host=False, destination=None, excluded=(), seed=1, **options):
    located = locate(hosts)
    instance = move_destination.instance_from(located, located.metadata["flavor"], None)
    placement = move_destination.plan_destination(hosts, located, instance, allow_same_host, destination,
                                                  excluded, seed, **options)
    return placement, instance


def test_a_move_leaves_the_source_and_stays_in_its_availability_zone(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1")], "hv2": [], "hv3": [], "hv4": []},
                  per_host={"hv1": {"availability_zone": "az1"}, "hv3": {"availability_zone": "az1"}})
    for seed in range(5):
        placement, instance = planned(hosts, seed=seed)
        assert placement["host"] == "hv3" and placement["name"] == "vm1"
        assert instance.request["hints"]["availability_zone"] == "az1"


def test_asking_for_another_availability_zone_is_invalid_input(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1", hints={"availability_zone": "az2"})], "hv2": []},
                  per_host={"hv1": {"availability_zone": "az1"}})
    with pytest.raises(InvalidInput) as invalid:
        planned(hosts)
    assert invalid.value.field == "hints.availability_zone" and invalid.value.value == "az2"
    assert invalid.value.message == ("invalid hints.availability_zone='az2': a move never takes an instance to "
                                     "another availability zone (allowed: the source's availability zone az1)")


def test_excluded_hosts_are_avoided_and_the_callers_list_is_left_alone(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1")], "hv2": [], "hv3": []})
    excluded = ["hv2"]
    assert planned(hosts, excluded=excluded)[0]["host"] == "hv3"
    assert excluded == ["hv2"]


def test_the_source_is_a_destination_only_when_allowed(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1")]})
    assert planned(hosts, allow_same_host=True)[0]["host"] == "hv1"
    with pytest.raises(VmfleetError) as nowhere:
        planned(hosts)
    assert nowhere.value.message.startswith("No valid host was found for vm1: hv1: RetryFilter")
    assert nowhere.value.message.endswith(" (the source hv1 is excluded: allow_resize_to_same_host is false)")
    assert [r["host"] for r in nowhere.value.details["rejections"]] == ["hv1"]
    with pytest.raises(VmfleetError) as live:
        planned(hosts, same_host_option=None)
    assert live.value.message.endswith(" (the source hv1 is excluded: a guest cannot move to its own host)")


def test_a_named_destination_is_used_even_when_excluded_by_an_earlier_try(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1")], "hv2": [], "hv3": []})
    for seed in range(4):
        assert planned(hosts, destination="hv2", excluded=["hv2"], seed=seed)[0]["host"] == "hv2"


def test_a_named_destination_still_passes_the_filters(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1")], "hv2": [], "hv3": []}, per_host={"hv2": {"enabled": False}})
    with pytest.raises(VmfleetError) as refused:
        planned(hosts, destination="hv2")
    assert "hv2: ComputeFilter: host is disabled" in refused.value.message
    assert [(r["host"], r["filter"]) for r in refused.value.details["rejections"]] == [("hv2", "ComputeFilter")]


def test_a_named_destination_must_be_a_given_host_other_than_the_source(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1")], "hv2": []})
    with pytest.raises(InvalidInput) as unknown:
        planned(hosts, destination="hv9", destination_field="target_host")
    assert (unknown.value.field, unknown.value.allowed) == ("target_host", "one of the given hosts: hv1, hv2")
    with pytest.raises(InvalidInput) as source:
        planned(hosts, destination="hv1")
    assert source.value.message == ("invalid host='hv1': allow_resize_to_same_host is false (allowed: another host "
                                    "than the source hv1)")
    assert planned(hosts, destination="hv1", allow_same_host=True)[0]["host"] == "hv1"


# --- references_missing, and the moves that ask it ---------------------------------------------

def network_fleet(tmp_path):
    """vm1 running on hv1 on the network ``prod``; hv2 has no such network, hv3 has it stopped, hv4 running."""
    nic = [("network", "prod", "52:54:00:aa:bb:03")]
    hosts = fleet(tmp_path, {"hv1": ([guest("vm1", interfaces=nic)], [pool(), network("prod", "virbr7")]),
                             "hv2": ([], [pool()]), "hv3": ([], [pool(), network("prod", "virbr7")]),
                             "hv4": ([], [pool(), network("prod", "virbr7")])})
    hosts.conn("hv3").networkLookupByName("prod").destroy()  # defined, not running
    hosts.refresh()
    return hosts


def test_a_destination_without_the_guests_network_is_named_and_a_stopped_one_refuses_a_running_guest(tmp_path):
    hosts = network_fleet(tmp_path)
    instance = move_destination.instance_from(locate(hosts), flavor(), None)
    missing = move_destination.references_missing(hosts.conn("hv2"), instance, "hv2", must_be_active=True)
    assert missing.startswith("network 'prod' does not exist on host hv2")
    stopped = move_destination.references_missing(hosts.conn("hv3"), instance, "hv3", must_be_active=True)
    assert stopped.startswith("network 'prod' on host hv3 is defined but not active")
    assert move_destination.references_missing(hosts.conn("hv3"), instance, "hv3", must_be_active=False) is None
    assert move_destination.references_missing(hosts.conn("hv4"), instance, "hv4", must_be_active=True) is None


def test_a_live_migration_to_a_host_without_the_network_is_refused_before_anything_moves(tmp_path):
    hosts = network_fleet(tmp_path)
    with pytest.raises(VmfleetError) as refused:
        live_migration.live_migrate(hosts, locate(hosts), destination="hv2", check_mode=True)
    # the facts say hv2 has no such network: the scheduler refuses it
    assert "hv2: NetworkFilter: network 'prod' is not defined here (networks: default)" in refused.value.message
    assert refused.value.details["running"] is True
    # facts read before the network went away: the destination itself refuses
    hosts.conn("hv4").networkLookupByName("prod").destroy()
    hosts.conn("hv4").networkLookupByName("prod").undefine()
    with pytest.raises(VmfleetError) as refused:
        live_migration.live_migrate(hosts, locate(hosts), destination="hv4", check_mode=True)
    assert "vm1 cannot be live-migrated to hv4: hv4: network 'prod' does not exist on host hv4" in refused.value.message
    hosts = network_fleet(tmp_path)
    # left to the scheduler, the plan goes where the network runs, saying which hosts it passed over
    planned = live_migration.live_migrate(hosts, locate(hosts), check_mode=True, max_attempts=3)
    assert planned["destination"] == "hv4"
    assert all(a["host"] in ("hv2", "hv3") for a in planned["attempts"])


def test_a_cold_migration_to_a_host_without_the_network_is_refused_and_one_with_it_stopped_is_not(tmp_path):
    hosts = network_fleet(tmp_path)
    with pytest.raises(VmfleetError) as refused:
        instance_resize.resize(hosts, locate(hosts), destination="hv2", check_mode=True)
    assert "hv2: NetworkFilter: network 'prod' is not defined here" in refused.value.message
    # shut off, the guest needs the network defined there, not running
    locate(hosts).domain.destroy()
    planned = instance_resize.resize(hosts, locate(hosts), destination="hv3", check_mode=True)
    assert planned["destination"] == "hv3"


def test_when_no_host_is_left_the_error_says_why_each_one_tried_refused(tmp_path):
    hosts = network_fleet(tmp_path)
    hosts.conn("hv4").networkLookupByName("prod").destroy()
    with pytest.raises(VmfleetError) as refused:
        live_migration.live_migrate(hosts, locate(hosts), check_mode=True, max_attempts=5)
    text = refused.value.message
    assert text.startswith("vm1 cannot be live-migrated: ")
    assert "hv2: NetworkFilter: network 'prod' is not defined here" in text, text  # the facts say so
    for host in ("hv3", "hv4"):  # defined, so the scheduler lets the host itself say it is not running
        assert "%s: network 'prod' on host %s is defined but not active" % (host, host) in text, text
    assert "; no other host: No valid host was found" in text
    assert sorted(a["host"] for a in refused.value.details["attempts"]) == ["hv3", "hv4"]


@pytest.mark.parametrize("actual", [
    "<interface type='bridge'><mac address='52:54:00:1e:52:8f'/>"
    "<source network='vmfleet' portid='2a76e8a1-3a92-441d-9d2b-cbe885f6fc02' bridge='br0'/>"
    "<target dev='vnet2'/><model type='virtio'/></interface>",
    "<interface type='direct'><mac address='52:54:00:1e:52:8f'/>"
    "<source network='vmfleet' portid='2a76e8a1-3a92-441d-9d2b-cbe885f6fc02' dev='eth0' mode='bridge'/>"
    "<model type='virtio'/></interface>",
])
def test_an_interface_a_running_guest_has_on_a_network_stays_on_that_network(actual):
    # what libvirt 9 shows of a running guest on a network that forwards onto a bridge (as the lab's does)
    assert move_destination.interfaces_of(with_devices(actual)) == [
        {"type": "network", "source": "vmfleet", "mac": "52:54:00:1e:52:8f", "model": "virtio"}]
