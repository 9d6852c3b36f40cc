# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state store in PostgreSQL: for AWX and for several controllers (psycopg 3).

A host's claim section locks the host's row (``SELECT ... FOR UPDATE``) for
the claim's transaction; fleet-wide decisions (a drain lock, a move slot, a
schema upgrade) take a transaction-level advisory lock. A claim under admission
control takes an advisory lock of its own first (the claims lock: claims on
different hosts wait for each other, drains and move slots do not wait for
them), then its host's row. PostgreSQL drops
both when the transaction ends or the connection dies, so a killed playbook
leaves nothing locked. ``lock_timeout`` bounds every wait.

psycopg is imported when a PostgreSQL store is opened, not before: a
module that runs with the SQLite store does not need it.
"""

from __future__ import annotations

import contextlib

from ansible_collections.vmfleet.compute.plugins.module_utils.state import schema
from ansible_collections.vmfleet.compute.plugins.module_utils.state.errors import (
    MissingDependency, SchemaTooNew, StoreBusy, StoreError, StoreUnreachable)
from ansible_collections.vmfleet.compute.plugins.module_utils.state.store import (
    FLEET, FLEET_CLAIM, HOST, FleetStateStore)
from ansible_collections.vmfleet.compute.plugins.module_utils.state.url import MASK

# the fleet's advisory lock key: "vmfleet" as a number (advisory locks are per database)
FLEET_LOCK_KEY = 0x766d666c656574
# the claims lock of admission control (store.py, FLEET_CLAIM): "vmclaim" as a number
CLAIMS_LOCK_KEY = 0x766d636c61696d
DEFAULT_CONNECT_TIMEOUT = 10


def import_psycopg():
    try:
        import psycopg  # pylint: disable=import-outside-toplevel
    except ImportError as exc:
        raise MissingDependency(
            "the PostgreSQL fleet state store needs the Python package psycopg (version 3) where the module runs "
            "(%s): install it with pip install 'psycopg[binary]' (requirements.txt), or use the SQLite store" % exc,
            missing="psycopg")
    return psycopg


class _Cursor(object):
    """psycopg's cursor with the ``?`` placeholders the shared SQL is written with."""

    def __init__(self, cursor):
        self._cursor = cursor

    def execute(self, query, args=()):
        return self._cursor.execute(query.replace("?", "%s"), args)

    def fetchone(self):
        return self._cursor.fetchone()

    def fetchall(self):
        return self._cursor.fetchall()

    @property
    def rowcount(self):
        return self._cursor.rowcount


class PostgresqlStateStore(FleetStateStore):
    backend = "postgresql"

    def __init__(self, url, **options):
        super().__init__(url, **options)
        self._psycopg = import_psycopg()
        self._conn = self._connect()
        self._ensure_schema()

    def _where(self):
        url = self.url
        return "host %s, port %d, database %s, user %s" % (url.host, url.port, url.database, url.user)

    def _scrub(self, text):
        """``text`` without the password, should a driver message ever quote it."""
        text = str(text).strip()
        if self.url.password:
            text = text.replace(self.url.password, MASK)
        return " ".join(text.split())

    def _connect(self):
        url = self.url
        parameters = dict(url.parameters)
        parameters.setdefault("connect_timeout", str(DEFAULT_CONNECT_TIMEOUT))
        parameters.setdefault("application_name", "vmfleet.compute")
        try:
            return self._psycopg.connect(host=url.host, port=url.port, dbname=url.database, user=url.user,
                                         password=url.password, autocommit=True, **parameters)
        except self._psycopg.Error as exc:
            raise StoreUnreachable(
                "cannot open the fleet state store %s (%s): %s. Check that PostgreSQL runs on %s and listens on "
                "port %d there (listen_addresses, firewalls), that pg_hba.conf lets user %s connect from this "
                "machine, that the password given in VMFLEET_STATE_URL or state_url is right, and that database "
                "%s exists; nothing was changed" % (
                    url, self._where(), self._scrub(exc), url.host, url.port, url.user, url.database),
                store=url.redacted(), host=url.host, port=url.port, database=url.database)

    def _ensure_schema(self):
        with self._run(FLEET) as cursor:
            cursor.execute(schema.META_TABLE)
            found = schema.read_version(cursor)
            if found > schema.VERSION:
                raise SchemaTooNew(self.url.redacted(), found, schema.VERSION)
            self.schema_version = schema.upgrade(cursor, "postgresql", found)

    @contextlib.contextmanager
    def _transaction(self, kind, host=None, timeout=None):
        errors = self._psycopg.errors
        try:
            with self._conn.transaction():
                cursor = _Cursor(self._conn.cursor())
                # lock_timeout in ms, for this transaction only
                cursor.execute("SELECT set_config('lock_timeout', ?, true)", ("%dms" % int(timeout * 1000),))
                if kind == FLEET:
                    cursor.execute("SELECT pg_advisory_xact_lock(?)", (FLEET_LOCK_KEY,))
                elif kind == FLEET_CLAIM:
                    cursor.execute("SELECT pg_advisory_xact_lock(?)", (CLAIMS_LOCK_KEY,))
                if kind in (HOST, FLEET_CLAIM):
                    cursor.execute("INSERT INTO hosts (name) VALUES (?) ON CONFLICT (name) DO NOTHING", (host,))
                    cursor.execute("SELECT name FROM hosts WHERE name = ? FOR UPDATE", (host,))
                yield cursor
        except errors.LockNotAvailable:
            what = {HOST: "host %s's claim section" % host, FLEET_CLAIM: "the claims lock (admission control), then "
                    "host %s's claim section" % host}.get(kind, "the fleet lock")
            raise StoreBusy("the fleet state store %s did not grant %s within %d s: another operation holds it; "
                            "run again when it has finished" % (self.url, what, timeout),
                            store=self.url.redacted(), host=host)
        except self._psycopg.OperationalError as exc:
            # the server went away mid-transaction: nothing of this transaction was committed
            raise StoreUnreachable("lost the fleet state store %s (%s): %s; nothing of this step was recorded" % (
                self.url, self._where(), self._scrub(exc)), store=self.url.redacted(), host=self.url.host,
                port=self.url.port, database=self.url.database)
        except self._psycopg.Error as exc:
            raise StoreError("the fleet state store %s refused a change (%s); nothing of this step was recorded" % (
                self.url, self._scrub(exc)), store=self.url.redacted())

    def close(self):
        self._conn.close()
