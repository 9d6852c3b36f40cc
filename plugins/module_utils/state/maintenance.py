# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the fleet state store says about a host, as host facts carry it under ``maintenance``:
the store (its URL without a password), the host's cordon, its moves in the journal and whether a
drain holds it.

The journal only grows (a record per move, kept for ``migration_info``), so host facts do not carry
all of it: a host's ``journal`` is its open moves, those an operation or the preflight still acts on
(in flight; failed and maybe leaving something behind; a resize awaiting its confirmation; an
evacuation from it whose stale copy is not cleaned), and its ``RECENT_MOVES`` latest, oldest first.
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils import states

# the latest moves of a host its facts carry beside the open ones (the whole history: migration_info)
RECENT_MOVES = 10


def read_states(store, hosts):
    """``{host: read_state(store, host)}`` for many hosts, read with one query each for the cordons, the drains
    and the open moves instead of three per host (a fleet's refresh, the scheduler's and the preflight's
    hosts), and one transaction for every host's latest moves."""
    if store is None:
        return dict((host, None) for host in hosts)
    cordons, draining, still_open = store.cordons(), store.draining_hosts(), open_moves(store)
    latest = store.latest_migrations(hosts, RECENT_MOVES)
    described = store.url.describe()
    return dict((host, {"store": described, "cordon": cordons.get(host), "draining": draining.get(host),
                        "journal": _host_journal(host, still_open, latest[host])})
                for host in hosts)


def read_state(store, host):
    """``{store, cordon, journal, draining}`` of ``host``; None without a store."""
    if store is None:
        return None
    draining = store.draining_hosts().get(host)
    return {"store": store.url.describe(), "cordon": store.cordon(host),
            "journal": _host_journal(host, open_moves(store, host),
                                     store.latest_migrations([host], RECENT_MOVES)[host]),
            "draining": draining}


def open_moves(store, host=None):
    """The journal's open records (module docstring), of ``host`` when given, oldest first."""
    found = store.migrations(host, statuses=(states.MIGRATING, states.ERROR, states.FINISHED))
    found = [record for record in found if record.get("status") != states.ERROR or not record.get("cleaned_up")
             or record.get("source_unconfirmed")]
    evacuated = store.migrations(host, kinds=(states.EVACUATION,), statuses=(states.COMPLETED,))
    return _in_order(found + [record for record in evacuated if not record.get("cleaned_at")])


def _host_journal(host, still_open, latest):
    mine = [record for record in still_open if host in (record.get("source"), record.get("destination"))]
    return _in_order(mine + latest)


def _in_order(records):
    """``records`` without repeats, oldest first (the journal's own order: started_at, then id)."""
    unique = dict((record.get("id"), record) for record in records)
    return sorted(unique.values(), key=lambda record: (record.get("started_at") or "", record.get("id") or ""))
