# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the fleet state store says about a host, as host facts carry it under ``maintenance``:
the store (its URL without a password), the host's cordon, its moves in the journal and whether a
drain holds it."""

from __future__ import annotations


def read_states(store, hosts):
    """``{host: read_state(store, host)}`` for many hosts, read with one query each for the cordons, the drains
    and the journal instead of three per host (a fleet's refresh, the scheduler's and the preflight's hosts)."""
    if store is None:
        return dict((host, None) for host in hosts)
    cordons, draining, journal = store.cordons(), store.draining_hosts(), store.migrations()
    described = store.url.describe()
    return dict((host, {"store": described, "cordon": cordons.get(host), "draining": draining.get(host),
                        "journal": [r for r in journal if host in (r.get("source"), r.get("destination"))]})
                for host in hosts)


def read_state(store, host):
    """``{store, cordon, journal, draining}`` of ``host``; None without a store."""
    if store is None:
        return None
    draining = store.draining_hosts().get(host)
    return {"store": store.url.describe(), "cordon": store.cordon(host), "journal": store.migrations(host),
            "draining": draining}
