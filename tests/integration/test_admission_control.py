# -*- coding: utf-8 -*-
"""Admission control through `ansible-playbook` on the lab: with host_failures_to_tolerate 1, the
`instance` module builds tiny guests until one more would leave some host impossible to drain onto
the others, refuses that one naming the host, and builds it once the setting is off.

Each lab host is given room for 320 MB of guests (its reserved_host_memory_mb is the rest of its
memory), so two 128 MB guests fill it. Worked out by hand: four guests spread 2, 1, 1 leave every host
drainable (a host of 2 sends one to each host of 1); a fifth makes it 2, 2, 1, and then no host can be
drained: a host of 2 has room for only one of its guests elsewhere (64 MB left on the other full host,
192 MB on the last), and the host of 1 finds 64 MB left on each of the others.
The guests are built stopped: they count as running ones do, and no QEMU runs.
"""

import json
import re

from lab_tools import delete_instance, inventory_hosts, run_playbook, virsh

FLAVOR = {"name": "adm.tiny", "vcpus": 1, "memory_mb": 128, "root_gb": 1}
ROOM_MB = 320
ON = {"host_failures_to_tolerate": 1}
OFF = {"host_failures_to_tolerate": 0}


def test_instance_is_refused_when_it_would_leave_a_host_undrainable(tmp_path):
    names = ["adm-%d" % i for i in range(1, 6)]
    for name in names:
        delete_instance(name)
    report = str(tmp_path / "admission.json")
    try:
        instances = [{"name": name, "config": ON} for name in names] + [{"name": "adm-5", "config": OFF}]
        run = run_playbook("admission.yml", {"admission_instances": instances, "admission_flavor": FLAVOR,
                                             "admission_room_mb": ROOM_MB, "admission_report": report},
                           timeout=1200)
        assert run.returncode == 0, run.stdout
        with open(report) as handle:
            results = json.load(handle)
        assert [r["name"] for r in results] == names + ["adm-5"], results
        placed = [r["host"] for r in results[:4]]
        hosts = sorted(inventory_hosts())
        assert sorted(placed.count(host) for host in hosts) == [1, 1, 2], results
        # the fifth: the host with two guests takes no third (RamFilter); on either other host it would leave
        # a host of two guests undrainable, and the refusal names that host and the guest that would not fit
        refused = results[4]
        assert refused["host"] is None, results
        full = [host for host in hosts if placed.count(host) == 2][0]
        assert "%s: RamFilter: 64 MB usable RAM left" % full in refused["msg"], refused
        blamed = re.findall(r"(\S+): AdmissionControl: adm-5 on (\S+) would leave (\S+) undrainable "
                            r"\(host_failures_to_tolerate=1\): No valid host was found for adm-", refused["msg"])
        assert sorted(host for host, _on, _named in blamed) == sorted(set(hosts) - {full}), refused
        # after adm-5 on either host the fleet is 2, 2, 1 and no host can be drained: a host of two has room
        # elsewhere for one guest only, and the host of one sees 64 MB left on each full host. Which of them
        # the refusal names is the planner's first finding; any name but a real lab host would be wrong.
        for host, on, named in blamed:
            assert host == on and named in hosts, refused
        assert all(virsh(host, "dominfo", "adm-5").returncode != 0 for host in hosts if host != results[5]["host"])
        # the setting off: the same guest is built
        assert results[5]["host"] in hosts, results
        assert virsh(results[5]["host"], "dominfo", "adm-5").returncode == 0
    finally:
        for name in names:
            delete_instance(name)
