# -*- coding: utf-8 -*-
"""Concurrent `ansible-playbook` runs placing onto one nearly full lab host.

Each run gathers the facts before the others have placed anything, so every
run's scheduler thinks the host is free; only the compute-side claim, taken
under the host's lock, can keep the host within its CPUs and its RAM.
"""

import json
import re

import pytest

from lab_tools import delete_instance, inventory_hosts, start_playbook, virsh

PINNED = {"name": "cc.pinned", "vcpus": 1, "memory_mb": 128, "root_gb": 1,
          "extra_specs": {"hw:cpu_policy": "dedicated"}}


def _memory_flavor(host):
    """A floating flavor of which exactly two fit in the host's free RAM."""
    info = virsh(host, "nodeinfo").stdout
    memory_mb = int(re.search(r"Memory size:\s+(\d+) KiB", info).group(1)) // 1024
    free = memory_mb - 512  # reserved_host_memory_mb
    return {"name": "cc.memory", "vcpus": 1, "memory_mb": free // 2 - 16, "root_gb": 1}


@pytest.mark.parametrize("kind", ["pinned CPUs", "RAM"])
def test_concurrent_placements_never_overcommit_the_host(kind):
    host = sorted(inventory_hosts())[0]
    flavor = PINNED if kind == "pinned CPUs" else _memory_flavor(host)
    names = ["cc-%d" % i for i in range(3)]
    for name in names:
        delete_instance(name)
    try:
        runs = [start_playbook("place_instance.yml", {"instance_name": name, "instance_flavor": flavor,
                                                      "target_host": host}) for name in names]
        outputs = [run.communicate(timeout=600)[0] for run in runs]
        codes = [run.returncode for run in runs]
        placed = [o for o in outputs if "PLACED " in o]
        refused = [o for o in outputs if "claim failed on %s" % host in o]
        report = "\n\n".join(outputs)
        # the lab host has 2 CPUs, and RAM for two of the memory flavor
        assert sorted(codes) == [0, 0, 2], report
        assert len(placed) == 2 and len(refused) == 1, report
        assert "claim_failed: true" in refused[0], report
        defined = [n for n in names if virsh(host, "dominfo", n).returncode == 0]
        assert len(defined) == 2, report
        if kind == "pinned CPUs":
            pins = [json.loads(re.search(r"PINNED (\[.*\])", o).group(1)) for o in placed]
            assert all(len(p) == 1 for p in pins), pins
            assert pins[0] != pins[1], "a CPU was pinned twice: %s" % pins
    finally:
        for name in names:
            delete_instance(name)
