# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet state store (store.py), opened from a URL (url.py): SQLite by default, PostgreSQL for AWX and
several controllers. docs/state-store.md describes it for users."""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.state import url as state_url
from ansible_collections.vmfleet.compute.plugins.module_utils.state.store import DEFAULT_LOCK_TIMEOUT


def open_store(url=None, lock_timeout=DEFAULT_LOCK_TIMEOUT, environ=None):
    """The store ``url`` names (a text or a StateUrl; None: ``VMFLEET_STATE_URL``, else the default SQLite
    file), with its schema created or upgraded. Fails before anything changes when it cannot be opened."""
    parsed = url if isinstance(url, state_url.StateUrl) else state_url.resolve(url, environ)
    if parsed.backend == state_url.POSTGRESQL:
        # imported here: psycopg, which it needs, is optional for SQLite users
        from ansible_collections.vmfleet.compute.plugins.module_utils.state.postgresql import PostgresqlStateStore
        return PostgresqlStateStore(parsed, lock_timeout=lock_timeout)
    from ansible_collections.vmfleet.compute.plugins.module_utils.state.sqlite import SqliteStateStore
    return SqliteStateStore(parsed, lock_timeout=lock_timeout)
