# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vmfleet.compute.plugins.modules import host_maintenance, upgrade_check
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.upgrade_checks.facts import fleet


def run(capsys, module, **args):
    if module is upgrade_check:
        args.setdefault("libvirt_compare", False)  # unit tests: the facts' URIs lead nowhere
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


def test_healthy_fleet(capsys):
    result = run(capsys, upgrade_check, hosts=fleet(), _ansible_check_mode=True)
    assert result["failed"] is False and result["changed"] is False
    assert result["rc"] == 0 and result["summary"]["success"] == len(result["checks"])
    assert "CHECK" in result["table"]


def test_warning_passes_unless_strict(capsys):
    hosts = fleet()
    hosts[0]["config"]["enabled"] = False
    result = run(capsys, upgrade_check, hosts=hosts, checks=["cordoned"])
    assert result["failed"] is False and result["rc"] == 1
    result = run(capsys, upgrade_check, hosts=hosts, checks=["cordoned"], strict=True)
    assert result["failed"] is True and result["rc"] == 1 and "cordoned hv1 Warning" in result["msg"]


def test_failure_fails_and_still_returns_the_rows(capsys):
    result = run(capsys, upgrade_check, hosts=fleet(), target_qemu_version="99.1")
    assert result["failed"] is True and result["rc"] == 2
    assert len(result["checks"]) == 37 and "Failure" in result["table"]


def test_bad_option_names_the_field(capsys):
    result = run(capsys, upgrade_check, hosts=fleet(), target_libvirt_version="latest")
    assert result["failed"] is True and result["field"] == "target_libvirt_version"


def test_check_choices_match_the_registry():
    doc = yaml.safe_load(upgrade_check.DOCUMENTATION)
    assert doc["options"]["checks"]["choices"] == list(upgrade_check.argument_spec()["checks"]["choices"])
    assert set(doc["options"]) | {"state_url"} == set(upgrade_check.argument_spec())  # state_url: a fragment's


def test_a_cordon_in_the_store_is_seen_though_the_facts_are_older(capsys, tmp_path):
    url = "sqlite://%s" % (tmp_path / "state.db")
    hosts = fleet()  # gathered before the cordon
    result = run(capsys, host_maintenance, state_url=url, name=hosts[1]["name"], reason="firmware")
    assert result["changed"] is True
    result = run(capsys, upgrade_check, hosts=hosts, checks=["cordoned"], state_url=url)
    rows = dict((row["host"], row) for row in result["checks"])
    assert rows[hosts[1]["name"]]["result"] == "Warning" and "firmware" in rows[hosts[1]["name"]]["details"]
    assert rows[hosts[0]["name"]]["result"] == "Success"


def test_host_maintenance_cordons_with_a_diff(capsys, tmp_path):
    url = "sqlite://%s" % (tmp_path / "state.db")
    result = run(capsys, host_maintenance, state_url=url, name="hv1", reason="r", by="me", _ansible_diff=True)
    assert result["changed"] is True and result["cordon"]["reason"] == "r"
    assert result["diff"]["before"] == {} and result["diff"]["after"]["by"] == "me"
    assert result["store"] == "SQLite file %s" % (tmp_path / "state.db")
    result = run(capsys, host_maintenance, state_url=url, name="hv1", state="uncordoned")
    assert result["changed"] is True and result["cordon"] is None and "diff" not in result


def test_host_maintenance_imports_a_state_folder_of_an_earlier_version_once(capsys, tmp_path):
    url = "sqlite://%s" % (tmp_path / "state.db")
    folder = tmp_path / "hv1-state"
    folder.mkdir()
    (folder / "cordon.json").write_text('{"host": "hv1", "reason": "old", "by": "ops", "at": "2026-11-01T08:00:00Z"}')
    result = run(capsys, host_maintenance, state_url=url, name="hv1", state_dir=str(folder))
    assert result["changed"] is False and result["cordon"]["reason"] == "old"  # the cordon in force is kept
    result = run(capsys, host_maintenance, state_url=url, name="hv1", state="uncordoned", state_dir=str(folder))
    assert result["changed"] is True
    result = run(capsys, host_maintenance, state_url=url, name="hv1", state="uncordoned", state_dir=str(folder))
    assert result["changed"] is False  # imported once: the old record does not come back
