# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NUMA fitting, ours against Nova's, on the same generated cases, in one run.

Creates ``bench/.venv-nova`` (``pip install nova==34.0.0``, about a minute,
git-ignored) on first use and runs Nova in a subprocess of that venv:
``nova.virt.hardware.numa_get_constraints`` + ``numa_fit_instance_to_host``
on hand-built ``objects.NUMATopology`` hosts with NUMATopologyFilter's limits.
Ours: ``build_request_spec`` + ``numa_fit.fit`` on ``HostState.from_facts``
of the same facts (caches cleared before every timed call).

Each case is timed on both sides one right after the other (Nova's process
answers case by case), so that load from elsewhere on the machine slows both
sides of a ratio alike. Prints per-case times, the median time ratio (target
>= 20x), the ratio on the no-fit cases of 8-cell hosts (target >= 100x; exits
1 when one is missed), and the share of cases where both agree on fit / no fit
(and on the exact cells and pinning); every disagreement is explained, and a
fit only ours finds is checked independently (tests/.../fit_checks.py).

    .venv/bin/python bench/numa_fit_vs_nova.py [--cases 300] [--seed 1] [--quiet]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENV = os.path.join(HERE, ".venv-nova")
NOVA = "nova==34.0.0"
TARGET_MEDIAN = 20.0            # issue 18: NUMA fitting at least 20x Nova at the median
TARGET_8_CELL_NO_FIT = 100.0
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests", "unit", "plugins", "module_utils", "scheduler"))
import conftest  # noqa: E402,F401  pylint: disable=unused-import
from fit_checks import fit_problems  # noqa: E402
from host_factory import make_host, make_request  # noqa: E402

from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler import numa_fit  # noqa: E402
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.host_state import HostState  # noqa: E402
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.placement import CellPlacement  # noqa: E402
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import (  # noqa: E402
    build_request_spec)

NOVA_SIDE = r'''
import json, statistics, sys, time, warnings
warnings.filterwarnings("ignore")
from nova import objects
from nova.objects import fields
objects.register_all()
from nova.virt import hardware

def host_topology(cells):
    built = []
    for c in cells:
        built.append(objects.NUMACell(
            id=c["id"], cpuset=set(c["cpus"]), pcpuset=set(c["pcpus"]), memory=c["memory_mb"],
            cpu_usage=c["shared_vcpus_used"], memory_usage=c["memory_used_mb"],
            pinned_cpus=set(c["pinned"]), siblings=[set(s) for s in c["siblings"]],
            mempages=[objects.NUMAPagesTopology(size_kb=s, total=t, used=u, reserved=0) for s, t, u in c["pages"]],
            socket=None))
    return objects.NUMATopology(cells=built)

def timed(call, minimum_s=0.02, most=50):
    times = []
    start = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < minimum_s and len(times) < most):
        times.append(call())
    return statistics.median(times)

# one case per line, answered at once: the driver times ours on a case right before Nova times it,
# so that a busy machine slows both sides of each ratio alike
for line in sys.stdin:
    case = json.loads(line)
    req = case["request"]
    flavor = objects.Flavor(name="f", vcpus=req["flavor"]["vcpus"], memory_mb=req["flavor"]["memory_mb"],
                            root_gb=0, ephemeral_gb=0, swap=0, extra_specs=req["flavor"]["extra_specs"])
    image = objects.ImageMeta.from_dict({"properties": req["image"]["properties"]})
    host = host_topology(case["cells"])
    limits = objects.NUMATopologyLimits(cpu_allocation_ratio=case["cpu_ratio"], ram_allocation_ratio=case["ram_ratio"])
    t0 = time.perf_counter()
    topo = hardware.numa_get_constraints(flavor, image)
    constraints_us = (time.perf_counter() - t0) * 1e6
    result = [None]
    def once():
        clone = topo.obj_clone()
        t = time.perf_counter()
        result[0] = hardware.numa_fit_instance_to_host(host, clone, None, limits=limits)
        return time.perf_counter() - t
    fit_us = timed(once) * 1e6
    fitted = result[0]
    cells = None
    if fitted:
        cells = [{"guest": i, "host_cell": c.id,
                  "pinning": sorted([int(k), int(v)] for k, v in (c.cpu_pinning or {}).items()),
                  "reserved": sorted(c.cpuset_reserved or ()),
                  "page_size_kb": c.pagesize if "pagesize" in c else None}
                 for i, c in enumerate(fitted.cells)]
    sys.stdout.write(json.dumps({"fit": bool(fitted), "cells": cells, "fit_us": fit_us,
                                 "constraints_us": constraints_us}) + "\n")
    sys.stdout.flush()
'''


def ensure_venv():
    python = os.path.join(VENV, "bin", "python")
    if os.path.exists(python):
        check = subprocess.run([python, "-c", "import nova.virt.hardware"], capture_output=True, check=False)
        if check.returncode == 0:
            return python
    print("creating %s with %s (about a minute) ..." % (VENV, NOVA), flush=True)
    subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    subprocess.run([python, "-m", "pip", "install", "-q", NOVA], check=True)
    return python


# ---------------------------------------------------------------- cases

def host_shape(rng, cells, threads, used, hugepages):
    cores_per_cell = rng.choice([4, 8]) if cells <= 4 else 4
    sockets = 1 if cells == 1 else 2
    cores = cells * cores_per_cell // sockets
    memory = rng.choice([16384, 32768])
    pinned, memory_used, pages_used, shared_used = {}, {}, {}, {}
    if used:
        for cell in range(cells):
            base = cell * cores_per_cell
            total_cores = sockets * cores
            count = rng.randint(0, cores_per_cell - 1)
            chosen = list(range(base, base + count))
            if threads == 2 and rng.random() < 0.5:
                chosen += [c + total_cores for c in chosen[: count // 2]]
            pinned[cell] = chosen
            memory_used[cell] = rng.choice([0, 1024, 4096])
            shared_used[cell] = rng.choice([0, 2, 8])
            if hugepages:
                pages_used[cell] = dict((size, rng.randint(0, count // 2)) for size, count in hugepages.items())
    return make_host("hv", sockets=sockets, cores=cores, threads=threads, cells=cells, memory_mb=memory,
                     hugepages=hugepages, pinned=pinned, memory_used=memory_used, pages_used=pages_used,
                     shared_vcpus_used=shared_used)


def request_shape(rng, cells):
    nodes = rng.choice([n for n in (1, 2, 4, 8) if n <= max(cells, 1) * 2])
    per_node = rng.choice([1, 2, 3, 4, 6])
    vcpus = nodes * per_node
    memory = nodes * rng.choice([512, 1024, 2048, 4096])
    specs = {"hw:numa_nodes": str(nodes)}
    kind = rng.choice(["dedicated", "dedicated", "isolate", "require", "emulator", "shared", "hugepages",
                       "mixed"])
    if kind in ("dedicated", "isolate", "require", "emulator", "hugepages"):
        specs["hw:cpu_policy"] = "dedicated"
    if kind == "isolate":
        specs["hw:cpu_thread_policy"] = "isolate"
    if kind == "require":
        specs["hw:cpu_thread_policy"] = "require"
        if vcpus % 2:
            vcpus += nodes
    if kind == "emulator":
        specs["hw:emulator_threads_policy"] = "isolate"
    if kind == "hugepages" or rng.random() < 0.25:
        specs["hw:mem_page_size"] = rng.choice(["2MB", "1GB", "large", "any", "small", "2048"])
    if kind == "mixed":
        if per_node < 2:
            per_node, vcpus = 2, nodes * 2
        specs["hw:cpu_policy"] = "mixed"
        specs["hw:cpu_dedicated_mask"] = "^" + ",".join(str(n * per_node) for n in range(nodes))
    return make_request("vm", vcpus, memory, 0, extra_specs=specs), kind


def no_fit_8_cells(rng):
    """8-node pinned guests that do not fit an 8-cell host: one cell too short."""
    host = host_shape(rng, 8, rng.choice([1, 2]), False, {})
    per_cell = len(host["numa"]["cells"][0]["cpus"])
    # every cell must host one node, and every node needs one CPU more than a cell can give
    specs = {"hw:numa_nodes": "8", "hw:cpu_policy": "dedicated"}
    return host, make_request("vm", 8 * (per_cell + 1), 8 * 1024, 0, extra_specs=specs), "8-cell no-fit"


def no_fit_8_cells_partial(rng):
    """8-node guest whose last node fits nowhere because every cell is partly pinned."""
    threads = rng.choice([1, 2])
    host = host_shape(rng, 8, threads, False, {})
    per_cell_cores = len(host["numa"]["cells"][0]["cpus"]) // threads
    cores_total = per_cell_cores * 8
    pinned = dict((cell, [cell * per_cell_cores]) for cell in range(8))
    host = make_host("hv", sockets=2, cores=cores_total // 2, threads=threads, cells=8,
                     memory_mb=host["numa"]["cells"][0]["memory_mb"], pinned=pinned)
    free = per_cell_cores * threads - 1
    specs = {"hw:numa_nodes": "8", "hw:cpu_policy": "dedicated",
             "hw:numa_cpus.0": "0-%d" % (free - 1)}
    rest = list(range(free, free + 7 * free + 1))
    for node in range(1, 8):
        chunk = rest[(node - 1) * free:node * free] if node < 7 else rest[6 * free:]
        specs["hw:numa_cpus.%d" % node] = ",".join(str(c) for c in chunk)
    vcpus = free + len(rest)
    for node in range(8):
        specs["hw:numa_mem.%d" % node] = "512"
    return host, make_request("vm", vcpus, 8 * 512, 0, extra_specs=specs), "8-cell no-fit (one node too big)"


def make_cases(count, seed):
    rng = random.Random(seed)
    cases = []
    while len(cases) < count:
        cells = rng.choice([1, 2, 4, 8])
        threads = rng.choice([1, 2])
        hugepages = rng.choice([{}, {2048: 2048}, {1048576: 8}, {2048: 1024, 1048576: 4}])
        host = host_shape(rng, cells, threads, rng.random() < 0.5, hugepages)
        request, kind = request_shape(rng, cells)
        cases.append((host, request, "%d cells smt=%s %s" % (cells, threads == 2, kind)))
    for index in range(max(10, count // 15)):
        builder = no_fit_8_cells if index % 2 == 0 else no_fit_8_cells_partial
        host, request, kind = builder(rng)
        cases.append((host, request, kind))
    return cases


def nova_cells(host, spec):
    """The host as Nova's libvirt driver would describe it. With neither cpu_dedicated_set nor
    cpu_shared_set every CPU may be pinned or float: Nova's legacy layout, cpuset == pcpuset. For guests
    with floating vCPUs cpuset is the cell's CPUs less the pinned ones, as host-facts.md counts the
    floating pool (Nova would keep pinned CPUs in it)."""
    cells = []
    floating = any(g.cpus for g in spec.numa_cells or ())
    for cell in host.cells:
        cpuset = cell.shared_cpus if floating else cell.cpus
        cells.append({"id": cell.id, "cpus": sorted(cpuset), "pcpus": sorted(cell.pcpuset),
                      "memory_mb": cell.memory_mb, "memory_used_mb": cell.memory_used_mb,
                      "shared_vcpus_used": cell.shared_vcpus_used, "pinned": sorted(cell.pinned),
                      "siblings": [list(s) for s in cell.siblings],
                      "pages": [[size, total, used] for size, (total, used) in sorted(cell.pages.items())]})
    return cells


# ---------------------------------------------------------------- ours

def time_ours(host, spec):
    times = []
    result = None
    start = time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < 0.01 and len(times) < 200):
        host.fit_cache.clear()
        host.pair_cache.clear()
        t0 = time.perf_counter()
        result = numa_fit.fit(host, spec)
        times.append(time.perf_counter() - t0)
    return result, statistics.median(times) * 1e6


def same_placement(host, spec, fit, theirs):
    """Same host cell per guest cell, same cores for the pinned vCPUs and the emulator threads
    (which thread of a core Nova takes follows Python's set iteration order; we take the lowest
    free one), same page size when one was asked for."""
    if not fit:
        return not theirs["fit"]
    for ours, nova in zip(fit.cells, theirs["cells"]):
        if ours.host_cell != nova["host_cell"]:
            return False
        cell = host.cell_by_id[ours.host_cell]
        core = dict((cpu, index) for index, sib in enumerate(cell.siblings) for cpu in sib)
        if sorted(core[c] for c in ours.pinning.values()) != sorted(core[p] for v, p in nova["pinning"]):
            return False
        if sorted(core[c] for c in ours.reserved) != sorted(core[c] for c in nova["reserved"]):
            return False
        if spec.page_size and ours.page_size_kb != nova["page_size_kb"]:
            return False
    return True


def nova_fit_as_ours(host, spec, theirs):
    """Nova's answer as a NumaFit, to check it with the same independent checker."""
    cells = []
    for guest, nova in zip(spec.numa_cells, theirs["cells"]):
        cell = host.cell_by_id[nova["host_cell"]]
        page = nova["page_size_kb"] or (cell.page_sizes[0] if cell.page_sizes else None)
        cells.append(CellPlacement(guest.id, cell.id, guest.memory_mb, page, dict(nova["pinning"]),
                                   cell.shared_sorted if guest.cpus else (), guest.cpus, tuple(nova["reserved"]),
                                   spec.thread_policy == "isolate"))
    return numa_fit.NumaFit(cells=cells)


def explain(host, spec, ours, theirs):
    lines = []
    if ours and not theirs["fit"]:
        problems = fit_problems(host, spec, ours)
        lines.append("ours fits, Nova does not; independent check of our fit: %s"
                     % ("VALID" if not problems else "INVALID: " + "; ".join(problems)))
        for cell in ours.cells:
            lines.append("  guest cell %d -> host cell %d, pins %s, reserved %s, page %s KiB" % (
                cell.guest_cell, cell.host_cell, sorted(cell.pinning.items()), list(cell.reserved),
                cell.page_size_kb))
        if any(c.shared_vcpus for c in ours.cells):
            lines.append("  (floating vCPUs: Nova counts a pinned CPU also as a shared one; we do not)")
    elif theirs["fit"] and not ours:
        problems = fit_problems(host, spec, nova_fit_as_ours(host, spec, theirs))
        lines.append("Nova fits, ours does not: %s" % ours.reason)
        verdict = "VALID" if not problems else "INVALID: " + "; ".join(problems[:3])
        lines.append("  independent check of Nova's fit: %s" % verdict)
        if problems:
            lines.append("  (Nova's permutation walk caches (host cell id, instance cell id) pairs but rewrites "
                         "instance cell ids to host cell ids while it searches, so a cached 'fits' can be "
                         "reused for the wrong guest cell)")
        else:
            lines.append("  Nova: %s" % theirs["cells"])
        if spec.numa_cells and any(g.cpus for g in spec.numa_cells):
            lines.append("  (floating vCPUs: we take pinned CPUs out of the shared pool, host-facts.md; Nova's "
                         "legacy layout keeps them in cpuset)")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quiet", action="store_true", help="no per-case lines")
    args = parser.parse_args()
    python = ensure_venv()
    cases = make_cases(args.cases, args.seed)
    ours_all, nova = [], []
    with tempfile.TemporaryFile("w+") as errors:
        side = subprocess.Popen([python, "-c", NOVA_SIDE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=errors, text=True)
        for facts, request, kind in cases:
            host = HostState.from_facts(facts)
            t0 = time.perf_counter()
            spec = build_request_spec(request)
            spec_us = (time.perf_counter() - t0) * 1e6
            fit, fit_us = time_ours(host, spec)
            ours_all.append((host, spec, fit, fit_us, spec_us, kind))
            payload = {"request": request, "cells": nova_cells(host, spec),
                       "cpu_ratio": host.cpu_allocation_ratio, "ram_ratio": host.ram_allocation_ratio}
            answer = ""
            try:
                side.stdin.write(json.dumps(payload) + "\n")
                side.stdin.flush()
                answer = side.stdout.readline()
            except BrokenPipeError:
                pass
            if not answer:
                side.kill()
                side.wait()
                errors.seek(0)
                sys.exit("nova side failed:\n" + errors.read()[-3000:])
            nova.append(json.loads(answer))
        side.stdin.close()
        side.wait()

    ratios, ratios_8_nofit, agree, same, disagreements = [], [], 0, 0, []
    if not args.quiet:
        print("%4s %-44s %6s %6s %11s %11s %9s" % ("case", "kind", "nova", "ours", "nova us", "ours us", "ratio"))
    for index, ((host, spec, fit, fit_us, spec_us, kind), theirs) in enumerate(zip(ours_all, nova)):
        ratio = theirs["fit_us"] / fit_us
        ratios.append(ratio)
        if len(host.cells) == 8 and not theirs["fit"]:
            ratios_8_nofit.append(ratio)
        if bool(fit) == theirs["fit"]:
            agree += 1
            if same_placement(host, spec, fit, theirs):
                same += 1
        else:
            disagreements.append((index, kind, explain(host, spec, fit, theirs)))
        if not args.quiet:
            print("%4d %-44s %6s %6s %11.1f %11.1f %8.1fx" % (index, kind[:44], "fit" if theirs["fit"] else "-",
                                                              "fit" if fit else "-", theirs["fit_us"], fit_us, ratio))
    total = len(cases)
    fits = sum(1 for n in nova if n["fit"])
    print()
    print("cases: %d (%d fit in Nova, %d do not; %d are no-fit cases on 8-cell hosts)"
          % (total, fits, total - fits, len(ratios_8_nofit)))
    print("median time per fit: Nova %.1f us, ours %.1f us" % (
        statistics.median(n["fit_us"] for n in nova), statistics.median(o[3] for o in ours_all)))
    missed = []
    median_ratio = statistics.median(ratios)
    if median_ratio < TARGET_MEDIAN:
        missed.append("median ratio %.1fx < %gx" % (median_ratio, TARGET_MEDIAN))
    print("median time ratio (Nova / ours), all cases: %.1fx   (target >= %gx)" % (median_ratio, TARGET_MEDIAN))
    if ratios_8_nofit:
        no_fit_ratio = statistics.median(ratios_8_nofit)
        if no_fit_ratio < TARGET_8_CELL_NO_FIT:
            missed.append("8-cell no-fit ratio %.1fx < %gx" % (no_fit_ratio, TARGET_8_CELL_NO_FIT))
        print("median time ratio on 8-cell no-fit cases: %.1fx   (target >= %gx; Nova median %.0f us)" % (
            no_fit_ratio, TARGET_8_CELL_NO_FIT,
            statistics.median(n["fit_us"] for (o, n) in zip(ours_all, nova) if len(o[0].cells) == 8 and not n["fit"])))
    print("request parsing (numa_get_constraints vs build_request_spec), median: Nova %.1f us, ours %.1f us" % (
        statistics.median(n["constraints_us"] for n in nova), statistics.median(o[4] for o in ours_all)))
    print("agreement on fit / no fit: %d of %d (%.1f%%)" % (agree, total, 100.0 * agree / total))
    print("same host cells, cores (pinned and emulator) and page sizes where both agree: %d of %d" % (same, agree))
    invalid = sum(1 for entry in disagreements if any("INVALID" in line for line in entry[2]))
    if disagreements:
        print("disagreements: %d, of which Nova's answer is an invalid fit: %d" % (len(disagreements), invalid))
    for index, kind, lines in disagreements:
        print("disagreement in case %d (%s):" % (index, kind))
        for line in lines:
            print("  " + line)
    if missed:
        print("MISSED: " + "; ".join(missed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
