# -*- coding: utf-8 -*-
"""Rebalancing the lab for real: playbooks/rebalance.yml through ansible-playbook on a fleet with every guest on
one host; libvirt says where every guest runs afterwards."""

import json
import os
import signal
import subprocess
import time

import pytest

from lab_tools import BIN, INVENTORY, ROOT, ansible_env, delete_instance, inventory_hosts, run_playbook, virsh
from lab_guests import descendants
from test_drain import assert_no_cpu_pinned_twice, has_pattern, journal, pinned_cpus, write_pattern

SHARED = {"name": "rb.small", "vcpus": 1, "memory_mb": 128, "root_gb": 1}
PINNED = {"name": "rb.pinned", "vcpus": 1, "memory_mb": 128, "root_gb": 1,
          "extra_specs": {"hw:cpu_policy": "dedicated", "hw:numa_nodes": "1"}}
ANTI = {"group": {"name": "rb-anti", "policy": "anti-affinity"}}
REPORT = "/tmp/vmfleet-rebalance-test-report.json"


def hosts():
    return sorted(inventory_hosts())


def guests(host):
    return sorted(n for n in virsh(host, "list", "--all", "--name").stdout.split() if n.startswith("rb-"))


def layout():
    return dict((host, guests(host)) for host in hosts())


def where(name):
    return [host for host, names in layout().items() if name in names]


def rebalance_argv(check=False, **extra):
    if os.path.exists(REPORT):
        os.remove(REPORT)
    extra_vars = dict(dict(("rebalance_" + k, v) for k, v in extra.items()), rebalance_report_file=REPORT)
    return [os.path.join(BIN, "ansible-playbook"), "-i", INVENTORY, os.path.join(ROOT, "playbooks", "rebalance.yml"),
            "-e", json.dumps(extra_vars)] + (["--check"] if check else [])


def rebalance(check=False, **extra):
    """Run playbooks/rebalance.yml (the role, as an operator runs it); returns (run, report or None)."""
    run = subprocess.run(rebalance_argv(check, **extra), cwd=ROOT, env=ansible_env(), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True, timeout=900, check=False)
    report = None
    if os.path.exists(REPORT):
        with open(REPORT) as handle:
            report = json.load(handle)
    return run, report


@pytest.fixture()
def fleet():
    names = []
    yield names
    for name in names:
        delete_instance(name)


def test_rebalance_spreads_one_host_then_is_stable_then_consolidates(fleet):
    first, second, third = hosts()[:3]
    # every guest on the first host but one anti-affinity member on the second: a lab host has 2 CPUs, so
    # one pinned guest and 4 floating vCPUs fill it (cpu_allocation_ratio 4 over the CPU left)
    spec = [("rb-p1", PINNED, first, None), ("rb-s1", SHARED, first, None), ("rb-s2", SHARED, first, None),
            ("rb-s3", SHARED, first, None), ("rb-a1", SHARED, first, ANTI), ("rb-a2", SHARED, second, ANTI)]
    fleet.extend(name for name, _f, _h, _g in spec)
    built = run_playbook("place_instances.yml", {"instances": [
        dict({"name": n, "flavor": f, "host": h}, **({"hints": g} if g else {})) for n, f, h, g in spec]})
    assert built.returncode == 0, built.stdout
    assert layout() == {first: ["rb-a1", "rb-p1", "rb-s1", "rb-s2", "rb-s3"], second: ["rb-a2"], third: []}

    # check mode: a plan that lowers the spread; nothing moves
    run, plan = rebalance(check=True)
    assert run.returncode == 0, run.stdout
    assert plan["result"] == "planned" and plan["measure_now"] is None
    assert plan["measure_after"]["spread"] < plan["measure_before"]["spread"], plan
    assert plan["moves"] and all(m["from"] == first for m in plan["moves"]), plan["moves"]
    assert ("spread %s -> %s" % (plan["measure_before"]["spread"], plan["measure_after"]["spread"])) in run.stdout
    assert layout()[first] == ["rb-a1", "rb-p1", "rb-s1", "rb-s2", "rb-s3"]
    # the anti-affinity member is never planned onto the host of the other one
    assert all(m["to"] != second for m in plan["moves"] if m["guest"] == "rb-a1"), plan["moves"]

    # the real run: the planned moves, and the spread measured again afterwards drops as planned
    run, done = rebalance()
    assert run.returncode == 0, run.stdout
    assert done["result"] == "rebalanced", done
    assert done["summary"]["migrated"] == len(done["moves"]) > 0, done["summary"]
    assert done["measure_now"]["spread"] < done["measure_before"]["spread"]
    assert abs(done["measure_now"]["spread"] - done["measure_after"]["spread"]) < 0.001, done
    for name, _f, _h, _g in spec:
        assert len(where(name)) == 1, (name, layout())  # each guest runs exactly once
        assert virsh(where(name)[0], "domstate", name).stdout.strip() == "running", name
    for move in done["guests"]:
        assert where(move["guest"]) == [move["to"]], (move, layout())
    assert where("rb-a1") != where("rb-a2")
    pins = dict((host, pinned_cpus(host)) for host in hosts())
    assert sum(1 for per_host in pins.values() for name in per_host if name == "rb-p1") == 1, pins
    assert_no_cpu_pinned_twice()
    assert max(len(names) for names in layout().values()) < 5

    # stable: a second run finds nothing worth a move
    run, again = rebalance()
    assert run.returncode == 0, run.stdout
    assert again["moves"] == [] and again["summary"]["migrated"] == 0, again

    # consolidate: a host emptied (the anti-affinity pair keeps two hosts in use), every guest still once
    run, packed = rebalance(goal="consolidate")
    assert run.returncode == 0, run.stdout
    assert packed["result"] == "rebalanced" and packed["emptied"], packed
    now = layout()
    for host in packed["emptied"]:
        assert now[host] == [], now
    for name, _f, _h, _g in spec:
        assert len(where(name)) == 1, (name, now)
    assert where("rb-a1") != where("rb-a2")


def test_wrong_input_is_refused_before_anything_moves(fleet):
    first = hosts()[0]
    fleet.append("rb-w1")
    built = run_playbook("place_instances.yml", {"instances": [{"name": "rb-w1", "flavor": SHARED, "host": first}]})
    assert built.returncode == 0, built.stdout
    run, report = rebalance(min_gain=5)
    assert run.returncode != 0 and report is None
    assert "invalid min_gain=5.0" in run.stdout, run.stdout
    run, report = rebalance(max_moves=0)
    assert "invalid max_moves=0" in run.stdout, run.stdout
    assert layout()[first] == ["rb-w1"]


def test_a_killed_rebalance_goes_on_when_run_again_and_moves_no_guest_twice(fleet):
    first = hosts()[0]
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    names = ["rb-k%d" % i for i in range(6)]
    fleet.extend(names)
    built = run_playbook("place_instances.yml", {"instances": [
        {"name": n, "flavor": SHARED, "host": first, "state": "present"} for n in names]})
    assert built.returncode == 0, built.stdout
    for name in names:
        write_pattern(first, name, 64)
        assert virsh(first, "start", name).returncode == 0
    # one move at a time at 16 MiB/s (64 MiB of disk: 4 s or more each, 12 s for the three after the first, so
    # a slow look cannot miss the kill's window); kill the playbook and its module once the first has moved
    proc = subprocess.Popen(rebalance_argv(max_parallel=1, migration={"bandwidth": 16}), cwd=ROOT,
                            env=ansible_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, start_new_session=True)
    deadline = time.time() + 180
    while time.time() < deadline and len(guests(first)) == len(names):
        time.sleep(0.2)
    for pid in [proc.pid] + descendants(proc.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.communicate()
    # a migration under way when the module died may still end; after that nothing moves (the module is gone)
    time.sleep(8)
    moved_before = [n for n in names if n not in guests(first)]
    time.sleep(6)
    assert [n for n in names if n not in guests(first)] == moved_before, "something still moves guests"
    assert 0 < len(moved_before) < 4, "the rebalance was killed before or after it moved: %s" % layout()
    run, report = rebalance()
    assert run.returncode == 0, run.stdout
    assert report["result"] == "rebalanced", report
    assert not set(g["guest"] for g in report["guests"] if g["result"] == "migrated") & set(moved_before)
    counts = sorted(len(n) for n in layout().values())
    assert counts == [2, 2, 2], layout()
    for name in names:
        assert len(where(name)) == 1, (name, layout())
        assert virsh(where(name)[0], "domstate", name).stdout.strip() == "running", name
        assert has_pattern(where(name)[0], name, 64), name
    # nothing stays migrating in the journal, and no guest completed two moves
    mine = [r for r in journal(first) if r["guest"] in names and r["started_at"] >= since]
    assert not [r for r in mine if r["status"] == "migrating"], mine
    completed = [r["guest"] for r in mine if r["status"] == "completed"]
    assert len(completed) == len(set(completed)) == 4, completed
