# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What admission control (``host_failures_to_tolerate: 1``, planning/admission.py) costs per placement.

On the generated fleets of bench/evacuation_planner.py (2-socket SMT hosts of 20 guests: 1-4 vCPUs,
0.5-4 GiB, one in five pinned), of 100 and 1,000 hosts, it places the same mixed requests (one in five
pinned) twice, with the scheduler alone and with admission control, in alternating slices so that both
see the same machine load, and for a sample of the placements also times the full check (every host's
evacuation planned again from scratch, ``AdmissionControl.full_check``): what admission control would
cost without its kept plans. It prints per placement the milliseconds of each, the ratios, the one-time
cost of building the kept plans, and how often the incremental answer and the full check agree.

Then the same on a tight fleet of 100 hosts (each left 1-6 GiB of RAM within its limit), where the
requests fill the fleet until admission control refuses: a refused request asks it about every host
that passed the filters, so refusals are what cost most there (their median is printed).

Budget (exit 1 when missed): per placement, admission control costs at most 5% of the full check
measured in the same run on the roomy fleets, 25% on the tight one (the full check grows with the
square of the fleet, the incremental one about as the plain placement), and at most 10x the plain
placement at 1,000 hosts. The incremental answer must also be the full check's on every sampled
placement (exit 1 otherwise): it is exact by design (planning/admission.py), not an estimate.

    .venv/bin/python bench/admission_control.py [--sizes 100,1000] [--requests 200] [--full-samples 5,2]
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, HERE)
import conftest  # noqa: E402,F401  pylint: disable=unused-import
from evacuation_planner import make_fleet  # noqa: E402  the same generated fleets

from ansible_collections.vmfleet.compute.plugins.module_utils.planning.admission import AdmissionControl  # noqa: E402
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import (  # noqa: E402
    build_request_spec)
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import (  # noqa: E402
    Scheduler, build_hosts, collector_paused)
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.scheduler.host_factory import (  # noqa: E402
    make_request)

CONFIG = {"host_failures_to_tolerate": 1}
MAX_SHARE_OF_FULL = 0.05
MAX_SHARE_OF_FULL_TIGHT = 0.25
TIGHT_SIZE = 100
MAX_RATIO_AT_1000 = 10.0
SLICE = 10


class Timed(object):
    """Admission control that times each answer, and the full check on the sampled placements."""

    def __init__(self, admission, full_every):
        self.admission, self.full_every = admission, full_every
        self.seconds = 0.0
        self.asked = 0
        self.full = []          # seconds of each full check
        self.agreed = self.compared = 0

    def refusal(self, placement):
        started = time.perf_counter()
        answer = self.admission.refusal(placement)
        self.seconds += time.perf_counter() - started
        self.asked += 1
        if self.asked % self.full_every == 0:
            started = time.perf_counter()
            failed = self.admission.full_check(placement)
            self.full.append(time.perf_counter() - started)
            self.compared += 1
            self.agreed += (answer is None) == (not failed)
        return answer

    def accept(self, placement):
        started = time.perf_counter()
        self.admission.accept(placement)
        self.seconds += time.perf_counter() - started


def requests(count, rng):
    made = []
    for number in range(count):
        extra = {"hw:cpu_policy": "dedicated"} if rng.random() < 0.2 else {}
        made.append(make_request("new%d" % number, rng.choice((1, 2, 4)), rng.choice((512, 1024, 2048, 4096)), 1,
                                 extra))
    return made


def tighten(hosts, rng):
    """Leave each host 1-6 GiB of RAM within its limit, so that the requests fill the fleet up to where
    admission control refuses (the memory bound, or the planner, when the guests no longer fit)."""
    for facts in hosts:
        resources = facts["resources"]
        resources["memory_mb_limit"] = resources["memory_mb_used"] + rng.randint(1024, 6144)
    return hosts


def measure(size, count, full_samples, rng, tight=False):
    hosts = make_fleet(size, rng)
    if tight:
        tighten(hosts, rng)
    started = time.perf_counter()
    admission = AdmissionControl(hosts, CONFIG)
    built = time.perf_counter() - started
    timed = Timed(admission, max(1, count // full_samples))
    plain = Scheduler(build_hosts(copy.deepcopy(hosts)), {}, 0)
    admitted = Scheduler(build_hosts(copy.deepcopy(hosts)), CONFIG, 0, admission=timed)
    specs = requests(count, rng)
    plain_seconds, admitted_seconds, refused, refused_seconds = 0.0, 0.0, 0, []
    for start in range(0, count, SLICE):
        chunk = specs[start:start + SLICE]
        with collector_paused():
            began = time.perf_counter()
            for request in chunk:
                plain.place(build_request_spec(request))
            plain_seconds += time.perf_counter() - began
            began = time.perf_counter()
            for request in chunk:
                one = time.perf_counter()
                full_before = sum(timed.full)
                if admitted.place(build_request_spec(request)).placement is None:
                    refused += 1
                    refused_seconds.append(time.perf_counter() - one - (sum(timed.full) - full_before))
            admitted_seconds += time.perf_counter() - began
    # the full checks ran inside the admitted placements: take them out again
    admitted_seconds -= sum(timed.full)
    return {"size": size, "built_s": built, "plain_ms": plain_seconds * 1000.0 / count,
            "admitted_ms": admitted_seconds * 1000.0 / count, "answer_ms": timed.seconds * 1000.0 / timed.asked,
            "full_ms": statistics.median(timed.full) * 1000.0, "agreed": timed.agreed,
            "compared": timed.compared, "refused": refused, "count": count,
            "refused_ms": statistics.median(refused_seconds) * 1000.0 if refused_seconds else None,
            "undrainable": len(admission.undrainable)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--full-samples", default="5,2", help="full checks timed per size (one each at most)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    missed = False
    samples = [int(s) for s in args.full_samples.split(",")]
    runs = [(size, False, samples[min(index, len(samples) - 1)])
            for index, size in enumerate(int(s) for s in args.sizes.split(","))] + [(TIGHT_SIZE, True, samples[0])]
    for size, tight, full_samples in runs:
        row = measure(size, args.requests, full_samples, rng, tight)
        ratio = row["admitted_ms"] / row["plain_ms"]
        share = row["admitted_ms"] / row["full_ms"]
        budget = MAX_SHARE_OF_FULL_TIGHT if tight else MAX_SHARE_OF_FULL
        over = share > budget or (size >= 1000 and ratio > MAX_RATIO_AT_1000)
        missed = missed or over or row["agreed"] != row["compared"]
        print("%5d hosts%s: placement %.2f ms plain, %.2f ms with admission control (%.2f ms of it answering): "
              "ratio %.1fx%s; full check %.0f ms: admission is %.2f%% of it (budget <= %.0f%%)%s; kept plans built "
              "in %.1f s; %d of %d requests refused%s; incremental and full check agree on %d of %d"
              % (size, " (tight)" if tight else "", row["plain_ms"], row["admitted_ms"], row["answer_ms"], ratio,
                 " (budget <= %.0fx)" % MAX_RATIO_AT_1000 if size >= 1000 else "", row["full_ms"], share * 100,
                 budget * 100, ": MISSED" if over else "", row["built_s"], row["refused"], row["count"],
                 " (median %.0f ms each)" % row["refused_ms"] if row["refused_ms"] is not None else "",
                 row["agreed"], row["compared"]) + ("" if row["agreed"] == row["compared"] else ": MISSED"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
