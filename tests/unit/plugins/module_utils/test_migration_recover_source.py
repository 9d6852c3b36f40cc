# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What recovery after a failed live migration does with the source's copy: resume it only when the guest
cannot run on the destination, keep a guest paused before the move paused, and say why it is paused."""

from __future__ import annotations

import pytest

libvirt = pytest.importorskip("libvirt")

# pylint: disable=wrong-import-position
from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import guest as libvirt_guest
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import live
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.libvirt_test_fleet import fleet, guest, pool
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.test_migration_settle import (
    interrupted, state, volumes)


@pytest.mark.parametrize("found, reason, was_paused, dest_runs, dest_checked, step", [
    ("running", None, False, False, True, live.KEEP),
    ("shutoff", None, False, False, True, live.START),
    ("paused", "user", False, False, True, live.RESUME),          # paused by us to force completion
    ("paused", "migrating", False, False, True, live.RESUME),     # the destination answered: no copy runs there
    ("paused", "unknown", True, False, True, live.KEEP),          # paused before the move (a KVM error)
    ("paused", "migrating", False, False, False, live.HOLD),      # the destination may have started it
    ("paused", "post-copy", False, False, True, live.HOLD),
    ("paused", "post-copy failed", False, False, False, live.HOLD),
    ("paused", "user", False, True, True, live.HOLD),             # its copy runs on the destination
])
def test_the_source_is_resumed_only_when_the_guest_cannot_run_on_the_destination(
        found, reason, was_paused, dest_runs, dest_checked, step):
    assert live.source_step(found, reason, was_paused=was_paused, dest_runs=dest_runs,
                            dest_checked=dest_checked) == step


def test_paused_reasons_are_libvirts_names():
    assert states.paused_reason_name(libvirt.VIR_DOMAIN_PAUSED_MIGRATION) == "migrating"
    assert states.paused_reason_name(libvirt.VIR_DOMAIN_PAUSED_CRASHED) == "crashed"
    assert states.paused_reason_name(libvirt.VIR_DOMAIN_PAUSED_POSTCOPY_FAILED) == "post-copy failed"
    assert states.paused_reason_name(99) == "unknown"


def test_a_guest_paused_before_the_move_stays_paused_and_the_result_says_why(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1", state="paused")],
                             "hv2": ([guest("vm1", state="paused")], [pool(volumes=[("vm1.disk.qcow2", 1)])])})
    record = interrupted(hosts, states.LIVE, power_state="paused")
    reason = states.paused_reason_name(libvirt_guest.find(hosts.conn("hv1"), "vm1").state()[1])
    where = live.recover(hosts, record, was_paused=True)
    assert state(hosts, "hv1") == "paused" and state(hosts, "hv2") is None and volumes(hosts, "hv2") == []
    assert where["host"] == "hv1" and where["running"] is True and where["leftovers"] == []
    assert where["msg"] == ("vm1 is paused on its source hv1 as before the migration (libvirt: paused, %s): virsh "
                            "resume vm1 runs it, when that is wanted, and nothing is left on hv2" % reason)


def test_a_source_paused_during_the_move_is_resumed_once_the_destination_has_no_running_copy(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1")],
                             "hv2": ([guest("vm1", state="paused")], [pool(volumes=[("vm1.disk.qcow2", 1)])])})
    libvirt_guest.find(hosts.conn("hv1"), "vm1").suspend()
    record = interrupted(hosts, states.LIVE)
    where = live.recover(hosts, record)
    assert state(hosts, "hv1") == "running" and state(hosts, "hv2") is None and hosts.store.claims("hv2") == []
    assert where["msg"] == "vm1 is running on its source hv1, and nothing is left on hv2"


def test_a_paused_source_whose_copy_runs_on_the_destination_is_left_alone(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1")],
                             "hv2": ([guest("vm1")], [pool(volumes=[("vm1.disk.qcow2", 1)])])})
    libvirt_guest.find(hosts.conn("hv1"), "vm1").suspend()
    record = interrupted(hosts, states.LIVE)
    where = live.recover(hosts, record)
    # neither copy is touched: resuming the source would run the guest twice, on disks both write
    assert state(hosts, "hv1") == "paused" and state(hosts, "hv2") == "running"
    assert volumes(hosts, "hv2") == ["vm1.disk.qcow2"] and len(hosts.store.claims("hv2")) == 1
    assert where["host"] == "hv1" and where["running"] is False and where["leftovers"]
    assert where["msg"].startswith("vm1 is paused on its source hv1 (libvirt: paused, user), and is not resumed there: "
                                   "its copy on hv2 runs, and resuming it on hv1 could run it twice.")


def test_a_source_libvirt_kept_paused_for_a_silent_destination_says_what_happens_next():
    record = {"guest": "vm1", "source": "hv1", "destination": "hv2"}
    held = live._held(record, "paused", "migrating", dest_down="the libvirt daemon on hv2 stopped answering")
    assert held["running"] is False and held["host"] == "hv1"
    assert held["msg"] == (
        "vm1 is paused on its source hv1 (libvirt: paused, migrating), and is not resumed there: libvirt could not tell "
        "whether hv2 started it (the libvirt daemon on hv2 stopped answering), and resuming it on hv1 could run "
        "it twice. Once hv2 answers, the next operation on vm1 resumes it on hv1 if hv2 does not run it")


def test_a_resume_that_does_not_hold_is_reported_not_hidden():
    assert live._why_paused("vm1", live.RESUME, "paused", "migrating", "migrating") == (
        " although it was resumed (libvirt: paused, migrating; it was paused, migrating, after the migration): "
        "virsh domstate --reason vm1 tells why; virsh resume vm1 runs it")
    assert live._why_paused("vm1", live.RESUME, "running", None, "user") == ""
