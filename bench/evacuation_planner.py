# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What one evacuation plan costs (planning/evacuation.py), against the scheduler batch under it, in one run.

The preflight's N+1 asks the planner once per host, and admission control
(issue 17) would ask it for every host before a placement, so its cost per host
is what matters. On generated fleets (2-socket SMT hosts, 20 guests each:
shared guests of 1-4 vCPUs and 0.5-4 GiB, one in five pinned), for a sample of
hosts, it times:

- the planner: ``plan_evacuation(hosts, host)`` (classification, requests,
  the ordered batch on the other hosts, the I/O op of each move given back);
- the reference: ``schedule()`` of the same requests in the same order onto the
  same other hosts (the plain batch, with ``max_io_ops_per_host`` raised so it
  places as much).

Hosts alternate between the two so that both see the same machine load. It
prints the median milliseconds of each per host, their ratio, and what N+1 over
the whole fleet costs at that rate. Exits 1 when the ratio is above 1.25: the
planner must stay a thin layer over the scheduler.

    .venv/bin/python bench/evacuation_planner.py [--sizes 100,500] [--samples 10] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
import conftest  # noqa: E402,F401  pylint: disable=unused-import

from ansible_collections.vmfleet.compute.plugins.module_utils.planning.evacuation import (  # noqa: E402
    placement_order, plan_evacuation)
from ansible_collections.vmfleet.compute.plugins.module_utils.planning.guest_request import guest_request  # noqa: E402
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import (  # noqa: E402
    build_request_spec)
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import schedule  # noqa: E402
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.upgrade_checks.facts import (  # noqa: E402
    guest, host)

GUESTS_PER_HOST = 20
TARGET_RATIO = 1.25


def make_fleet(size, rng):
    hosts = []
    for index in range(size):
        facts = host("hv%d" % (index + 1))
        for number in range(GUESTS_PER_HOST):
            vcpus, memory_mb = rng.choice((1, 2, 4)), rng.choice((512, 1024, 2048, 4096))
            extra = {"hw:cpu_policy": "dedicated"} if rng.random() < 0.2 else {}
            flavor = {"name": "f", "vcpus": vcpus, "memory_mb": memory_mb, "root_gb": 1, "extra_specs": extra}
            facts["guests"].append(guest("hv%d-vm%d" % (index + 1, number), vcpus=vcpus, memory_mb=memory_mb,
                                         disk_gb=1, metadata={"flavor": flavor}))
            facts["resources"]["memory_mb_used"] += memory_mb
            facts["resources"]["vcpus_used"] += vcpus
        hosts.append(facts)
    return hosts


def reference_batch(hosts, source):
    """The scheduler's plain batch of the same requests, in the planner's order."""
    others = [facts for facts in hosts if facts["name"] != source["name"]]
    requests = [guest_request(g, "default") for g in source["guests"]]
    requests.sort(key=lambda request: placement_order(build_request_spec(request)))
    return schedule(others, requests, {"max_io_ops_per_host": 10 ** 6}, 0)


def timed(call):
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--sizes", default="100,500")
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    missed = False
    for size in [int(s) for s in args.sizes.split(",")]:
        hosts = make_fleet(size, rng)
        planner, reference, placed = [], [], 0
        for source in rng.sample(hosts, min(args.samples, size)):
            planner.append(timed(lambda: plan_evacuation(hosts, source["name"], seed=0)))
            reference.append(timed(lambda: reference_batch(hosts, source)))
            placed += len(plan_evacuation(hosts, source["name"], seed=0).placed)
        mine, floor = statistics.median(planner), statistics.median(reference)
        ratio = mine / floor
        missed = missed or ratio > TARGET_RATIO
        print("%5d hosts x %d guests: planner %.1f ms per host, scheduler batch %.1f ms: ratio %.2f (target <= %.2f)"
              "; N+1 over the fleet ~%.1f s; %d of %d sampled guests placed" % (
                  size, GUESTS_PER_HOST, mine, floor, ratio, TARGET_RATIO, mine * size / 1000.0, placed,
                  GUESTS_PER_HOST * len(planner)))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
