# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one settling path over libvirt's test driver: a resize or cold migration whose run died, a failed live
migration that left something on a destination that did not answer then, and a cancel's record."""

from __future__ import annotations

import socket
import subprocess

import pytest

libvirt = pytest.importorskip("libvirt")

# pylint: disable=wrong-import-position
from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import guest as libvirt_guest
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import live, settle
from ansible_collections.vmfleet.compute.plugins.module_utils.state import journal
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.libvirt_test_fleet import (
    fleet, guest, pending_resize, pool)


def interrupted(hosts, kind, power_state="running", **fields):
    """A journal record of ``kind`` left ``migrating`` by a run that died while it moved vm1 from hv1 to hv2,
    with its claim on hv2."""
    domain = [d for d in (libvirt_guest.find(hosts.conn(h), "vm1") for h in hosts.names()) if d is not None][0]
    with hosts.store.host_section("hv2") as section:
        section.add({"id": "claim-1", "instance": "vm1", "domain_xml": domain.XMLDesc(0)})
    record = journal.new_record("vm1", "hv1", "hv2", kind, uuid=domain.UUIDString(), power_state=power_state,
                                claim_id="claim-1", prepared_volumes=[{"pool": "default",
                                                                      "volume": "vm1.disk.qcow2"}], **fields)
    journal.write(hosts.store, record)
    return record


def volumes(hosts, host):
    return hosts.conn(host).storagePoolLookupByName("default").listVolumes()


def state(hosts, host, name="vm1"):
    domain = libvirt_guest.find(hosts.conn(host), name)
    return libvirt_guest.state_name(domain) if domain is not None else None


def test_a_killed_resize_is_undone_and_the_guest_runs_again_on_its_source(tmp_path):
    # killed mid-copy: the guest was shut down for the copy, a partial volume sits on the destination
    hosts = fleet(tmp_path, {"hv1": ([guest("vm1", state="shutoff")], [pool(volumes=[("vm1.disk.qcow2", 1)])]),
                             "hv2": ([], [pool(volumes=[("vm1.disk.qcow2", 1), ("other.disk.qcow2", 1)])])})
    record = interrupted(hosts, states.RESIZE)
    lines = settle.settle_guest(hosts, "vm1")
    assert state(hosts, "hv1") == "running" and state(hosts, "hv2") is None
    assert volumes(hosts, "hv2") == ["other.disk.qcow2"] and volumes(hosts, "hv1") == ["vm1.disk.qcow2"]
    assert hosts.store.claims("hv2") == []
    settled = journal.load(hosts.store, record["id"])
    assert settled["status"] == states.ERROR and settled["cleaned_up"] is True
    assert "vm1 is running on its source hv1, as before, and nothing is left on hv2" in settled["error"]
    assert lines == ["vm1: " + settled["error"]]
    assert settle.settle_guest(hosts, "vm1") == []  # settled once


def test_a_guest_shut_off_before_the_move_stays_shut_off(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1", state="shutoff")], "hv2": []})
    interrupted(hosts, states.COLD, power_state="shutoff")
    settle.settle_guest(hosts, "vm1")
    assert state(hosts, "hv1") == "shutoff"


def test_a_killed_resize_that_had_defined_its_copy_waits_for_confirm_and_runs_there(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1", state="shutoff")], "hv2": []})
    record = interrupted(hosts, states.RESIZE)
    pending = dict(pending_resize("hv1", "hv2"), migration_id=record["id"])
    copy = guest("vm1", state="shutoff", extra_metadata={"resize": pending})
    hosts.conn("hv2").defineXML(copy)
    lines = settle.settle_guest(hosts, "vm1")
    assert state(hosts, "hv2") == "running" and state(hosts, "hv1") == "shutoff"
    assert journal.load(hosts.store, record["id"])["status"] == states.FINISHED
    assert hosts.store.claims("hv2") == []
    assert "waits for confirm or revert" in lines[0]


def test_check_mode_and_other_guests_settle_nothing(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1", state="shutoff")], "hv2": []})
    record = interrupted(hosts, states.RESIZE)
    assert settle.settle_guest(hosts, "vm1", check_mode=True) == []
    assert settle.settle_guest(hosts, "vm2") == []
    assert journal.load(hosts.store, record["id"])["status"] == states.MIGRATING
    assert state(hosts, "hv1") == "shutoff" and len(hosts.store.claims("hv2")) == 1


def test_what_a_failed_live_migration_left_on_a_silent_destination_goes_once_it_answers(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1")], "hv2": ([], [pool(volumes=[("vm1.disk.qcow2", 1)])])})
    record = interrupted(hosts, states.LIVE)
    journal.update(hosts.store, record, status=states.ERROR, cleaned_up=False, leftovers=["hv2 could not be checked"])
    lines = settle.settle_guest(hosts, "vm1")
    assert lines == ["vm1: removed what the failed migration %s left on hv2" % record["id"][:8]]
    assert volumes(hosts, "hv2") == [] and hosts.store.claims("hv2") == []
    assert journal.load(hosts.store, record["id"])["cleaned_up"] is True
    assert state(hosts, "hv1") == "running"


def test_a_failed_live_migration_leaves_a_guest_that_runs_on_the_destination_alone(tmp_path):
    # it moved there later (or the failure was after the switch): neither it nor its disks are leftovers
    hosts = fleet(tmp_path, {"hv1": [], "hv2": ([guest("vm1")], [pool(volumes=[("vm1.disk.qcow2", 1)])])})
    record = interrupted(hosts, states.LIVE)
    journal.update(hosts.store, record, status=states.ERROR, cleaned_up=False)
    assert settle.settle_guest(hosts, "vm1") == []
    assert volumes(hosts, "hv2") == ["vm1.disk.qcow2"] and state(hosts, "hv2") == "running"


def test_a_move_whose_run_is_still_under_way_is_refused_not_settled(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1", state="shutoff")], "hv2": []})
    record = interrupted(hosts, states.RESIZE)
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        journal.update(hosts.store, record, owner="ops on %s (pid %d)" % (socket.gethostname(), sleeper.pid))
        with pytest.raises(VmfleetError) as refused:
            settle.settle_guest(hosts, "vm1")
        assert "vm1 is being moved from hv1 to hv2 by a run still under way" in refused.value.message
        assert journal.load(hosts.store, record["id"])["status"] == states.MIGRATING
    finally:
        sleeper.kill()
        sleeper.wait()
    assert settle.settle_guest(hosts, "vm1")  # its process gone: settled
    assert journal.load(hosts.store, record["id"])["status"] == states.ERROR


@pytest.mark.parametrize("before, found, after", [("running", "paused", "running"), ("paused", "paused", "paused"),
                                                  ("running", "shutoff", "running"), ("shutoff", "shutoff", "shutoff")])
def test_a_source_whose_daemon_went_away_gives_the_guest_its_power_state_back(tmp_path, before, found, after):
    # libvirt cancels the migration when the source's daemon restarts and may leave the guest paused
    hosts = fleet(tmp_path, {"hv1": [guest("vm1", state=found)], "hv2": []})
    record = interrupted(hosts, states.LIVE, power_state=before)
    journal.update(hosts.store, record, status=states.ERROR, cleaned_up=True, source_unconfirmed=True)
    lines = settle.settle_guest(hosts, "vm1")
    assert state(hosts, "hv1") == after and len(lines) == 1
    assert journal.load(hosts.store, record["id"])["source_unconfirmed"] is False
    assert settle.settle_guest(hosts, "vm1") == []


def test_what_a_failed_live_migration_left_goes_also_when_the_guest_moved_on_to_a_third_host(tmp_path):
    # the drain retried elsewhere: the silent destination's volume is still a leftover
    hosts = fleet(tmp_path, {"hv1": [], "hv2": ([], [pool(volumes=[("vm1.disk.qcow2", 1)])]), "hv3": [guest("vm1")]})
    record = interrupted(hosts, states.LIVE)
    journal.update(hosts.store, record, status=states.ERROR, cleaned_up=False)
    assert settle.settle_host(hosts, "hv1") == ["vm1: removed what the failed migration %s left on hv2"
                                                % record["id"][:8]]
    assert volumes(hosts, "hv2") == [] and hosts.store.claims("hv2") == [] and state(hosts, "hv3") == "running"


def test_a_guest_of_the_same_name_built_again_on_the_destination_keeps_its_volumes(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1", state="shutoff")],
                             "hv2": ([], [pool(volumes=[("vm1.disk.qcow2", 1)])])})
    record = interrupted(hosts, states.RESIZE)
    hosts.conn("hv1").lookupByName("vm1").undefine()  # deleted, and built again on hv2 (a new uuid)
    hosts.conn("hv2").defineXML(guest("vm1", state="running", uuid="0c6a8e53-1d1b-4b88-9f3e-3e0c1b9f0a11"))
    settle.settle_guest(hosts, "vm1")
    assert volumes(hosts, "hv2") == ["vm1.disk.qcow2"]
    assert journal.load(hosts.store, record["id"])["status"] == states.ERROR


def test_a_cancel_is_recorded_for_the_guests_live_migrations_from_that_source_before_the_abort(tmp_path):
    # the run that migrates reports a cancel by this record: libvirt's words for an aborted job vary
    hosts = fleet(tmp_path, {"hv1": ([guest("vm1"), guest("vm2")], [pool()]), "hv2": ([], [pool()])})
    moving = journal.new_record("vm1", "hv1", "hv2", states.LIVE)
    finished = dict(journal.new_record("vm1", "hv2", "hv1", states.LIVE), status=states.COMPLETED)
    cold = journal.new_record("vm1", "hv1", "hv2", states.COLD)
    other = journal.new_record("vm2", "hv1", "hv2", states.LIVE)
    for record in (moving, finished, cold, other):
        journal.write(hosts.store, record)
    live.abort_job(hosts, "vm1", "hv1", "live_migrate state=cancelled")
    assert "live_migrate state=cancelled on " in hosts.store.migration_cancel_requested(moving["id"])["by"]
    assert [hosts.store.migration_cancel_requested(r["id"]) for r in (finished, cold, other)] == [None] * 3
