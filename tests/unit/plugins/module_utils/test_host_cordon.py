# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cordon and what host facts read of a host from the fleet state store (a SQLite file)."""

from __future__ import annotations

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.host.facts import with_cordon
from ansible_collections.vmfleet.compute.plugins.module_utils.host.settings import normalize_host_config
from ansible_collections.vmfleet.compute.plugins.module_utils.state import cordon as host_cordon
from ansible_collections.vmfleet.compute.plugins.module_utils.state import journal as migration_journal
from ansible_collections.vmfleet.compute.plugins.module_utils.state import maintenance as maintenance_record
from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store


@pytest.fixture
def store(tmp_path):
    opened = open_store("sqlite://%s" % (tmp_path / "state.db"))
    yield opened
    opened.close()


def test_cordon_is_written_once_and_uncordon_removes_it(store, tmp_path):
    changed, before, after = host_cordon.set_state(store, "cordoned", "hv1", "kernel", "ops")
    assert changed and before is None and after["reason"] == "kernel" and after["by"] == "ops"
    with open_store("sqlite://%s" % (tmp_path / "state.db")) as another_controller:
        assert another_controller.cordon("hv1") == after
    changed, before, again = host_cordon.set_state(store, "cordoned", "hv1", "other reason", "me")
    assert not changed and again == after and before == after
    changed, before, after = host_cordon.set_state(store, "uncordoned", "hv1")
    assert changed and before["reason"] == "kernel" and after is None
    assert store.cordon("hv1") is None
    assert host_cordon.set_state(store, "uncordoned", "hv1") == (False, None, None)


def test_check_mode_writes_nothing(store):
    changed, _before, after = host_cordon.set_state(store, "cordoned", "hv1", check_mode=True)
    assert changed and after["reason"] == "cordoned for maintenance"
    assert store.cordon("hv1") is None
    host_cordon.set_state(store, "cordoned", "hv1")
    assert host_cordon.set_state(store, "uncordoned", "hv1", check_mode=True)[0] is True
    assert store.cordon("hv1") is not None


def test_unknown_state_names_the_allowed_values(store):
    with pytest.raises(InvalidInput) as err:
        host_cordon.set_state(store, "drained", "hv1")
    assert err.value.field == "state" and err.value.allowed == "cordoned, uncordoned"


def test_maintenance_record_reads_cordon_journal_and_drain(store):
    assert maintenance_record.read_state(None, "hv1") is None
    empty = maintenance_record.read_state(store, "hv1")
    assert empty == {"store": store.url.describe(), "cordon": None, "journal": [], "draining": None}
    migration_journal.write(store, migration_journal.new_record("vm1", "hv1", "hv2", "live", id="m1"))
    migration_journal.write(store, migration_journal.new_record("vm2", "hv3", "hv4", "live", id="m2"))
    run = store.begin_drain("hv1", "ops")
    read = maintenance_record.read_state(store, "hv1")
    assert [r["id"] for r in read["journal"]] == ["m1"]  # the host's moves only
    assert read["draining"]["run_id"] == run.id


def _move(record_id, status, started, **fields):
    record = migration_journal.new_record("vm-" + record_id, "hv1", "hv2", fields.pop("kind", "live"), id=record_id,
                                          status=status, started_at=started)
    record.update(fields)
    return record


def test_host_facts_carry_the_open_moves_and_the_latest_not_the_whole_journal(store):
    # a host's journal only grows: its facts carry what is still open, whenever it began, and the latest moves
    old = [_move("o-flight", "migrating", "2026-01-01T00:00:00Z"),
           _move("o-left", "error", "2026-01-01T00:01:00Z", cleaned_up=False),
           _move("o-clean", "error", "2026-01-01T00:02:00Z", cleaned_up=True),
           _move("o-resized", "finished", "2026-01-01T00:03:00Z", kind="resize"),
           _move("o-evacuated", "completed", "2026-01-01T00:04:00Z", kind="evacuation"),
           _move("o-evac-cleaned", "completed", "2026-01-01T00:05:00Z", kind="evacuation",
                 cleaned_at="2026-01-02T00:00:00Z"),
           _move("o-done", "completed", "2026-01-01T00:06:00Z")]
    recent = [_move("r%02d" % n, "completed", "2026-12-01T10:%02d:00Z" % n) for n in range(30)]
    for record in old + recent:
        migration_journal.write(store, record)
    expected = ["o-flight", "o-left", "o-resized", "o-evacuated"] + [
        "r%02d" % n for n in range(30 - maintenance_record.RECENT_MOVES, 30)]
    assert [r["id"] for r in maintenance_record.read_state(store, "hv1")["journal"]] == expected
    both = maintenance_record.read_states(store, ["hv2", "hv9"])
    assert [r["id"] for r in both["hv2"]["journal"]] == expected
    assert both["hv9"]["journal"] == []


def test_cordon_disables_the_host_in_its_config():
    config = normalize_host_config({})
    record = host_cordon.new_record("hv1", "kernel", "ops")
    cordoned = with_cordon(config, record)
    assert (cordoned["enabled"], cordoned["disabled_reason"], cordoned["disabled_by"]) == (False, "kernel", "ops")
    assert cordoned["disabled_at"] == record["at"]
    assert config["enabled"] is True  # not changed in place
    assert with_cordon(config, None)["disabled_by"] is None


def test_a_drain_holding_the_host_disables_it_too():
    config = normalize_host_config({})
    draining = with_cordon(config, None, {"run_id": "r1", "owner": "ops on ctl1 (pid 7)"})
    assert draining["enabled"] is False and draining["disabled_reason"] == "being drained (run r1)"
    assert draining["disabled_by"] == "ops on ctl1 (pid 7)"


def test_many_hosts_read_at_once_read_as_each_alone(store):
    host_cordon.set_state(store, "cordoned", "hv2", "disk", "ops")
    migration_journal.write(store, migration_journal.new_record("vm1", "hv1", "hv2", "live", id="m1"))
    migration_journal.write(store, migration_journal.new_record("vm2", "hv3", "hv1", "cold", id="m2"))
    store.begin_drain("hv3", "ops")
    hosts = ["hv1", "hv2", "hv3", "hv4"]
    assert maintenance_record.read_states(store, hosts) == dict(
        (host, maintenance_record.read_state(store, host)) for host in hosts)
    assert maintenance_record.read_states(None, ["hv1"]) == {"hv1": None}
