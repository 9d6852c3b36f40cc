# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The schedule module with host_failures_to_tolerate: the option through the argument spec, the
refusal in the plan's rejections, and a value out of range refused naming the field."""

from __future__ import annotations

import json

import pytest

# pylint: disable=wrong-import-position
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vmfleet.compute.plugins.modules import schedule
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.planning.test_admission import (
    request, small_host)


def run(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            schedule.main()
    return json.loads(capsys.readouterr().out)


def test_a_batch_stops_where_a_host_would_become_undrainable(capsys, tmp_path):
    hosts = [small_host("hv1", 4000), small_host("hv2", 2000), small_host("hv3", 2000)]
    requests = [request("new1", 3000), request("new2", 3000)]
    url = "sqlite://%s" % (tmp_path / "state.db")
    result = run(capsys, hosts=hosts, requests=requests, config={"host_failures_to_tolerate": 1},
                 allow_partial=True, state_url=url)
    assert [p["host"] for p in result["plan"]] == ["hv2", None]
    admission = [r for r in result["rejections"]["new2"] if r["filter"] == "AdmissionControl"]
    assert sorted(r["host"] for r in admission) == ["hv1", "hv3"]
    assert all("would leave hv1 undrainable (host_failures_to_tolerate=1)" in r["reason"] for r in admission)
    assert [p["host"] for p in run(capsys, hosts=hosts, requests=requests, state_url=url)["plan"]] == ["hv2", "hv3"]


def test_a_value_other_than_0_or_1_is_refused_naming_the_field(capsys, tmp_path):
    result = run(capsys, hosts=[small_host("hv1")], requests=[request("new1", 100)],
                 config={"host_failures_to_tolerate": 2}, state_url="sqlite://%s" % (tmp_path / "state.db"))
    assert result["failed"] is True
    assert "config.host_failures_to_tolerate" in result["msg"] and "0 to 1" in result["msg"]
