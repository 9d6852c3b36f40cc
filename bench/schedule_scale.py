# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scale benchmark: N mixed requests onto N generated hosts, N = 10, 100, 1000.

Requests mix floating guests, pinned guests (prefer / isolate / require,
emulator isolate), multi-node NUMA guests and hugepage guests; hosts mix 2, 4
and 8 NUMA cells, SMT on and off, hugepages and partly used cells. Prints the
time per run (best of --repeat) and the growth from one size to the next.
Target: 1,000 x 1,000 in at most 2 s.

    .venv/bin/python bench/schedule_scale.py [--sizes 10,100,1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# tests/conftest.py makes the collection importable as ansible_collections.vmfleet.compute
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests", "unit", "plugins", "module_utils", "scheduler"))
import conftest  # noqa: E402,F401  pylint: disable=unused-import
from host_factory import make_host, make_request  # noqa: E402

from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import schedule  # noqa: E402

HOST_SHAPES = [
    dict(sockets=2, cores=8, threads=2, cells=2, memory_mb=65536, hugepages={2048: 4096, 1048576: 8}),
    dict(sockets=2, cores=16, threads=2, cells=4, memory_mb=65536, hugepages={2048: 8192}),
    dict(sockets=2, cores=16, threads=1, cells=8, memory_mb=32768, hugepages={1048576: 8}),
    dict(sockets=1, cores=16, threads=2, cells=1, memory_mb=131072, hugepages={}),
]

FLAVORS = [
    (2, 2048, {}),
    (4, 8192, {}),
    (1, 1024, {}),
    (4, 4096, {"hw:cpu_policy": "dedicated"}),
    (8, 16384, {"hw:cpu_policy": "dedicated", "hw:cpu_thread_policy": "require", "hw:numa_nodes": "2"}),
    (4, 4096, {"hw:cpu_policy": "dedicated", "hw:cpu_thread_policy": "isolate",
               "hw:emulator_threads_policy": "isolate"}),
    (8, 8192, {"hw:numa_nodes": "2", "hw:mem_page_size": "2MB"}),
    (4, 4096, {"hw:mem_page_size": "1GB", "hw:cpu_policy": "dedicated"}),
    (16, 32768, {"hw:numa_nodes": "4", "hw:mem_page_size": "large", "hw:cpu_policy": "dedicated"}),
    (6, 6144, {"hw:cpu_policy": "mixed", "hw:cpu_dedicated_mask": "^0-1"}),
]


def make_hosts(count, rng):
    hosts = []
    for index in range(count):
        shape = dict(HOST_SHAPES[index % len(HOST_SHAPES)])
        cells = shape["cells"]
        cores_total = shape["sockets"] * shape["cores"]
        per_cell = cores_total // cells
        pinned, memory_used = {}, {}
        if rng.random() < 0.5:           # partly used host
            for cell in range(cells):
                base = cell * per_cell
                pinned[cell] = list(range(base, base + rng.randint(0, per_cell // 2)))
                memory_used[cell] = rng.choice([0, 2048, 8192])
        hosts.append(make_host("hv%04d" % index, pinned=pinned, memory_used=memory_used,
                               local_gb=2000, **shape))
    return hosts


def make_requests(count, rng):
    requests = []
    for index in range(count):
        vcpus, memory, specs = FLAVORS[rng.randrange(len(FLAVORS))]
        requests.append(make_request("vm%04d" % index, vcpus, memory, 20, extra_specs=specs))
    return requests


def run(size, repeat, seed):
    best = None
    placed = 0
    for attempt in range(repeat):
        rng = random.Random(seed)
        hosts, requests = make_hosts(size, rng), make_requests(size, rng)
        start = time.perf_counter()
        result = schedule(hosts, requests, {"host_subset_size": 2}, seed=seed)
        elapsed = time.perf_counter() - start
        placed = len(result.placed)
        best = elapsed if best is None else min(best, elapsed)
    return best, placed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print("%8s %8s %10s %10s %12s %8s" % ("hosts", "requests", "placed", "seconds", "us/(req*host)", "growth"))
    previous = None
    for size in sizes:
        seconds, placed = run(size, args.repeat, args.seed)
        growth = "" if previous is None else "x%.1f" % (seconds / previous)
        print("%8d %8d %10d %10.3f %12.3f %8s" % (size, size, placed, seconds, seconds * 1e6 / (size * size), growth))
        previous = seconds
    if sizes[-1] >= 1000:
        print("target 1,000 x 1,000 <= 2 s: %s" % ("met" if seconds <= 2.0 else "NOT met"))


if __name__ == "__main__":
    main()
