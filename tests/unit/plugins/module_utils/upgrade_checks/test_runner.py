# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry, rc, crash handling, verdict and table."""

from __future__ import annotations

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.upgrade_checks import runner
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.upgrade_checks.facts import fleet, rows_of


def test_rc_follows_nova_status():
    rows = [{"result": r} for r in ("Success", "Warning")]
    assert runner.result_code(rows) == 1
    assert runner.result_code(rows + [{"result": "Failure"}]) == 2
    assert runner.result_code(rows + [{"result": "Error"}, {"result": "Failure"}]) == 255
    assert runner.result_code([]) == 0


def test_a_crashing_check_is_an_error_and_the_others_still_run(monkeypatch):
    def broken(hosts, options):
        raise KeyError("boom")
    monkeypatch.setitem(runner.CHECKS, "hugepages", broken)
    rows, rc = runner.run_checks(fleet())
    assert rc == 255
    error = rows_of(rows, "hugepages")
    assert len(error) == 1 and error[0]["result"] == "Error" and error[0]["host"] is None
    assert "KeyError" in error[0]["details"] and "test_runner.py" in error[0]["details"]
    assert rows_of(rows, "settings")[0]["result"] == "Success"
    assert len(rows) == 11 * 3 + 2


def test_malformed_facts_crash_one_check_only():
    hosts = fleet()
    hosts[0]["guests"] = [{"name": "x", "disks": "not a list"}]
    rows, rc = runner.run_checks(hosts, checks=["storage", "cordoned"])
    assert rc == 255
    assert [r["result"] for r in rows_of(rows, "cordoned")] == ["Success"] * 3


def test_selection_and_unknown_check():
    rows, rc = runner.run_checks(fleet(), checks=["cordoned", "versions"])
    assert [r["check"] for r in rows] == ["cordoned"] * 3 + ["versions"] * 3
    with pytest.raises(InvalidInput) as err:
        runner.run_checks(fleet(), checks=["nope"])
    assert err.value.field == "checks" and "n_plus_one" in err.value.allowed


def test_hosts_must_be_facts_once_each():
    with pytest.raises(InvalidInput) as err:
        runner.run_checks([{"nothing": 1}])
    assert err.value.field == "hosts[0]"
    hosts = fleet(1)
    with pytest.raises(InvalidInput):
        runner.run_checks(hosts + hosts)
    rows, rc = runner.run_checks([{"hypervisor": hosts[0]}], checks=["cordoned"])
    assert rows[0]["host"] == "hv1"


@pytest.mark.parametrize("field, value", [("storage_min_free_gb", -1), ("storage_warn_free_percent", 101),
                                          ("max_cpu_allocation_ratio", "x"), ("target_machine_types", "pc"),
                                          ("bogus", 1)])
def test_bad_options_name_the_field(field, value):
    with pytest.raises(InvalidInput) as err:
        runner.run_checks(fleet(1), {field: value})
    assert err.value.field == field


def test_verdict_fails_on_failure_and_on_warning_only_when_strict():
    warn = [{"check": "cordoned", "host": "hv1", "result": "Warning", "details": "cordoned"}]
    assert runner.verdict(warn, 1)[0] is False
    failed, msg = runner.verdict(warn, 1, strict=True)
    assert failed and "cordoned hv1 Warning: cordoned" in msg
    fail = [{"check": "version_skew", "host": None, "result": "Failure", "details": "x"}]
    assert runner.verdict(fail, 2)[0] is True
    assert "(fleet)" in runner.verdict(fail, 2)[1]


def test_table_has_a_row_per_result_and_wraps_details():
    rows = [{"check": "storage", "host": "hv1", "result": "Failure", "details": "word " * 40},
            {"check": "version_skew", "host": None, "result": "Success", "details": "same"}]
    table = runner.render_table(rows, width=50).splitlines()
    assert table[0].split() == ["CHECK", "HOST", "RESULT", "DETAILS"]
    assert table[2].startswith("storage       hv1      Failure  word")
    assert table[3].startswith(" " * 32 + "word")
    assert table[-1].split()[:3] == ["version_skew", "(fleet)", "Success"]
