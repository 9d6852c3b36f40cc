# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cordon record and the journal reader, in a temporary state folder."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.host.facts import with_cordon
from ansible_collections.vmfleet.compute.plugins.module_utils.host.settings import normalize_host_config
from ansible_collections.vmfleet.compute.plugins.module_utils.state import cordon as host_cordon
from ansible_collections.vmfleet.compute.plugins.module_utils.state import maintenance as maintenance_record


def test_cordon_is_written_once_and_uncordon_removes_it(tmp_path):
    state_dir = str(tmp_path / "state")
    changed, before, after = host_cordon.set_state(state_dir, "cordoned", "hv1", "kernel", "ops")
    assert changed and before is None and after["reason"] == "kernel" and after["by"] == "ops"
    assert host_cordon.read_cordon(state_dir) == after
    assert os.listdir(state_dir) == ["cordon.json"]  # no temporary file left
    changed, before, again = host_cordon.set_state(state_dir, "cordoned", "hv1", "other reason", "me")
    assert not changed and again == after
    changed, before, after = host_cordon.set_state(state_dir, "uncordoned", "hv1")
    assert changed and before["reason"] == "kernel" and after is None
    assert host_cordon.read_cordon(state_dir) is None
    assert host_cordon.set_state(state_dir, "uncordoned", "hv1") == (False, None, None)


def test_check_mode_writes_nothing(tmp_path):
    changed, _before, after = host_cordon.set_state(str(tmp_path), "cordoned", "hv1", check_mode=True)
    assert changed and after["reason"] == "cordoned for maintenance"
    assert not os.path.exists(host_cordon.cordon_path(str(tmp_path)))


def test_broken_record_is_an_error_not_an_uncordon(tmp_path):
    (tmp_path / "cordon.json").write_text("{not json")
    with pytest.raises(VmfleetError) as err:
        host_cordon.read_cordon(str(tmp_path))
    assert "fix or remove it" in err.value.message


def test_unknown_state_names_the_allowed_values(tmp_path):
    with pytest.raises(InvalidInput) as err:
        host_cordon.set_state(str(tmp_path), "drained", "hv1")
    assert err.value.field == "state" and err.value.allowed == "cordoned, uncordoned"


def test_journal_absent_or_records_with_unreadable_ones_reported(tmp_path):
    assert maintenance_record.read_journal(str(tmp_path)) is None
    other = tmp_path / "other"
    (other / "journal").mkdir(parents=True)
    (other / "journal" / "1.json").write_text(json.dumps({"id": "1", "status": "running", "started_at": "a"}))
    (other / "journal" / "2.json").write_text("garbage")
    entries = maintenance_record.read_journal(str(other))
    assert entries[1] == {"id": "1", "status": "running", "started_at": "a"}
    assert entries[0]["id"] == "2" and entries[0]["status"] == "unreadable"
    assert maintenance_record.read_state(None) is None
    assert maintenance_record.read_state(str(other))["cordon"] is None


def test_cordon_disables_the_host_in_its_config():
    config = normalize_host_config({})
    record = host_cordon.new_record("hv1", "kernel", "ops")
    cordoned = with_cordon(config, record)
    assert (cordoned["enabled"], cordoned["disabled_reason"], cordoned["disabled_by"]) == (False, "kernel", "ops")
    assert cordoned["disabled_at"] == record["at"]
    assert config["enabled"] is True  # not changed in place
    assert with_cordon(config, None)["disabled_by"] is None
