# -*- coding: utf-8 -*-
"""playbooks/rolling_maintenance.yml on the lab: host after host, preflight, drain, the
operator's tasks on an empty cordoned host, health check, uncordon; the first failure stops
the run with every guest running."""

import json
import os
import subprocess

import pytest

from lab_tools import BIN, INVENTORY, ROOT, ansible_env, delete_instance, inventory_hosts, run_playbook, state_store, virsh

SHARED = {"name": "rm.small", "vcpus": 1, "memory_mb": 128, "root_gb": 1}
PINNED = {"name": "rm.pinned", "vcpus": 1, "memory_mb": 128, "root_gb": 1,
          "extra_specs": {"hw:cpu_policy": "dedicated", "hw:numa_nodes": "1"}}
GUESTS = ["rm-a", "rm-b", "rm-c"]


def rolling(tmp_path, **extra):
    argv = [os.path.join(BIN, "ansible-playbook"), "-i",
            INVENTORY,
            os.path.join(ROOT, "playbooks", "rolling_maintenance.yml"), "-e", json.dumps(dict({
                "rolling_maintenance_tasks": os.path.join(ROOT, "tests", "integration", "playbooks",
                                                          "maintenance_tasks.yml"),
                "maintenance_marker_dir": str(tmp_path)}, **extra))]
    return subprocess.run(argv, cwd=ROOT, env=ansible_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=900, check=False)


def running_somewhere(name):
    states = [virsh(h, "domstate", name).stdout.strip() for h in inventory_hosts()]
    return states.count("running") == 1


def cordoned(host):
    with state_store() as store:
        return store.cordon(host) is not None


@pytest.fixture()
def guests():
    first, second = sorted(inventory_hosts())[:2]
    built = run_playbook("place_instances.yml", {"instances": [
        {"name": "rm-a", "flavor": PINNED, "host": first}, {"name": "rm-b", "flavor": SHARED, "host": first},
        {"name": "rm-c", "flavor": SHARED, "host": second}]})
    assert built.returncode == 0, built.stdout
    yield first, second
    for name in GUESTS:
        delete_instance(name)
    with state_store() as store:
        for host in inventory_hosts():
            store.remove_cordon(host)


def test_hosts_are_maintained_one_after_the_other_empty_and_uncordoned_after(guests, tmp_path):
    first, second = guests
    run = rolling(tmp_path, rolling_hosts="%s:%s" % (first, second))
    assert run.returncode == 0, run.stdout
    for host in (first, second):
        seen = json.loads((tmp_path / ("%s.json" % host)).read_text())
        assert seen == {"guests": 0, "enabled": False}, (host, seen)  # drained and cordoned during the work
        assert not cordoned(host)
    assert "drain of %s: drained" % first in run.stdout and "drain of %s: drained" % second in run.stdout
    for name in GUESTS:
        assert running_somewhere(name), name


def test_the_first_failure_stops_the_run_with_every_guest_running(guests, tmp_path):
    first, second = guests
    run = rolling(tmp_path, rolling_hosts="%s:%s" % (first, second), maintenance_fail_on=first)
    assert run.returncode != 0, run.stdout
    assert "maintenance of %s failed (test)" % first in run.stdout
    assert not (tmp_path / ("%s.json" % second)).exists()  # the second host was never touched
    assert cordoned(first) and not cordoned(second)
    assert virsh(second, "domstate", "rm-c").stdout.strip() == "running"
    for name in GUESTS:
        assert running_somewhere(name), name
