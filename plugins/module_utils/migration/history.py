# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet's migrations, as ``nova migration-list`` shows them: the journals
of several hosts (migration_journal.py) read, merged and filtered.

A move is recorded in the journal of its source and of its destination, and
each host's copy is rewritten on its own (a confirm that reached one host
only leaves the other at ``finished``). :func:`collect` merges the copies by
id and keeps the most advanced one: a readable copy before an unreadable
one, then the further status (``migrating`` < ``finished`` < the final
ones), then the later ``finished_at``, then the later progress update.
Each merged record says which hosts' journals hold it (``journals``) and
whose copy could not be read (``unreadable_in``).

Pure functions over state folders and records; no AnsibleModule here.
"""

from __future__ import annotations

import datetime
import os

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, whole_number
from ansible_collections.vmfleet.compute.plugins.module_utils.host.hosts_option import host_facts
from ansible_collections.vmfleet.compute.plugins.module_utils.state import journal as migration_journal

STATUSES = states.MIGRATION_STATUSES + (states.UNREADABLE,)
# The fields every listed record has (null when its journal file does not say).
FIELDS = ("id", "guest", "source", "destination", "kind", "status", "started_at", "finished_at",
          "data_bytes", "downtime_ms", "error")
FILTERS = ("guest", "host", "source", "destination", "kind", "status", "id", "since", "limit")
# How far along a copy's status is: the copy further along wins the merge.
_STAGE = {states.UNREADABLE: -1, states.MIGRATING: 0, states.FINISHED: 1}
_FINAL_STAGE = 2
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


def _rank(record):
    status = record.get("status")
    progress = record.get("progress") if isinstance(record.get("progress"), dict) else {}
    return (_STAGE.get(status, _FINAL_STAGE), str(record.get("finished_at") or ""),
            str(progress.get("updated_at") or ""))


def collect(state_dirs_by_host):
    """Every migration in the journals of ``{host name: state folder}``, merged by id, newest first.

    Unreadable record files are listed with status ``unreadable`` (and the
    reason in ``error``) unless another host holds a readable copy. A host
    whose folder has no journal adds nothing."""
    merged = {}
    for host in sorted(state_dirs_by_host):
        for copy in migration_journal.read(state_dirs_by_host[host], tolerant=True):
            record_id = copy.get("id")
            entry = merged.setdefault(record_id, {"record": None, "journals": [], "unreadable_in": []})
            entry["journals"].append(host)
            if copy.get("status") == states.UNREADABLE:
                entry["unreadable_in"].append(host)
            if entry["record"] is None or _rank(copy) > _rank(entry["record"]):
                entry["record"] = copy
    records = []
    for entry in merged.values():
        record = dict((field, None) for field in FIELDS)
        record.update(entry["record"])
        record["journals"] = entry["journals"]
        record["unreadable_in"] = entry["unreadable_in"]
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
    matches the source, the destination, or a host whose journal holds the
    record (so an unreadable record is found by its host); ``kind`` and
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
        if host is not None and host not in (record.get("source"), record.get("destination")) \
                and host not in (record.get("journals") or ()):
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


def journal_folders(hosts=None, state_dirs=None):
    """``{host name: state folder}`` from host facts (``maintenance.state_dir``; registered
    hypervisor_info results too) and ``state_dirs`` (which wins for a host in both).

    InvalidInput naming the field: neither given, a host twice, a host without a state folder."""
    if not hosts and not state_dirs:
        raise InvalidInput("hosts", hosts, "host facts (hypervisor_info results) in hosts, or state_dirs "
                           "{host name: state folder}", reason="give hosts or state_dirs (or both)")
    folders = {}
    for index, item in enumerate(hosts or ()):
        facts = host_facts(item, index)
        if facts["name"] in folders:
            raise InvalidInput("hosts[%d].name" % index, facts["name"], "each host once")
        folder = (facts.get("maintenance") or {}).get("state_dir")
        if not folder:
            raise InvalidInput("hosts[%d].maintenance.state_dir" % index, folder,
                               "facts gathered by hypervisor_info with state_dir, or the host's folder in state_dirs",
                               reason="host %s has no state folder" % facts["name"])
        folders[facts["name"]] = folder
    for name, folder in (state_dirs or {}).items():
        if not isinstance(folder, str) or not folder.strip():
            raise InvalidInput("state_dirs.%s" % name, folder, "the path of the host's state folder")
        folders[name] = os.path.expanduser(folder.strip())
    return folders
