# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""After an evacuation: does the fleet still tolerate a host failure (issue 17)? Admission control never
refuses an evacuation; the result says when the room it keeps is gone (vSphere's "insufficient failover
resources"). On libvirt's test driver, with the planner admission control uses."""

from __future__ import annotations

import pytest

libvirt = pytest.importorskip("libvirt")

# pylint: disable=wrong-import-position,unused-import
from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.evacuation import evacuate as evacuation
from ansible_collections.vmfleet.compute.plugins.module_utils.evacuation import failover
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.model import Instance
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.request import normalize_image
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import build_config
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import schedule
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.libvirt_test_fleet import (
    fleet, flavor, guest)
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.test_evacuation import by_guest, lab  # noqa: F401

ADMISSION = {"host_failures_to_tolerate": 1}
GUEST_MB = 1024  # each test host has 3072 MB, 512 reserved: two such guests fit, three do not


def survivors(tmp_path):
    """The hosts left after hv4 failed: hv1, hv2, hv3 with one guest of GUEST_MB each (facts read now)."""
    hosts = fleet(tmp_path, dict(("hv%d" % n, [guest("g%d" % n, instance_flavor=flavor(
        name="m%d" % GUEST_MB, vcpus=1, memory_mb=GUEST_MB, root_gb=1))]) for n in (1, 2, 3)))
    hosts.refresh()
    return hosts.facts_list()


def evacuated(facts, count):
    """The scheduler's placements of ``count`` guests of the failed host, as the evacuation plans them (no
    admission control), not consumed on ``facts``."""
    specs = [Instance("g4%s" % letter, flavor(name="m%d" % GUEST_MB, vcpus=1, memory_mb=GUEST_MB, root_gb=1),
                      normalize_image({"name": "cirros"})).spec() for letter in "abc"[:count]]
    outcomes = schedule(facts, specs, build_config(None), 0).outcomes
    assert all(outcome.placement is not None for outcome in outcomes)
    return [outcome.placement for outcome in outcomes]


def test_the_fleet_keeps_its_failover_capacity_when_the_evacuated_guests_leave_every_host_drainable(tmp_path):
    facts = survivors(tmp_path)
    capacity = failover.failover_capacity(facts, ADMISSION, evacuated(facts, 1))
    assert capacity == {"status": states.FAILOVER_OK, "host_failures_to_tolerate": 1, "undrainable": [],
                        "error": None}
    assert failover.warning("hv4", capacity) is None


def test_the_failover_capacity_is_lost_when_an_evacuated_guest_takes_the_last_room(tmp_path):
    facts = survivors(tmp_path)
    placements = evacuated(facts, 2)
    assert len(set(p.host for p in placements)) == 2  # two hosts hold two guests each now, the third one
    capacity = failover.failover_capacity(facts, ADMISSION, placements)
    assert capacity["status"] == states.FAILOVER_LOST
    # the full hosts have room for none of the others' guests, the third for one of their two
    lost = [item["host"] for item in capacity["undrainable"]]
    assert lost == ["hv1", "hv2", "hv3"]
    assert all("No valid host" in item["reason"] or "memory" in item["reason"] for item in capacity["undrainable"])
    warning = failover.warning("hv4", capacity)
    assert warning.startswith("insufficient failover capacity: after evacuating hv4") and lost[0] in warning
    # the answer is given without admission control too; only the warning waits for it to be asked for
    quiet = failover.failover_capacity(facts, None, placements)
    assert quiet["status"] == states.FAILOVER_LOST and failover.warning("hv4", quiet) is None


def test_an_evacuation_under_admission_control_is_not_refused_and_says_what_it_left(lab):  # noqa: F811
    lab.read_and_fail()
    result = evacuation.evacuate(lab.fleet(), "hv1", fenced=True, scheduler_config=ADMISSION)
    assert by_guest(result)["vm-nas"]["result"] == states.GUEST_EVACUATED
    capacity = result["failover_capacity"]
    # test:///default (hv2) runs a guest created outside the collection: no plan can move it
    assert (capacity["status"], capacity["host_failures_to_tolerate"]) == (states.FAILOVER_LOST, 1)
    assert [item["host"] for item in capacity["undrainable"]] == ["hv2"]
    assert "created outside the collection" in capacity["undrainable"][0]["reason"]
    assert [w for w in result["warnings"] if w.startswith("insufficient failover capacity")]
    planned = evacuation.evacuate(lab.fleet(), "hv1", fenced=True, scheduler_config=ADMISSION, check_mode=True)
    assert planned["failover_capacity"]["status"] == capacity["status"]
