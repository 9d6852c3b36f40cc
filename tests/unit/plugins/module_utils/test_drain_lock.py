# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drain's lock in the store: a run whose process is gone on this machine is taken over at once;
another machine's run only when its lease runs out, which a run settling or planning for long renews."""

from __future__ import annotations

import socket
import subprocess
import time

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.maintenance import drain
from ansible_collections.vmfleet.compute.plugins.module_utils.state import lease_keeper, open_store
from ansible_collections.vmfleet.compute.plugins.module_utils.state.errors import StoreBusy
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.libvirt_test_fleet import fleet


@pytest.fixture
def store(tmp_path):
    opened = open_store("sqlite://%s" % (tmp_path / "state.db"))
    yield opened
    opened.close()


def dead_pid():
    finished = subprocess.Popen(["true"])
    finished.wait()
    return finished.pid


def test_a_dead_process_of_this_machine_is_taken_over_at_once(store):
    first = store.begin_drain("hv1", "ops on %s (pid %d)" % (socket.gethostname(), dead_pid()))
    second = store.begin_drain("hv1", drain._owner("ops"), timeout=0, holder_gone=drain._holder_gone)
    assert second.resumed_from == first.id


def test_a_live_process_or_another_machine_holds_the_lock(store):
    store.begin_drain("hv1", drain._owner("ops"))  # this very process: alive
    with pytest.raises(StoreBusy) as busy:
        store.begin_drain("hv1", drain._owner("ops"), timeout=0, holder_gone=drain._holder_gone)
    assert "hv1 is being drained by ops on %s" % socket.gethostname() in busy.value.message
    store.begin_drain("hv2", "ops on another-machine (pid %d)" % dead_pid())
    with pytest.raises(StoreBusy):
        store.begin_drain("hv2", drain._owner("ops"), timeout=0, holder_gone=drain._holder_gone)


@pytest.mark.parametrize("owner", [None, "", "someone", "ops on host (pid x)"])
def test_an_owner_it_cannot_read_is_never_taken_for_gone(owner):
    assert drain._holder_gone(owner) is False


def test_a_cancel_is_for_the_run_that_holds_the_host_and_never_for_a_later_one(store):
    assert drain.cancel(store, "hv1", "ops") == {"changed": False, "drain_run": None,
                                                 "actions": ["no drain runs on hv1"]}
    first = store.begin_drain("hv1", "ops on %s (pid %d)" % (socket.gethostname(), dead_pid()))
    assert drain.cancel(store, "hv1", "ops", check_mode=True)["changed"] is True
    assert store.drain_cancel_requested(first.id) is None  # check mode records nothing
    result = drain.cancel(store, "hv1", "ops")
    assert result["changed"] is True and result["drain_run"] == first.id
    request = store.drain_cancel_requested(first.id)
    assert request["by"] == "ops" and request["run_id"] == first.id
    assert store.drain_cancel_requested("another run") is None
    # the first run was killed before it saw the request: the run that takes over is not cancelled
    second = store.begin_drain("hv1", drain._owner("ops"), timeout=0, holder_gone=drain._holder_gone)
    assert second.resumed_from == first.id and store.drain_cancel_requested(second.id) is None


def test_a_drain_keeps_its_host_while_it_settles_for_longer_than_its_lease(tmp_path, monkeypatch):
    hosts = fleet(tmp_path, {"hv1": [], "hv2": []})
    now = [1000.0]
    hosts.store.clock = lambda: now[0]
    monkeypatch.setattr(lease_keeper, "RENEWALS_PER_LEASE", 15000)  # every 0.02 s of real time
    seen = []

    def slow_settle(fleet_, host_name, settings=None):  # waits 600 s of store time for libvirt's jobs
        for _step in range(3):
            now[0] += 200
            time.sleep(0.2)
            try:
                hosts.store.begin_drain(host_name, "ops on another-controller (pid 4242)", timeout=0)
                seen.append("taken over")
            except StoreBusy:
                seen.append("busy")
        return []

    monkeypatch.setattr(drain.migration_settle, "settle_host", slow_settle)
    report = drain.drain(hosts, "hv1")
    assert seen == ["busy", "busy", "busy"]
    assert report["result"] == states.DRAINED
