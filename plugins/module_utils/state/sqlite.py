# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state store in a SQLite file: the default, for one controller (a laptop, ``make demo``).

Every writing transaction is ``BEGIN IMMEDIATE``: it takes the database's
write lock at its start, so a claim section, a drain lock or a move slot is
decided by one writer at a time, across processes; the others wait up to the
lock timeout (SQLite's busy timeout). That makes every claim section fleet-wide
already, as admission control needs (store.py, ``FLEET_CLAIM``). The file is in WAL mode, so reads do
not wait for a writer. The folder is created 0700 and the file 0600: claims
hold domain XML. Not for several controllers: a file on one machine (or on
NFS, whose locks SQLite cannot trust) is what the store replaces.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time

from ansible_collections.vmfleet.compute.plugins.module_utils.state import schema
from ansible_collections.vmfleet.compute.plugins.module_utils.state.errors import (
    SchemaTooNew, StoreBusy, StoreError, StoreUnreachable)
from ansible_collections.vmfleet.compute.plugins.module_utils.state.store import (
    FLEET, FLEET_CLAIM, HOST, READ, FleetStateStore)


class SqliteStateStore(FleetStateStore):
    backend = "sqlite"

    def __init__(self, url, **options):
        super().__init__(url, **options)
        self.path = url.path
        self._conn = self._open()
        self._ensure_schema()

    def _open(self):
        folder = os.path.dirname(self.path)
        check = ("check that %s can be created and written by this user (uid %d), or set VMFLEET_STATE_URL / "
                 "state_url to another file" % (folder, os.geteuid()))
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            created = not os.path.exists(self.path)
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   timeout=self.lock_timeout)
            self._use_wal(conn)
            if created:
                os.chmod(self.path, 0o600)
        except (OSError, sqlite3.OperationalError) as exc:
            raise StoreUnreachable("cannot open the fleet state store %s: %s; %s" % (self.url, exc, check),
                                   store=self.url.redacted(), path=self.path)
        except sqlite3.DatabaseError as exc:
            raise self._not_a_database(exc)
        return conn

    def _use_wal(self, conn):
        """Switch the file to WAL (readers never wait for the writer). WAL is kept in the file, so only its
        first opener switches; controllers opening a new file at once may be told "locked" straight away,
        without SQLite's busy handler, while one of them switches: they try again until the lock timeout."""
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)

    def _not_a_database(self, exc):
        return StoreUnreachable("the fleet state store %s is not a readable SQLite database (%s): move it aside "
                                "and run again, or point VMFLEET_STATE_URL at the right file" % (self.url, exc),
                                store=self.url.redacted(), path=self.path)

    def _ensure_schema(self):
        with self._run(FLEET) as cursor:
            try:
                cursor.execute(schema.META_TABLE)
                found = schema.read_version(cursor)
            except sqlite3.DatabaseError as exc:
                raise self._not_a_database(exc)
            if found > schema.VERSION:
                raise SchemaTooNew(self.url.redacted(), found, schema.VERSION)
            self.schema_version = schema.upgrade(cursor, "sqlite", found)

    @contextlib.contextmanager
    def _transaction(self, kind, host=None, timeout=None):
        conn = self._conn
        conn.execute("PRAGMA busy_timeout = %d" % int(timeout * 1000))
        try:
            conn.execute("BEGIN" if kind == READ else "BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            what = "host %s's claim section" % host if kind in (HOST, FLEET_CLAIM) else "its write lock"
            raise StoreBusy("the fleet state store %s did not grant %s within %d s (%s): another operation holds "
                            "it; run again when it has finished" % (self.url, what, timeout, exc),
                            store=self.url.redacted(), host=host)
        cursor = conn.cursor()
        try:
            yield cursor
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise StoreError("the fleet state store %s refused a change (%s); nothing of this step was recorded" % (
                self.url, exc), store=self.url.redacted())
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise StoreError("the fleet state store %s could not commit: %s" % (self.url, exc),
                             store=self.url.redacted())

    def close(self):
        self._conn.close()
