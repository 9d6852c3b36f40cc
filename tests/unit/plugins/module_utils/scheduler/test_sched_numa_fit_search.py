# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""numa_fit's short cuts (one-shape guests take the first cells that fit, one guest cell needs
no sort, the walk stops once no matching exists) choose what Nova's plain walk chooses: the
first permutation of host cells, in spread order, whose every pair fits (and whose cells have
the PCI devices). The plain walk here is written out naively, on the same per-pair answers."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from host_factory import make_host, make_request, pci_device
from test_sched_numa_fit import scenario

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler import numa_fit, pci
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.host_state import HostState
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import build_request_spec

ALIASES = {"nic": {"vendor_id": "8086", "product_id": "1572", "numa_policy": "required"}}


def plain_walk(host, spec):
    """Nova's walk without any of numa_fit's short cuts: [host cell id per guest cell] or None."""
    guests = spec.numa_cells
    order = numa_fit.spread_order(host, spec) if len(host.cells) > len(guests) else host.cells
    shapes = numa_fit._shapes(spec)

    def fits(index, cell):
        return numa_fit._pair(host, cell, shapes.shapes[index], shapes.numbers[index]).__class__ is not list

    def walk(index, used):
        if index == len(guests):
            if spec.pci_requests and isinstance(pci.select_devices(host, spec, set(c.id for c in used)), str):
                return None
            return list(used)
        for cell in order:
            if cell not in used and fits(index, cell):
                found = walk(index + 1, used + [cell])
                if found:
                    return found
        return None

    found = walk(0, [])
    return None if found is None else [cell.id for cell in found]


def chosen_cells(result):
    return [c.host_cell for c in result.cells] if result else None


@st.composite
def host_and_request(draw):
    """test_sched_numa_fit's generated hosts (CPU sets or not, partly used), with NICs on some
    cells, and guests of uneven cells: several shapes, so the walk (not a short cut) runs."""
    facts = dict(draw(scenario())[0])
    cells = len(facts["numa"]["cells"])
    per_cell = len(facts["numa"]["cells"][0]["cpus"])
    facts["pci_devices"] = [pci_device("0000:3b:00.%d" % i, numa_node=node)
                            for i, node in enumerate(draw(st.lists(st.sampled_from(range(cells)), max_size=3)))]
    # at most 3 guest cells on 8 host cells: the plain walk tries up to 8!/(8-n)! orders
    nodes = draw(st.sampled_from([n for n in (1, 2, 3, 4) if n <= cells and (cells < 8 or n <= 3)]))
    sizes = draw(st.lists(st.integers(1, per_cell), min_size=nodes, max_size=nodes))
    specs = {"hw:numa_nodes": str(nodes), "hw:cpu_policy": draw(st.sampled_from(["dedicated", "mixed"]))}
    first = 0
    for node, size in enumerate(sizes):
        specs["hw:numa_cpus.%d" % node] = "%d-%d" % (first, first + size - 1)
        specs["hw:numa_mem.%d" % node] = str(draw(st.sampled_from([512, 1024, 2048])))
        first += size
    if specs["hw:cpu_policy"] == "mixed":
        specs["hw:cpu_dedicated_mask"] = "^0"
    if draw(st.booleans()):
        specs["hw:emulator_threads_policy"] = "isolate"
    if draw(st.booleans()):
        specs["pci_passthrough:alias"] = "nic:1"
    memory = sum(int(specs["hw:numa_mem.%d" % n]) for n in range(nodes))
    return facts, make_request("vm", first, memory, extra_specs=specs)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(host_and_request())
def test_fit_chooses_the_cells_of_the_plain_walk(case):
    facts, request = case
    try:
        spec = build_request_spec(request, ALIASES)
    except InvalidInput:
        return      # a flavor Nova refuses too (e.g. a guest cell left without vCPUs): no fit question
    expected = plain_walk(HostState.from_facts(facts), spec)
    result = numa_fit.fit(HostState.from_facts(facts), spec)
    assert chosen_cells(result) == expected, result
    if not result:
        assert result.reason


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([2, 4, 8]), st.integers(1, 3), st.sampled_from(["dedicated", "shared"]),
       st.lists(st.integers(0, 7), max_size=24), st.integers(0, 10 ** 6))
def test_one_shape_guests_take_the_first_cells_that_fit(cells, nodes, policy, pinned_cores, seed):
    """Every guest cell of one shape: the first cells in spread order that fit, as the walk finds."""
    nodes = min(nodes, cells)
    pinned = {}
    for core in pinned_cores:
        pinned.setdefault(core % cells, set()).add(core % cells * 4 + core % 4)
    memory_used = dict((c, (0, 2048, 3584)[(seed >> 2 * c) % 3]) for c in range(cells))   # 3584: no room
    facts = make_host(sockets=2, cores=cells * 2, threads=1, cells=cells, memory_mb=4096,
                      pinned=dict((c, sorted(p)) for c, p in pinned.items()), memory_used=memory_used)
    spec = build_request_spec(make_request("vm", nodes * 2, nodes * 1024, extra_specs={
        "hw:numa_nodes": str(nodes), "hw:cpu_policy": policy}))
    assert numa_fit._shapes(spec).uniform
    result = numa_fit.fit(HostState.from_facts(facts), spec)
    assert chosen_cells(result) == plain_walk(HostState.from_facts(facts), spec)


def test_one_guest_cell_when_the_first_in_spread_order_has_no_room():
    """Cell 0 has the most free CPUs but no memory left; of the others cell 2 has the most."""
    facts = make_host(sockets=2, cores=8, threads=1, cells=4, memory_mb=4096,
                      pinned={1: [4, 5, 6], 2: [8], 3: [12, 13]}, memory_used={0: 3584})
    specs = {"hw:numa_nodes": "1", "hw:cpu_policy": "dedicated"}
    spec = build_request_spec(make_request("vm", 2, 1024, extra_specs=specs))
    result = numa_fit.fit(HostState.from_facts(facts), spec)
    assert chosen_cells(result) == [2] == plain_walk(HostState.from_facts(facts), spec)


def test_one_shape_guest_takes_the_last_cells_when_the_first_have_no_room():
    """Two guest cells of one shape on four host cells whose first two in spread order (the most
    free CPUs) have no memory left."""
    facts = make_host(sockets=2, cores=8, threads=1, cells=4, memory_mb=4096, memory_used={0: 3584, 1: 3584},
                      pinned={2: [8], 3: [12]})
    specs = {"hw:numa_nodes": "2", "hw:cpu_policy": "dedicated"}
    spec = build_request_spec(make_request("vm", 4, 2048, extra_specs=specs))
    result = numa_fit.fit(HostState.from_facts(facts), spec)
    assert chosen_cells(result) == [2, 3] == plain_walk(HostState.from_facts(facts), spec)


def test_walk_stops_when_no_matching_exists(monkeypatch):
    """8 guest cells, the last larger than any host cell: refused with every cell's reason, and
    without walking the 8! orders of the other seven (a pair of counters, not a clock)."""
    facts = make_host(sockets=2, cores=16, threads=1, cells=8, memory_mb=4096)
    specs = {"hw:numa_nodes": "8", "hw:cpu_policy": "dedicated"}
    for node in range(7):
        specs["hw:numa_cpus.%d" % node] = "%d-%d" % (node * 2, node * 2 + 1)
        specs["hw:numa_mem.%d" % node] = "256"
    specs["hw:numa_cpus.7"] = "14-18"
    specs["hw:numa_mem.7"] = "256"
    spec = build_request_spec(make_request("vm", 19, 2048, extra_specs=specs))
    host = HostState.from_facts(facts)
    steps = []
    step = numa_fit._Search.step

    def counted(self, index, used):
        steps.append(index)
        return step(self, index, used)

    monkeypatch.setattr(numa_fit._Search, "step", counted)
    result = numa_fit.fit(host, spec)
    assert not result
    assert result.reason.count("guest cell 7 needs 5") == 8
    assert len(steps) <= 8
