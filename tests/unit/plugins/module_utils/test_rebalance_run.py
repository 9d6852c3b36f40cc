# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A rebalance run over libvirt's test driver: check mode plans from what libvirt lists and writes nothing,
wrong input is refused before the lock, one rebalance at a time, a run with nothing to move is recorded.
(The moves themselves need real daemons: tests/integration/test_rebalance.py.)"""

from __future__ import annotations

import pytest

libvirt = pytest.importorskip("libvirt")

# pylint: disable=wrong-import-position
from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.maintenance.rebalance import rebalance
from ansible_collections.vmfleet.compute.plugins.module_utils.state.errors import StoreBusy
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.libvirt_test_fleet import (
    fleet, flavor, guest)

SMALL = flavor(vcpus=1, memory_mb=1024, root_gb=1)


def loaded(tmp_path):
    return fleet(tmp_path, {"hv1": [guest("vm%d" % i, instance_flavor=SMALL)
                                    for i in range(6)], "hv2": [], "hv3": []})


def test_check_mode_plans_from_what_libvirt_lists_and_writes_nothing(tmp_path):
    with loaded(tmp_path) as hosts:
        report = rebalance(hosts, check_mode=True, seed=1)
        assert report["result"] == states.DRAIN_PLANNED and report["measure_now"] is None
        assert report["measure_after"]["spread"] < report["measure_before"]["spread"]
        assert [row["from"] for row in report["guests"]] == ["hv1"] * len(report["moves"])
        assert sorted(row["to"] for row in report["guests"]) == ["hv2", "hv2", "hv3", "hv3"]
        assert all(row["result"] == states.GUEST_PLANNED for row in report["guests"])
        assert report["table"][0] == "rebalance (balance): planned"
        assert hosts.store.last_drain(states.REBALANCE_LOCK) is None
        assert len(hosts.conn("hv1").listAllDomains(0)) == 6


@pytest.mark.parametrize("options, field", [
    ({"goal": "even"}, "goal"), ({"max_moves": 0}, "max_moves"), ({"min_gain": 2.5}, "min_gain"),
    ({"max_attempts": 0}, "max_attempts"), ({"limits": {"max_parallel": 0}}, "max_parallel"),
    ({"scheduler_config": {"filters": ["NoSuchFilter"]}}, "filters"),
])
def test_wrong_input_is_refused_before_the_lock_is_taken(tmp_path, options, field):
    with loaded(tmp_path) as hosts:
        with pytest.raises(InvalidInput) as error:
            rebalance(hosts, **options)
        assert field in error.value.field
        assert hosts.store.draining_hosts() == {} and hosts.store.last_drain(states.REBALANCE_LOCK) is None


def test_one_rebalance_at_a_time_in_the_fleet(tmp_path):
    with loaded(tmp_path) as hosts:
        hosts.store.begin_drain(states.REBALANCE_LOCK, "ops on another-controller (pid 1)")
        with pytest.raises(StoreBusy) as error:
            rebalance(hosts, lock_timeout=0)
        assert "ops on another-controller" in error.value.message
        assert len(hosts.conn("hv1").listAllDomains(0)) == 6


def test_a_balanced_fleet_moves_nothing_and_the_run_is_recorded(tmp_path):
    spread = dict(("hv%d" % n, [guest("vm%d" % n, instance_flavor=SMALL)]) for n in (1, 2, 3))
    with fleet(tmp_path, spread) as hosts:
        report = rebalance(hosts, by="ops")
        assert report["result"] == states.REBALANCED and report["moves"] == []
        assert report["measure_now"] == report["measure_before"]
        run = hosts.store.last_drain(states.REBALANCE_LOCK)
        assert run["result"] == states.REBALANCED and run["finished_at"] and run["owner"].startswith("ops on ")
        assert hosts.store.draining_hosts() == {}
