# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the fleet state store says about a host, as host facts carry it under ``maintenance``:
the store (its URL without a password), the host's cordon, its moves in the journal and whether a
drain holds it."""

from __future__ import annotations


def read_state(store, host):
    """``{store, cordon, journal, draining}`` of ``host``; None without a store."""
    if store is None:
        return None
    draining = store.draining_hosts().get(host)
    return {"store": store.url.describe(), "cordon": store.cordon(host), "journal": store.migrations(host),
            "draining": draining}
