# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A drain run's lease is renewed while it settles and plans (state/lease_keeper.py), on both stores.

The store's clock is the test's: the lease's 300 s pass in a few steps, the keeper renews every few
hundredths of a second of real time."""

from __future__ import annotations

import time

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.state.errors import StoreBusy, StoreError
from ansible_collections.vmfleet.compute.plugins.module_utils.state.lease_keeper import LeaseKeeper

OTHER_MACHINE = "ops on another-controller (pid 4242)"


def renewed(keeper, more_than, within=10.0):
    """Wait (real time) until ``keeper`` has renewed more than ``more_than`` times."""
    deadline = time.time() + within
    while keeper.renewals <= more_than and keeper.error is None and time.time() < deadline:
        time.sleep(0.01)
    return keeper.renewals > more_than


def test_a_run_that_settles_for_longer_than_its_lease_keeps_the_host(store):
    now = [1000.0]
    store.clock = lambda: now[0]
    run = store.begin_drain("hv1", "ops on ctl1 (pid 1)", lease_seconds=300)
    with LeaseKeeper(store, run.id, lease_seconds=300, interval=0.02) as keeper:
        for _step in range(4):  # 800 s of settling, far past the first lease's end (1300)
            now[0] += 200
            assert renewed(keeper, keeper.renewals)
            with pytest.raises(StoreBusy):  # another controller still finds the host taken
                store.begin_drain("hv1", OTHER_MACHINE, timeout=0)
    keeper.check()
    store.renew_drain(run.id)  # the run still holds its lock: the executor renews from here on


def test_a_lease_that_ran_out_all_the_same_stops_the_keeper_and_check_says_so(store):
    now = [1000.0]
    store.clock = lambda: now[0]
    run = store.begin_drain("hv1", "ops on ctl1 (pid 1)", lease_seconds=300)
    now[0] += 400  # e.g. the machine slept: the lease ran out before the first renewal
    taken = store.begin_drain("hv1", OTHER_MACHINE, timeout=0)
    with LeaseKeeper(store, run.id, lease_seconds=300, interval=0.02) as keeper:
        deadline = time.time() + 10
        while keeper.error is None and time.time() < deadline:
            time.sleep(0.01)
    with pytest.raises(StoreError) as lost:
        keeper.check()
    assert "no longer holds its host's drain lock" in lost.value.message
    assert taken.resumed_from == run.id
    assert keeper.renewals == 0


def test_the_keeper_renews_no_more_once_its_block_ends(store):
    now = [1000.0]
    store.clock = lambda: now[0]
    run = store.begin_drain("hv1", "ops on ctl1 (pid 1)", lease_seconds=300)
    with LeaseKeeper(store, run.id, lease_seconds=300, interval=0.02) as keeper:
        assert renewed(keeper, 0)
    after = keeper.renewals
    time.sleep(0.1)
    assert keeper.renewals == after
    now[0] += 301  # nobody renews now: the lease runs out, and the next run takes the host
    assert store.begin_drain("hv1", OTHER_MACHINE, timeout=0).resumed_from == run.id
