# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The instance module's refusals before anything is made, on libvirt test-driver hosts: a bad name (before any
host is opened), a network the target host lacks, a placement on another host than the existing instance's.
And what must keep working: a name with XML specials, escaped, defined and found again by libvirt."""

from __future__ import annotations

import pytest

libvirt = pytest.importorskip("libvirt")

# pylint: disable=wrong-import-position
from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.instances import lifecycle
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.ensure import ensure_instance
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.model import Instance
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.request import normalize_networks
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.networks import check_networks
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.libvirt_test_fleet import (
    fleet, flavor, guest, node_uri, pool)

IMAGE = "cirros-0.6.qcow2"
NETWORK = '<network><name>vmfleet</name><bridge name="vmfleet0"/></network>'


def instance(name, networks=(), hints=None):
    """The Instance the module makes of a request: the default flavor and image of libvirt_test_fleet's guests."""
    return Instance(name, flavor(), {"name": IMAGE, "properties": {}}, normalize_networks(list(networks), name),
                    hints or {}, None)


def host_contents(hosts):
    """What every host holds: its guests and their state, each pool's volumes, the claims in the store."""
    seen = {}
    for name in hosts.names():
        conn = hosts.conn(name)
        seen[name] = (sorted((d.name(), d.isActive()) for d in conn.listAllDomains()),
                      sorted((p.name(), tuple(sorted(p.listVolumes()))) for p in conn.listAllStoragePools()),
                      hosts.store.claims(name))
    return seen


def lab(tmp_path, guests=None):
    pools = [pool(volumes=[(IMAGE, 1)]), NETWORK]
    return fleet(tmp_path, {"hv1": (list(guests or []), pools), "hv2": ([], pools)})


@pytest.mark.parametrize("name", ["..", "a/b", "x" * 300, "bad\nname", "-rf"])
def test_a_bad_name_is_refused_before_any_host_is_opened(name):
    # no fleet at all: the name is checked before the first lookup
    with pytest.raises(InvalidInput) as caught:
        ensure_instance(None, name, state=states.INSTANCE_RUNNING, instance=None)
    assert caught.value.field == "name"


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_network_the_host_lacks_is_refused_naming_host_network_and_the_networks_there(tmp_path, check_mode):
    hosts = lab(tmp_path)
    before = host_contents(hosts)
    with pytest.raises(VmfleetError) as caught:
        lifecycle.create(hosts, instance("vm1", [{"network": "nosuch"}]), True, placement={"host": "hv2"},
                         check_mode=check_mode)
    assert caught.value.message == ("network 'nosuch' does not exist on host hv2 (networks there: vmfleet): define "
                                    "it there, or name one of those; nothing was created")
    assert caught.value.details == {"network": "nosuch", "host": "hv2", "networks": ["vmfleet"]}
    assert host_contents(hosts) == before


def test_networks_that_exist_pass_and_an_inactive_one_only_when_the_guest_stays_off(tmp_path):
    conn = libvirt.open(node_uri(tmp_path, "hv1", pools=[pool(), NETWORK]))
    check_networks(conn, ["vmfleet"], "hv1", must_be_active=True)
    conn.networkLookupByName("vmfleet").destroy()
    check_networks(conn, ["vmfleet"], "hv1", must_be_active=False)
    with pytest.raises(VmfleetError) as caught:
        check_networks(conn, ["vmfleet"], "hv1", must_be_active=True)
    assert "network 'vmfleet' on host hv1 is defined but not active" in caught.value.message
    assert "virsh net-start vmfleet" in caught.value.message


def test_a_name_with_xml_specials_is_escaped_and_libvirt_finds_it_by_that_name(tmp_path):
    hosts = lab(tmp_path)
    name = "a<b&c'd\"e>"
    plan = lifecycle.create(hosts, instance(name, [{"network": "vmfleet"}]), False, placement={"host": "hv1"},
                            check_mode=True)
    conn = hosts.conn("hv1")
    conn.defineXML(plan["domain_xml"])
    assert conn.lookupByName(name).name() == name


@pytest.mark.parametrize("field, asked", [("placement.host", {"placement": {"host": "hv2"}}),
                                          ("hints.force_host", {"hints": {"force_host": "hv2"}})])
def test_a_placement_on_another_host_than_the_existing_instances_is_refused(tmp_path, field, asked):
    hosts = lab(tmp_path, [guest("vm1", disk_folder="/pool")])
    before = host_contents(hosts)
    with pytest.raises(InvalidInput) as caught:
        ensure_instance(hosts, "vm1", state=states.INSTANCE_STOPPED, instance=instance("vm1", hints=asked.get("hints")),
                        placement=asked.get("placement"))
    assert caught.value.field == field and caught.value.value == "hv2"
    assert ("instance vm1 exists on hv1 already and this module does not move it: move it with "
            "vmfleet.compute.live_migrate (destination: hv2)") in caught.value.message
    assert "nothing was changed" in caught.value.message
    # not even the power change the task asked for
    assert host_contents(hosts) == before


def test_without_match_existing_a_forced_host_warns_and_a_batch_placement_does_not(tmp_path):
    hosts = lab(tmp_path, [guest("vm1", state="shutoff")])
    result, _before, _after = ensure_instance(hosts, "vm1", state=states.INSTANCE_PRESENT,
                                              instance=instance("vm1", hints={"force_host": "hv2"}),
                                              match_existing=False)
    assert result["instance"]["host"] == "hv1" and not result["changed"]
    assert result["warnings"] == ["hints.force_host=hv2 not honoured: instance vm1 exists on hv1 already and this "
                                  "module does not move it: move it with vmfleet.compute.live_migrate (destination: "
                                  "hv2) or vmfleet.compute.resize (host: hv2)"]
    result, _before, _after = ensure_instance(hosts, "vm1", state=states.INSTANCE_PRESENT, instance=instance("vm1"),
                                              placement={"host": "hv2"}, match_existing=False)
    assert result["warnings"] == []


def test_a_placement_on_the_instances_own_host_is_honoured_quietly(tmp_path):
    hosts = lab(tmp_path, [guest("vm1", state="shutoff")])
    result, _before, _after = ensure_instance(hosts, "vm1", state=states.INSTANCE_PRESENT, instance=instance("vm1"),
                                              placement={"host": "hv1"})
    assert result["warnings"] == [] and result["instance"]["host"] == "hv1"


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_pool_the_host_lacks_is_refused_naming_host_pool_and_the_pools_there(tmp_path, check_mode):
    pools = [pool("images", volumes=[(IMAGE, 1)]), NETWORK]
    hosts = fleet(tmp_path, {"hv1": ([], pools)})
    before = host_contents(hosts)
    with pytest.raises(VmfleetError) as caught:
        lifecycle.create(hosts, instance("vm1", [{"network": "vmfleet"}]), True, placement={"host": "hv1"},
                         check_mode=check_mode)
    assert caught.value.message.startswith("storage pool 'default' does not exist on host hv1 (pools there: images)")
    assert host_contents(hosts) == before


def test_a_bridge_the_host_lacks_is_refused_and_one_it_has_passes(tmp_path):
    bridge = ('<interface type="bridge" name="br0"><start mode="onboot"/><protocol family="ipv4"><dhcp/></protocol>'
              '<bridge stp="off"><interface type="ethernet" name="eth0"><mac address="52:54:00:aa:bb:cc"/></interface>'
              '</bridge></interface>')
    hosts = fleet(tmp_path, {"hv1": ([], [pool(volumes=[(IMAGE, 1)]), NETWORK, bridge])})
    before = host_contents(hosts)
    plan = lifecycle.create(hosts, instance("vm1", [{"bridge": "br0"}]), True, placement={"host": "hv1"},
                            check_mode=True)
    assert "<source bridge='br0'/>" in plan["domain_xml"] or 'bridge="br0"' in plan["domain_xml"]
    with pytest.raises(VmfleetError) as caught:
        lifecycle.create(hosts, instance("vm1", [{"network": "vmfleet"}, {"bridge": "br9"}]), True,
                         placement={"host": "hv1"})
    assert caught.value.message == ("bridge 'br9' does not exist on host hv1: create it there, or name a bridge or a "
                                    "libvirt network it has; nothing was created")
    assert host_contents(hosts) == before
