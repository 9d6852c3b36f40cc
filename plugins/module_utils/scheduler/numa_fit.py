# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fit a guest NUMA topology onto a host's cells, with CPU pinning.

Same answers as Nova's ``numa_fit_instance_to_host``: host cells in Nova's
"spread" order, guest cells tried on permutations of distinct host cells and
the first permutation in that order whose every (host cell, guest cell) pair
fits wins; inside a cell, pages, memory, CPUs and the thread policy are
checked as Nova checks them, and vCPUs are packed onto sibling sets the way
``_pack_instance_onto_cores`` packs them.

Fast where Nova is slow: whether a pair fits does not depend on the other
pairs, so the permutation walk is a depth-first search that remembers every
set of used host cells from which no completion exists (at most 2**cells
states instead of cells! permutations), pair results are computed once per
call, and kept on the host (``HostState.fit_cache``) until the host's usage
changes. Short cuts that find the same first permutation without a walk:
guest cells all of one shape (and no PCI) take the first host cells in spread
order that fit them; one guest cell needs no sort; and the walk ends as soon
as the guest cells cannot be matched to distinct host cells at all. A pair
that does not fit answers ``[template, values...]``: the reason's text is
written only when someone reads it (``_refusal_text``).
"""

from __future__ import annotations

import operator
from functools import partial
from itertools import chain, compress, filterfalse, islice, repeat

from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler import pci
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.placement import CellPlacement
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import (
    DEDICATED, MIXED, ISOLATE, REQUIRE, EMULATOR_ISOLATE, EMULATOR_SHARE, PAGE_SMALL, PAGE_LARGE, PAGE_ANY,
    SMT_REQUIRED, SMT_TRAIT)

_PAGE_WORDS = {PAGE_SMALL: "small", PAGE_LARGE: "large", PAGE_ANY: "any"}
_KEY_SPAN = 1 << 42     # more MB than any cell has: spread_order's two keys in one integer


def _refusal_text(refusal):
    """The text of a refusal: ``fit_cell`` and ``pack`` answer ``[template, values...]`` (or
    ``[function, arguments...]``), a list so that it never looks like a fit (a tuple); the text,
    with ``{g}`` where the guest cell id goes, is only written for the refusals someone reads."""
    how = refusal[0]
    if how.__class__ is str:
        return how % tuple(refusal[1:])
    return how(*refusal[1:])


def _page_refusal(cell, memory_mb, page_request):
    # reads the cell when asked: a pair result is dropped as soon as its cell changes
    memory_kb = memory_mb * 1024
    candidates = _page_candidates(cell, page_request)
    if not candidates:
        return "cell %d offers no huge pages, guest cell {g} asks for %s pages" % (cell.id, _PAGE_WORDS[page_request])
    if page_request > 0 and page_request not in cell.pages:
        return "cell %d has no %d KiB pages, guest cell {g} asks for them" % (cell.id, page_request)
    free = ", ".join("%d MB in %d KiB pages" % (cell.free_pages_kb(s) // 1024, s)
                     for s in candidates if s in cell.pages)
    odd = [s for s in candidates if memory_kb % s]
    extra = " (not a multiple of %s KiB pages)" % "/".join(str(s) for s in odd) if odd else ""
    return "cell %d has %s free, guest cell {g} needs %d MB%s" % (cell.id, free, memory_mb, extra)


def _page_candidates(cell, request):
    sizes = cell.page_sizes
    if request == PAGE_SMALL:
        return sizes[:1]
    if request == PAGE_LARGE:
        return tuple(reversed(sizes[1:]))
    if request == PAGE_ANY:
        return tuple(reversed(sizes))
    return (request,)


def _fit_memory(cell, memory_mb, page_request, pinned):
    """(page size in KiB or None, refusal or None)"""
    memory_kb = memory_mb * 1024
    if page_request:
        for size in _page_candidates(cell, page_request):
            if size in cell.pages and memory_kb % size == 0 and memory_kb <= cell.free_pages_kb(size):
                return size, None
        return None, [_page_refusal, cell, memory_mb, page_request]
    if cell.pages:
        size = cell.page_sizes[0]
        total, used = cell.pages[size]
        avail_kb = (total - used) * size if pinned else total * size
        if memory_kb % size == 0 and memory_kb <= avail_kb:
            return size, None
        return None, ["cell %d has %d MB %s in %d KiB pages, guest cell {g} needs %d MB", cell.id,
                      avail_kb // 1024, "free" if pinned else "in total", size, memory_mb]
    avail = cell.memory_mb - cell.memory_used_mb if pinned else cell.memory_mb
    if avail < memory_mb:
        return None, ["cell %d has %d MB %s, guest cell {g} needs %d MB", cell.id, avail,
                      "free" if pinned else "in total", memory_mb]
    return None, None


def _reserve(free_sibs, pins, count, isolate):
    """CPUs for isolated emulator threads after ``pins`` (Nova's ``_get_reserved``)."""
    pinned = set(pins)
    usable = []
    for sib in free_sibs:
        if not sib:
            continue
        if not pinned.isdisjoint(sib):
            if isolate:
                continue
            sib = [c for c in sib if c not in pinned]
        usable.extend(sib)
        if len(usable) >= count:
            return usable[:count]
    return None


def pack(cell, count, thread_policy, reserved=0):
    """Host CPUs for ``count`` pinned vCPUs (in vCPU order) and the reserved
    emulator CPUs, or a refusal (``_refusal_text``). Mirrors Nova's packing order."""
    by_len = cell.free_by_len       # {k: free sibling sets with at least k free threads}
    longest = len(by_len)
    if not reserved and thread_policy != REQUIRE and thread_policy != ISOLATE:
        # the common case first (same first choice as the loop below): the longest free sibling
        # sets that hold all vCPUs, ceil(count / threads) of them
        for threads_no in range(longest, 0, -1):
            usable = by_len[threads_no]
            if threads_no * len(usable) >= count:
                if threads_no == longest:
                    # no set has more free threads than the longest: take them whole, in C
                    pins = list(islice(chain.from_iterable(usable), count))
                else:
                    pins = [c for s in usable[:-(-count // threads_no)] for c in s[:threads_no]][:count]
                if pins:
                    return pins, ()
                break
    free = cell.free_pcpus
    free_sibs = cell.free_siblings
    per_core = cell.threads_per_core
    if thread_policy == ISOLATE:
        whole = by_len[per_core] if longest >= per_core else []
        if len(whole) < count:
            # on SMT hosts Nova refuses isolate outright (README, differences): say what a whole core is
            return ["cell %d has %d free whole cores under the isolate policy, guest cell {g} needs %d "
                    "(a whole core: every thread of it a free dedicated CPU)", cell.id, len(whole), count]
        pins = [s[0] for s in whole[:count]]
        spare = _reserve(free_sibs, pins, reserved, True) if reserved else ()
        if spare is None:
            return ["cell %d has no free CPU left for the isolated emulator threads of guest cell {g}", cell.id]
        return pins, tuple(spare)
    if thread_policy == REQUIRE and per_core <= 1:
        return ["cell %d has no SMT siblings, guest cell {g} requires them (thread policy require)", cell.id]
    pins = None
    spare = ()
    threads_no = 1
    for threads_no in range(longest, 0, -1):
        if thread_policy == REQUIRE and threads_no <= 1:
            continue
        usable = by_len[threads_no]
        if threads_no * len(usable) < count:
            pins = None
            continue
        # every set in usable gives threads_no CPUs: the first ceil(count / threads_no) sets are enough
        pins = [c for s in usable[:-(-count // threads_no)] for c in s[:threads_no]][:count]
        spare = _reserve(free_sibs, pins, reserved, False) if reserved else ()
        if spare is None:
            continue
        break
    if thread_policy != REQUIRE and not pins:
        singles = [c for s in free_sibs for c in s]
        if threads_no * len(singles) >= count:
            pins = singles[:count]
            spare = _reserve([(c,) for c in singles], pins, reserved, False) if reserved else ()
        else:
            pins = None
    if pins is None or spare is None:
        if thread_policy == REQUIRE:
            pairs = sum(len(s) // 2 * 2 for s in free_sibs if len(s) > 1)
            return ["cell %d has %d free dedicated CPUs in sibling pairs (thread policy require), "
                    "guest cell {g} needs %d", cell.id, pairs, count + reserved]
        return ["cell %d has %d free dedicated CPUs, guest cell {g} needs %d", cell.id, len(free), count + reserved]
    return pins, tuple(spare)


def fit_cell(cell, shape, cpu_ratio=4.0, ram_ratio=1.0):
    """One guest cell (counts only: ``shape``, see ``_Shapes``) on one host cell.

    Returns ``(page_size_kb, pinned host CPUs, emulator CPUs)`` or a refusal
    (``_refusal_text`` writes it).
    """
    pcpus, shared, memory_mb, page_request, policy, thread_policy, reserved = shape
    pinned = policy == DEDICATED or policy == MIXED
    pages = cell.pages
    if page_request or not pages:
        page_size, refusal = _fit_memory(cell, memory_mb, page_request, pinned)
        if refusal:
            return refusal
    else:
        # the common case inline (no page size asked): the smallest pages; _fit_memory says why not
        page_size = cell.page_sizes[0]
        total, used = pages[page_size]
        memory_kb = memory_mb * 1024
        if memory_kb % page_size or memory_kb > ((total - used) if pinned else total) * page_size:
            return _fit_memory(cell, memory_mb, page_request, pinned)[1]
    if pinned and pcpus + reserved > len(cell.pcpuset):
        return ["cell %d has %d dedicated CPUs in all, guest cell {g} needs %d", cell.id, len(cell.pcpuset),
                pcpus + reserved]
    shared_cpus = cell.shared_cpus
    if shared and shared > len(shared_cpus):
        return ["cell %d has %d shared CPUs in all, guest cell {g} has %d floating vCPUs", cell.id,
                len(shared_cpus), shared]
    pins, spare = (), ()
    if pinned:
        free = len(cell.free_pcpus)
        if pcpus + reserved > free:
            return ["cell %d has %d free dedicated CPUs%s, guest cell {g} needs %d", cell.id, free,
                    " under the %s policy" % thread_policy if thread_policy else "", pcpus + reserved]
        packed = pack(cell, pcpus, thread_policy, reserved)
        if packed.__class__ is list:
            return packed
        pins, spare = packed
    if policy != DEDICATED:
        # Nova checks the ratios for every cell of a shared or mixed guest, also a mixed guest's
        # cell that has no floating vCPU: its memory still counts against the cell's RAM limit
        limit = len(shared_cpus) * cpu_ratio
        if cell.shared_vcpus_used + shared > limit:
            return ["cell %d has %d of %g floating vCPUs in use (%d CPUs x %g), guest cell {g} needs %d", cell.id,
                    cell.shared_vcpus_used, limit, len(shared_cpus), cpu_ratio, shared]
        ram_limit = cell.memory_mb * ram_ratio
        if cell.memory_used_mb + memory_mb > ram_limit:
            return ["cell %d has %d of %g MB in use (ram ratio %g), guest cell {g} needs %d MB", cell.id,
                    cell.memory_used_mb, ram_limit, ram_ratio, memory_mb]
    return page_size, pins, spare


def spread_order(host, spec):
    """Host cells in Nova's default (spread) order for this request."""
    # Nova sorts three times (stable): by free memory (descending), then by free
    # dedicated CPUs (descending) or floating vCPUs in use (ascending), then by
    # PCI devices (descending); one sort on the combined key gives the same order.
    cells = host.cells
    if spec.pci_requests:
        counts = pci.pci_by_cell(host, spec)
        if spec.cpu_policy in (DEDICATED, MIXED):
            return sorted(cells, key=lambda c: (-counts.get(c.id, 0), -len(c.free_pcpus),
                                                c.memory_used_mb - c.memory_mb))
        return sorted(cells, key=lambda c: (-counts.get(c.id, 0), c.shared_vcpus_used,
                                            c.memory_used_mb - c.memory_mb))
    keys = _spread_keys(cells, spec)
    return [cells[i] for i in sorted(range(len(cells)), key=keys.__getitem__)]


def _spread_keys(cells, spec):
    """Without PCI requests Nova's two sort keys fold into one integer per cell (used - total
    memory is far below _KEY_SPAN either way); sorting positions by a list's __getitem__ then
    calls no Python function per cell."""
    if spec.cpu_policy in (DEDICATED, MIXED):
        return [c.memory_used_mb - c.memory_mb - len(c.free_pcpus) * _KEY_SPAN for c in cells]
    return [c.memory_used_mb - c.memory_mb + c.shared_vcpus_used * _KEY_SPAN for c in cells]


def _one_guest_cell(host, spec, shapes):
    """One guest cell, no PCI: the host cell first in spread order among those that take it, as
    ``[(host cell, fit_cell result)]``, or None. Without sorting: the first cell of the smallest
    key (where the stable sort puts it) usually takes it; else the fitting cell with the
    smallest key, and when none fits, order does not matter."""
    cells = host.cells
    keys = _spread_keys(cells, spec)
    number, shape = shapes.numbers[0], shapes.shapes[0]
    best = keys.index(min(keys))
    cell = cells[best]
    key = (cell.id, number)
    cache = host.pair_cache
    result = cache.get(key)
    if result is None:
        result = cache[key] = fit_cell(cell, shape, host.cpu_allocation_ratio, host.ram_allocation_ratio)
    if result.__class__ is not list:
        return [(cell, result)]
    fitting = [position for position in range(len(cells))
               if position != best and _pair(host, cells[position], shape, number).__class__ is not list]
    if not fitting:
        return None
    cell = cells[min(fitting, key=keys.__getitem__)]
    return [(cell, host.pair_cache[(cell.id, number)])]


class NumaFit(object):
    """The result of fitting: ``cells`` (CellPlacement list) and PCI claims, or
    ``reason`` (a string, or a callable that writes it when first asked: the
    why-not text is only composed for the hosts someone looks at)."""

    __slots__ = ("cells", "pci_claims", "_reason", "ok")

    def __init__(self, cells=None, pci_claims=(), reason=None):
        self.cells = cells
        self.pci_claims = pci_claims
        self._reason = reason
        self.ok = reason is None

    @property
    def reason(self):
        if callable(self._reason):
            self._reason = self._reason()
        return self._reason

    def __bool__(self):
        return self.ok

    def __str__(self):
        return self.reason or "fits"

    __nonzero__ = __bool__


# guest cell shape -> small int, so that pair cache keys hash two ints, not a 7-tuple; as many
# entries as distinct guest cell shapes (flavors) the process has seen
_SHAPE_NUMBERS = {}


class _Shapes(object):
    """Per guest cell of a request the arguments of ``fit_cell`` that describe it, the
    number the pair caches know that shape by, and whether every cell has the same shape."""

    __slots__ = ("shapes", "numbers", "uniform")

    def __init__(self, spec):
        emulator = 1 if spec.emulator_policy == EMULATOR_ISOLATE else 0
        self.shapes = [(len(g.pcpus), len(g.cpus), g.memory_mb, spec.page_size, spec.cpu_policy,
                        spec.thread_policy, emulator if index == 0 else 0)
                       for index, g in enumerate(spec.numa_cells)]
        self.numbers = [_SHAPE_NUMBERS.setdefault(shape, len(_SHAPE_NUMBERS)) for shape in self.shapes]
        self.uniform = len(set(self.numbers)) == 1


def _shapes(spec):
    """The ``_Shapes`` of ``spec``, kept on the spec (as ``fit_key`` keeps its key)."""
    shapes = spec.__dict__.get("_fit_shapes")
    if shapes is None:
        shapes = spec._fit_shapes = _Shapes(spec)
    return shapes


def _pair(host, cell, shape, number):
    """``fit_cell`` for one guest cell shape, cached on the host until that cell changes."""
    key = (cell.id, number)
    cache = host.pair_cache
    result = cache.get(key)
    if result is None:
        result = cache[key] = fit_cell(cell, shape, host.cpu_allocation_ratio, host.ram_allocation_ratio)
    return result


def fit_key(spec):
    """What a fit depends on besides the host: equal keys, equal fits."""
    key = spec.__dict__.get("_fit_key")
    if key is None:
        cells = tuple((g.id, g.cpus, g.pcpus, g.memory_mb) for g in spec.numa_cells or ())
        pci_key = tuple((r.vendor_id, r.product_id, r.count, r.numa_policy) for r in spec.pci_requests)
        key = spec._fit_key = (cells, spec.page_size, spec.cpu_policy, spec.thread_policy, spec.emulator_policy,
                               pci_key, spec.smt_trait)
    return key


class FitIndex(object):
    """Fit results of many hosts per request shape, shared by the hosts of one
    scheduler run so that a filter pass is a dict lookup per host; a host that
    changes (consume / release) is forgotten."""

    def __init__(self):
        self.tables = {}

    def table(self, key):
        table = self.tables.get(key)
        if table is None:
            table = self.tables[key] = {}
        return table

    def forget(self, host):
        for table in self.tables.values():
            table.pop(host, None)


def fit_many(hosts, spec, index):
    """``[NumaFit per host]`` through ``index``."""
    table = index.table(fit_key(spec))
    results = list(map(table.get, hosts))
    if None in results:
        # only the positions without a result, found in C: most hosts have one
        for position in compress(range(len(results)), map(operator.is_, results, repeat(None))):
            host = hosts[position]
            results[position] = table[host] = fit(host, spec)
    return results


def fit(host, spec):
    """Fit ``spec``'s guest NUMA cells onto ``host``; returns a ``NumaFit``.

    Kept in ``host.fit_cache`` until the host's usage changes."""
    key = spec.__dict__.get("_fit_key") or fit_key(spec)
    cache = host.fit_cache
    result = cache.get(key)
    if result is None:
        result = cache[key] = _fit(host, spec)
    return result


def smt_refusal(host, spec):
    """Why ``host`` cannot take a flavor that requires or forbids SMT (Nova's placement trait
    HW_CPU_HYPERTHREADING, which libvirt reports when any CPU of the host has a sibling), or None."""
    if spec.smt_trait is None or host.has_smt == (spec.smt_trait == SMT_REQUIRED):
        return None
    return "host %s SMT (hyperthreading), the flavor has trait:%s=%s" % (
        "has" if host.has_smt else "has no", SMT_TRAIT, spec.smt_trait)


def _fit(host, spec):
    if spec.smt_trait is not None:
        refusal = smt_refusal(host, spec)
        if refusal:
            return NumaFit(reason=refusal)
    guests = spec.numa_cells
    if not guests:
        claims = pci.select_devices(host, spec, None) if spec.pci_requests else ()
        if isinstance(claims, str):
            return NumaFit(reason=claims)
        return NumaFit(cells=None, pci_claims=claims)
    host_cells = host.cells
    if not host_cells:
        return NumaFit(reason="host reports no NUMA topology, the guest has %d NUMA cell(s)" % len(guests))
    if len(guests) > len(host_cells):
        return NumaFit(reason="guest has %d NUMA cells, host has %d" % (len(guests), len(host_cells)))
    shapes = spec.__dict__.get("_fit_shapes") or _shapes(spec)
    if len(guests) == 1 and len(host_cells) > 1 and not spec.pci_requests:
        chosen = _one_guest_cell(host, spec, shapes)
        if chosen is None:
            # the reason lists every cell's refusal, sorted: any order of the cells will do
            return _no_fit(host, spec, host_cells, shapes, None)
        return _placed(spec, chosen, ())
    order = spread_order(host, spec) if len(host_cells) > len(guests) else host_cells
    pci_claims = ()
    if spec.pci_requests or not shapes.uniform:
        search = _Search(host, spec, order, shapes)
        if not search.run():
            return _no_fit(host, spec, order, shapes, search.pci_reason)
        chosen, pci_claims = search.chosen, search.pci_claims or ()
    else:
        chosen = _first_cells(host, order, shapes)
        if chosen is None:
            return _no_fit(host, spec, order, shapes, None)
    return _placed(spec, chosen, pci_claims)


def _placed(spec, chosen, pci_claims):
    """The NumaFit of ``chosen``: per guest cell (host cell, fit_cell result)."""
    isolate = spec.thread_policy == ISOLATE
    cells = []
    for guest, (cell, (page_size, pins, spare)) in zip(spec.numa_cells, chosen):
        # pack's spare is a tuple already, () when nothing is pinned
        cells.append(CellPlacement(guest.id, cell.id, guest.memory_mb, page_size,
                                   dict(zip(guest.pcpus, pins)) if pins else {},
                                   _floating_cpuset(cell, guest, pins, spare, isolate) if guest.cpus else (),
                                   guest.cpus, spare, isolate))
    return NumaFit(cells, pci_claims)


def _no_fit(host, spec, order, shapes, pci_reason):
    """A refusal whose reason is written when first asked. (``partial``, not a closure: a lambda
    in _fit would make every call of _fit allocate cells for the variables it captures.)"""
    return NumaFit(reason=partial(_explain, host, spec, order, shapes, pci_reason))


def _first_cells(host, order, shapes):
    """Every guest cell of one shape, no PCI: the first host cells in order that fit that shape
    (the first permutation Nova's walk finds), as ``[(host cell, fit_cell result)]``, or None."""
    number, shape, count = shapes.numbers[0], shapes.shapes[0], len(shapes.numbers)
    cache = host.pair_cache
    chosen = []
    misses = len(order) - count     # host cells that may refuse before too few are left
    for cell in order:
        key = (cell.id, number)
        result = cache.get(key)
        if result is None:
            result = cache[key] = fit_cell(cell, shape, host.cpu_allocation_ratio, host.ram_allocation_ratio)
        if result.__class__ is not list:
            chosen.append((cell, result))
            if len(chosen) == count:
                return chosen
        else:
            misses -= 1
            if misses < 0:
                return None
    return None


def _floating_cpuset(cell, guest, pins, spare, isolate):
    """Host CPUs the cell's floating vCPUs may use. Without a fixed shared set a
    pinned CPU leaves the floating pool, so a mixed guest's floating vCPUs must
    not float over the CPUs this same placement pins (nor their siblings under
    ``isolate``)."""
    if not guest.cpus:
        return ()
    if cell.shared_fixed is not None or not (pins or spare):
        return cell.shared_sorted
    taken = set(pins) | set(spare)
    if isolate:
        taken = cell.siblings_of(taken)
    return tuple(filterfalse(taken.__contains__, cell.shared_sorted))


class _Search(object):
    """Nova's walk over permutations of host cells, first valid one wins, without
    its cost: pair results are independent of each other, so a set of used host
    cells from which no completion exists is remembered, and after the first
    dead end every step first checks that the remaining guest cells can still be
    matched to distinct free host cells (bipartite matching), else stops; when
    no matching exists at all the walk ends there. (Guest cells all of one shape
    without PCI need no walk: ``_first_cells``.)"""

    __slots__ = ("host", "spec", "order", "shapes", "numbers", "count", "failed", "chosen", "rows",
                 "impossible", "pci_reason", "pci_claims")

    def __init__(self, host, spec, order, shapes):
        self.host, self.spec, self.order = host, spec, order
        self.shapes = shapes.shapes
        self.numbers = shapes.numbers
        self.count = len(self.shapes)
        self.failed = set()
        self.chosen = []
        self.rows = None            # per guest cell: bitmask of host cell positions it fits
        self.impossible = False     # no matching of guest cells to host cells: no fit at all
        self.pci_reason = None
        self.pci_claims = None

    def pair(self, index, position):
        return _pair(self.host, self.order[position], self.shapes[index], self.numbers[index])

    def _build_rows(self):
        """Per guest cell the bitmask of host cell positions it fits (once per distinct shape)."""
        by_shape = {}
        self.rows = []
        for index, number in enumerate(self.numbers):
            mask = by_shape.get(number)
            if mask is None:
                mask = 0
                for position in range(len(self.order)):
                    if self.pair(index, position).__class__ is not list:
                        mask |= 1 << position
                by_shape[number] = mask
            self.rows.append(mask)

    def matchable(self, start, used):
        """Can guest cells ``start``.. each get their own host cell outside ``used``?"""
        rows, owner = self.rows, {}

        def augment(index, seen):
            mask = rows[index] & ~used
            position = 0
            while mask:
                if mask & 1 and position not in seen:
                    seen.add(position)
                    if position not in owner or augment(owner[position], seen):
                        owner[position] = index
                        return True
                mask >>= 1
                position += 1
            return False

        return all(augment(index, set()) for index in range(start, len(rows)))

    def run(self):
        return self.step(0, 0)

    def step(self, index, used):
        if index == self.count:
            if not self.spec.pci_requests:
                return True
            claims = pci.select_devices(self.host, self.spec, set(cell.id for cell, result in self.chosen))
            if isinstance(claims, str):
                self.pci_reason = claims
                return False
            self.pci_claims = claims
            return True
        if used in self.failed:
            return False
        rows = self.rows
        if rows is not None and not self.matchable(index, used):
            self.failed.add(used)
            return False
        for position in range(len(self.order)):
            bit = 1 << position
            if used & bit or (rows is not None and not rows[index] & bit):
                continue
            result = self.pair(index, position)
            if result.__class__ is list:
                continue
            self.chosen.append((self.order[position], result))
            if self.step(index + 1, used | bit):
                return True
            self.chosen.pop()
            if self.impossible:
                return False
            rows = self.rows
        self.failed.add(used)
        if self.rows is None and used:
            # first dead end below the top: from now on prune with the matching check
            self._build_rows()
            if 0 in self.rows or not self.matchable(0, 0):
                self.failed.add(0)
                self.impossible = True
        return False


def _explain(host, spec, order, shapes, pci_reason):
    guests = spec.numa_cells
    fits, taken, first = [], set(), None
    for guest, shape, number in zip(guests, shapes.shapes, shapes.numbers):
        results = [(cell, _pair(host, cell, shape, number)) for cell in order]
        good = [cell.id for cell, r in results if r.__class__ is not list]
        if not good:
            return "; ".join(sorted(set(_refusal_text(r).replace("{g}", str(guest.id)) for cell, r in results)))
        if first is None:
            first = dict((cell.id, _refusal_text(r).replace("{g}", str(guest.id))) for cell, r in results
                         if r.__class__ is list)
        taken.update(good)
        fits.append("guest cell %d fits host cell(s) %s" % (guest.id, ",".join(str(c) for c in sorted(good))))
    if pci_reason:
        return pci_reason
    idle = ["cell %d takes none: %s" % (cell.id, first[cell.id]) for cell in sorted(order, key=lambda c: c.id)
            if cell.id not in taken and cell.id in first]
    return "no way to give each guest cell its own host cell: " + "; ".join(fits + idle)


def emulator_cpus(host, spec, cells):
    """Where the emulator threads run: isolated CPUs, the shared set, or the guest's own CPUs."""
    if cells is None:
        return tuple(sorted(host.shared_cpus))
    reserved = [c for cell in cells for c in cell.reserved]
    if reserved:
        return tuple(sorted(reserved))
    if spec.emulator_policy == EMULATOR_SHARE and host.sets_configured:
        shared = set()
        for cell in host.cells:
            shared |= cell.shared_fixed or frozenset()
        if shared:
            return tuple(sorted(shared))
    own = set()
    for cell in cells:
        own.update(cell.pinning.values())
        own.update(cell.cpuset)
    return tuple(sorted(own))
