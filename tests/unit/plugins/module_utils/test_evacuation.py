# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evacuation of a failed host over libvirt's test driver.

hv1 is the host that fails: its node file is read once (the fleet remembers its guests in the store), then
removed, so libvirt can no longer open it. hv2 is ``test:///default``, whose pool ``default-pool`` stands
for storage every host sees (a volume created there is the failed host's disk at the same path); hv3 has
storage of its own, with the base image cached. Bringing hv1 back is writing its node file again.
"""

from __future__ import annotations

import os

import pytest

libvirt = pytest.importorskip("libvirt")

# pylint: disable=wrong-import-position
from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.evacuation import evacuate as evacuation
from ansible_collections.vmfleet.compute.plugins.module_utils.host.fleet import Fleet
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import domain_template
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.domain_xml import parse_domain
from ansible_collections.vmfleet.compute.plugins.module_utils.state import cordon as host_cordon
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.libvirt_test_fleet import (
    GIB, flavor, guest, network, node_uri, pool, store)
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.scheduler.host_factory import make_host

IMAGE = "cirros-0.6.qcow2"
SHARED_URI = "test:///default"
SHARED_POOL, SHARED_FOLDER = "default-pool", "/default-pool"  # what test:///default starts with
SMALL = flavor(name="m1.tiny", vcpus=1, memory_mb=128, root_gb=1)
# the test driver's blockInfo gives every disk this capacity, which the facts remember as its size
BLOCK_CAPACITY = 1099506450432


def failed_host_content(running=True):
    """hv1's guests: vm-nas on the shared folder, vm-local on its own pool, vm-foreign without metadata."""
    state = "running" if running else "shutoff"
    guests = [guest("vm-nas", state=state, instance_flavor=SMALL, disk_folder=SHARED_FOLDER),
              guest("vm-local", state=state, instance_flavor=SMALL,
                    disks=[{"source": "/pool/vm-local.disk.qcow2", "target": "vda", "backing": ["/pool/" + IMAGE]}]),
              guest("vm-foreign", state="shutoff", managed=False)]
    pools = [pool(volumes=[(IMAGE, 1), ("vm-local.disk.qcow2", 1, "/pool/" + IMAGE), ("vm-foreign.disk.qcow2", 1)]),
             pool(name=SHARED_POOL, folder=SHARED_FOLDER, volumes=[("vm-nas.disk.qcow2", 1)])]
    return guests, pools


class Lab(object):
    """The three hosts above and one state store; ``fleet()`` is a new Fleet as a new module run makes one."""

    def __init__(self, folder):
        self.folder = folder
        self.uris = {"hv1": node_uri(folder, "hv1", *failed_host_content()), "hv2": SHARED_URI,
                     "hv3": node_uri(folder, "hv3", [], [pool(volumes=[(IMAGE, 1)]), network()])}
        self.store = store(folder)
        self._fleets = []

    def fleet(self):
        facts = []
        for name in ("hv1", "hv2", "hv3"):
            # test:///default runs a guest of 8 GiB on 3 GiB, with a disk blockInfo calls 1 TiB: ratios that leave
            # room for these small guests
            settings = dict(cpu_allocation_ratio=16.0, ram_allocation_ratio=16.0, disk_allocation_ratio=100.0)
            item = dict(make_host(name, **settings), uri=self.uris[name])
            item["config"]["instance_pools"] = [SHARED_POOL] if name == "hv2" else ["default"]
            facts.append(item)
        fleet = Fleet(facts, self.store)
        self._fleets.append(fleet)
        return fleet

    def read_and_fail(self):
        """hv1 read once (its guests remembered), then down."""
        self.fleet().refresh()
        os.unlink(self.uris["hv1"][len("test://"):])

    def bring_back(self, running=False):
        """hv1's libvirtd answers again, with the guests it had (not running: it was powered off)."""
        node_uri(self.folder, "hv1", *failed_host_content(running=running))

    def close(self):
        for fleet in self._fleets:
            fleet.close()


@pytest.fixture
def lab(tmp_path, monkeypatch):
    """The lab, with vm-nas's disk in test:///default's shared pool; what the tests define there is removed.

    The test driver's capabilities offer the virt type ``test`` (no KVM, no QEMU); the domain template, which
    refuses it for real hosts, renders it here so the guests can be defined on the test driver."""
    monkeypatch.setattr(domain_template, "VIRT_TYPES", domain_template.VIRT_TYPES + ("test",))
    with libvirt_client.connection(SHARED_URI, "shared") as conn:
        conn.storagePoolLookupByName(SHARED_POOL).createXML(
            "<volume><name>vm-nas.disk.qcow2</name><capacity>%d</capacity><target><format type='qcow2'/></target>"
            "</volume>" % GIB, 0)
        lab = Lab(tmp_path)
        try:
            yield lab
        finally:
            lab.close()
            for name in ("vm-nas", "vm-local", "vm-foreign"):
                try:
                    domain = conn.lookupByName(name)
                except libvirt.libvirtError:
                    continue
                if domain.isActive():
                    domain.destroy()
                domain.undefine()
            for volume in conn.storagePoolLookupByName(SHARED_POOL).listAllVolumes(0):
                if volume.name().startswith("vm-"):
                    volume.delete(0)


def by_guest(result):
    return dict((g["guest"], g) for g in result["guests"])


def defined_on(fleet, name):
    return [host for host, _domain in fleet.find_domains(name, fleet.reachable())]


# --- what the store remembers ---------------------------------------------------------------------------

def test_reading_a_host_remembers_its_guests_with_their_xml_and_disks(lab):
    lab.fleet().refresh(["hv1"])
    remembered = lab.store.remembered_guests("hv1")
    assert [g["name"] for g in remembered["guests"]] == ["vm-foreign", "vm-local", "vm-nas"]
    nas = remembered["guests"][2]
    assert parse_domain(nas["domain_xml"])["metadata"]["flavor"]["name"] == "m1.tiny"
    assert nas["state"] == "running"
    assert [(d["source"], d["capacity_bytes"]) for d in nas["disks"]] == [
        (SHARED_FOLDER + "/vm-nas.disk.qcow2", BLOCK_CAPACITY)]
    assert lab.store.remembered_guests("hv9") is None


# --- evacuated ------------------------------------------------------------------------------------------

def test_shared_guests_come_back_with_their_disks_and_local_ones_are_reported(lab):
    lab.read_and_fail()
    fleet = lab.fleet()
    result = evacuation.evacuate(fleet, "hv1", fenced=True, by="ops")
    guests = by_guest(result)
    nas = guests["vm-nas"]
    assert (nas["result"], nas["how"], nas["to"], nas["data_lost"]) == (states.GUEST_EVACUATED, "shared", "hv2", False)
    domain = fleet.conn("hv2").lookupByName("vm-nas")
    assert domain.isActive()  # it ran when last seen
    assert [d["source"] for d in parse_domain(domain.XMLDesc(0))["disks"]] == [SHARED_FOLDER + "/vm-nas.disk.qcow2"]
    assert guests["vm-local"]["result"] == states.GUEST_NOT_EVACUATED
    assert "no other host sees" in guests["vm-local"]["reason"] and "allow_rebuild" in guests["vm-local"]["reason"]
    assert guests["vm-foreign"]["result"] == states.GUEST_NOT_EVACUATED
    assert defined_on(fleet, "vm-local") == [] and defined_on(fleet, "vm-foreign") == []
    assert result["cordon"]["reason"].startswith(states.EVACUATED_CORDON_REASON) and result["changed"]
    journal = [r for r in lab.store.migrations("hv1") if r["kind"] == states.EVACUATION]
    assert [(r["guest"], r["destination"], r["status"], r["how"]) for r in journal] == [
        ("vm-nas", "hv2", states.COMPLETED, "shared")]
    assert result["summary"]["evacuated"] == 1 and result["summary"]["not_evacuated"] == 2
    assert not result.get("failed")


def test_re_running_evacuates_nothing_twice(lab):
    lab.read_and_fail()
    evacuation.evacuate(lab.fleet(), "hv1", fenced=True)
    again = evacuation.evacuate(lab.fleet(), "hv1", fenced=True)
    assert by_guest(again)["vm-nas"]["result"] == states.GUEST_ALREADY_ELSEWHERE
    assert by_guest(again)["vm-nas"]["running_on"] == "hv2"
    assert again["changed"] is False
    assert len([r for r in lab.store.migrations("hv1") if r["kind"] == states.EVACUATION]) == 1


def test_allow_rebuild_rebuilds_local_guests_from_their_image_and_says_their_data_is_lost(lab):
    lab.read_and_fail()
    fleet = lab.fleet()
    result = evacuation.evacuate(fleet, "hv1", fenced=True, allow_rebuild=True)
    local = by_guest(result)["vm-local"]
    assert (local["result"], local["how"], local["data_lost"]) == (states.GUEST_REBUILT, "rebuild", True)
    assert defined_on(fleet, "vm-local") == [local["to"]]
    rebuilt = parse_domain(fleet.conn(local["to"]).lookupByName("vm-local").XMLDesc(0))
    assert rebuilt["uuid"] == parse_domain(guest("vm-local"))["uuid"]  # the same instance, a new disk
    assert result["summary"]["data_lost"] == 1
    assert by_guest(result)["vm-foreign"]["result"] == states.GUEST_NOT_EVACUATED  # no image to rebuild it from
    # each claim names the failed host: admission checks on its facts read before no longer count the guest there
    for moved in ("vm-local", "vm-nas"):
        with lab.store.host_section(by_guest(result)[moved]["to"]) as section:
            [kept] = [c for c in section.spent if c["instance"] == moved]
        assert kept.get("moves_from") == "hv1", kept


def test_check_mode_plans_and_changes_nothing(lab):
    lab.read_and_fail()
    fleet = lab.fleet()
    result = evacuation.evacuate(fleet, "hv1", fenced=True, allow_rebuild=True, check_mode=True)
    assert by_guest(result)["vm-nas"]["result"] == states.GUEST_PLANNED
    assert by_guest(result)["vm-nas"]["to"] == "hv2" and by_guest(result)["vm-local"]["to"] in ("hv2", "hv3")
    assert by_guest(result)["vm-local"]["data_lost"] is True
    assert defined_on(fleet, "vm-nas") == [] and lab.store.cordon("hv1") is None
    assert lab.store.migrations("hv1") == []


@pytest.mark.parametrize("fenced", [False, None, "yes"])
def test_an_unfenced_host_is_refused_naming_the_option(lab, fenced):
    lab.read_and_fail()
    with pytest.raises(InvalidInput) as caught:
        evacuation.evacuate(lab.fleet(), "hv1", fenced=fenced)
    assert caught.value.details["field"] == "fenced" and "twice" in caught.value.message
    assert lab.store.cordon("hv1") is None


def test_a_host_that_answers_is_refused_without_force(lab):
    fleet = lab.fleet()
    with pytest.raises(VmfleetError) as caught:
        evacuation.evacuate(fleet, "hv1", fenced=True)
    assert "host hv1 answers" in caught.value.message and "force" in caught.value.message
    assert lab.store.cordon("hv1") is None and defined_on(fleet, "vm-nas") == ["hv1"]


def test_with_force_a_guest_its_libvirt_says_runs_is_left_alone(lab):
    fleet = lab.fleet()
    result = evacuation.evacuate(fleet, "hv1", fenced=True, force=True)
    nas = by_guest(result)["vm-nas"]
    assert nas["result"] == states.GUEST_NOT_EVACUATED and "would run twice" in nas["reason"]
    assert defined_on(fleet, "vm-nas") == ["hv1"]


def test_a_host_never_read_with_this_store_is_refused(lab):
    os.unlink(lab.uris["hv1"][len("test://"):])
    with pytest.raises(VmfleetError) as caught:
        evacuation.evacuate(lab.fleet(), "hv1", fenced=True)
    assert "no record of the guests of hv1" in caught.value.message
    assert lab.store.cordon("hv1") is None


def test_an_unknown_host_is_invalid_input(lab):
    with pytest.raises(InvalidInput) as caught:
        evacuation.evacuate(lab.fleet(), "hv7", fenced=True)
    assert caught.value.details["field"] == "host"


# --- cleaned --------------------------------------------------------------------------------------------

def test_cleaning_the_returned_host_removes_only_the_stale_copies_and_uncordons_it(lab):
    lab.read_and_fail()
    fleet = lab.fleet()  # one fleet throughout: a test:///<file> host forgets what a new connection did not see
    evacuation.evacuate(fleet, "hv1", fenced=True)
    lab.bring_back()
    fleet.refresh(["hv1"])
    assert sorted(defined_on(fleet, "vm-nas")) == ["hv1", "hv2"]
    plan = evacuation.clean(fleet, "hv1", check_mode=True)
    assert [c["guest"] for c in plan["cleaned"]] == ["vm-nas"] and defined_on(fleet, "vm-nas") == ["hv1", "hv2"]
    result = evacuation.clean(fleet, "hv1")
    assert [(c["guest"], c["running_on"], c["deleted_disks"]) for c in result["cleaned"]] == [("vm-nas", "hv2", [])]
    assert defined_on(fleet, "vm-nas") == ["hv2"]
    assert fleet.conn("hv2").lookupByName("vm-nas").isActive()
    # the guests that were not evacuated stay on their host, with their data
    assert defined_on(fleet, "vm-local") == ["hv1"] and defined_on(fleet, "vm-foreign") == ["hv1"]
    assert result["cordon"] is None and lab.store.cordon("hv1") is None
    assert evacuation.clean(fleet, "hv1")["changed"] is False


def test_cleaning_destroys_a_stale_copy_something_started_and_deletes_a_rebuilt_guests_old_disk(lab):
    lab.read_and_fail()
    fleet = lab.fleet()
    evacuation.evacuate(fleet, "hv1", fenced=True, allow_rebuild=True)
    lab.bring_back(running=True)
    result = evacuation.clean(fleet, "hv1")
    cleaned = dict((c["guest"], c) for c in result["cleaned"])
    assert cleaned["vm-nas"]["destroyed"] is True
    assert cleaned["vm-local"]["deleted_disks"] == ["/pool/vm-local.disk.qcow2"]
    assert fleet.conn("hv1").storagePoolLookupByName("default").listVolumes().count("vm-local.disk.qcow2") == 0
    assert defined_on(fleet, "vm-nas") == ["hv2"] and len(defined_on(fleet, "vm-local")) == 1


def test_a_stale_copy_whose_guest_runs_nowhere_else_is_kept_and_the_host_stays_cordoned(lab):
    lab.read_and_fail()
    evacuation.evacuate(lab.fleet(), "hv1", fenced=True)
    lab.fleet().conn("hv2").lookupByName("vm-nas").destroy()
    lab.fleet().conn("hv2").lookupByName("vm-nas").undefine()
    lab.bring_back()
    fleet = lab.fleet()
    result = evacuation.clean(fleet, "hv1")
    assert [k["guest"] for k in result["kept"]] == ["vm-nas"] and defined_on(fleet, "vm-nas") == ["hv1"]
    assert lab.store.cordon("hv1")["reason"].startswith(states.EVACUATED_CORDON_REASON)
    assert result["warnings"]


def test_cleaning_a_host_that_is_still_down_is_refused(lab):
    lab.read_and_fail()
    evacuation.evacuate(lab.fleet(), "hv1", fenced=True)
    with pytest.raises(VmfleetError) as caught:
        evacuation.clean(lab.fleet(), "hv1")
    assert "host hv1 does not answer" in caught.value.message


def test_a_re_run_settles_what_an_interrupted_run_left_in_the_journal(lab):
    lab.read_and_fail()
    fleet = lab.fleet()
    evacuation.evacuate(fleet, "hv1", fenced=True)
    # as if killed after defining vm-nas on hv2 but before starting it and recording it; and before vm-local
    record = [r for r in lab.store.migrations("hv1") if r["guest"] == "vm-nas"][0]
    lab.store.record_migration(dict(record, status=states.MIGRATING))
    lab.store.record_migration(dict(record, id="interrupted-2", guest="vm-local", destination="hv3",
                                    status=states.MIGRATING))
    fleet.conn("hv2").lookupByName("vm-nas").destroy()
    result = evacuation.evacuate(fleet, "hv1", fenced=True)
    assert sorted(result["settled"]) == ["vm-local: an interrupted evacuation to hv3 had not defined it",
                                         "vm-nas: an interrupted evacuation had defined it on hv2, started now"]
    assert fleet.conn("hv2").lookupByName("vm-nas").isActive()
    journal = dict((r["guest"], r["status"]) for r in lab.store.migrations("hv1"))
    assert journal == {"vm-nas": states.COMPLETED, "vm-local": states.ERROR}


@pytest.mark.parametrize("policy, hosts_used", [("anti-affinity", 2), ("affinity", 1)])
def test_a_server_groups_members_are_placed_by_its_policy(tmp_path, monkeypatch, policy, hosts_used):
    """Without the group the scheduler would spread the two (RAMWeigher): affinity keeps them together."""
    monkeypatch.setattr(domain_template, "VIRT_TYPES", domain_template.VIRT_TYPES + ("test",))
    group = {"group": {"name": "db", "policy": policy}}
    members = ("db-1", "db-2")
    volumes = [(IMAGE, 1)] + [("%s.disk.qcow2" % name, 1, "/pool/" + IMAGE) for name in members]
    failed = node_uri(tmp_path, "hv1", [guest(name, instance_flavor=SMALL, hints=group, disks=[
        {"source": "/pool/%s.disk.qcow2" % name, "target": "vda", "backing": ["/pool/" + IMAGE]}]) for name in members],
        [pool(volumes=volumes)])
    uris = {"hv1": failed, "hv2": node_uri(tmp_path, "hv2", [], [pool(volumes=[(IMAGE, 1)]), network()]),
            "hv3": node_uri(tmp_path, "hv3", [], [pool(volumes=[(IMAGE, 1)]), network()])}
    facts = [dict(make_host(name, cpu_allocation_ratio=16.0), uri=uri) for name, uri in sorted(uris.items())]
    with Fleet(facts, store(tmp_path)) as reader:
        reader.refresh()
    os.unlink(failed[len("test://"):])
    fleet = Fleet(facts, store(tmp_path))
    result = evacuation.evacuate(fleet, "hv1", fenced=True, allow_rebuild=True)
    placed = dict((g["guest"], g["to"]) for g in result["guests"])
    assert [g["result"] for g in result["guests"]] == [states.GUEST_REBUILT] * 2
    assert len(set(placed.values())) == hosts_used and "hv1" not in placed.values(), placed
    fleet.close()


def test_the_evacuation_cordon_is_lifted_only_by_cleaning(lab):
    lab.read_and_fail()
    evacuation.evacuate(lab.fleet(), "hv1", fenced=True)
    with pytest.raises(VmfleetError) as caught:
        host_cordon.set_state(lab.store, states.UNCORDONED, "hv1")
    assert "evacuate state=cleaned" in caught.value.message
    assert lab.store.cordon("hv1")["reason"].startswith(states.EVACUATED_CORDON_REASON)


def test_an_interrupted_evacuation_to_a_host_that_does_not_answer_is_held_back(lab):
    lab.read_and_fail()
    lab.store.record_migration({"id": "interrupted-3", "guest": "vm-local", "source": "hv1", "destination": "hv9",
                                "kind": states.EVACUATION, "status": states.MIGRATING,
                                "started_at": "2026-12-01T10:00:00Z"})
    fleet = lab.fleet()
    result = evacuation.evacuate(fleet, "hv1", fenced=True, allow_rebuild=True)
    local = by_guest(result)["vm-local"]
    assert local["result"] == states.GUEST_NOT_EVACUATED and "hv9 does not answer" in local["reason"]
    assert defined_on(fleet, "vm-local") == [] and by_guest(result)["vm-nas"]["result"] == states.GUEST_EVACUATED
