# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The other way users run the modules: on the hypervisor itself, through Ansible's `ssh` connection
into the lab host (its own address, sshd and namespaces) with libvirt's local `qemu:///system`.

The upgrade preflight reads each host on the host (hypervisor_info, from the role) and runs the
checks once on the controller (upgrade_check needs the whole fleet). The inventory is the lab's with
no libvirt URI and the ssh connection instead: what an inventory of a fleet run on-host looks like."""

import json
import os
import subprocess

from lab_tools import BIN, ROOT, ansible_env, inventory_hosts, lab_state_url, virsh
from test_targets import inventory  # noqa: F401  pylint: disable=unused-import

PREFLIGHT = os.path.join(ROOT, "playbooks", "upgrade_preflight.yml")
FACTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "playbooks", "on_host_facts.yml")


def on_host_inventory(path):
    """The lab's hosts reached by ssh at their own address; modules then default to qemu:///system."""
    hosts = {}
    for name, settings in inventory_hosts().items():
        hosts[name] = dict((key, value) for key, value in settings.items() if key != "vmfleet_libvirt_uri")
        hosts[name]["ansible_host"] = settings["vmfleet_migration_address"]
    inventory_text = {"all": {"children": {"hypervisors": {"hosts": hosts, "vars": {
        "ansible_connection": "ssh",
        "ansible_user": "root",
        # the lab's hosts see the controller's filesystem (only libvirt's folders are their own)
        "ansible_python_interpreter": os.path.join(BIN, "python3"),
        "vmfleet_state_url": lab_state_url(),
        "vmfleet_cpu_mode": "custom",
        "vmfleet_cpu_models": ["kvm64"],
    }}}}}
    path.write_text(json.dumps(inventory_text))
    return str(path)


def run(playbook, inventory_path, *extra):
    result = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", inventory_path, playbook] + list(extra),
                            cwd=ROOT, env=ansible_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, timeout=600, check=False)
    print(result.stdout)
    return result


def test_hypervisor_info_runs_on_each_host_with_its_local_uri(inventory, tmp_path):  # pylint: disable=redefined-outer-name
    result = run(FACTS, on_host_inventory(tmp_path / "on_host.json"), "-e", "report=%s" % tmp_path)
    assert result.returncode == 0, result.stdout[-6000:]
    uuids = set()
    for name, settings in inventory_hosts().items():
        seen = json.loads((tmp_path / ("%s.json" % name)).read_text())
        assert seen["uri"] == "qemu:///system"
        # the daemon that answered is that host's own (each lab host has a host UUID of its own) ...
        assert seen["host_uuid"] == host_uuid(name)
        uuids.add(seen["host_uuid"])
        # ... and the module ran in that host's network namespace, at its address
        assert seen["address"] == settings["vmfleet_migration_address"]
    assert len(uuids) == len(inventory_hosts())


def host_uuid(name):
    """The host UUID of ``name``'s libvirtd, asked from the controller through its qemu+ssh URI."""
    return virsh(name, "capabilities").stdout.split("<uuid>")[1].split("</uuid>")[0]


def test_the_preflight_reads_hosts_on_host_and_checks_on_the_controller(inventory, tmp_path):  # pylint: disable=redefined-outer-name
    report = tmp_path / "preflight.json"
    result = run(PREFLIGHT, on_host_inventory(tmp_path / "on_host.json"), "-e", "preflight_json_path=%s" % report)
    assert result.returncode == 0, result.stdout[-6000:]
    assert "CHECK" in result.stdout and "upgrade preflight rc 0:" in result.stdout
    written = json.loads(report.read_text())
    assert written["rc"] == 0 and written["checks"]
