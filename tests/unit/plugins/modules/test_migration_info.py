# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""migration_info run through main(), over journals in temporary state folders."""

from __future__ import annotations

import json

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import history as migration_list
from ansible_collections.vmfleet.compute.plugins.module_utils.state import journal as migration_journal
from ansible_collections.vmfleet.compute.plugins.modules import migration_info


def run(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            migration_info.main()
    return json.loads(capsys.readouterr().out)


def facts(name, state_dir):
    return {"name": name, "uri": "qemu+tcp://%s/system" % name, "maintenance": {"state_dir": state_dir}}


@pytest.fixture
def dirs(tmp_path):
    dirs = {"hv1": str(tmp_path / "hv1"), "hv2": str(tmp_path / "hv2")}
    resize = migration_journal.new_record("db1", "hv1", "hv2", "resize", id="r1",
                                          started_at="2026-11-21T08:00:00Z")
    migration_journal.write(dirs.values(), resize)
    migration_journal.update([dirs["hv2"]], dict(resize), status=states.FINISHED)
    live = migration_journal.new_record("web1", "hv2", "hv1", "live", id="l1", started_at="2026-11-21T09:00:00Z",
                                        status=states.COMPLETED, finished_at="2026-11-21T09:00:10Z")
    migration_journal.write(dirs.values(), live)
    return dirs


def test_lists_merged_migrations_from_facts_in_check_mode(capsys, dirs):
    result = run(capsys, hosts=[facts("hv1", dirs["hv1"]), {"hypervisor": facts("hv2", dirs["hv2"])}],
                 _ansible_check_mode=True)
    assert result["changed"] is False and not result.get("failed")
    assert [m["id"] for m in result["migrations"]] == ["l1", "r1"]
    resize = result["migrations"][1]
    assert resize["status"] == "finished" and resize["journals"] == ["hv1", "hv2"]
    assert result["summary"]["by_status"]["finished"] == 1 and result["summary"]["by_kind"]["live"] == 1
    assert result["state_dirs"] == dirs


def test_filters_and_limit_from_state_dirs(capsys, dirs):
    result = run(capsys, state_dirs=dirs, host="hv2", kind=["resize", "live"], status=["finished", "completed"],
                 since="2026-11-21T07:00:00Z", limit=1)
    assert [m["id"] for m in result["migrations"]] == ["l1"]
    assert result["summary"]["total"] == 1 and result["summary"]["matched"] == 2
    result = run(capsys, state_dirs=dirs, guest="db1", source="hv1", destination="hv2", id="r1")
    assert [m["id"] for m in result["migrations"]] == ["r1"]


def test_missing_state_folder_warns_and_lists_nothing(capsys, tmp_path):
    with patch_module_args({"state_dirs": {"hv9": str(tmp_path / "absent")}}):
        with pytest.raises(SystemExit):
            migration_info.main()
    out = capsys.readouterr()
    result = json.loads(out.out)
    assert result["migrations"] == [] and result["summary"]["total"] == 0
    # 2.19: warnings are objects in the result; once a test of the session has loaded the controller
    # (the filter tests do), AnsibleModule hands them to its display (stderr) instead
    assert "state folder %s does not exist" % (tmp_path / "absent") in json.dumps(result.get("warnings")) + out.err


@pytest.mark.parametrize("args, field", [
    ({"kind": ["teleport"]}, "kind"),
    ({"status": ["done"]}, "status"),
    ({"since": "last tuesday"}, "since"),
    ({"limit": -2}, "limit"),
])
def test_bad_input_fails_naming_the_field(capsys, dirs, args, field):
    result = run(capsys, state_dirs=dirs, **args)
    assert result["failed"] is True and field in result["msg"]
    assert result.get("field", field) == field


def test_hosts_or_state_dirs_required(capsys):
    result = run(capsys)
    assert result["failed"] is True and "hosts" in result["msg"] and "state_dirs" in result["msg"]
    result = run(capsys, hosts=[], state_dirs={})
    assert result["failed"] is True and result["field"] == "hosts"
    result = run(capsys, hosts=[{"name": "hv1", "uri": "qemu:///system"}])
    assert result["failed"] is True and result["field"] == "hosts[0].maintenance.state_dir"


def test_documentation_matches_the_argument_spec():
    doc = yaml.safe_load(migration_info.DOCUMENTATION)
    spec = migration_info.argument_spec()
    assert set(doc["options"]) == set(spec)
    assert doc["options"]["kind"]["choices"] == list(states.MIGRATION_KINDS)
    assert doc["options"]["status"]["choices"] == list(migration_list.STATUSES)
    returned = yaml.safe_load(migration_info.RETURN)["migrations"]["contains"]
    assert set(migration_list.FIELDS) | {"journals", "unreadable_in"} <= set(returned)
