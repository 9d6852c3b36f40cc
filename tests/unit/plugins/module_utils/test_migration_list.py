# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The migration list: the journal in a SQLite fleet state store, read and filtered."""

from __future__ import annotations

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import history as migration_list
from ansible_collections.vmfleet.compute.plugins.module_utils.state import journal as migration_journal
from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store


def record(record_id, guest, source, destination, kind, status, started_at, **fields):
    finished_at = None if status == states.MIGRATING else started_at.replace(":00Z", ":30Z")
    return migration_journal.new_record(guest, source, destination, kind, id=record_id, status=status,
                                        started_at=started_at, finished_at=finished_at, **fields)


@pytest.fixture
def store(tmp_path):
    """A resize hv2 -> hv1 confirmed, a live migration running hv2 -> hv3, a failed cold migration hv3 -> hv1
    and a live migration hv4 -> hv3 with no start time."""
    opened = open_store("sqlite://%s" % (tmp_path / "state.db"))
    resize = record("m-resize", "db1", "hv2", "hv1", "resize", states.FINISHED, "2026-11-21T08:00:00Z",
                    old_flavor="small", new_flavor="large", data_bytes=1024)
    migration_journal.write(opened, resize)
    migration_journal.update(opened, resize, status=states.CONFIRMED)
    migration_journal.write(opened, record("m-live", "web1", "hv2", "hv3", "live", states.MIGRATING,
                                           "2026-11-21T09:00:00Z", progress={"data_total": 100, "data_remaining": 40}))
    migration_journal.write(opened, record("m-cold", "web2", "hv3", "hv1", "cold", states.ERROR,
                                           "2026-11-20T12:00:00Z", error="copy failed", cleaned_up=False,
                                           leftovers=["volume web2.disk on hv1"]))
    migration_journal.write(opened, dict(record("m-old", "web3", "hv4", "hv3", "live", states.COMPLETED,
                                                "2026-11-19T12:00:00Z"), started_at=None))
    yield opened
    opened.close()


def ids(records):
    return [r["id"] for r in records]


def test_collect_lists_every_record_newest_first_with_every_field(store):
    records = migration_list.collect(store)
    assert ids(records) == ["m-live", "m-resize", "m-cold", "m-old"]
    by_id = dict((r["id"], r) for r in records)
    assert by_id["m-resize"]["status"] == "confirmed" and by_id["m-resize"]["old_flavor"] == "small"
    assert by_id["m-resize"]["finished_at"]  # a final status sets it
    assert by_id["m-live"]["progress"]["data_remaining"] == 40
    assert by_id["m-cold"]["leftovers"] == ["volume web2.disk on hv1"]
    assert all(set(migration_list.FIELDS) <= set(r) for r in records)


def test_collect_for_some_hosts_lists_their_moves_only(store):
    assert ids(migration_list.collect(store, ["hv1"])) == ["m-resize", "m-cold"]
    assert ids(migration_list.collect(store, ["hv4", "hv2"])) == ["m-live", "m-resize", "m-old"]
    assert migration_list.collect(store, ["hv9"]) == []


def test_an_empty_store_lists_nothing(tmp_path):
    with open_store("sqlite://%s" % (tmp_path / "empty.db")) as empty:
        assert migration_list.collect(empty) == []


@pytest.mark.parametrize("filters, expected", [
    ({}, ["m-live", "m-resize", "m-cold", "m-old"]),
    ({"guest": "db1"}, ["m-resize"]),
    ({"host": "hv1"}, ["m-resize", "m-cold"]),
    ({"host": "hv3"}, ["m-live", "m-cold", "m-old"]),
    ({"source": "hv2"}, ["m-live", "m-resize"]),
    ({"destination": "hv1"}, ["m-resize", "m-cold"]),
    ({"kind": ["live", "cold"]}, ["m-live", "m-cold", "m-old"]),
    ({"kind": "resize"}, ["m-resize"]),
    ({"status": ["confirmed"]}, ["m-resize"]),
    ({"status": ["finished"]}, []),
    ({"status": ["completed", "error"]}, ["m-cold", "m-old"]),
    ({"id": "m-cold"}, ["m-cold"]),
    ({"since": "2026-11-21T08:00:00Z"}, ["m-live", "m-resize"]),  # at or after; no time: left out
    ({"since": "2026-11-21"}, ["m-live", "m-resize"]),
    ({"since": "2026-11-21T09:00:00+01:00"}, ["m-live", "m-resize"]),  # 08:00 UTC
    ({"since": "2026-11-21T09:30:00+01:00"}, ["m-live"]),  # 08:30 UTC
    ({"since": "2026-11-21T08:00:01"}, ["m-live"]),  # no offset: UTC
    ({"limit": 2}, ["m-live", "m-resize"]),
    ({"limit": 0}, ["m-live", "m-resize", "m-cold", "m-old"]),
    ({"host": "hv1", "kind": ["resize"], "status": ["confirmed"], "guest": "db1"}, ["m-resize"]),
    ({"host": "hv1", "limit": 1}, ["m-resize"]),
    ({"guest": "nobody"}, []),
])
def test_filters(store, filters, expected):
    assert ids(migration_list.filter_records(migration_list.collect(store), **filters)) == expected
    # asked of the store where it can (guest, host, kind, status): the same answer without the whole journal
    assert ids(migration_list.filter_records(migration_list.collect(store, **filters), **filters)) == expected
    assert ids(migration_list.filter_records(migration_list.collect(store, ["hv1", "hv2", "hv3", "hv4"], **filters),
                                             **filters)) == expected


@pytest.mark.parametrize("filters, field", [
    ({"kind": ["warp"]}, "kind"),
    ({"status": ["done"]}, "status"),
    ({"status": ["unreadable"]}, "status"),  # there are no record files to be unreadable any more
    ({"since": "yesterday"}, "since"),
    ({"since": "2026-13-01"}, "since"),
    ({"since": ""}, "since"),
    ({"limit": -1}, "limit"),
    ({"flavor": "x"}, "flavor"),
])
def test_bad_filters_name_the_field(filters, field):
    with pytest.raises(InvalidInput) as err:
        migration_list.filter_records([], **filters)
    assert err.value.field == field


def test_summary_counts_every_status_and_kind(store):
    records = migration_list.collect(store)
    summary = migration_list.summarize(records[:3], matched=4)
    assert summary["total"] == 3 and summary["matched"] == 4
    assert summary["by_status"] == {"migrating": 1, "finished": 0, "confirmed": 1, "reverted": 0, "completed": 0,
                                    "error": 1}
    assert summary["by_kind"] == {"live": 1, "cold": 1, "resize": 1}


def test_legacy_folders_from_hosts_and_state_dirs():
    facts = {"name": "hv1", "uri": "qemu:///system", "maintenance": {"state_dir": "/srv/hv1"}}
    entry = {"name": "hv2", "uri": "qemu:///system", "state_dir": "/srv/hv2"}
    assert migration_list.legacy_folders([facts, entry]) == {"hv1": "/srv/hv1", "hv2": "/srv/hv2"}
    assert migration_list.legacy_folders([facts], {"hv1": "/other", "hv3": "/srv/hv3"}) == {
        "hv1": "/other", "hv3": "/srv/hv3"}
    assert migration_list.legacy_folders(None, None) == {}
    assert migration_list.host_names([{"hypervisor": facts}, entry]) == ["hv1", "hv2"]


@pytest.mark.parametrize("hosts, state_dirs, field", [
    ([{"name": "hv1"}], None, "hosts[0]"),
    ([{"name": "hv1", "uri": "u"}] * 2, None, "hosts[1].name"),
    (None, {"hv1": ""}, "state_dirs.hv1"),
])
def test_legacy_folders_refuse_bad_input(hosts, state_dirs, field):
    with pytest.raises(InvalidInput) as err:
        migration_list.legacy_folders(hosts, state_dirs)
    assert err.value.field == field
