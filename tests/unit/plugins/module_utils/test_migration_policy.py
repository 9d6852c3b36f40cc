# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's live migration knobs: defaults, the downtime ladder, timeouts and what the monitor decides."""

from __future__ import annotations

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import policy


def test_defaults_are_novas():
    settings = policy.normalize({})
    assert settings["max_downtime"] == 500 and settings["downtime_steps"] == 10
    assert settings["downtime_delay"] == 75 and settings["completion_timeout"] == 800
    assert settings["timeout_action"] == "abort" and settings["bandwidth"] == 0
    assert settings["permit_post_copy"] is False and settings["permit_auto_converge"] is False
    assert settings["parallel_connections"] == 1
    assert settings["progress_timeout"] == 150  # KubeVirt's: Nova has none since Stein


def test_ladder_matches_novas_published_example():
    # nova/tests/unit/virt/libvirt/test_migration.py: downtime 400 ms, 10 steps, 30 s/GiB, 3 GiB of data
    settings = policy.normalize({"max_downtime": 400, "downtime_steps": 10, "downtime_delay": 30})
    assert policy.downtime_steps(settings, 3.0) == [
        (0, 40), (90, 76), (180, 112), (270, 148), (360, 184), (450, 220),
        (540, 256), (630, 292), (720, 328), (810, 364), (900, 400)]


def test_small_guests_count_as_two_gib():
    assert policy.data_gb(128 * 1024 ** 2) == 2.0
    assert policy.data_gb(3 * 1024 ** 3, 1024 ** 3) == 4.0
    settings = policy.normalize({})
    assert policy.completion_timeout(settings, policy.data_gb(128 * 1024 ** 2)) == 1600
    assert policy.downtime_steps(settings, 2.0)[1] == (150, 95)


@pytest.mark.parametrize("options,field", [
    ({"max_downtime": 50}, "migration.max_downtime"),        # Nova's minimum is 100
    ({"downtime_steps": 2}, "migration.downtime_steps"),
    ({"downtime_delay": "soon"}, "migration.downtime_delay"),
    ({"bandwidth": -1}, "migration.bandwidth"),
    ({"parallel_connections": 0}, "migration.parallel_connections"),
    ({"timeout_action": "pause"}, "migration.timeout_action"),
    ({"permit_post_copy": "yes"}, "migration.permit_post_copy"),
    ({"max_downtime_ms": 300}, "migration.max_downtime_ms"),
])
def test_bad_settings_name_the_field(options, field):
    with pytest.raises(InvalidInput) as caught:
        policy.normalize(options)
    assert caught.value.field == field


def test_module_parameters_are_named_plainly():
    with pytest.raises(InvalidInput) as caught:
        policy.from_params(dict(policy.DEFAULTS, max_downtime=10))
    assert caught.value.field == "max_downtime"
    assert policy.from_params(dict((k, v["default"]) for k, v in policy.ARGSPEC.items())) == policy.DEFAULTS


def test_post_copy_turns_auto_converge_off():
    settings = policy.normalize({"permit_post_copy": True, "permit_auto_converge": True})
    assert settings["permit_auto_converge"] is False


def _settings(**options):
    return policy.normalize(dict({"downtime_delay": 3, "downtime_steps": 3, "max_downtime": 300}, **options))


def test_monitor_climbs_the_ladder_once_per_step_and_skips_to_the_highest_reached():
    monitor = policy.Monitor(_settings(completion_timeout=0, progress_timeout=0), 2.0)  # steps every 6 s
    assert monitor.observe(0.5, 100) == [("downtime", 100)]
    assert monitor.observe(1.0, 90) == []
    assert monitor.observe(6.5, 80) == [("downtime", 166)]
    assert monitor.observe(19.0, 70) == [("downtime", 300)]  # 12 s and 18 s passed: only the last applies
    assert monitor.observe(40.0, 60) == []


def test_progress_timeout_aborts_only_without_progress():
    monitor = policy.Monitor(_settings(completion_timeout=0, progress_timeout=10), 2.0)
    monitor.observe(0.5, None)        # the job is being set up: nothing measured
    monitor.observe(5.0, 1000)
    assert not [a for a in monitor.observe(14.0, 900) if a[0] == "abort"]
    assert not [a for a in monitor.observe(23.0, 950) if a[0] == "abort"]  # 9 s since 900
    actions = monitor.observe(24.5, 905)
    assert actions[-1][0] == "abort" and "no progress" in actions[-1][1]


@pytest.mark.parametrize("options,expected", [
    ({"timeout_action": "abort"}, "abort"),
    ({"timeout_action": "force_complete", "permit_post_copy": True}, "post_copy"),
    ({"timeout_action": "force_complete"}, "pause"),
])
def test_completion_timeout_action(options, expected):
    monitor = policy.Monitor(_settings(completion_timeout=5, progress_timeout=0, **options), 2.0)  # 10 s
    remaining = 1000
    for second in range(1, 11):
        remaining -= 1
        assert not [a for a in monitor.observe(float(second), remaining) if a[0] != "downtime"]
    actions = [a for a in monitor.observe(10.5, 900) if a[0] != "downtime"]
    assert [a[0] for a in actions] == [expected]
    assert "completion_timeout" in actions[0][1]
    # forced once: later looks neither force again nor abort while the switch completes
    assert not [a for a in monitor.observe(30.0, 900) if a[0] != "downtime"]
