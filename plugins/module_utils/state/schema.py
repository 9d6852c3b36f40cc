# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state store's tables, versioned: the store creates them and upgrades them itself.

``STEPS[n]`` brings a database from version ``n`` to ``n + 1``; ``VERSION`` is
the number of steps. The version lives in ``schema_meta`` (key
``schema_version``). A database at a version above ``VERSION`` was written by a
newer collection and is refused (SchemaTooNew) before anything is read or
written: this collection would not know what the newer tables mean.

One DDL text serves both dialects; ``{epoch}`` (seconds since 1970, compared for
leases and expiries) becomes the type each one has for it. Records keep their
full JSON in ``record``/``report``/``progress`` beside the columns that are
queried, so a field the lead adds to a record needs no new step. Libvirt stays
the truth for guests; ``remembered_guests`` is only the last copy of what a
host's libvirt said, read when that libvirt cannot be asked (an evacuation).
"""

from __future__ import annotations

TYPES = {
    "sqlite": {"epoch": "REAL"},
    "postgresql": {"epoch": "DOUBLE PRECISION"},
}

_VERSION_1 = (
    # the hosts the store has heard of: PostgreSQL locks a host's row for its claim section
    "CREATE TABLE hosts (name TEXT PRIMARY KEY)",
    # Nova: the compute service disabled, with its reason
    "CREATE TABLE cordons (host TEXT PRIMARY KEY, reason TEXT, by_whom TEXT, at TEXT, record TEXT NOT NULL)",
    # resources held for a guest that is about to be defined (record: the claim with its domain XML)
    "CREATE TABLE claims (id TEXT PRIMARY KEY, host TEXT NOT NULL, instance TEXT, created_at TEXT, "
    "expires {epoch} NOT NULL, record TEXT NOT NULL)",
    "CREATE INDEX claims_by_host ON claims (host)",
    # the migration journal: one row per move, the source and the destination read the same row
    "CREATE TABLE migrations (id TEXT PRIMARY KEY, guest TEXT, source TEXT, destination TEXT, kind TEXT, "
    "status TEXT, started_at TEXT, finished_at TEXT, record TEXT NOT NULL)",
    "CREATE INDEX migrations_by_source ON migrations (source)",
    "CREATE INDEX migrations_by_destination ON migrations (destination)",
    # one drain per host fleet-wide, held as a lease its run renews (a dead run's lease runs out)
    "CREATE TABLE drain_locks (host TEXT PRIMARY KEY, run_id TEXT NOT NULL, owner TEXT, "
    "lease_expires {epoch} NOT NULL)",
    # every drain run: its progress while it runs (to resume), its report when it ends
    "CREATE TABLE drain_runs (id TEXT PRIMARY KEY, host TEXT NOT NULL, owner TEXT, started_at TEXT NOT NULL, "
    "finished_at TEXT, result TEXT, progress TEXT, report TEXT)",
    "CREATE INDEX drain_runs_by_host ON drain_runs (host)",
    # moves in flight fleet-wide, so every drain counts the others' against the limits
    "CREATE TABLE moves (id TEXT PRIMARY KEY, run_id TEXT, guest TEXT NOT NULL, source TEXT NOT NULL, "
    "destination TEXT NOT NULL, started_at TEXT NOT NULL, expires {epoch} NOT NULL)",
    # state folders already imported, so an import runs once per folder
    "CREATE TABLE folder_imports (host TEXT NOT NULL, folder TEXT NOT NULL, imported_at TEXT NOT NULL, "
    "counts TEXT NOT NULL, PRIMARY KEY (host, folder))",
)

# the guests each host had when its facts were last read, so the guests of a host that is down can be
# rebuilt elsewhere (evacuate): record, a JSON list of {name, uuid, state, domain_xml, disks}
_VERSION_2 = (
    "CREATE TABLE remembered_guests (host TEXT PRIMARY KEY, seen_at TEXT NOT NULL, guests TEXT NOT NULL)",
)

# operations settle a guest's unfinished moves first (migration/settle.py): they ask the journal for one
# guest's records, or a host's, in the statuses still to settle, not for the whole journal, which only grows
_VERSION_3 = (
    "CREATE INDEX migrations_by_guest ON migrations (guest)",
    "CREATE INDEX migrations_by_status ON migrations (status)",
)

# a request to cancel one live migration (live_migrate state=cancelled, a cancelled drain), kept beside its
# journal record rather than in it: the run that migrates rewrites its record as it goes and would write over it;
# libvirt's error for an aborted job is not always "operation aborted" (over a tunnel it can be the tunnel's EOF)
_VERSION_4 = (
    "CREATE TABLE migration_cancels (migration_id TEXT PRIMARY KEY, by_whom TEXT, at TEXT NOT NULL)",
)

STEPS = (_VERSION_1, _VERSION_2, _VERSION_3, _VERSION_4)
VERSION = len(STEPS)

META_TABLE = "CREATE TABLE IF NOT EXISTS schema_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
VERSION_KEY = "schema_version"


def statements(dialect, step):
    """The SQL statements of ``step`` (one of STEPS) for ``dialect`` (``sqlite`` or ``postgresql``)."""
    return [text.format(**TYPES[dialect]) for text in step]


def read_version(cursor):
    """The schema version recorded in the database (0: a new database). The meta table must exist."""
    cursor.execute("SELECT value FROM schema_meta WHERE key = ?", (VERSION_KEY,))
    row = cursor.fetchone()
    return int(row[0]) if row else 0


def upgrade(cursor, dialect, found, steps=None):
    """Apply the steps (default: STEPS) after version ``found`` and record the new version; returns it.

    Runs inside the caller's transaction, which holds the store's exclusive
    lock: two controllers opening a new store at once create it once."""
    steps = STEPS if steps is None else steps
    for number in range(found, len(steps)):
        for statement in statements(dialect, steps[number]):
            cursor.execute(statement)
    if found != len(steps):
        if found == 0:
            cursor.execute("INSERT INTO schema_meta (key, value) VALUES (?, ?)", (VERSION_KEY, str(len(steps))))
        else:
            cursor.execute("UPDATE schema_meta SET value = ? WHERE key = ?", (str(len(steps)), VERSION_KEY))
    return len(steps)
