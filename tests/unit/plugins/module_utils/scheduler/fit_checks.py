# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An independent check that a NUMA fit is valid on the host it was made for.

Used by the property tests and by bench/numa_fit_vs_nova.py to show that a
fit found where Nova finds none is a real one. ``host`` must be the state the
fit was computed on (before consume).
"""

from __future__ import annotations


def fit_problems(host, spec, fit):
    """List of what is wrong with ``fit`` (empty when it is valid)."""
    problems = []
    cells = fit.cells or []
    if spec.numa_cells is None:
        return problems
    if len(cells) != len(spec.numa_cells):
        return ["%d cell placements for %d guest cells" % (len(cells), len(spec.numa_cells))]
    host_cells = [c.host_cell for c in cells]
    if len(set(host_cells)) != len(host_cells):
        problems.append("two guest cells share a host cell: %s" % host_cells)
    used = []
    pinned_policy = spec.cpu_policy in ("dedicated", "mixed")
    for guest, place in zip(spec.numa_cells, cells):
        cell = host.cell_by_id[place.host_cell]
        pins = list(place.pinning.values()) + list(place.reserved)
        used.extend(pins)
        if sorted(place.pinning) != sorted(guest.pcpus):
            problems.append("guest cell %d: pinned vCPUs %s, expected %s" % (
                guest.id, sorted(place.pinning), list(guest.pcpus)))
        for cpu in pins:
            if cpu not in cell.pcpuset:
                problems.append("CPU %d is not a dedicated CPU of cell %d" % (cpu, cell.id))
            if cpu in cell.pinned:
                problems.append("CPU %d of cell %d was already pinned" % (cpu, cell.id))
        if spec.thread_policy == "isolate":
            # every vCPU (and the emulator threads) on a core of its own; the vCPUs' cores whole
            # (the emulator CPU may share a core with another guest, as in Nova)
            vcpu_pins = set(place.pinning.values())
            for core in [tuple(s) for s in cell.siblings if set(s) & set(pins)]:
                if len(set(core) & set(pins)) > 1:
                    problems.append("isolate: core %s holds %d of the guest's CPUs" % (core, len(set(core) & set(pins))))
                if set(core) & vcpu_pins and set(core) & cell.pinned:
                    problems.append("isolate: a sibling in core %s is already pinned" % (core,))
        if spec.thread_policy == "require" and place.pinning:
            if cell.threads_per_core < 2:
                problems.append("require on a cell without SMT")
            alone = [c for c in place.pinning.values()
                     if not any(c in s and len(set(s) & set(place.pinning.values())) > 1 for s in cell.siblings)]
            if len(alone) > len(place.pinning) % 2:
                problems.append("require: CPUs %s have no sibling in the guest" % alone)
        memory_kb = place.memory_mb * 1024
        if place.page_size_kb is not None:
            total, use = cell.pages[place.page_size_kb]
            smallest = place.page_size_kb == cell.page_sizes[0]
            avail = total * place.page_size_kb if (smallest and not pinned_policy) else (total - use) * place.page_size_kb
            if memory_kb > avail or memory_kb % place.page_size_kb:
                problems.append("cell %d: %d KiB in %d KiB pages, %d available" % (
                    cell.id, memory_kb, place.page_size_kb, avail))
        elif place.memory_mb > (cell.memory_mb - cell.memory_used_mb if pinned_policy else cell.memory_mb):
            problems.append("cell %d: %d MB more than the cell has" % (cell.id, place.memory_mb))
        if place.memory_mb > cell.memory_mb:
            problems.append("cell %d: %d MB more than the cell's %d MB" % (cell.id, place.memory_mb, cell.memory_mb))
        if spec.cpu_policy != "dedicated":
            # every cell of a shared or mixed guest stays within the cell's ratios (Nova's limits),
            # also a mixed guest's cell without floating vCPUs
            limit = len(cell.shared_cpus) * host.cpu_allocation_ratio
            if cell.shared_vcpus_used + len(place.shared_vcpus) > limit:
                problems.append("cell %d: %d + %d floating vCPUs over the limit of %g" % (
                    cell.id, cell.shared_vcpus_used, len(place.shared_vcpus), limit))
            ram_limit = cell.memory_mb * host.ram_allocation_ratio
            if cell.memory_used_mb + place.memory_mb > ram_limit:
                problems.append("cell %d: %d + %d MB over the RAM limit of %g MB" % (
                    cell.id, cell.memory_used_mb, place.memory_mb, ram_limit))
    if len(set(used)) != len(used):
        problems.append("a host CPU is used twice: %s" % sorted(used))
    return problems
