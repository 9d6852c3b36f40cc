# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet's migrations, as ``nova migration-list`` shows them: the journal
(migration_journal.py, one record per move in the fleet state store) read and
filtered.

Pure functions over the store and records; no AnsibleModule here.
"""

from __future__ import annotations

import datetime

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, whole_number
from ansible_collections.vmfleet.compute.plugins.module_utils.host.hosts_option import parse_hosts
from ansible_collections.vmfleet.compute.plugins.module_utils.state import journal as migration_journal

STATUSES = states.MIGRATION_STATUSES
# The fields every listed record has (null when its journal file does not say).
FIELDS = ("id", "guest", "source", "destination", "kind", "status", "started_at", "finished_at",
          "data_bytes", "downtime_ms", "error")
FILTERS = ("guest", "host", "source", "destination", "kind", "status", "id", "since", "limit")
_EPOCH = datetime.datetime(1, 1, 1, tzinfo=datetime.timezone.utc)


def parse_time(text, field="since"):
    """An ISO 8601 time (``2026-11-21T08:30:00Z``, an offset, or a date alone) as an aware UTC datetime.

    A time without offset is taken as UTC. InvalidInput naming ``field`` otherwise."""
    allowed = "an ISO 8601 time in UTC, such as 2026-11-21T08:30:00Z or 2026-11-21"
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(field, text, allowed)
    value = text.strip()
    if value[-1:] in ("Z", "z"):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, text, allowed)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc)


def _started(record):
    """When the record's migration started, or None when its journal does not say (or not readably)."""
    try:
        return parse_time(record.get("started_at"))
    except InvalidInput:
        return None


def collect(store, hosts=None, **filters):
    """The migrations of the journal, newest first, each with every field of FIELDS (null where the record
    does not say); with ``hosts`` (names), only the moves out of or into one of them. ``filters`` (FILTERS)
    the store can apply (``guest``, ``host``, ``kind``, ``status``) are asked of it, so that a guest's history
    or the failed moves are read without the whole journal, which only grows; filter_records applies them all.
    """
    wanted = set(hosts or ())
    host = filters.get("host")
    if host is None and len(wanted) == 1:
        host = next(iter(wanted))
    kinds = _choices("kind", filters.get("kind"), states.MIGRATION_KINDS) or None
    statuses = _choices("status", filters.get("status"), STATUSES) or None
    records = []
    for found in migration_journal.read(store, host, guest=filters.get("guest"), statuses=statuses, kinds=kinds):
        if wanted and not wanted & {found.get("source"), found.get("destination")}:
            continue
        record = dict((field, None) for field in FIELDS)
        record.update(found)
        records.append(record)
    return newest_first(records)


def newest_first(records):
    """``records`` sorted by ``started_at``, newest first; records without a readable time last."""
    return sorted(records, key=lambda r: (_started(r) or _EPOCH, str(r.get("id") or "")), reverse=True)


def _choices(field, values, allowed):
    values = [values] if isinstance(values, str) else list(values or ())
    for value in values:
        if value not in allowed:
            raise InvalidInput(field, value, ", ".join(allowed))
    return values


def filter_records(records, **filters):
    """The records that pass every given filter (``FILTERS``; None: not filtered), newest first.

    ``guest``, ``source``, ``destination`` and ``id`` match exactly; ``host``
    matches the source or the destination; ``kind`` and
    ``status`` are lists, any value matching; ``since`` keeps the migrations
    started at or after that time (ISO 8601, UTC); ``limit`` keeps the newest
    N (0: all). A bad value raises InvalidInput naming the filter."""
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise InvalidInput(unknown[0], filters[unknown[0]], "a filter of the migration list: %s" % ", ".join(FILTERS))
    exact = dict((field, filters[field]) for field in ("guest", "source", "destination", "id")
                 if filters.get(field) is not None)
    host = filters.get("host")
    kinds = _choices("kind", filters.get("kind"), states.MIGRATION_KINDS)
    statuses = _choices("status", filters.get("status"), STATUSES)
    after = parse_time(filters["since"]) if filters.get("since") is not None else None
    limit = whole_number("limit", filters.get("limit") or 0)

    def passes(record):
        if any(record.get(field) != value for field, value in exact.items()):
            return False
        if host is not None and host not in (record.get("source"), record.get("destination")):
            return False
        if kinds and record.get("kind") not in kinds:
            return False
        if statuses and record.get("status") not in statuses:
            return False
        if after is not None:
            started = _started(record)
            if started is None or started < after:
                return False
        return True

    selected = newest_first(r for r in records if passes(r))
    return selected[:limit] if limit else selected


def summarize(records, matched=None):
    """``{total, matched, by_status, by_kind}``: every known status and kind counted (0 included);
    a record without a kind counts as ``unknown``."""
    by_status = dict((status, 0) for status in STATUSES)
    by_kind = dict((kind, 0) for kind in states.MIGRATION_KINDS)
    for record in records:
        status = record.get("status") or "unknown"
        kind = record.get("kind") or "unknown"
        by_status[status] = by_status.get(status, 0) + 1
        by_kind[kind] = by_kind.get(kind, 0) + 1
    return {"total": len(records), "matched": len(records) if matched is None else matched,
            "by_status": by_status, "by_kind": by_kind}


def host_names(hosts):
    """The names of ``hosts`` (facts, registered results or entries, as every module takes them)."""
    return [facts["name"] for facts in parse_hosts(hosts, entries=True)] if hosts else []


def legacy_folders(hosts=None, state_dirs=None):
    """``{host name: state folder}`` of an earlier version to import into the store: the hosts' ``state_dir``
    (entries, or facts gathered with one) and ``state_dirs`` (which wins for a host in both)."""
    folders = {}
    for facts in parse_hosts(hosts, entries=True) if hosts else ():
        folder = (facts.get("maintenance") or {}).get("state_dir")
        if folder:
            folders[facts["name"]] = folder
    for name, folder in (state_dirs or {}).items():
        if not isinstance(folder, str) or not folder.strip():
            raise InvalidInput("state_dirs.%s" % name, folder, "the path of the host's state folder")
        folders[name] = folder.strip()
    return folders
