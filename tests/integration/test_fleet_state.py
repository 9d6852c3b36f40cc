"""The fleet state store where operators run the collection: two controllers racing for one host, jobs
run as AWX runs them (ansible-runner, a fresh private data dir each), two drains at once, and the store's
PostgreSQL stopped in the middle of a drain. Real lab hosts, real migrations, a real PostgreSQL
(lab/postgres) and the lab's SQLite store."""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from lab_tools import (BIN, INVENTORY, ROOT, ansible_env, delete_instance, lab_state_url, playbook_argv,
                       state_store, virsh)
from test_drain import SHARED, assert_no_cpu_pinned_twice, hosts, where

LAB_POSTGRES = os.path.join(ROOT, "lab", "postgres")
# two vCPUs pinned in one NUMA cell: a lab host (2 CPUs, one cell) has room for exactly one
BIG_PINNED = {"name": "fs.pinned2", "vcpus": 2, "memory_mb": 128, "root_gb": 1,
              "extra_specs": {"hw:cpu_policy": "dedicated", "hw:numa_nodes": "1"}}


SCRATCH = []


def scratch(prefix):
    """A new folder for one controller, job or report; all of them are removed when the module's tests end."""
    folder = tempfile.mkdtemp(prefix=prefix)
    SCRATCH.append(folder)
    return folder


@pytest.fixture(scope="module", autouse=True)
def scratch_folders():
    yield
    for folder in SCRATCH:
        shutil.rmtree(folder, ignore_errors=True)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Postgres(object):
    """A PostgreSQL of the test's own, run by lab/postgres in a folder of its own."""

    def __init__(self):
        # not under pytest's tmp folder: the server runs as the postgres user, which must reach its folder
        self.folder, self.port = tempfile.mkdtemp(prefix="vmfleet-it-pg-"), free_port()
        self.url = self.command("start")

    def command(self, action):
        done = subprocess.run([LAB_POSTGRES, action, "--dir", self.folder, "--port", str(self.port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=120,
                              check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()


@pytest.fixture(scope="module")
def postgres():
    server = Postgres()
    yield server
    server.command("remove")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, postgres):
    """The lab's SQLite store, and the PostgreSQL one: the concurrency tests run on both."""
    return lab_state_url() if request.param == "sqlite" else postgres.url


@pytest.fixture
def cleanup():
    names = []
    yield names
    for name in names:
        delete_instance(name)
    uncordon(lab_state_url())


def report_file():
    """Where a drain playbook writes its report: a new folder each time."""
    return os.path.join(scratch("vmfleet-it-drain-"), "report.json")


def uncordon(url):
    with state_store(url) as store:
        for host in hosts():
            store.remove_cordon(host)


def place(instances, url):
    env = ansible_env(url)
    built = subprocess.run(playbook_argv("place_instances.yml", {"instances": instances}), env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False,
                           cwd=scratch("vmfleet-it-ctl-"))
    assert built.returncode == 0, built.stdout


def controller(playbook, extra_vars, url):
    """An ansible-playbook run as a controller of its own: its own working folder and home (no local file
    shared with another controller), the fleet state store at ``url``."""
    home = scratch("vmfleet-it-controller-")
    env = dict(ansible_env(url), HOME=home, ANSIBLE_LOCAL_TEMP=os.path.join(home, "tmp"))
    return subprocess.Popen(playbook_argv(playbook, extra_vars), cwd=home, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True)


def test_two_controllers_racing_for_room_for_one_build_exactly_one(store_url, cleanup):
    first = hosts()[0]
    names = ["fs-race-a", "fs-race-b"]
    cleanup.extend(names)
    uncordon(store_url)
    runs = [controller("place_instances.yml", {"instances": [
        {"name": name, "flavor": BIG_PINNED, "host": first}]}, store_url) for name in names]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    codes = [run.returncode for run in runs]
    assert sorted(codes) == [0, 2], outputs
    refused = outputs[codes.index(2)]
    assert "claim_failed" in refused and "claim failed on %s" % first in refused, refused
    built = [name for name in names if where(name)]
    assert len(built) == 1 and where(built[0]) == {first: "running"}, built
    assert_no_cpu_pinned_twice()
    with state_store(store_url) as store:
        assert store.claims(first) == []  # the winner's claim is spent, the loser never recorded one


RUNNER_PLAYS = {
    "drain.yml": """
- name: Job 1, cordon and drain a host
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Drain it
      vmfleet.compute.host_maintenance:
        state: drained
        name: "{{ job_host }}"
        reason: AWX-shaped job
        hosts: "{{ groups['hypervisors'] | map('vmfleet.compute.inventory_host', hostvars) | list }}"
""",
    "place.yml": """
- name: Job 2, place new instances wherever the scheduler says
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Build them
      vmfleet.compute.instance:
        name: "{{ item }}"
        hosts: "{{ groups['hypervisors'] | map('vmfleet.compute.inventory_host', hostvars) | list }}"
        flavor: {name: fs.small, vcpus: 1, memory_mb: 128, root_gb: 1}
        image: {name: vmfleet-tiny-base.qcow2}
        shutdown_timeout: 0
      loop: "{{ job_names }}"
""",
    "list.yml": """
- name: Job 3, list the moves out of the drained host
  hosts: localhost
  gather_facts: false
  tasks:
    - name: List them
      vmfleet.compute.migration_info:
        source: "{{ job_host }}"
        since: "{{ job_since }}"
      register: job_moves

    - name: Keep them for the test
      ansible.builtin.copy:
        content: "{{ job_moves | to_json }}"
        dest: "{{ job_out }}"
        mode: "0644"
""",
}


def runner_job(play, extra_vars, url):
    """One job as AWX runs it: ansible-runner, a fresh private data dir (project, inventory, env), the store
    injected as VMFLEET_STATE_URL (what the custom credential type does), nothing else kept between jobs."""
    private = scratch("vmfleet-it-awx-job-")
    for folder in ("project", "inventory", "env"):
        os.makedirs(os.path.join(private, folder))
    with open(os.path.join(private, "project", play), "w") as handle:
        handle.write("---" + RUNNER_PLAYS[play])
    with open(INVENTORY) as source, open(os.path.join(private, "inventory", "hosts.yml"), "w") as copy:
        copy.write(source.read())
    env = ansible_env(url)
    with open(os.path.join(private, "env", "envvars"), "w") as handle:
        json.dump({"VMFLEET_STATE_URL": url, "ANSIBLE_COLLECTIONS_PATH": env["ANSIBLE_COLLECTIONS_PATH"]}, handle)
    with open(os.path.join(private, "env", "extravars"), "w") as handle:
        json.dump(dict(extra_vars, ansible_python_interpreter=os.path.join(BIN, "python")), handle)
    run_env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    run_env.pop("VMFLEET_STATE_URL", None)  # the job gets it from its private data dir only
    done = subprocess.run([os.path.join(BIN, "ansible-runner"), "run", private, "-p", play], env=run_env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=900,
                          check=False)
    return done, private


def test_awx_shaped_jobs_see_each_others_cordon_and_moves(postgres, cleanup):
    first = hosts()[0]
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    old = ["fs-awx-old1", "fs-awx-old2"]
    new = ["fs-awx-new%d" % i for i in range(3)]
    cleanup.extend(old + new)
    uncordon(postgres.url)
    place([{"name": name, "flavor": SHARED, "host": first} for name in old], postgres.url)
    job1, _dir1 = runner_job("drain.yml", {"job_host": first}, postgres.url)
    assert job1.returncode == 0, job1.stdout
    assert all(first not in where(name) and len(where(name)) == 1 for name in old)
    job2, _dir2 = runner_job("place.yml", {"job_names": new}, postgres.url)
    assert job2.returncode == 0, job2.stdout
    for name in new:  # the cordon job 1 wrote is seen by job 2, in another private data dir
        assert list(where(name).values()) == ["running"] and first not in where(name), name
    out = os.path.join(scratch("vmfleet-it-awx-out-"), "moves.json")
    job3, _dir3 = runner_job("list.yml", {"job_host": first, "job_since": since, "job_out": out}, postgres.url)
    assert job3.returncode == 0, job3.stdout
    with open(out) as handle:
        moves = json.load(handle)["migrations"]
    assert sorted(m["guest"] for m in moves) == sorted(old)
    assert set(m["status"] for m in moves) == {"completed"} and set(m["kind"] for m in moves) == {"live"}
    with state_store(postgres.url) as store:
        assert store.cordon(first)["reason"] == "AWX-shaped job"
        store.remove_cordon(first)


def test_two_drains_at_once_share_the_overall_limit_and_avoid_each_other(store_url, cleanup):
    first, second, third = hosts()[:3]
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    names = {first: ["fs-d1-a", "fs-d1-b"], second: ["fs-d2-a", "fs-d2-b"]}
    cleanup.extend(names[first] + names[second])
    uncordon(store_url)
    place([{"name": name, "flavor": SHARED, "host": host} for host in names for name in names[host]], store_url)
    reports = dict((host, report_file()) for host in names)
    runs = dict((host, controller("drain.yml", {"drain_host": host, "report_file": reports[host],
                                                "drain_max_parallel": 1}, store_url)) for host in names)
    outputs = dict((host, run.communicate(timeout=900)[0]) for host, run in runs.items())
    for host, run in runs.items():
        assert run.returncode == 0, outputs[host]
    for host in names:
        for name in names[host]:  # never onto the other drained host
            assert where(name) == {third: "running"}, (name, where(name))
    with state_store(store_url) as store:
        moves = sorted((r["started_at"], r["finished_at"], r["guest"]) for r in store.migrations(third)
                       if r["guest"].startswith("fs-d") and r["started_at"] >= since and r["status"] == "completed")
        assert store.draining_hosts() == {} and store.moves_in_flight() == []
    assert len(moves) == 4, moves
    # max_parallel 1 in both drains: one move at a time in the whole fleet (second resolution: the next
    # may start in the second the previous one ended, never before)
    for (_start, end, _guest), (next_start, _end, _next) in zip(moves, moves[1:]):
        assert next_start >= end, moves


def test_postgresql_stopped_during_a_drain_loses_nothing_and_the_rerun_completes(postgres, cleanup):
    first = hosts()[0]
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    names = ["fs-pg-%d" % i for i in range(3)]
    cleanup.extend(names)
    uncordon(postgres.url)
    place([{"name": name, "flavor": SHARED, "host": first} for name in names], postgres.url)
    report = report_file()
    drain_vars = {"drain_host": first, "report_file": report, "drain_parallel": 1, "drain_bandwidth": 2}
    run = controller("drain.yml", drain_vars, postgres.url)
    deadline = time.monotonic() + 300
    with state_store(postgres.url) as store:  # wait until the first guest is on its way
        while not [r for r in store.migrations(first) if r["status"] == "migrating" and r["started_at"] >= since]:
            assert time.monotonic() < deadline and run.poll() is None, run.communicate()[0]
            time.sleep(0.5)
    postgres.command("stop")
    try:
        output = run.communicate(timeout=900)[0]
    finally:
        postgres.command("start")
    assert run.returncode != 0, output
    assert "fleet state store" in output, output
    for name in names:  # every guest runs somewhere, once
        assert list(where(name).values()) == ["running"], (name, where(name))
    rerun = run_playbook_with(url=postgres.url, playbook="drain.yml", extra_vars=dict(drain_vars, drain_bandwidth=0))
    assert rerun.returncode == 0, rerun.stdout
    for name in names:
        found = where(name)
        assert list(found.values()) == ["running"] and first not in found, (name, found)
    with state_store(postgres.url) as store:
        mine = [r for r in store.migrations(first) if r["guest"] in names and r["started_at"] >= since]
        assert not [r for r in mine if r["status"] == "migrating"], mine
        store.remove_cordon(first)


def run_playbook_with(url, playbook, extra_vars):
    return subprocess.run(playbook_argv(playbook, extra_vars), env=ansible_env(url), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=900, check=False)


def test_a_store_that_cannot_be_reached_fails_before_anything_changes(cleanup):
    first = hosts()[0]
    cleanup.append("fs-nostore")
    done = subprocess.run(playbook_argv("place_instances.yml", {"instances": [
        {"name": "fs-nostore", "flavor": SHARED, "host": first}]}),
        env=ansible_env("postgresql://vmfleet:s3cret-pw@127.0.0.1:%d/vmfleet?connect_timeout=2" % free_port()),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=600, check=False)
    assert done.returncode != 0
    assert "host 127.0.0.1" in done.stdout and "database vmfleet" in done.stdout, done.stdout
    assert "s3cret-pw" not in done.stdout
    assert where("fs-nostore") == {}
    assert virsh(first, "vol-info", "--pool", "default", "fs-nostore.disk.qcow2").returncode != 0
