# -*- coding: utf-8 -*-
"""Anti-affinity on the lab, through ansible-playbook (issue 14, defect 1, and Nova bug 1821755).

A server group's members are the guests whose metadata names it: the drain,
live_migrate and schedule derive them from the fleet, and the destination's
claim re-checks the group under the store's lock, so moves and builds started
at the same moment never put two members of an anti-affinity group on one host.
"""

import json
import os

import pytest

from lab_tools import delete_instance, run_playbook, start_playbook, state_store
from test_drain import hosts, where

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.state import cordon as host_cordon

TINY = {"name": "sg.tiny", "vcpus": 1, "memory_mb": 128, "root_gb": 1}
GROUP = {"name": "sg-db", "policy": "anti-affinity"}
HINTS = {"group": GROUP}
NAMES = ["sg-db1", "sg-db2", "sg-db3"]
REFUSED = "group sg-db has member"   # what ServerGroupAntiAffinityFilter says


def members_by_host():
    by_host = {}
    for name in NAMES:
        for host in where(name):
            by_host.setdefault(host, []).append(name)
    return by_host


def assert_apart():
    together = dict((host, names) for host, names in members_by_host().items() if len(names) > 1)
    assert not together, "members of sg-db share a host: %s" % together


def member(name, host):
    return {"name": name, "flavor": TINY, "host": host, "hints": HINTS}


def build(*members):
    built = run_playbook("place_instances.yml", {"instances": list(members)})
    assert built.returncode == 0, built.stdout


def report_file(tag):
    return "/tmp/vmfleet-server-groups-%d-%s.json" % (os.getpid(), tag)


def drain_vars(host, tag, check=False):
    return {"drain_host": host, "report_file": report_file(tag), "drain_check": check}


def read_report(tag):
    with open(report_file(tag)) as handle:
        return json.load(handle)


def set_cordons(*cordoned):
    with state_store() as store:
        for host in hosts():
            store.remove_cordon(host)
        for host in cordoned:
            host_cordon.set_state(store, states.CORDONED, host, "test_server_groups", "pytest")


def finish(runs):
    """Wait for background runs; their (return code, output) pairs."""
    outputs = [run.communicate(timeout=900)[0] for run in runs]
    return [(run.returncode, out) for run, out in zip(runs, outputs)]


@pytest.fixture()
def clean_lab():
    for name in NAMES:
        delete_instance(name)
    set_cordons()
    yield
    for name in NAMES:
        delete_instance(name)
    set_cordons()
    for tag in ("check", "a", "b", "race"):
        if os.path.exists(report_file(tag)):
            os.remove(report_file(tag))


def test_drain_live_migrate_and_schedule_take_the_group_from_the_fleet(clean_lab):
    # the reproduction: hv1 cordoned, demo-db1 on hv2, its peer demo-db2 on hv3
    first, second, third = hosts()[:3]
    build(member("sg-db1", second), member("sg-db2", third))
    set_cordons(first)
    # a check-mode drain of hv2 must not plan the member onto hv3, where its peer runs
    run = run_playbook("drain.yml", drain_vars(second, "check", check=True))
    plan = read_report("check")
    moves = dict((g["guest"], g) for g in plan["guests"])
    assert moves["sg-db1"].get("to") != third, plan
    assert REFUSED in json.dumps(plan), plan
    assert where("sg-db1") == {second: "running"}, run.stdout
    # live_migrate to hv3, in check mode, is refused naming the group
    moved = run_playbook("live_migrate_instance.yml", {"instance_name": "sg-db1", "target_host": third,
                                                       "migrate_check": True})
    assert moved.returncode != 0 and REFUSED in moved.stdout, moved.stdout
    # a new member has no host while hv1 is cordoned, and goes to hv1 once it is not
    request = {"name": "sg-db3", "flavor": TINY, "hints": HINTS}
    planned = run_playbook("schedule_requests.yml", {"requests": [request]})
    assert planned.returncode != 0 and REFUSED in planned.stdout, planned.stdout
    set_cordons()
    planned = run_playbook("schedule_requests.yml", {"requests": [request]})
    assert planned.returncode == 0 and 'PLAN ["%s"]' % first in planned.stdout, planned.stdout


def test_two_drains_at_once_never_put_two_members_together(clean_lab):
    first, second, third = hosts()[:3]
    build(member("sg-db1", first), member("sg-db2", second))
    # each drain's only way out is hv3 (the other host is being drained): at most one member gets there
    runs = [start_playbook("drain.yml", drain_vars(first, "a")), start_playbook("drain.yml", drain_vars(second, "b"))]
    outputs = finish(runs)
    assert_apart()
    for name in ("sg-db1", "sg-db2"):
        assert list(where(name).values()) == ["running"], (name, where(name), outputs)
    assert sorted(code for code, _out in outputs)[0] == 0, outputs   # one of them drained its host
    assert REFUSED in json.dumps([read_report("a"), read_report("b")]), outputs


def test_two_live_migrations_at_once_move_one_member_and_refuse_the_other_naming_the_group(clean_lab):
    # Nova bug 1821755: both are scheduled on facts in which hv3 has no member; the claims decide
    first, second, third = hosts()[:3]
    build(member("sg-db1", first), member("sg-db2", second))
    runs = [start_playbook("live_migrate_instance.yml", {"instance_name": name, "target_host": third})
            for name in ("sg-db1", "sg-db2")]
    outputs = finish(runs)
    assert sorted(code for code, _out in outputs) == [0, 2], outputs
    refused = [out for code, out in outputs if code]
    assert REFUSED in refused[0], refused[0]
    assert_apart()
    assert members_by_host()[third] in (["sg-db1"], ["sg-db2"])


def test_two_builds_at_once_place_one_member_and_refuse_the_other(clean_lab):
    third = hosts()[2]
    runs = [start_playbook("place_instances.yml", {"instances": [member(name, third)]})
            for name in ("sg-db1", "sg-db2")]
    outputs = finish(runs)
    assert sorted(code for code, _out in outputs) == [0, 2], outputs
    assert REFUSED in [out for code, out in outputs if code][0]
    assert len(members_by_host().get(third, [])) == 1
    assert_apart()


def test_a_drain_racing_a_build_never_puts_two_members_together(clean_lab):
    first, second, third = hosts()[:3]
    build(member("sg-db1", first))
    set_cordons(second)   # the drain of hv1 can only go to hv3, where the build is going too
    runs = [start_playbook("drain.yml", drain_vars(first, "race")),
            start_playbook("place_instances.yml", {"instances": [member("sg-db2", third)]})]
    outputs = finish(runs)
    assert_apart()
    assert list(where("sg-db1").values()) == ["running"], outputs
    assert [code for code, _out in outputs].count(0) == 1, outputs   # exactly one of them got hv3
    assert REFUSED in json.dumps(read_report("race")) + outputs[1][1], outputs
