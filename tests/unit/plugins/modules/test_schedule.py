# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os
import sys

import pytest

# pylint: disable=wrong-import-position
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vmfleet.compute.plugins.modules import schedule

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "module_utils", "scheduler"))
from host_factory import make_host, make_request  # noqa: E402


def run(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            schedule.main()
    return json.loads(capsys.readouterr().out)


def test_plan_and_rejections(capsys):
    hosts = [{"hypervisor": make_host("hv1"), "changed": False}, make_host("hv2", enabled=False)]
    requests = [make_request("db1", 4, 4096, extra_specs={"hw:cpu_policy": "dedicated", "hw:numa_nodes": 2})]
    result = run(capsys, hosts=hosts, requests=requests, config={"host_subset_size": 1}, _ansible_check_mode=True)
    assert result["changed"] is False and not result.get("failed")
    assert result["plan"][0]["host"] == "hv1"
    assert len(result["plan"][0]["numa"]) == 2
    assert result["rejections"]["db1"] == [{"host": "hv2", "filter": "ComputeFilter",
                                            "reason": "host is disabled: maintenance"}]
    assert result["msg"] == "1 of 1 requests placed"


def test_the_cordons_in_force_are_read_from_the_store_not_the_facts(capsys, tmp_path):
    """Facts gathered before hv1 was cordoned (and while hv2 still was) place as the store says now."""
    from ansible_collections.vmfleet.compute.plugins.module_utils.state import cordon, open_store
    url = "sqlite://%s" % (tmp_path / "state.db")
    with open_store(url) as store:
        cordon.set_state(store, "cordoned", "hv1", "firmware", "ops")
    old_cordon = {"host": "hv2", "reason": "lifted since", "by": "ops", "at": "2026-11-20T08:00:00Z"}
    hv2 = dict(make_host("hv2", enabled=False), maintenance={"cordon": old_cordon})
    result = run(capsys, hosts=[make_host("hv1"), hv2], requests=[make_request("vm1", 1, 512)], state_url=url)
    assert result["plan"][0]["host"] == "hv2"
    assert result["rejections"]["vm1"] == [{"host": "hv1", "filter": "ComputeFilter",
                                            "reason": "host is disabled: firmware"}]


def test_no_valid_host_fails_with_the_reasons(capsys):
    result = run(capsys, hosts=[make_host("hv1", threads=1)],
                 requests=[make_request("big", 40, 1024, extra_specs={"hw:cpu_policy": "dedicated"})])
    assert result["failed"] is True
    assert result["msg"] == ("No valid host was found for big: hv1: VCPUFilter: 16 free dedicated CPUs "
                             "(16 - 0 pinned), request needs 40")
    assert result["plan"][0]["host"] is None


def test_allow_partial(capsys):
    result = run(capsys, hosts=[make_host("hv1", threads=1)], allow_partial=True,
                 requests=[make_request("big", 40, 1024, extra_specs={"hw:cpu_policy": "dedicated"}),
                           make_request("small", 1, 512)])
    assert not result.get("failed")
    assert [p["host"] for p in result["plan"]] == [None, "hv1"]
    assert result["msg"] == "1 of 2 requests placed"


def test_invalid_request_names_the_field(capsys):
    result = run(capsys, hosts=[make_host("hv1")],
                 requests=[make_request("vm", 3, 1024, extra_specs={"hw:numa_nodes": "2"})])
    assert result["failed"] is True
    assert result["field"] == "hw:numa_nodes"
    assert result["msg"].startswith("requests[0] (vm): invalid hw:numa_nodes=2")


def test_argument_spec_rejects_unknown_filter(capsys):
    result = run(capsys, hosts=[], requests=[make_request()], config={"enabled_filters": ["Nope"]})
    assert result["failed"] is True and "enabled_filters" in result["msg"]


def test_facts_from_hypervisor_info_are_accepted(capsys):
    pytest.importorskip("libvirt")
    from ansible_collections.vmfleet.compute.plugins.modules import hypervisor_info
    with patch_module_args({"uri": "test:///default", "name": "hv-test"}):
        with pytest.raises(SystemExit):
            hypervisor_info.main()
    facts = json.loads(capsys.readouterr().out)
    if facts.get("failed"):
        pytest.skip("hypervisor_info cannot read the test driver here: %s" % facts.get("msg"))
    result = run(capsys, hosts=[{"hypervisor": facts["hypervisor"], "changed": False}],
                 requests=[make_request("vm", 1, 128, 0)], allow_partial=True)
    assert not result.get("failed"), result
    assert result["plan"][0]["name"] == "vm"


@pytest.mark.parametrize("alias, real", [("CoreFilter", "VCPUFilter"), ("AvailabilityZone", "AvailabilityZoneFilter")])
def test_old_nova_filter_names_are_accepted(capsys, alias, real):
    # The refusal names the real filter: the alias only selects it.
    result = run(capsys, hosts=[make_host("hv1", threads=1)],
                 requests=[make_request("big", 400, 1024, hints={"availability_zone": "nowhere"})],
                 config={"enabled_filters": [alias]})
    assert result["failed"] is True
    assert result["rejections"]["big"][0]["filter"] == real


def test_the_flavor_takes_novas_disk_keys_and_counts_them_all(capsys):
    # one flavor shape with instance: root_gb + ephemeral_gb + swap (MB, rounded up) is what the host must hold
    request = dict(make_request("vm1", 1, 512), flavor={"name": "f", "vcpus": 1, "memory_mb": 512, "root_gb": 80,
                                                        "ephemeral_gb": 15, "swap": 1025})
    result = run(capsys, hosts=[make_host("hv1", local_gb=100, local_gb_used=4)], requests=[request])
    assert result["failed"] is True
    assert "DiskFilter: 96 GB usable disk left (100 GB x 1 - 4 GB used), request needs 97 GB" in result["msg"]


def test_disk_gb_is_a_deprecated_alias_of_root_gb(capsys):
    request = dict(make_request("vm1", 1, 512), flavor={"name": "f", "vcpus": 1, "memory_mb": 512, "disk_gb": 97})
    result = run(capsys, hosts=[make_host("hv1", local_gb=100, local_gb_used=4)], requests=[request])
    assert "request needs 97 GB" in result["msg"]
    # the warning, as the argument spec gives it to the module (whether it is printed or returned depends
    # on whether Ansible's controller code was loaded in this process)
    checked = ArgumentSpecValidator(schedule.argument_spec()).validate({"hosts": [{}], "requests": [request]})
    assert checked._deprecations == [{  # pylint: disable=protected-access
        "msg": "Alias 'requests[0].flavor.disk_gb' is deprecated. See the module docs for more information",
        "version": "1.0.0", "date": None, "collection_name": "vmfleet.compute"}]
    assert checked.validated_parameters["requests"][0]["flavor"]["root_gb"] == 97


def test_a_request_on_a_network_goes_to_a_host_that_defines_it(capsys):
    hosts = [make_host("hv1"), make_host("hv2", networks=("default", "prod"))]
    result = run(capsys, hosts=hosts, requests=[make_request("vm", 1, 512, networks=[{"network": "prod"}])])
    assert result["plan"][0]["host"] == "hv2"
    assert result["rejections"]["vm"] == [{"host": "hv1", "filter": "NetworkFilter",
                                           "reason": "network 'prod' is not defined here (networks: default)"}]
    both = run(capsys, hosts=hosts, requests=[make_request("vm", 1, 512, networks=[{"network": "prod",
                                                                                   "bridge": "br0"}])])
    assert both["failed"] is True and "mutually exclusive: network|bridge" in both["msg"], both["msg"]
