# -*- coding: utf-8 -*-
"""Admission control at claim time, through `ansible-playbook` on the lab (issue 17): two controllers (two
playbooks, two AWX jobs) build at once on facts both read before either built. Each passes the scheduler's
admission control on those facts; the claims, serialized fleet-wide in the state store and counting each
other, let only one through: on the lab's SQLite store and on a PostgreSQL one (the claims lock).

The lab is made small as in test_admission_control.py: each host has room for 320 MB of guests, so two
128 MB guests fill it. Three guests spread 1, 1, 1; a fourth keeps every host drainable (2, 1, 1); a fifth
would not (2, 2, 1: a host of two has room for only one of its guests elsewhere).
"""

import re
import subprocess

from lab_tools import HERE, ansible_env, delete_instance, inventory_hosts, playbook_argv, virsh

from test_admission_control import FLAVOR, ON, ROOM_MB
from test_fleet_state import postgres, store_url  # noqa: F401 pylint: disable=unused-import

FIRST = ["admc-1", "admc-2", "admc-3"]
RACERS = ["admc-a", "admc-b"]


def placed(names):
    """{name: [hosts where libvirt defines it]}."""
    return dict((name, [host for host in sorted(inventory_hosts()) if virsh(host, "dominfo", name).returncode == 0])
                for name in names)


def start(playbook, extra_vars, url):
    return subprocess.Popen(playbook_argv(playbook, extra_vars), cwd=HERE, env=ansible_env(url),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)


def run(playbook, extra_vars, url):
    process = start(playbook, extra_vars, url)
    return process.communicate(timeout=1200)[0], process.returncode


def test_two_builds_at_once_on_the_same_old_facts_build_one_and_refuse_the_other(tmp_path, store_url):  # noqa: F811
    for name in FIRST + RACERS:
        delete_instance(name)
    facts_file = str(tmp_path / "facts.json")
    try:
        out, code = run("admission.yml", {
            "admission_instances": [{"name": name, "config": ON} for name in FIRST], "admission_flavor": FLAVOR,
            "admission_room_mb": ROOM_MB, "admission_report": str(tmp_path / "first.json")}, store_url)
        assert code == 0, out
        assert sorted(hosts[0] for hosts in placed(FIRST).values()) == sorted(inventory_hosts()), (placed(FIRST), out)
        out, code = run("admission_stale.yml", {"admission_room_mb": ROOM_MB, "admission_facts_file": facts_file},
                        store_url)
        assert code == 0, out

        runs = [start("admission_stale.yml", {"admission_name": name, "admission_flavor": FLAVOR,
                                              "admission_facts_file": facts_file}, store_url) for name in RACERS]
        outputs = [(run.communicate(timeout=900)[0], run.returncode) for run in runs]
        assert sorted(code for _out, code in outputs) == [0, 2], outputs
        refused = [out for out, code in outputs if code][0]
        # refused by a claim (the facts it scheduled with did not show the other build), in admission control's words
        assert "claim failed on" in refused, refused
        assert re.search(r"admc-[ab] on \S+ would leave \S+ undrainable \(host_failures_to_tolerate=1\)", refused), \
            refused
        where = placed(FIRST + RACERS)
        built = [name for name in RACERS if where[name]]
        assert len(built) == 1 and len(where[built[0]]) == 1, where
        per_host = [sum(1 for hosts in where.values() if host in hosts) for host in sorted(inventory_hosts())]
        assert sorted(per_host) == [1, 1, 2], where  # every host still drainable
    finally:
        for name in FIRST + RACERS:
            delete_instance(name)
