# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keep a drain run's lease alive while the run does work that does not renew it.

A drain (or a rebalance) holds its lock in the fleet state store as a lease that
its move executor renews every few seconds (maintenance/drain.py). Before the
executor starts, the run settles what an earlier run left (waiting, if need be,
for libvirt's migration jobs to end) and plans the moves: on a large fleet or
behind a slow migration that can take longer than the lease (300 s). A run whose
lease ran out looks dead to every other controller, which may then take the host
over and drain it at the same time. So those steps run inside a ``LeaseKeeper``:
a thread that renews the lease every fifth of its length, as Kubernetes' lease
holders renew well before the lease duration.

When a renewal fails (the lease was lost after all, or the store went away), the
keeper stops and ``check`` raises that error: the run must not start moving
guests on a lock it may no longer hold.
"""

from __future__ import annotations

import threading

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.state.store import DEFAULT_DRAIN_LEASE

# renewals per lease: a renewal may fail or be late a few times before the lease runs out
RENEWALS_PER_LEASE = 5


class LeaseKeeper(object):
    """``with LeaseKeeper(store, run_id):`` renews drain run ``run_id``'s lease from a thread until the block
    ends; ``check()`` afterwards (or at any time) raises the error that stopped it, if any."""

    def __init__(self, store, run_id, *, lease_seconds=DEFAULT_DRAIN_LEASE, interval=None):
        self.store, self.run_id, self.lease_seconds = store, run_id, lease_seconds
        self.interval = interval if interval is not None else lease_seconds / float(RENEWALS_PER_LEASE)
        self.renewals = 0
        self.error = None
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        self._thread = threading.Thread(target=self._keep, name="lease-%s" % self.run_id, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc):
        self._stop.set()
        self._thread.join()
        return False

    def _keep(self):
        while not self._stop.wait(self.interval):
            try:
                self.store.renew_drain(self.run_id, lease_seconds=self.lease_seconds)
            except VmfleetError as exc:  # StoreError among them
                self.error = exc
                return
            self.renewals += 1

    def check(self):
        """Raise the error that stopped the renewals (StoreError: the lease is lost or the store is gone)."""
        if self.error is not None:
            raise self.error
