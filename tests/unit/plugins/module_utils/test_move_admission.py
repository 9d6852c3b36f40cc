# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Admission control on a move's destination (resize, cold and live migration ask plan_destination),
on libvirt's test:/// driver: a named destination that would leave another host undrainable is refused."""

from __future__ import annotations

import pytest

libvirt = pytest.importorskip("libvirt")

# pylint: disable=wrong-import-position
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.instances import move_destination
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.location import InstanceLocation
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.libvirt_test_fleet import fleet, guest
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.upgrade_checks.facts import (
    guest as guest_facts)

SMALL = {"sockets": 1, "cores": 4, "threads": 1, "memory_mb": 8192}   # 7680 MB for guests (512 reserved)


def hosts(tmp_path):
    # vm1 (2048 MB) runs on hv1, which is full; hv2's 6000 MB guest can only be drained onto hv3 (7680 MB
    # free); hv4 has room (2180 MB) for vm1 only
    g2 = guest_facts("g2", vcpus=1, memory_mb=6000, disk_gb=1)
    return fleet(tmp_path, {"hv1": [guest("vm1")], "hv2": [], "hv3": [], "hv4": []}, per_host={
        "hv1": dict(SMALL, memory_used={0: 7000}), "hv2": dict(SMALL, memory_used={0: 6000}, guests=[g2]),
        "hv3": dict(SMALL), "hv4": dict(SMALL, memory_used={0: 5500})})


def plan(fleet_, config, destination):
    located = InstanceLocation(fleet_, "vm1")
    instance = move_destination.instance_from(located, located.metadata["flavor"], config)
    return move_destination.plan_destination(fleet_, located, instance, False, destination, (), 0)


def test_a_move_that_would_leave_a_host_undrainable_is_refused_naming_it(tmp_path):
    fleet_ = hosts(tmp_path)
    assert plan(fleet_, {}, "hv3")["host"] == "hv3"
    with pytest.raises(VmfleetError) as refused:
        plan(fleet_, {"host_failures_to_tolerate": 1}, "hv3")
    assert refused.value.details["rejections"] == [{
        "host": "hv3", "filter": "AdmissionControl",
        "reason": "vm1 on hv3 would leave hv2 undrainable (host_failures_to_tolerate=1): No valid host was found "
                  "for g2: hv1: RamFilter: 680 MB usable RAM left (8192 MB x 1 - 7512 MB used), request needs "
                  "6000 MB; hv3: RamFilter: 5632 MB usable RAM left (8192 MB x 1 - 2560 MB used), request needs "
                  "6000 MB; hv4: RamFilter: 2180 MB usable RAM left (8192 MB x 1 - 6012 MB used), request needs "
                  "6000 MB"}]
    # chosen by the scheduler: hv3, the emptiest, is refused for the same reason, and vm1 goes to hv4
    placement = plan(fleet_, {"host_failures_to_tolerate": 1}, None)
    assert placement["host"] == "hv4"
    assert plan(fleet_, {}, None)["host"] == "hv3"
