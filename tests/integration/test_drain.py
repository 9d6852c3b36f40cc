# -*- coding: utf-8 -*-
"""Draining lab hosts for real: ansible-playbook runs the drain, libvirt says where
every guest is afterwards, and faults (no room, a destination daemon dying, a guest
that cannot converge, a killed playbook) leave every guest running somewhere."""

import json
import os
import signal
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from lab_guests import has_pattern, hosts, journal, place, where, write_pattern
from lab_tools import BIN, ansible_env, delete_instance, host_path, lab, playbook_argv, run_playbook, state_store, virsh

SHARED = {"name": "dr.small", "vcpus": 1, "memory_mb": 128, "root_gb": 1}
PINNED = {"name": "dr.pinned", "vcpus": 1, "memory_mb": 128, "root_gb": 1,
          "extra_specs": {"hw:cpu_policy": "dedicated", "hw:numa_nodes": "1"}}


def guests(host):
    return [n for n in virsh(host, "list", "--all", "--name").stdout.split() if n]


def pinned_cpus(host):
    """{guest: [host CPUs]} of the guests pinned one vCPU to one CPU on ``host``."""
    out = {}
    for name in guests(host):
        root = ET.fromstring(virsh(host, "dumpxml", name).stdout)
        pins = [p.get("cpuset") for p in root.findall("cputune/vcpupin")]
        if pins and all(p.isdigit() for p in pins) and root.find("cpu/numa") is not None:
            out[name] = [int(p) for p in pins]
    return out


def assert_no_cpu_pinned_twice():
    for host in hosts():
        cpus = [cpu for pins in pinned_cpus(host).values() for cpu in pins]
        assert len(cpus) == len(set(cpus)), "%s pins a CPU twice: %s" % (host, pinned_cpus(host))


def cordoned(host):
    with state_store() as store:
        return store.cordon(host) is not None


def uncordon_all():
    with state_store() as store:
        for host in hosts():
            store.remove_cordon(host)


REPORT = "/tmp/vmfleet-drain-test-report.json"


def report_of():
    with open(REPORT) as handle:
        return json.load(handle)


def drain_vars(host, **extra):
    if os.path.exists(REPORT):
        os.remove(REPORT)
    return dict(dict(("drain_" + k, v) for k, v in extra.items()), drain_host=host, report_file=REPORT)


def drain(host, **extra):
    return run_playbook("drain.yml", drain_vars(host, **extra), timeout=900)


@pytest.fixture()
def fleet_cleanup():
    names = []
    uncordon_all()
    yield names
    for name in names:
        delete_instance(name)
    uncordon_all()


def test_drain_moves_every_guest_with_valid_pinning_and_intact_disks(fleet_cleanup):
    first, second, third = hosts()[:3]
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    # 6 guests: on the drained host one pinned, three shared (one shut off); pinned guests elsewhere
    # so the destinations' free CPUs matter (a lab host has 2 CPUs: a pinned one leaves 1 to share)
    fleet = [("dr-p1", PINNED, first, "running"), ("dr-s1", SHARED, first, "running"),
             ("dr-s2", SHARED, first, "running"), ("dr-off", SHARED, first, "stopped"),
             ("dr-x", PINNED, second, "running"), ("dr-y", PINNED, third, "running")]
    fleet_cleanup.extend(name for name, _f, _h, _s in fleet)
    place([{"name": n, "flavor": f, "host": h, "state": "present"} for n, f, h, _s in fleet])
    for name in ("dr-s1", "dr-off"):
        write_pattern(first, name, 32)
    for name, _f, host, state in fleet:
        if state == "running":
            assert virsh(host, "start", name).returncode == 0
    # check mode: the full plan, nothing moves, the host is not even cordoned
    plan = drain(first, check=True)
    assert plan.returncode == 0, plan.stdout
    planned = report_of()
    assert planned["result"] == "planned" and not cordoned(first)
    assert sorted(g["guest"] for g in planned["guests"]) == ["dr-off", "dr-p1", "dr-s1", "dr-s2"]
    assert all(g["to"] in (second, third) and g["result"] == "planned" for g in planned["guests"]), planned
    assert sorted(guests(first)) == ["dr-off", "dr-p1", "dr-s1", "dr-s2"]
    run = drain(first)
    assert run.returncode == 0, run.stdout
    report = report_of()
    assert report["result"] == "drained"
    assert report["summary"]["migrated"] == 4 and report["summary"]["cold"] == 1, report["summary"]
    assert guests(first) == []
    for name, _f, _h, state in fleet:
        found = where(name)
        assert len(found) == 1 and first not in found, (name, found)
        assert list(found.values())[0] == ("running" if state == "running" else "shut off"), (name, found)
    assert_no_cpu_pinned_twice()
    for name in ("dr-s1", "dr-off"):
        assert has_pattern(list(where(name))[0], name, 32), name
    by_guest = dict((g["guest"], g) for g in report["guests"])
    assert by_guest["dr-p1"]["kind"] == "live" and by_guest["dr-off"]["kind"] == "cold"
    assert by_guest["dr-s1"]["downtime_ms"] is not None and by_guest["dr-s1"]["data_bytes"] > 32 * 1048576
    # the journal has one completed record per guest moved: nothing moved twice
    records = journal(first)
    moved = [r["guest"] for r in records if r["guest"].startswith("dr-") and r["started_at"] >= since
             and r["status"] in ("completed", "confirmed")]
    assert sorted(moved) == sorted(n for n, _f, h, _s in fleet if h == first)
    # again: the host is empty, nothing moves
    again = drain(first)
    assert again.returncode == 0 and report_of()["summary"]["guests"] == 0


def test_a_drain_that_cannot_fit_fails_and_moves_nothing(fleet_cleanup):
    first, second, third = hosts()[:3]
    # every CPU of the other hosts pinned: the pinned guest of the drained host has nowhere to go
    fleet = [("nf-a", PINNED, first), ("nf-s", SHARED, first), ("nf-b1", PINNED, second), ("nf-b2", PINNED, second),
             ("nf-c1", PINNED, third), ("nf-c2", PINNED, third)]
    fleet_cleanup.extend(name for name, _f, _h in fleet)
    place([{"name": n, "flavor": f, "host": h} for n, f, h in fleet])
    run = drain(first)
    assert run.returncode != 0, run.stdout
    assert "cannot drain %s: 2 of 2 guests cannot be moved, so none was" % first in run.stdout, run.stdout
    assert "nf-a: No valid host was found" in run.stdout, run.stdout
    for name, _f, host in fleet:
        assert where(name) == {host: "running"}, (name, where(name))


def test_allow_partial_moves_what_fits_and_reports_the_rest(fleet_cleanup):
    first, second, third = hosts()[:3]
    # one member of an anti-affinity group on each host: the drained host's member has nowhere to go,
    # the shared guest beside it has
    members = ["pp-a", "pp-b", "pp-c"]
    group = {"group": {"name": "pp-anti", "policy": "anti-affinity", "members": members}}
    fleet = [("pp-a", first), ("pp-b", second), ("pp-c", third)]
    fleet_cleanup.extend(members + ["pp-s"])
    place([{"name": n, "flavor": SHARED, "host": h, "hints": group} for n, h in fleet]
          + [{"name": "pp-s", "flavor": SHARED, "host": first}])
    run = drain(first, allow_partial=True)
    assert run.returncode == 0, run.stdout
    report = report_of()
    assert report["result"] == "partial" and report["remaining"] == ["pp-a"], report
    by_guest = dict((g["guest"], g) for g in report["guests"])
    assert by_guest["pp-a"]["result"] == "not moved" and "ServerGroupAntiAffinityFilter" in by_guest["pp-a"]["reason"]
    assert by_guest["pp-s"]["result"] == "migrated" and by_guest["pp-s"]["kind"] == "live"
    assert where("pp-a") == {first: "running"}
    assert list(where("pp-s").values()) == ["running"] and first not in where("pp-s")
    assert cordoned(first)  # still cordoned: the host is not empty, nothing may be placed back onto it


TINY = {"name": "dr.tiny", "vcpus": 1, "memory_mb": 64, "root_gb": 1}
# a lab host has 2 CPUs: at the default cpu_allocation_ratio (4.0) it holds 8 such guests, not 30
RATIO_16 = {"vmfleet_cpu_allocation_ratio": 16}


def test_a_host_of_thirty_tiny_shut_off_guests_is_drained_onto_the_others(fleet_cleanup):
    # issue 14: the drain's plan counted its own 30 moves against max_io_ops_per_host (8) and moved nothing
    first = hosts()[0]
    names = ["tt-%02d" % i for i in range(30)]
    fleet_cleanup.extend(names)
    built = run_playbook("place_instances.yml", dict(RATIO_16, instances=[
        {"name": name, "flavor": TINY, "host": first, "state": "present"} for name in names]), timeout=1800)
    assert built.returncode == 0, built.stdout
    assert set(names) <= set(guests(first))
    run = run_playbook("drain.yml", dict(drain_vars(first), **RATIO_16), timeout=1800)
    assert run.returncode == 0, run.stdout
    report = report_of()
    assert report["result"] == "drained" and report["summary"]["migrated"] == 30, report["summary"]
    assert guests(first) == []
    for name in names:
        found = where(name)
        assert list(found.values()) == ["shut off"] and first not in found, (name, found)


def cordon(host):
    """Cordon ``host`` with the module, as an operator would."""
    done = subprocess.run(
        [os.path.join(BIN, "ansible"), "localhost", "-m", "vmfleet.compute.host_maintenance", "-a", json.dumps({
            "state": "cordoned", "name": host})],
        env=ansible_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert done.returncode == 0 and cordoned(host), done.stdout


def test_one_migration_at_a_time_into_each_destination(fleet_cleanup):
    first, second, third = hosts()[:3]
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    names = ["pi-%d" % i for i in range(4)]
    fleet_cleanup.extend(names)
    place([{"name": n, "flavor": SHARED, "host": first, "state": "present"} for n in names])
    for name in names:
        write_pattern(first, name, 32)  # about 2 s per migration: long enough to overlap if allowed to
        assert virsh(first, "start", name).returncode == 0
    cordon(third)  # every guest goes to the second host, 2 leaving at a time, but only 1 may arrive at a time
    run = drain(first, parallel=2, parallel_inbound=1)
    assert run.returncode == 0, run.stdout
    assert report_of()["summary"]["migrated"] == 4
    records = journal(first)
    moves = sorted((r["destination"], r["started_at"], r["finished_at"]) for r in records
                   if r["guest"] in names and r["started_at"] >= since and r["status"] == "completed")
    assert len(moves) == 4 and set(m[0] for m in moves) == {second}, moves
    for (dest, _start, end), (next_dest, next_start, _end) in zip(moves, moves[1:]):
        # second resolution: one move may start in the second the previous one ended, never before
        assert dest != next_dest or next_start >= end, moves


def migrating_to(host, name, since=""):
    """The destination of the guest's live migration the journal shows running (one started at ``since``
    or later: an ISO time), or None."""
    for record in journal(host):
        if record.get("guest") == name and record.get("status") == "migrating" and record.get("prepared_volumes") \
                and record["started_at"] >= since:
            return record["destination"]
    return None


def start_guest_with_data(host, name, mib, cleanup):
    """A running guest ``name`` on ``host`` with ``mib`` MiB of data in its disk, removed by ``cleanup``."""
    cleanup.append(name)
    place([{"name": name, "flavor": SHARED, "host": host, "state": "present"}])
    write_pattern(host, name, mib)
    assert virsh(host, "start", name).returncode == 0


def drain_until_migrating(host, name, **drain_extra):
    """Start a drain of ``host`` in the background; once ``name``'s migration runs and is 3 s into its
    disk mirror, return (the playbook's process, the migration's destination)."""
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    proc = subprocess.Popen(playbook_argv("drain.yml", drain_vars(host, **drain_extra)),
                            cwd=os.path.dirname(os.path.abspath(__file__)), env=ansible_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    deadline, destination = time.time() + 120, None
    while time.time() < deadline and proc.poll() is None and destination is None:
        destination = migrating_to(host, name, since)
        time.sleep(0.2)
    if destination is None:
        proc.kill()
        pytest.fail("the migration never started:\n%s" % proc.communicate()[0])
    time.sleep(3)  # into the disk mirror
    return proc, destination


def test_destination_daemon_dies_during_a_migration_and_the_drain_retries_elsewhere(fleet_cleanup):
    first, name = hosts()[0], "df-big"
    start_guest_with_data(first, name, 256, fleet_cleanup)
    # 20 MiB/s: the 256 MiB disk takes ~13 s to mirror, time to kill the destination's daemon
    proc, victim = drain_until_migrating(first, name, bandwidth=20)
    try:
        crashed = lab("crash", victim)
        assert crashed.returncode == 0, crashed.stdout
        output = proc.communicate(timeout=600)[0]
    finally:
        lab("up", "--hosts", str(len(hosts())))
    print(output)
    assert proc.returncode == 0, output
    report = report_of()
    attempts = report["guests"][0]["attempts"]
    other = [h for h in hosts() if h not in (first, victim)][0]
    assert [a["host"] for a in attempts] == [victim, other], attempts
    assert "failed" in attempts[0]["result"] and "running on its source %s" % first in attempts[0]["result"], attempts
    assert where(name) == {other: "running"}
    assert has_pattern(other, name, 256)
    assert virsh(victim, "dominfo", name).returncode != 0  # nothing defined on the crashed host once it is back
    # the prepared volume stayed on the crashed host (unreachable then); the next drain run removes it
    leftover = host_path(victim, "/var/lib/libvirt/images/%s.disk.qcow2" % name)
    again = drain(first)
    assert again.returncode == 0, again.stdout
    assert any("removed what the failed migration" in line for line in report_of()["settled"]), report_of()
    assert not os.path.exists(leftover)


def test_a_guest_that_cannot_converge_hits_the_completion_timeout_and_stays_on_its_source(fleet_cleanup):
    first, second = hosts()[:2]
    name = "nc-slow"
    fleet_cleanup.append(name)
    place([{"name": name, "flavor": SHARED, "host": first, "state": "present"}])
    write_pattern(first, name, 128)
    assert virsh(first, "start", name).returncode == 0
    before = virsh(first, "dumpxml", "--inactive", name).stdout
    # 1 MiB/s for 128 MiB of disk, and 3 s per GiB (6 s for this 2 GiB-floor guest): it cannot finish
    run = drain(first, bandwidth=1, completion_timeout=3, max_attempts=1)
    assert run.returncode != 0, run.stdout
    assert "completion_timeout 3 s per GiB" in run.stdout, run.stdout
    assert "%s is running on its source %s, and nothing is left on %s" % (name, first, second) in run.stdout or \
        "is running on its source %s, and nothing is left on" % first in run.stdout, run.stdout
    assert where(name) == {first: "running"}
    assert virsh(first, "dumpxml", "--inactive", name).stdout == before
    for host in hosts()[1:]:
        assert not os.path.exists(host_path(host, "/var/lib/libvirt/images/%s.disk.qcow2" % name)), host
    assert has_pattern(first, name, 128)


def test_a_killed_drain_completes_when_run_again(fleet_cleanup):
    first = hosts()[0]
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    fleet = ["kd-%d" % i for i in range(4)]
    fleet_cleanup.extend(fleet)
    place([{"name": n, "flavor": SHARED, "host": first, "state": "present"} for n in fleet])
    for name in fleet:
        write_pattern(first, name, 64)
        assert virsh(first, "start", name).returncode == 0
    # one at a time at 8 MiB/s: 64 MiB of disk takes 8 s or more per guest; kill the whole playbook (and its
    # module) as soon as the first guest has left. The source is asked with one virsh call per look: asking
    # every host for every guest takes seconds over ssh, and at a faster rate the drain ended before (CI)
    proc = subprocess.Popen(playbook_argv("drain.yml", drain_vars(first, bandwidth=8, parallel=1)),
                            cwd=os.path.dirname(os.path.abspath(__file__)), env=ansible_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                            start_new_session=True)
    deadline = time.time() + 180
    while time.time() < deadline and set(fleet) <= set(guests(first)):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    # ansible's workers run in sessions of their own: kill what is left of that run as well
    subprocess.run(["pkill", "-9", "-f", REPORT], check=False)
    left = [n for n in fleet if first in where(n)]
    assert left, "the drain finished before it was killed: make the guests bigger"
    again = drain(first)
    assert again.returncode == 0, again.stdout
    report = report_of()
    assert report["result"] == "drained"
    assert guests(first) == []
    for name in fleet:
        found = where(name)
        assert len(found) == 1 and list(found.values()) == ["running"], (name, found)
        assert has_pattern(list(found)[0], name, 64), name
    # the second run moved only what was left, and nothing stays "migrating"
    moved_again = [g["guest"] for g in report["guests"] if g["result"] == "migrated"]
    assert set(moved_again) <= set(left), (moved_again, left)
    records = journal(first)
    mine = [r for r in records if r["guest"] in fleet and r["started_at"] >= since]
    assert not [r for r in mine if r["status"] == "migrating"], mine
    completed = [r["guest"] for r in mine if r["status"] == "completed"]
    assert sorted(completed) == sorted(fleet), completed  # each guest moved exactly once
