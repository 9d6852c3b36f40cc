# -*- coding: utf-8 -*-
"""Evacuating a failed lab host for real: hv2 (the second host) loses its libvirtd and its QEMU processes (a
powered-off host), ansible-playbook evacuates it, libvirt says where every guest is; then hv2 comes back with
its old definitions, the fleet refuses it, nothing starts the old copies, and state=cleaned removes them."""

import json
import os
import signal
import time

import pytest

from lab_tools import LAB_ROOT, delete_instance, inventory_hosts, lab, run_playbook, state_store, virsh
from lab_guests import hosts, qemu_io, where

NAS = {"name": "ev.nas", "vcpus": 1, "memory_mb": 128, "root_gb": 1, "extra_specs": {"vmfleet:disk_tier": "shared"}}
LOCAL = {"name": "ev.local", "vcpus": 1, "memory_mb": 128, "root_gb": 1}
GUESTS = ("ev-nas", "ev-local-a", "ev-local-b")
SHARED_DIR = os.path.join(LAB_ROOT, "ev-shared")
PATTERN = 0x6b
RESULT = "/tmp/vmfleet-evacuate-test-%d.json" % os.getpid()


def playbook(**extra):
    if os.path.exists(RESULT):
        os.remove(RESULT)
    run = run_playbook("evacuate.yml", dict(extra, result_file=RESULT), timeout=900)
    result = {}
    if os.path.exists(RESULT):
        with open(RESULT) as handle:
            result = json.load(handle)
    return run, result


def by_guest(result):
    return dict((g["guest"], g) for g in result["guests"])


def shared_pool(action):
    """Define (and start) or remove the pool ev-shared over one folder of this machine on every lab host."""
    for host in hosts():
        if action == "define":
            os.makedirs(SHARED_DIR, exist_ok=True)
            assert virsh(host, "pool-define-as", "ev-shared", "dir", "--target", SHARED_DIR).returncode == 0
            assert virsh(host, "pool-start", "ev-shared").returncode == 0
        else:
            virsh(host, "pool-destroy", "ev-shared")
            virsh(host, "pool-undefine", "ev-shared")


def power_off(host):
    """The host goes away: its libvirtd killed (lab crash), then its guests' QEMU processes, by their pid files."""
    assert lab("crash", host).returncode == 0
    folder = os.path.join(inventory_hosts()[host]["vmfleet_lab_dir"], "run", "qemu")
    for entry in os.listdir(folder):
        if entry.endswith(".pid"):
            with open(os.path.join(folder, entry)) as handle:
                pid = int(handle.read().strip())
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            deadline = time.time() + 10
            while os.path.exists("/proc/%d" % pid) and time.time() < deadline:
                time.sleep(0.05)


def has_pattern(path):
    read = qemu_io(path, "read -P 0x%x 0 4M" % PATTERN, shared=True)
    return read.returncode == 0 and "read 4194304/" in read.stdout, read.stdout


@pytest.fixture()
def failed_host():
    """hv2 with ev-nas (on ev-shared, with 4 MiB of data, running), ev-local-a (running) and ev-local-b (shut
    off) on its own pool, read once so the store remembers them, then powered off."""
    first, failed = hosts()[0], hosts()[1]
    with state_store() as store:
        store.remove_cordon(failed)
    shared_pool("define")
    try:
        built, _result = playbook(evac_instances=[
            {"name": "ev-nas", "flavor": NAS, "host": failed, "state": "present"},
            {"name": "ev-local-a", "flavor": LOCAL, "host": failed},
            {"name": "ev-local-b", "flavor": LOCAL, "host": failed, "state": "present"}])
        assert built.returncode == 0, built.stdout
        written = qemu_io(os.path.join(SHARED_DIR, "ev-nas.disk.qcow2"), "write -P 0x%x 0 4M" % PATTERN)
        assert written.returncode == 0 and "wrote" in written.stdout, written.stdout
        assert virsh(failed, "start", "ev-nas").returncode == 0
        read, _result = playbook(evac_read=True)
        assert read.returncode == 0, read.stdout
        power_off(failed)
        yield first, failed
    finally:
        lab("up")
        for name in GUESTS + ("ev-probe",):
            delete_instance(name)
        shared_pool("remove")
        for entry in os.listdir(SHARED_DIR) if os.path.isdir(SHARED_DIR) else ():
            os.remove(os.path.join(SHARED_DIR, entry))
        if os.path.isdir(SHARED_DIR):
            os.rmdir(SHARED_DIR)
        with state_store() as store:
            store.remove_cordon(failed)


def test_a_failed_host_is_evacuated_once_and_cleaned_when_it_comes_back(failed_host):
    first, failed = failed_host
    others = [h for h in hosts() if h != failed]

    # not fenced: refused, naming the option; nothing changed
    run, result = playbook(evac_host=failed, evac_fenced=False)
    assert run.returncode != 0 and "fenced" in result["msg"], run.stdout
    with state_store() as store:
        assert store.cordon(failed) is None

    # check mode: the plan, nothing defined
    run, result = playbook(evac_host=failed, evac_check=True)
    assert run.returncode == 0, run.stdout
    plan = by_guest(result)
    assert plan["ev-nas"]["result"] == "planned" and plan["ev-nas"]["how"] == "shared"
    assert plan["ev-nas"]["to"] in others
    assert plan["ev-local-a"]["result"] == "not evacuated" and "allow_rebuild" in plan["ev-local-a"]["reason"]
    assert all(where(name) == {} for name in GUESTS)

    # evacuated: the shared guest runs elsewhere on its own disk, with its data; the local ones are reported
    with state_store() as store:
        earlier = set(r["id"] for r in store.migrations(failed))  # the lab's store keeps earlier runs' records
    run, result = playbook(evac_host=failed)
    assert run.returncode == 0, run.stdout
    guests = by_guest(result)
    nas = guests["ev-nas"]
    assert (nas["result"], nas["how"], nas["data_lost"]) == ("evacuated", "shared", False), nas
    assert where("ev-nas") == {nas["to"]: "running"}
    assert nas["disks"] == [os.path.join(SHARED_DIR, "ev-nas.disk.qcow2")]
    assert os.path.join(SHARED_DIR, "ev-nas.disk.qcow2") in virsh(nas["to"], "domblklist", "ev-nas").stdout
    ok, output = has_pattern(os.path.join(SHARED_DIR, "ev-nas.disk.qcow2"))
    assert ok, output
    assert guests["ev-local-a"]["result"] == guests["ev-local-b"]["result"] == "not evacuated"
    assert where("ev-local-a") == where("ev-local-b") == {}
    assert result["cordon"]["reason"].startswith("evacuated")
    with state_store() as store:
        journal = [r for r in store.migrations(failed) if r["kind"] == "evacuation" and r["id"] not in earlier]
    assert [(r["guest"], r["status"]) for r in journal] == [("ev-nas", "completed")]

    # re-run: nothing evacuated twice
    run, result = playbook(evac_host=failed)
    assert run.returncode == 0 and result["changed"] is False, run.stdout
    assert by_guest(result)["ev-nas"]["result"] == "already elsewhere"
    assert where("ev-nas") == {nas["to"]: "running"}

    # allow_rebuild: the local guests are rebuilt from their image, as they were (running / shut off), data lost
    run, result = playbook(evac_host=failed, evac_allow_rebuild=True)
    assert run.returncode == 0, run.stdout
    guests = by_guest(result)
    for name, state in (("ev-local-a", "running"), ("ev-local-b", "shut off")):
        assert (guests[name]["result"], guests[name]["data_lost"]) == ("rebuilt", True), guests[name]
        assert where(name) == {guests[name]["to"]: state}
    assert result["summary"]["data_lost"] == 2

    # the host comes back with its old definitions: none of them runs, the fleet refuses the host
    assert lab("up").returncode == 0
    for name in GUESTS:
        states = where(name)
        assert states[failed] == "shut off" and len(states) == 2, (name, states)
    with state_store() as store:
        assert store.cordon(failed)["reason"].startswith("evacuated")
    # hypervisor_info says it is disabled and why; the preflight names the stale copies
    run, result = playbook(evac_preflight=True)
    assert run.returncode == 0, run.stdout
    config = [f for f in result["facts"] if f["name"] == failed][0]["config"]
    assert config["enabled"] is False and config["disabled_reason"].startswith("evacuated"), config
    stale = [r for r in result["checks"] if r["check"] == "evacuated" and r["host"] == failed][0]
    assert stale["result"] == "Failure" and all(name in stale["details"] for name in GUESTS), stale
    run, _result = playbook(evac_instances=[{"name": "ev-probe", "flavor": LOCAL, "host": failed}])
    assert run.returncode != 0 and "claim failed on %s" % failed in run.stdout, run.stdout
    # starting the guest through the collection is refused while the stale copy is there
    run, _result = playbook(evac_instances=[{"name": "ev-nas", "flavor": NAS, "host": first}])
    assert run.returncode != 0 and "defined on several hosts" in run.stdout, run.stdout
    assert where("ev-nas")[failed] == "shut off"
    # and it is not evacuated again now that it answers
    run, result = playbook(evac_host=failed)
    assert run.returncode != 0 and "answers" in result["msg"], run.stdout

    # cleaned: the stale copies go, each guest is defined once, the shared one still has its data
    run, result = playbook(evac_host=failed, evac_state="cleaned")
    assert run.returncode == 0, run.stdout
    assert sorted(c["guest"] for c in result["cleaned"]) == sorted(GUESTS)
    assert result["cordon"] is None
    for name in GUESTS:
        states = where(name)
        assert len(states) == 1 and failed not in states, (name, states)
    ok, output = has_pattern(os.path.join(SHARED_DIR, "ev-nas.disk.qcow2"))
    assert ok, output
    cleaned = dict((c["guest"], c) for c in result["cleaned"])
    assert cleaned["ev-nas"]["deleted_disks"] == []
    assert cleaned["ev-local-a"]["deleted_disks"] == ["/var/lib/libvirt/images/ev-local-a.disk.qcow2"]
    with state_store() as store:
        assert store.cordon(failed) is None
    run, result = playbook(evac_preflight=True)
    assert run.returncode == 0, run.stdout
    assert [r["result"] for r in result["checks"] if r["check"] == "evacuated"] == ["Success"] * len(hosts())
