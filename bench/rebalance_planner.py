# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a balance plan costs (planning/rebalance.py), against the planner that weighs every host, in one run.

Each step of the balance weighs every movable guest on the 16 least used hosts of its zone (every host
only when the rules refuse those). The reference is the same planner weighing every host at every step,
the exhaustive greedy of Watcher's workload_stabilization. On generated fleets (1 socket x 16 cores x 2
threads, 64 GiB hosts, 0-20 guests each of 1-2 vCPUs and 0.5-2 GiB, one in five hosts idle), alternating
the two on the same fleets so both see the same machine load, it prints the median seconds of a plan of
``--moves`` moves, their ratio, and the spread each plan reaches. Exits 1 when the pruned plan costs more
than half the reference's or reaches a spread more than 1% worse.

    .venv/bin/python bench/rebalance_planner.py [--sizes 100,300] [--rounds 3] [--moves 10] [--seed 7]
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

from ansible_collections.vmfleet.compute.plugins.module_utils.planning import rebalance  # noqa: E402
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.planning.rebalance_fleet import (  # noqa: E402
    loaded_host, vm)

TARGET_RATIO = 0.5
TARGET_SPREAD = 1.01


def make_fleet(size, rng):
    hosts = []
    for index in range(size):
        count = 0 if rng.random() < 0.2 else rng.randint(0, 20)
        guests = [vm("hv%d-vm%d" % (index, number), vcpus=rng.choice((1, 2)), memory_mb=rng.choice((512, 1024, 2048)))
                  for number in range(count)]
        hosts.append(loaded_host("hv%d" % index, guests, memory_mb=65536, cores=16))
    return hosts


def plan(hosts, moves, nearest):
    kept = rebalance._NEAREST
    rebalance._NEAREST = nearest
    try:
        started = time.perf_counter()
        result = rebalance.plan_rebalance(hosts, max_moves=moves)
        return time.perf_counter() - started, result
    finally:
        rebalance._NEAREST = kept


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--sizes", default="100,300")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--moves", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    missed = False
    for size in [int(s) for s in args.sizes.split(",")]:
        pruned, full, ratios = [], [], []
        for _round in range(args.rounds):
            hosts = make_fleet(size, rng)
            mine, result = plan(hosts, args.moves, rebalance._NEAREST)
            reference, exhaustive = plan(hosts, args.moves, None)
            pruned.append(mine)
            full.append(reference)
            ratios.append((result.before["spread"], result.after["spread"], exhaustive.after["spread"],
                           len(result.moves)))
        ratio = statistics.median(pruned) / statistics.median(full)
        worst = max(after / max(best, 1e-9) for _before, after, best, _count in ratios)
        missed = missed or ratio > TARGET_RATIO or worst > TARGET_SPREAD
        guests = sum(len(facts["guests"]) for facts in hosts)
        print("%5d hosts, ~%d guests, %d moves: plan %.2f s, every-host plan %.2f s: ratio %.2f (target <= %.2f); "
              "spread %s; worst spread reached / every-host's %.4f (target <= %.2f)" % (
                  size, guests, args.moves, statistics.median(pruned), statistics.median(full), ratio, TARGET_RATIO,
                  ", ".join("%.4f -> %.4f (every host %.4f, %d moves)" % r for r in ratios), worst, TARGET_SPREAD))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
