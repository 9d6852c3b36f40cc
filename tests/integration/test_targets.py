# -*- coding: utf-8 -*-
"""Integration tests: each target runs through `ansible-playbook` against the real lab.

The lab (`lab/lab up`) must be running; `make integration` starts it. A target is a
folder under targets/ with an `aliases` file and tasks/main.yml, as ansible-test
lays them out; they run on the controller and reach the lab's libvirt daemons
through the inventory's URIs, the way a fleet's playbooks do.
"""

import os
import subprocess

import pytest

from lab_tools import BIN, INVENTORY, ansible_env, remove_demo_leftovers

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TARGETS = sorted(
    name for name in os.listdir(os.path.join(HERE, "targets"))
    if os.path.exists(os.path.join(HERE, "targets", name, "tasks", "main.yml"))
)


@pytest.fixture(scope="session")
def inventory():
    if not os.path.exists(INVENTORY):
        pytest.fail("no lab inventory at %s: run `make lab` (or lab/lab up) first" % INVENTORY)
    return INVENTORY


@pytest.mark.parametrize("target", TARGETS)
def test_target(target, inventory):
    result = subprocess.run(
        [os.path.join(BIN, "ansible-playbook"), "-i", inventory, os.path.join(HERE, "run_target.yml"),
         "-e", "target=%s" % target],
        cwd=HERE, env=ansible_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        universal_newlines=True, timeout=1200, check=False,
    )
    print(result.stdout)
    assert result.returncode == 0, "target %s failed:\n%s" % (target, result.stdout[-6000:])


def test_main_playbook_prints_capacity(inventory):
    """`make demo`'s playbook runs on the lab and prints a row per lab host."""
    try:
        result = subprocess.run(
            [os.path.join(BIN, "ansible-playbook"), "-i", inventory, os.path.join(ROOT, "playbooks", "site.yml")],
            cwd=ROOT, env=ansible_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            universal_newlines=True, timeout=600, check=False,
        )
    finally:
        remove_demo_leftovers()  # later tests (test_tls) expect free, enabled hosts
    print(result.stdout)
    assert result.returncode == 0, result.stdout[-6000:]
    assert "vCPU used/limit" in result.stdout
    listing = subprocess.run([os.path.join(ROOT, "lab", "lab"), "status"], stdout=subprocess.PIPE,
                             universal_newlines=True, check=False)
    hosts = [line.split()[0] for line in listing.stdout.splitlines() if line.startswith("hv")]
    assert hosts
    for host in hosts:
        assert "\n%s " % host in result.stdout, "no table row for %s" % host


def test_lab_up_is_idempotent(inventory):
    """A second `lab up` with the same size reuses the running hosts."""
    hosts = subprocess.run([os.path.join(ROOT, "lab", "lab"), "status"], stdout=subprocess.PIPE,
                           universal_newlines=True, check=False).stdout.count("libvirtd pid")
    result = subprocess.run([os.path.join(ROOT, "lab", "lab"), "up", "--hosts", str(hosts)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                            check=False)
    assert result.returncode == 0, result.stdout
    assert result.stdout.count("already running") == hosts, result.stdout
