# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.request import (
    disk_gb, normalize_flavor, normalize_image, normalize_networks, scheduler_request)
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.resize import check_resize
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import build_request_spec

FLAVOR = {"name": "m1.small", "vcpus": 2, "memory_mb": 2048, "root_gb": 20, "swap": 1536,
          "extra_specs": {"hw:cpu_policy": "dedicated", "hw:numa_nodes": 1, "x": True}}


def test_flavor_gets_nova_defaults_and_string_extra_specs():
    flavor = normalize_flavor({"name": "tiny", "vcpus": 1, "memory_mb": 64})
    assert flavor == {"name": "tiny", "vcpus": 1, "memory_mb": 64, "root_gb": 0, "ephemeral_gb": 0, "swap": 0,
                      "extra_specs": {}}
    assert normalize_flavor(FLAVOR)["extra_specs"] == {"hw:cpu_policy": "dedicated", "hw:numa_nodes": "1",
                                                       "x": "true"}


@pytest.mark.parametrize("change, field", [
    ({"vcpus": 0}, "flavor.vcpus"),
    ({"memory_mb": None}, "flavor.memory_mb"),
    ({"root_gb": -1}, "flavor.root_gb"),
    ({"disk": 3}, "flavor.disk"),
    ({"name": ""}, "flavor.name"),
    ({"extra_specs": ["hw:cpu_policy"]}, "flavor.extra_specs"),
])
def test_bad_flavor_names_the_field(change, field):
    with pytest.raises(InvalidInput) as error:
        normalize_flavor(dict(FLAVOR, **change))
    assert error.value.field == field


def test_scheduler_request_counts_disk_like_the_tracker():
    flavor = normalize_flavor(dict(FLAVOR, ephemeral_gb=5))
    assert disk_gb(flavor) == 20 + 5 + 2  # swap 1536 MB rounds up to 2 GiB
    request = scheduler_request("vm", flavor, normalize_image("cirros.qcow2"), {"availability_zone": "az1"})
    spec = build_request_spec(request)
    assert (spec.vcpus, spec.memory_mb, spec.disk_gb, spec.cpu_policy) == (2, 2048, 27, "dedicated")
    assert spec.availability_zone == "az1"


def test_image_and_networks():
    assert normalize_image({"name": "a.qcow2", "properties": {"hw_machine_type": "q35"}})["properties"] == {
        "hw_machine_type": "q35"}
    with pytest.raises(InvalidInput) as error:
        normalize_image({"name": "/srv/a.qcow2"})
    assert error.value.field == "image.name"
    nics = normalize_networks([{"network": "default"}, "prod", {"bridge": "br0", "mac": "52:54:00:AA:BB:CC"}], "vm")
    assert [n["type"] for n in nics] == ["network", "network", "bridge"]
    assert nics[2]["mac"] == "52:54:00:aa:bb:cc"
    assert nics == normalize_networks([{"network": "default"}, "prod", {"bridge": "br0", "mac": "52:54:00:AA:BB:CC"}],
                                      "vm"), "MACs must be deterministic"
    for bad, field in (([{"network": "a", "bridge": "b"}], "networks[0]"), ([{"network": "a", "model": "x"}],
                                                                            "networks[0].model"),
                       ([{"network": "a", "mac": "52:54:00:00:00:01"}, {"network": "b", "mac": "52:54:00:00:00:01"}],
                        "networks[].mac")):
        with pytest.raises(InvalidInput) as error:
            normalize_networks(bad, "vm")
        assert error.value.field == field


def test_resize_refuses_smaller_disks_and_allows_larger():
    old = normalize_flavor(dict(FLAVOR, ephemeral_gb=10))
    check_resize(old, dict(old, name="bigger", root_gb=40))
    for key, value in (("root_gb", 10), ("root_gb", 0), ("ephemeral_gb", 5)):
        with pytest.raises(InvalidInput) as error:
            check_resize(old, dict(old, name="smaller", **{key: value}))
        assert error.value.field == "flavor.%s" % key
