# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The disks of a live migration over libvirt's test driver: shared storage or a block migration, and
what is created on the destination.

Hosts with their own node file have storage of their own, even over the same folder; two hosts on
``test:///default`` share one driver, so a file one creates the other sees: shared storage.
"""

from __future__ import annotations

import pytest

libvirt = pytest.importorskip("libvirt")

# pylint: disable=wrong-import-position
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.host.fleet import Fleet
from ansible_collections.vmfleet.compute.plugins.module_utils.instances import move_destination
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.location import InstanceLocation
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import storage
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.libvirt_test_fleet import (
    GIB, fleet, flavor, guest, pool)
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.scheduler.host_factory import make_host

IMAGE = "cirros-0.6.qcow2"
SHARED_URI = "test:///default"
SHARED_POOL, SHARED_FOLDER = "default-pool", "/default-pool"  # what test:///default starts with


def volume_names(hosts, host_name, pool_name="default"):
    return sorted(hosts.conn(host_name).storagePoolLookupByName(pool_name).listVolumes())


def two_hosts(tmp_path, instance_flavor=None, source_volumes=None, dest_pools=None, disks=None):
    """vm1 on hv1 (root overlay over the cached image in /pool), hv2 with ``dest_pools`` (default: a pool
    over another folder holding the image)."""
    instance_flavor = instance_flavor or flavor(root_gb=10)
    if source_volumes is None:
        source_volumes = [(IMAGE, 1), ("vm1.disk.qcow2", 10, "/pool/" + IMAGE)]
    if dest_pools is None:
        dest_pools = [pool(folder="/srv/images", volumes=[(IMAGE, 1)])]
    return fleet(tmp_path, {"hv1": ([guest("vm1", instance_flavor=instance_flavor, disks=disks)],
                                    [pool(volumes=source_volumes)]),
                            "hv2": ([], dest_pools)})


def planned(hosts, block_migration=storage.AUTO):
    located = InstanceLocation(hosts, "vm1", ["hv1"])
    instance = move_destination.instance_from(located, located.metadata["flavor"], None)
    return storage.plan(hosts, located, instance, hosts.host("hv2"), block_migration), instance


@pytest.fixture
def shared_hosts():
    """hv1 and hv2 on one test:///default driver: vm1's disk in its pool is seen from both."""
    with libvirt_client.connection(SHARED_URI, "shared") as conn:
        disk_pool = conn.storagePoolLookupByName(SHARED_POOL)
        disk = disk_pool.createXML("<volume><name>vm1.disk.qcow2</name><capacity>%d</capacity><target><format "
                                   "type='qcow2'/></target></volume>" % (10 * GIB), 0)
        xml = guest("vm1", disk_folder=SHARED_FOLDER)
        domain = conn.defineXML(xml)
        try:
            hosts = fleet_on(SHARED_URI, ["hv1", "hv2"])
            for name in hosts.names():
                hosts.host(name).config["instance_pools"] = [SHARED_POOL]
            yield hosts
            hosts.close()
        finally:
            domain.undefine()
            disk.delete(0)


def fleet_on(uri, names):
    """A Fleet of generated hosts all reached at ``uri``."""
    facts = [dict(make_host(name), uri=uri) for name in names]
    return Fleet(facts)


# --- shares_storage -------------------------------------------------------------------------------

def test_storage_is_shared_when_the_destination_sees_a_probe_created_next_to_the_disk(shared_hosts):
    path = SHARED_FOLDER + "/vm1.disk.qcow2"
    before = volume_names(shared_hosts, "hv1", SHARED_POOL)
    assert storage.shares_storage(shared_hosts.conn("hv1"), shared_hosts.conn("hv2"), path) is True
    assert volume_names(shared_hosts, "hv1", SHARED_POOL) == before  # the probe is gone


def test_a_pool_over_the_same_folder_on_separate_storage_is_not_shared(tmp_path):
    hosts = two_hosts(tmp_path, dest_pools=[pool(folder="/pool", volumes=[(IMAGE, 1)])])
    assert storage.shares_storage(hosts.conn("hv1"), hosts.conn("hv2"), "/pool/vm1.disk.qcow2") is False
    assert volume_names(hosts, "hv1") == [IMAGE, "vm1.disk.qcow2"]
    assert volume_names(hosts, "hv2") == [IMAGE]


def test_no_pool_over_the_folder_on_the_destination_is_not_shared(tmp_path):
    hosts = two_hosts(tmp_path)
    assert storage.shares_storage(hosts.conn("hv1"), hosts.conn("hv2"), "/pool/vm1.disk.qcow2") is False
    assert volume_names(hosts, "hv1") == [IMAGE, "vm1.disk.qcow2"]


def test_a_disk_in_no_pool_is_an_error_naming_the_path(tmp_path):
    hosts = two_hosts(tmp_path)
    with pytest.raises(VmfleetError) as missing:
        storage.shares_storage(hosts.conn("hv1"), hosts.conn("hv2"), "/elsewhere/vm1.qcow2")
    assert "no storage pool on %s holds /elsewhere/vm1.qcow2" % hosts.host("hv1").uri in missing.value.message


# --- plan: shared or block, and where each disk goes ----------------------------------------------

@pytest.mark.parametrize("block_migration", [storage.AUTO, False])
def test_on_shared_storage_the_disks_stay_where_they_are(shared_hosts, block_migration):
    plan, _instance = planned(shared_hosts, block_migration)
    assert plan == {"mode": storage.SHARED, "disks": [{
        "target": "vda", "source_path": SHARED_FOLDER + "/vm1.disk.qcow2", "format": "qcow2",
        "capacity_bytes": 10 * GIB, "allocation_bytes": plan["disks"][0]["allocation_bytes"], "backing_path": None,
        "pool": None, "volume": None, "dest_path": SHARED_FOLDER + "/vm1.disk.qcow2", "role": None}]}


def test_block_migration_true_copies_even_shared_disks(shared_hosts):
    plan, _instance = planned(shared_hosts, True)
    assert plan["mode"] == storage.BLOCK
    [disk] = plan["disks"]
    assert (disk["pool"], disk["volume"], disk["role"]) == (SHARED_POOL, "vm1.disk.qcow2", "root")


def test_without_shared_storage_each_disk_gets_the_flavors_volume_in_the_destination_pool(tmp_path):
    with_ephemeral = flavor(root_gb=10, ephemeral_gb=2)
    hosts = two_hosts(tmp_path, instance_flavor=with_ephemeral,
                      source_volumes=[(IMAGE, 1), ("vm1.disk.qcow2", 10, "/pool/" + IMAGE), ("vm1.eph.qcow2", 2)],
                      disks=[{"source": "/pool/vm1.disk.qcow2", "target": "vda"},
                             {"source": "/pool/vm1.eph.qcow2", "target": "vdb"},
                             {"source": "/iso/install.iso", "target": "sda", "device": "cdrom", "format": "raw"}])
    plan, _instance = planned(hosts)
    assert plan["mode"] == storage.BLOCK
    assert [(d["target"], d["role"], d["pool"], d["volume"], d["dest_path"], d["backing_path"], d["capacity_bytes"])
            for d in plan["disks"]] == [
        ("vda", "root", "default", "vm1.disk.qcow2", "/srv/images/vm1.disk.qcow2", "/pool/" + IMAGE, 10 * GIB),
        ("vdb", "ephemeral", "default", "vm1.disk.eph0.qcow2", "/srv/images/vm1.disk.eph0.qcow2", None, 2 * GIB)]


def test_a_flavors_disk_tier_picks_the_destination_pool(tmp_path):
    tiered = flavor(root_gb=10, extra_specs={"vmfleet:disk_tier": "fast"})
    hosts = two_hosts(tmp_path, instance_flavor=tiered,
                      dest_pools=[pool(folder="/srv/images"), pool("nvme", folder="/nvme", volumes=[(IMAGE, 1)])])
    hosts.host("hv2").config["disk_tiers"] = {"fast": "nvme"}
    plan, _instance = planned(hosts)
    assert [(d["pool"], d["dest_path"]) for d in plan["disks"]] == [("nvme", "/nvme/vm1.disk.qcow2")]


def test_refusing_block_migration_without_shared_storage_is_invalid_input(tmp_path):
    hosts = two_hosts(tmp_path)
    with pytest.raises(InvalidInput) as invalid:
        planned(hosts, block_migration=False)
    assert (invalid.value.field, invalid.value.value, invalid.value.allowed) == ("block_migration", False,
                                                                                 "true or auto")
    assert "the disks of vm1 are not on storage hv1 shares with hv2" in invalid.value.message


@pytest.mark.parametrize("disk, kind", [
    ({"type": "network", "source": "rbd/vm1", "target": "vda"}, "network"),
    ({"type": "volume", "pool": "default", "volume": "vm1.disk.qcow2", "target": "vda"}, "volume"),
])
def test_only_file_disks_can_be_moved(tmp_path, disk, kind):
    with pytest.raises(VmfleetError) as refused:
        planned(two_hosts(tmp_path, disks=[disk]))
    assert refused.value.message == "disk vda of vm1 is not a file (%s): only file disks can be moved" % kind


def test_a_disk_the_flavor_does_not_give_cannot_be_placed(tmp_path):
    hosts = two_hosts(tmp_path, source_volumes=[(IMAGE, 1), ("vm1.disk.qcow2", 10), ("extra.qcow2", 5)],
                      disks=[{"source": "/pool/vm1.disk.qcow2", "target": "vda"},
                             {"source": "/pool/extra.qcow2", "target": "vdc"}])
    with pytest.raises(VmfleetError) as refused:
        planned(hosts)
    assert refused.value.message == ("disk vdc of vm1 is not one its flavor gives (vda): it cannot be placed on "
                                     "hv2")


# --- prepare and delete_volumes -------------------------------------------------------------------

def test_shared_storage_prepares_nothing(shared_hosts):
    plan, instance = planned(shared_hosts)
    created = []
    assert storage.prepare(shared_hosts, instance, shared_hosts.host("hv2"), plan, created) == []
    assert created == []


def test_a_block_migration_creates_an_overlay_on_the_destinations_base_and_blank_other_disks(tmp_path):
    hosts = two_hosts(tmp_path, instance_flavor=flavor(root_gb=10, swap=512),
                      source_volumes=[(IMAGE, 1), ("vm1.disk.qcow2", 10, "/pool/" + IMAGE), ("vm1.swap", 1)],
                      disks=[{"source": "/pool/vm1.disk.qcow2", "target": "vda"},
                             {"source": "/pool/vm1.swap", "target": "vdb"}])
    plan, instance = planned(hosts)
    created = []
    actions = storage.prepare(hosts, instance, hosts.host("hv2"), plan, created)
    assert actions == ["prepared vm1.disk.qcow2 on hv2", "prepared vm1.disk.swap.qcow2 on hv2"]
    assert created == [{"pool": "default", "volume": "vm1.disk.qcow2"},
                       {"pool": "default", "volume": "vm1.disk.swap.qcow2"}]
    dest_pool = hosts.conn("hv2").storagePoolLookupByName("default")
    root = dest_pool.storageVolLookupByName("vm1.disk.qcow2")
    assert root.info()[1] == 10 * GIB and "<path>/srv/images/%s</path>" % IMAGE in root.XMLDesc(0)
    swap = dest_pool.storageVolLookupByName("vm1.disk.swap.qcow2")
    assert swap.info()[1] == GIB and "<backingStore>" not in swap.XMLDesc(0)
    assert storage.delete_volumes(hosts.conn("hv2"), created, "hv2") == []
    assert volume_names(hosts, "hv2") == [IMAGE]


def test_a_volume_left_on_the_destination_stops_the_preparation(tmp_path):
    hosts = two_hosts(tmp_path, dest_pools=[pool(folder="/srv/images", volumes=[(IMAGE, 1), ("vm1.disk.qcow2", 10)])])
    plan, instance = planned(hosts)
    created = []
    with pytest.raises(VmfleetError) as left:
        storage.prepare(hosts, instance, hosts.host("hv2"), plan, created)
    assert left.value.message.startswith("volume vm1.disk.qcow2 already exists in pool default on hv2")
    assert created == []


def test_a_base_image_that_cannot_be_copied_leaves_nothing_on_the_destination(tmp_path):
    # the test driver cannot stream volumes (the lab copies for real): the copy fails, the partial copy goes
    hosts = two_hosts(tmp_path, dest_pools=[pool(folder="/srv/images")])
    plan, instance = planned(hosts)
    created = []
    with pytest.raises(VmfleetError) as failed:
        storage.prepare(hosts, instance, hosts.host("hv2"), plan, created)
    assert "(the partial copy /srv/images/%s was deleted)" % IMAGE in failed.value.message
    assert created == [] and volume_names(hosts, "hv2") == []


def test_volumes_that_cannot_be_deleted_are_reported_not_raised(tmp_path):
    hosts = two_hosts(tmp_path)
    left = storage.delete_volumes(hosts.conn("hv2"), [{"pool": "gone", "volume": "vm1.disk.qcow2"}], "hv2")
    assert len(left) == 1 and left[0].startswith("volume vm1.disk.qcow2 in pool gone on hv2 (storage pool 'gone' "
                                                 "does not exist on host hv2")
