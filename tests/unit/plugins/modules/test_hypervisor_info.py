# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest

pytest.importorskip("libvirt")

# pylint: disable=wrong-import-position
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vmfleet.compute.plugins.modules import hypervisor_info


def run(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            hypervisor_info.main()
    return json.loads(capsys.readouterr().out)


def test_reads_the_test_driver(capsys):
    result = run(capsys, uri="test:///default", name="hv-test", instance_pools=["default-pool"],
                 reserved_host_memory_mb=0, _ansible_check_mode=True)
    assert result["changed"] is False and not result.get("failed")
    hypervisor = result["hypervisor"]
    assert hypervisor["name"] == "hv-test"
    assert hypervisor["resources"]["local_gb"] == 100
    assert hypervisor["config"]["reserved_host_memory_mb"] == 0
    # JSON object keys are strings: the scheduler sees the same shape in Python and through Ansible.
    assert list(hypervisor["numa"]["cells"][0]["usage"]["pages_used"]) == []


def test_uri_comes_from_libvirt_default_uri(capsys, monkeypatch):
    monkeypatch.setenv("LIBVIRT_DEFAULT_URI", "test:///default")
    assert run(capsys)["hypervisor"]["uri"] == "test:///default"


def test_unreachable_host_fails_with_what_to_check(capsys):
    result = run(capsys, uri="qemu+tcp://127.0.0.1:1/system", name="hv9")
    assert result["failed"] is True
    assert result["msg"].startswith("host hv9 (qemu+tcp://127.0.0.1:1/system): ")
    assert "libvirtd" in result["msg"]
    assert result["host"] == "hv9"


def test_invalid_setting_fails_naming_the_field(capsys):
    result = run(capsys, uri="test:///default", cpu_allocation_ratio=0)
    assert result["failed"] is True
    assert result["field"] == "cpu_allocation_ratio"
    assert "greater than 0" in result["msg"]
