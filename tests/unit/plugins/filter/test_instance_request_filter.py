# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The instance_request filter gives schedule a flavor in Nova's shape, with no deprecated key."""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.filter.instance_request import instance_request
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import build_request_spec


def test_the_request_carries_nova_flavor_keys_and_counts_the_same_disk():
    instance = {"name": "db1", "flavor": {"name": "m1", "vcpus": 2, "memory_mb": 512, "root_gb": 3,
                                          "ephemeral_gb": 2, "swap": 1536}}
    request = instance_request(instance)
    assert "disk_gb" not in request["flavor"]  # schedule takes it only as a deprecated alias of root_gb
    assert (request["flavor"]["root_gb"], request["flavor"]["ephemeral_gb"], request["flavor"]["swap"]) == (3, 2, 1536)
    assert build_request_spec(request).disk_gb == 7  # 3 + 2 + 1.5 rounded up, as the instance module counts
