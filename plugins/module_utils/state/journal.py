# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The migration journal of a host: one record per move (live, cold, resize).

Nova keeps a migration record per move and operators read it with
``nova migration-list``; here every host involved keeps the record in its
state folder, ``<state_dir>/journal/<id>.json`` (one file per migration,
rewritten atomically as its status changes), so the source and the
destination each know what went through them even when the other is gone.

Record fields: ``id, guest, source, destination, kind (live | cold | resize),
status, started_at, finished_at, old_flavor, new_flavor, data_bytes,
downtime_ms, error``. Statuses follow Nova's: ``migrating`` while it runs,
``finished`` for a resize waiting for confirm or revert, then ``confirmed`` /
``reverted``; ``completed`` for a finished live or cold migration;
``error`` when it failed (``error`` says why and what was left where).
"""

from __future__ import annotations

import datetime
import os
import uuid

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.state import folder as state_folder

JOURNAL_DIR = "journal"
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def now_text():
    return datetime.datetime.now(datetime.timezone.utc).strftime(_TIME_FORMAT)


def new_record(guest, source, destination, kind, **fields):
    record = {
        "id": str(uuid.uuid4()),
        "guest": guest,
        "source": source,
        "destination": destination,
        "kind": kind,
        "status": states.MIGRATING,
        "started_at": now_text(),
        "finished_at": None,
        "data_bytes": None,
        "downtime_ms": None,
        "error": None,
    }
    record.update(fields)
    return record


def _path(state_dir, record_id):
    return os.path.join(state_dir, JOURNAL_DIR, "%s.json" % record_id)


def write(state_dirs, record):
    """Write ``record`` into the journal of every host in ``state_dirs`` (None skipped)."""
    for state_dir in state_dirs:
        if state_dir:
            state_folder.write_json(_path(state_dir, record["id"]), record, "migration record")
    return record


def update(state_dirs, record, **fields):
    """Change fields (a final status sets ``finished_at``) and write the record again."""
    record.update(fields)
    if record["status"] != states.MIGRATING and not record.get("finished_at"):
        record["finished_at"] = now_text()
    return write(state_dirs, record)


def load(state_dir, record_id):
    """One record of the host's journal, or None when the host has no such record."""
    return state_folder.read_json(_path(state_dir, record_id), "migration record")


def read(state_dir, tolerant=False):
    """Every record in the host's journal, oldest first.

    An unreadable record is an error, or with ``tolerant`` (host facts, the
    preflight) a record ``{id, status: unreadable, error}`` that is reported
    rather than hiding the rest of the journal."""
    folder = os.path.join(state_dir, JOURNAL_DIR)
    if not os.path.isdir(folder):
        return []
    records = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".json"):
            continue
        try:
            record = state_folder.read_json(os.path.join(folder, name), "migration record")
        except VmfleetError as error:
            if not tolerant:
                raise
            record = {"id": name[:-len(".json")], "status": "unreadable", "error": error.message}
        if not isinstance(record, dict):
            record = {"id": name[:-len(".json")], "status": "unreadable", "error": "not a JSON object"}
        records.append(record)
    return sorted(records, key=lambda r: (r.get("started_at") or "", r.get("id") or ""))
