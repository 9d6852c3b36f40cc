# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""migration_info run through main(), over the journal of a SQLite fleet state store."""

from __future__ import annotations

import json

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import history as migration_list
from ansible_collections.vmfleet.compute.plugins.module_utils.state import journal as migration_journal
from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store
from ansible_collections.vmfleet.compute.plugins.modules import migration_info


def run(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            migration_info.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def url(tmp_path):
    """A store with a resize hv1 -> hv2 waiting for confirmation and a live migration hv2 -> hv1."""
    location = "sqlite://%s" % (tmp_path / "state.db")
    with open_store(location) as store:
        migration_journal.write(store, migration_journal.new_record(
            "db1", "hv1", "hv2", "resize", id="r1", started_at="2026-11-21T08:00:00Z", status=states.FINISHED))
        migration_journal.write(store, migration_journal.new_record(
            "web1", "hv2", "hv1", "live", id="l1", started_at="2026-11-21T09:00:00Z", status=states.COMPLETED,
            finished_at="2026-11-21T09:00:10Z"))
    return location


def test_lists_the_journal_newest_first_in_check_mode(capsys, url):
    result = run(capsys, state_url=url, _ansible_check_mode=True)
    assert result["changed"] is False and not result.get("failed")
    assert [m["id"] for m in result["migrations"]] == ["l1", "r1"]
    assert result["migrations"][1]["status"] == "finished"
    assert result["summary"]["by_status"]["finished"] == 1 and result["summary"]["by_kind"]["live"] == 1
    assert result["store"] == "SQLite file %s" % url[len("sqlite://"):] and result["imported"] == {}


def test_filters_and_limit(capsys, url):
    result = run(capsys, state_url=url, host="hv2", kind=["resize", "live"], status=["finished", "completed"],
                 since="2026-11-21T07:00:00Z", limit=1)
    assert [m["id"] for m in result["migrations"]] == ["l1"]
    assert result["summary"]["total"] == 1 and result["summary"]["matched"] == 2
    result = run(capsys, state_url=url, guest="db1", source="hv1", destination="hv2", id="r1")
    assert [m["id"] for m in result["migrations"]] == ["r1"]


def test_hosts_limit_the_list_to_their_moves(capsys, url):
    result = run(capsys, state_url=url, hosts=[{"name": "hv3", "uri": "qemu:///system"}])
    assert result["migrations"] == []
    result = run(capsys, state_url=url, hosts=[{"hypervisor": {"name": "hv1", "uri": "qemu:///system",
                                                               "config": {}}}])
    assert [m["id"] for m in result["migrations"]] == ["l1", "r1"]


def test_the_store_comes_from_the_environment(capsys, url, monkeypatch):
    monkeypatch.setenv("VMFLEET_STATE_URL", url)
    assert [m["id"] for m in run(capsys)["migrations"]] == ["l1", "r1"]


def test_a_state_folder_of_an_earlier_version_is_imported_once(capsys, url, tmp_path):
    folder = tmp_path / "hv3-state"
    (folder / "journal").mkdir(parents=True)
    old = migration_journal.new_record("db9", "hv3", "hv1", "cold", id="old1", started_at="2026-11-01T08:00:00Z",
                                       status=states.COMPLETED, finished_at="2026-11-01T08:01:00Z")
    (folder / "journal" / "old1.json").write_text(json.dumps(old))
    result = run(capsys, state_url=url, state_dirs={"hv3": str(folder)})
    assert result["changed"] is True and result["imported"] == {"hv3": str(folder)}
    assert [m["id"] for m in result["migrations"]] == ["l1", "r1", "old1"]
    again = run(capsys, state_url=url, state_dirs={"hv3": str(folder)})
    assert again["changed"] is False and again["imported"] == {} and len(again["migrations"]) == 3


@pytest.mark.parametrize("args, field", [
    ({"kind": ["teleport"]}, "kind"),
    ({"status": ["done"]}, "status"),
    ({"since": "last tuesday"}, "since"),
    ({"limit": -2}, "limit"),
    ({"state_url": "state.db"}, "state_url"),
    ({"state_dirs": {"hv1": "relative/folder"}}, "state_dirs.hv1"),
])
def test_bad_input_fails_naming_the_field(capsys, url, args, field):
    result = run(capsys, **dict({"state_url": url}, **args))
    assert result["failed"] is True and field in result["msg"]
    assert result.get("field", field) == field


def test_a_password_in_the_url_is_never_shown(capsys):
    result = run(capsys, state_url="postgresql://vmfleet:s3cret-pw@127.0.0.1:1/vmfleet?connect_timeout=1")
    assert result["failed"] is True and "s3cret-pw" not in json.dumps(result)
    assert "127.0.0.1" in result["msg"] and "port 1" in result["msg"]


def test_documentation_matches_the_argument_spec():
    doc = yaml.safe_load(migration_info.DOCUMENTATION)
    spec = migration_info.argument_spec()
    assert set(doc["options"]) | {"state_url"} == set(spec)  # state_url: the fleet_state doc fragment
    assert doc["options"]["kind"]["choices"] == list(states.MIGRATION_KINDS)
    assert doc["options"]["status"]["choices"] == list(migration_list.STATUSES)
    returned = yaml.safe_load(migration_info.RETURN)["migrations"]["contains"]
    assert set(migration_list.FIELDS) <= set(returned)
