# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The migration journal: one record per move (live, cold, resize), in the fleet state store.

Nova keeps a migration record per move and operators read it with
``nova migration-list``; here the record is one row of the store every
controller shares, written as the move goes, so the source's and the
destination's view are the same and outlive the job that moved the guest.

Record fields: ``id, guest, source, destination, kind (live | cold | resize),
status, started_at, finished_at, old_flavor, new_flavor, data_bytes,
downtime_ms, error``. Statuses follow Nova's: ``migrating`` while it runs,
``finished`` for a resize waiting for confirm or revert, then ``confirmed`` /
``reverted``; ``completed`` for a finished live or cold migration;
``error`` when it failed (``error`` says why and what was left where).
"""

from __future__ import annotations

import datetime
import uuid

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.state import run_owner

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
        # the process that runs the move: a later operation settles the record only once that run is over
        "owner": run_owner.describe(None),
    }
    record.update(fields)
    return record


def age_seconds(record, now=None):
    """Seconds since the record's move started; None when it does not say (or not readably)."""
    try:
        started = datetime.datetime.strptime(record.get("started_at") or "", _TIME_FORMAT)
    except (TypeError, ValueError):
        return None
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return (now - started.replace(tzinfo=datetime.timezone.utc)).total_seconds()


def write(store, record):
    """Write ``record`` (new or changed) into the journal."""
    return store.record_migration(record)


def update(store, record, **fields):
    """Change fields (a final status sets ``finished_at``) and write the record again."""
    record.update(fields)
    if record["status"] != states.MIGRATING and not record.get("finished_at"):
        record["finished_at"] = now_text()
    return write(store, record)


def load(store, record_id):
    """One record of the journal, or None."""
    return store.migration(record_id)


def read(store, host=None, *, guest=None, statuses=None, kinds=None):
    """The journal (with ``host``: the moves out of or into it; with ``guest``: that guest's; with ``statuses``
    or ``kinds``: the records in one of them), oldest first."""
    return store.migrations(host, guest=guest, statuses=statuses, kinds=kinds)
