# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The migration list: journals of several hosts in temporary state folders, merged and filtered."""

from __future__ import annotations

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import history as migration_list
from ansible_collections.vmfleet.compute.plugins.module_utils.state import journal as migration_journal


def record(record_id, guest, source, destination, kind, status, started_at, **fields):
    finished_at = None if status == states.MIGRATING else started_at.replace(":00Z", ":30Z")
    return migration_journal.new_record(guest, source, destination, kind, id=record_id, status=status,
                                        started_at=started_at, finished_at=finished_at, **fields)


@pytest.fixture
def fleet(tmp_path):
    """Three hosts' journals: a resize confirmed on hv1 but still finished on hv2's copy, a live
    migration running hv2 -> hv3, a failed cold migration hv3 -> hv1, a corrupt record on hv3."""
    dirs = dict((name, str(tmp_path / name)) for name in ("hv1", "hv2", "hv3"))
    resize = record("m-resize", "db1", "hv2", "hv1", "resize", states.FINISHED, "2026-11-21T08:00:00Z",
                    old_flavor="small", new_flavor="large", data_bytes=1024)
    migration_journal.write([dirs["hv1"], dirs["hv2"]], resize)
    migration_journal.update([dirs["hv1"]], dict(resize), status=states.CONFIRMED)
    live = record("m-live", "web1", "hv2", "hv3", "live", states.MIGRATING, "2026-11-21T09:00:00Z",
                  progress={"data_total": 100, "data_remaining": 40, "updated_at": "2026-11-21T09:00:05Z"})
    migration_journal.write([dirs["hv2"]], live)
    migration_journal.write([dirs["hv3"]], dict(live, progress=None))
    cold = record("m-cold", "web2", "hv3", "hv1", "cold", states.ERROR, "2026-11-20T12:00:00Z",
                  error="copy failed", cleaned_up=False, leftovers=["volume web2.disk on hv1"])
    migration_journal.write([dirs["hv3"], dirs["hv1"]], cold)
    (tmp_path / "hv3" / "journal" / "m-broken.json").write_text("{not json")
    return dirs


def ids(records):
    return [r["id"] for r in records]


def test_collect_merges_copies_newest_first(fleet):
    records = migration_list.collect(fleet)
    assert ids(records) == ["m-live", "m-resize", "m-cold", "m-broken"]
    by_id = dict((r["id"], r) for r in records)
    resize = by_id["m-resize"]
    assert resize["status"] == "confirmed" and resize["journals"] == ["hv1", "hv2"]
    assert resize["old_flavor"] == "small" and resize["data_bytes"] == 1024 and resize["unreadable_in"] == []
    # two running copies: the one with the later progress update wins
    assert by_id["m-live"]["journals"] == ["hv2", "hv3"] and by_id["m-live"]["progress"]["data_remaining"] == 40
    assert by_id["m-cold"]["leftovers"] == ["volume web2.disk on hv1"]


def test_corrupt_record_is_listed_unreadable_with_every_field(fleet):
    broken = migration_list.collect(fleet)[-1]
    assert broken["status"] == "unreadable" and broken["journals"] == ["hv3"] and broken["unreadable_in"] == ["hv3"]
    assert "fix or remove it" in broken["error"]
    assert broken["guest"] is None and broken["started_at"] is None and broken["kind"] is None


def test_readable_copy_wins_over_a_corrupt_one(fleet, tmp_path):
    (tmp_path / "hv2" / "journal" / "m-cold.json").write_text("[1, 2")
    cold = migration_list.filter_records(migration_list.collect(fleet), id="m-cold")[0]
    assert cold["status"] == "error" and cold["error"] == "copy failed"
    assert cold["journals"] == ["hv1", "hv2", "hv3"] and cold["unreadable_in"] == ["hv2"]


def test_merge_prefers_the_final_status_then_the_later_finish():
    first = {"id": "x", "status": "finished", "finished_at": "2026-11-21T08:00:30Z"}
    final = dict(first, status="reverted")
    later = dict(first, status="error", finished_at="2026-11-21T08:05:00Z")
    assert migration_list._rank(final) > migration_list._rank(first)
    assert migration_list._rank(later) > migration_list._rank(final)
    assert migration_list._rank({"id": "x", "status": "unreadable"}) < migration_list._rank(
        {"id": "x", "status": "migrating"})


def test_missing_folder_or_journal_adds_nothing(tmp_path):
    assert migration_list.collect({"hv1": str(tmp_path / "absent"), "hv2": str(tmp_path)}) == []


@pytest.mark.parametrize("filters, expected", [
    ({}, ["m-live", "m-resize", "m-cold", "m-broken"]),
    ({"guest": "db1"}, ["m-resize"]),
    ({"host": "hv1"}, ["m-resize", "m-cold"]),
    ({"host": "hv3"}, ["m-live", "m-cold", "m-broken"]),  # the corrupt record is found by its journal
    ({"source": "hv2"}, ["m-live", "m-resize"]),
    ({"destination": "hv1"}, ["m-resize", "m-cold"]),
    ({"kind": ["live", "cold"]}, ["m-live", "m-cold"]),
    ({"kind": "resize"}, ["m-resize"]),
    ({"status": ["confirmed"]}, ["m-resize"]),
    ({"status": ["finished"]}, []),  # hv2's copy is behind: the merged record is confirmed
    ({"status": ["unreadable", "error"]}, ["m-cold", "m-broken"]),
    ({"id": "m-cold"}, ["m-cold"]),
    ({"since": "2026-11-21T08:00:00Z"}, ["m-live", "m-resize"]),  # at or after; no time: left out
    ({"since": "2026-11-21"}, ["m-live", "m-resize"]),
    ({"since": "2026-11-21T09:00:00+01:00"}, ["m-live", "m-resize"]),  # 08:00 UTC
    ({"since": "2026-11-21T09:30:00+01:00"}, ["m-live"]),  # 08:30 UTC
    ({"since": "2026-11-21T08:00:01"}, ["m-live"]),  # no offset: UTC
    ({"limit": 2}, ["m-live", "m-resize"]),
    ({"limit": 0}, ["m-live", "m-resize", "m-cold", "m-broken"]),
    ({"host": "hv1", "kind": ["resize"], "status": ["confirmed"], "guest": "db1"}, ["m-resize"]),
    ({"host": "hv1", "limit": 1}, ["m-resize"]),
    ({"guest": "nobody"}, []),
])
def test_filters(fleet, filters, expected):
    assert ids(migration_list.filter_records(migration_list.collect(fleet), **filters)) == expected


@pytest.mark.parametrize("filters, field", [
    ({"kind": ["warp"]}, "kind"),
    ({"status": ["done"]}, "status"),
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


def test_summary_counts_every_status_and_kind(fleet):
    records = migration_list.collect(fleet)
    summary = migration_list.summarize(records[:3], matched=4)
    assert summary["total"] == 3 and summary["matched"] == 4
    assert summary["by_status"] == {"migrating": 1, "finished": 0, "confirmed": 1, "reverted": 0, "completed": 0,
                                    "error": 1, "unreadable": 0}
    assert summary["by_kind"] == {"live": 1, "cold": 1, "resize": 1}
    assert migration_list.summarize(records)["by_kind"]["unknown"] == 1


def test_journal_folders_from_facts_and_state_dirs():
    facts = {"name": "hv1", "uri": "qemu:///system", "maintenance": {"state_dir": "/srv/hv1"}}
    assert migration_list.journal_folders([facts, {"hypervisor": dict(facts, name="hv2")}]) == {
        "hv1": "/srv/hv1", "hv2": "/srv/hv1"}
    assert migration_list.journal_folders([facts], {"hv1": "/other", "hv3": "/srv/hv3"}) == {
        "hv1": "/other", "hv3": "/srv/hv3"}


@pytest.mark.parametrize("hosts, state_dirs, field", [
    (None, None, "hosts"),
    ([], {}, "hosts"),
    ([{"name": "hv1", "uri": "qemu:///system"}], None, "hosts[0].maintenance.state_dir"),
    ([{"name": "hv1"}], None, "hosts[0]"),
    ([{"name": "hv1", "uri": "u", "maintenance": {"state_dir": "/a"}}] * 2, None, "hosts[1].name"),
    (None, {"hv1": ""}, "state_dirs.hv1"),
])
def test_journal_folders_refuse_bad_input(hosts, state_dirs, field):
    with pytest.raises(InvalidInput) as err:
        migration_list.journal_folders(hosts, state_dirs)
    assert err.value.field == field
