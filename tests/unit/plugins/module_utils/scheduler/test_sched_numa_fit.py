# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NUMA fitting on generated hosts: 1/2/4/8 cells, SMT on and off, hugepages,
partly used cells; thread and emulator policies; why-not reasons; properties."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fit_checks import fit_problems
from host_factory import make_host, make_request

from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler import numa_fit
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.host_state import HostState
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import build_request_spec

DED = {"hw:cpu_policy": "dedicated"}


def fit(host_kwargs, vcpus, memory, specs):
    host = HostState.from_facts(make_host(**host_kwargs))
    spec = build_request_spec(make_request("vm", vcpus, memory, extra_specs=specs))
    result = numa_fit.fit(host, spec)
    if result:
        assert fit_problems(host, spec, result) == []
    return host, spec, result


SMT2 = dict(sockets=2, cores=8, threads=2)           # 2 cells, 16 threads each: siblings (c, c+16)
NOSMT = dict(sockets=2, cores=8, threads=1)
FOUR = dict(sockets=2, cores=8, threads=2, cells=4)  # 4 cores / 8 threads per cell
EIGHT = dict(sockets=2, cores=16, threads=1, cells=8)

# (id, host, vcpus, memory, extra specs, expected host cells or None, expected pins of cell 0 or None)
CASES = [
    ("1cell-shared-numa", dict(sockets=1, cores=4, threads=2), 4, 2048, {"hw:numa_nodes": 1}, [0], None),
    ("2cells-prefer-siblings", SMT2, 4, 2048, DED, [0], [0, 16, 1, 17]),
    ("2cells-nosmt", NOSMT, 4, 2048, DED, [0], [0, 1, 2, 3]),
    ("2cells-isolate-one-thread-per-core", SMT2, 4, 2048, dict(DED, **{"hw:cpu_thread_policy": "isolate"}), [0],
     [0, 1, 2, 3]),
    ("2cells-require", SMT2, 4, 2048, dict(DED, **{"hw:cpu_thread_policy": "require"}), [0], [0, 16, 1, 17]),
    ("require-without-smt", NOSMT, 2, 2048, dict(DED, **{"hw:cpu_thread_policy": "require"}), None, None),
    ("emulator-isolate", NOSMT, 2, 2048, dict(DED, **{"hw:emulator_threads_policy": "isolate"}), [0], [0, 1]),
    ("two-nodes-two-cells", SMT2, 8, 4096, dict(DED, **{"hw:numa_nodes": 2}), [0, 1], [0, 16, 1, 17]),
    ("four-nodes-four-cells", FOUR, 8, 4096, dict(DED, **{"hw:numa_nodes": 4}), [0, 1, 2, 3], [0, 16]),
    ("eight-nodes-eight-cells", EIGHT, 16, 8192, dict(DED, **{"hw:numa_nodes": 8}), list(range(8)), [0, 1]),
    ("too-many-nodes", SMT2, 4, 4096, {"hw:numa_nodes": 4}, None, None),
    ("cell-too-small-cpus", NOSMT, 10, 2048, DED, None, None),
    ("cell-too-small-memory", dict(NOSMT, memory_mb=4096), 2, 8192, DED, None, None),
    ("hugepages-2m", dict(SMT2, hugepages={2048: 1024}), 2, 2048, {"hw:mem_page_size": "2MB"}, [0], None),
    ("hugepages-1g", dict(SMT2, hugepages={1048576: 4}), 2, 4096, {"hw:mem_page_size": "1GB"}, [0], None),
    ("hugepages-1g-not-multiple", dict(SMT2, hugepages={1048576: 4}), 2, 1536, {"hw:mem_page_size": "1GB"}, None,
     None),
    ("hugepages-missing-size", dict(SMT2, hugepages={2048: 1024}), 2, 2048, {"hw:mem_page_size": "1GB"}, None,
     None),
    ("large-picks-biggest", dict(SMT2, hugepages={2048: 1024, 1048576: 4}), 2, 2048,
     {"hw:mem_page_size": "large"}, [0], None),
    ("large-without-hugepages", SMT2, 2, 2048, {"hw:mem_page_size": "large"}, None, None),
    ("partly-used-goes-to-emptier-cell", dict(SMT2, pinned={0: [0, 1, 2, 3, 16, 17]}), 4, 2048, DED, [1],
     [8, 24, 9, 25]),
    ("partly-used-isolate", dict(SMT2, pinned={0: [0, 1, 2, 3, 4, 5], 1: [8, 9, 10, 11, 12, 13, 14]}), 2, 2048,
     dict(DED, **{"hw:cpu_thread_policy": "isolate"}), [0], [6, 7]),
    ("mixed", SMT2, 4, 2048, {"hw:cpu_policy": "mixed", "hw:cpu_dedicated_mask": "^0"}, [0], [0, 16, 1]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_fit_on_generated_hosts(case):
    name, host_kwargs, vcpus, memory, specs, cells, pins = case
    host, spec, result = fit(host_kwargs, vcpus, memory, specs)
    if cells is None:
        assert not result and result.reason
        return
    assert result, result.reason
    assert [c.host_cell for c in result.cells] == cells
    if pins is not None:
        first = result.cells[0]
        assert [first.pinning[v] for v in sorted(first.pinning)][:len(pins)] == pins


def test_isolate_on_partly_used_core_skips_it():
    host, spec, result = fit(dict(SMT2, pinned={0: [0, 1, 2, 3, 4, 5, 6], 1: list(range(8, 15))}), 2, 2048,
                             dict(DED, **{"hw:cpu_thread_policy": "isolate"}))
    # cores 0-6 of cell 0 have one thread pinned; only core 7 (7, 23) is whole: 1 < 2
    assert not result
    assert "1 free whole cores under the isolate policy, guest cell 0 needs 2" in result.reason


def test_emulator_isolated_cpu_is_reserved_in_cell_of_guest_cell_0():
    host, spec, result = fit(NOSMT, 4, 4096, dict(DED, **{"hw:numa_nodes": 2,
                                                          "hw:emulator_threads_policy": "isolate"}))
    assert result.cells[0].reserved == (2,)
    assert result.cells[1].reserved == ()
    assert numa_fit.emulator_cpus(host, spec, result.cells) == (2,)


def test_isolate_with_emulator_needs_a_core_beyond_the_pins():
    host, spec, result = fit(dict(sockets=1, cores=2, threads=2), 2, 1024,
                             dict(DED, **{"hw:cpu_thread_policy": "isolate",
                                          "hw:emulator_threads_policy": "isolate"}))
    assert not result
    assert "no free CPU left for the isolated emulator threads" in result.reason


@pytest.mark.parametrize("host_kwargs, vcpus, specs, expected", [
    (dict(SMT2, pinned={0: list(range(0, 6)) + list(range(16, 22)), 1: list(range(8, 14)) + list(range(24, 30))}),
     4, dict(DED, **{"hw:cpu_thread_policy": "isolate"}),
     "cell 0 has 2 free whole cores under the isolate policy, guest cell 0 needs 4"),
    (NOSMT, 10, DED, "cell 0 has 8 dedicated CPUs in all, guest cell 0 needs 10"),
    (dict(SMT2, hugepages={2048: 512}), 2, {"hw:mem_page_size": "2MB"},
     "cell 0 has 1024 MB in 2048 KiB pages free, guest cell 0 needs 2048 MB"),
    (SMT2, 2, {"hw:mem_page_size": "1GB"}, "cell 0 has no 1048576 KiB pages, guest cell 0 asks for them"),
    (NOSMT, 2, dict(DED, **{"hw:cpu_thread_policy": "require"}),
     "cell 0 has no SMT siblings, guest cell 0 requires them"),
])
def test_why_not_reasons(host_kwargs, vcpus, specs, expected):
    host, spec, result = fit(host_kwargs, vcpus, 2048, specs)
    assert not result
    assert expected in result.reason


def test_reason_when_cells_fit_alone_but_not_together():
    host = HostState.from_facts(make_host(**dict(NOSMT, pinned={1: list(range(8, 16))})))
    spec = build_request_spec(make_request("vm", 4, 2048, extra_specs=dict(DED, **{"hw:numa_nodes": 2})))
    result = numa_fit.fit(host, spec)
    assert not result
    assert result.reason.startswith("no way to give each guest cell its own host cell: guest cell 0 fits host "
                                    "cell(s) 0; guest cell 1 fits host cell(s) 0")
    assert result.reason.endswith("cell 1 takes none: cell 1 has 0 free dedicated CPUs, guest cell 0 needs 2")


def test_shared_guest_cells_within_ratio():
    host, spec, result = fit(dict(NOSMT, shared_vcpus_used={0: 30, 1: 30}), 4, 2048, {"hw:numa_nodes": 1})
    assert not result
    assert "30 of 32 floating vCPUs in use (8 CPUs x 4)" in result.reason
    host, spec, result = fit(dict(NOSMT, shared_vcpus_used={0: 30, 1: 20}), 4, 2048, {"hw:numa_nodes": 1})
    assert result.cells[0].host_cell == 1
    assert result.cells[0].cpuset == tuple(range(8, 16))


def test_shared_pool_excludes_pinned_cpus():
    host, spec, result = fit(dict(NOSMT, pinned={0: [0, 1]}, shared_vcpus_used={1: 8}), 2, 1024,
                             {"hw:numa_nodes": 1})
    assert result.cells[0].host_cell == 0
    assert result.cells[0].cpuset == (2, 3, 4, 5, 6, 7)


def test_dedicated_and_shared_sets():
    host = HostState.from_facts(make_host(**dict(NOSMT, cpu_dedicated_set=list(range(4, 8)) + list(range(12, 16)),
                                                 cpu_shared_set=[0, 1, 2, 3, 8, 9, 10, 11])))
    spec = build_request_spec(make_request("vm", 4, 2048, extra_specs={"hw:cpu_policy": "mixed",
                                                                       "hw:cpu_dedicated_mask": "1-3",
                                                                       "hw:emulator_threads_policy": "share"}))
    result = numa_fit.fit(host, spec)
    cell = result.cells[0]
    assert sorted(cell.pinning.values()) == [4, 5, 6]
    assert cell.cpuset == (0, 1, 2, 3)
    assert numa_fit.emulator_cpus(host, spec, result.cells) == (0, 1, 2, 3, 8, 9, 10, 11)


def test_fit_is_cached_until_host_changes():
    host = HostState.from_facts(make_host(**SMT2))
    spec = build_request_spec(make_request("vm", 4, 2048, extra_specs=DED))
    first = numa_fit.fit(host, spec)
    assert numa_fit.fit(host, spec) is first
    from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.placement import Placement
    host.consume(Placement(spec, host.name, cells=first.cells))
    second = numa_fit.fit(host, spec)
    assert second is not first
    assert set(second.cells[0].pinning.values()).isdisjoint(first.cells[0].pinning.values())


def test_nova_spread_order_prefers_more_free_cpus_then_memory():
    host = HostState.from_facts(make_host(**dict(FOUR, pinned={0: [0], 1: [4], 3: [12]}, memory_used={2: 1024})))
    spec = build_request_spec(make_request("vm", 2, 1024, extra_specs=DED))
    assert [c.id for c in numa_fit.spread_order(host, spec)] == [2, 0, 1, 3]
    shared = build_request_spec(make_request("vm", 2, 1024, extra_specs={"hw:numa_nodes": 1}))
    assert [c.id for c in numa_fit.spread_order(host, shared)] == [0, 1, 3, 2]


# ------------------------------------------------------------------ properties

@st.composite
def scenario(draw):
    cells = draw(st.sampled_from([1, 2, 4, 8]))
    threads = draw(st.sampled_from([1, 2]))
    per_cell = draw(st.sampled_from([2, 4]))
    cores_total = cells * per_cell
    sockets = 2 if cells > 1 else 1
    hugepages = draw(st.sampled_from([{}, {2048: 512}, {1048576: 2}]))
    all_cpus = list(range(cores_total * threads))
    cell_of = dict((core + t * cores_total, core // per_cell) for core in range(cores_total) for t in range(threads))
    sets = {}
    if draw(st.booleans()):
        # CPU sets: the first half of each cell's cores (all their threads) dedicated, the rest shared
        dedicated = [cpu for cpu in all_cpus if cpu % cores_total % per_cell < per_cell // 2]
        sets = dict(cpu_dedicated_set=dedicated, cpu_shared_set=[c for c in all_cpus if c not in dedicated])
    pinnable = sets.get("cpu_dedicated_set", all_cpus)
    pinned_list = draw(st.lists(st.sampled_from(pinnable), max_size=len(pinnable) // 2, unique=True))
    pinned = {}
    for cpu in pinned_list:
        pinned.setdefault(cell_of[cpu], []).append(cpu)
    memory_used = dict((c, draw(st.sampled_from([0, 1024, 2600, 3072]))) for c in range(cells))
    shared_used = dict((c, draw(st.sampled_from([0, 1, 3, 8]))) for c in range(cells))
    host = make_host(sockets=sockets, cores=cores_total // sockets, threads=threads, cells=cells, memory_mb=4096,
                     hugepages=hugepages, pinned=pinned, memory_used=memory_used, shared_vcpus_used=shared_used,
                     ram_allocation_ratio=draw(st.sampled_from([0.5, 0.75, 1.0, 1.5])),
                     cpu_allocation_ratio=draw(st.sampled_from([1.0, 4.0])), **sets)
    nodes = draw(st.sampled_from([n for n in (1, 2, 4, 8) if n <= cells]))
    per_node = draw(st.integers(1, 4))
    policy = draw(st.sampled_from(["dedicated", "dedicated", "mixed", "shared"]))
    if policy == "mixed" and per_node < 2:
        per_node = 2
    thread = draw(st.sampled_from([None, "prefer", "isolate", "require"])) if policy != "shared" else None
    specs = {"hw:numa_nodes": str(nodes), "hw:cpu_policy": policy}
    if thread:
        specs["hw:cpu_thread_policy"] = thread
    if policy == "mixed":
        specs["hw:cpu_dedicated_mask"] = "^" + ",".join(str(n * per_node) for n in range(nodes))
    if policy != "shared" and draw(st.booleans()):
        specs["hw:emulator_threads_policy"] = "isolate"
    page = draw(st.sampled_from([None, "small", "2MB", "1GB", "any"]))
    if page:
        specs["hw:mem_page_size"] = page
    memory = nodes * draw(st.sampled_from([512, 1024, 2048]))
    return host, make_request("vm", nodes * per_node, memory, extra_specs=specs)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_property_pinning_is_valid(case):
    """Valid pins, and (fit_problems) no cell past its RAM limit nor a floating pool past its
    ratio, for every CPU policy."""
    facts, request = case
    host = HostState.from_facts(facts)
    spec = build_request_spec(request)
    result = numa_fit.fit(host, spec)
    if not result:
        assert result.reason
        return
    assert fit_problems(host, spec, result) == []
    used = [cpu for cell in result.cells for cpu in list(cell.pinning.values()) + list(cell.reserved)]
    assert len(used) == len(set(used))
    for cell in result.cells:
        host_cell = host.cell_by_id[cell.host_cell]
        assert set(cell.pinning.values()) <= host_cell.pcpuset
        assert cell.memory_mb <= host_cell.memory_mb


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario(), st.integers(2, 6))
def test_property_batch_never_double_books(case, count):
    """Fitting and consuming the same request again and again never reuses a CPU or a page."""
    from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.placement import Placement
    facts, request = case
    host = HostState.from_facts(facts)
    before = dict((c.id, set(c.pinned)) for c in host.cells)
    taken = []
    for index in range(count):
        spec = build_request_spec(dict(request, name="vm%d" % index))
        result = numa_fit.fit(host, spec)
        if not result:
            break
        assert fit_problems(host, spec, result) == []
        placement = Placement(spec, host.name, cells=result.cells)
        host.consume(placement)
        taken.append(placement)
    for cell in host.cells:
        # huge pages are never overcommitted (small pages may be, with ram_allocation_ratio > 1)
        for size in cell.page_sizes[1:]:
            total, used = cell.pages[size]
            assert used <= total
    for placement in reversed(taken):
        assert host.release(placement)
        assert not host.release(placement)
    assert dict((c.id, set(c.pinned)) for c in host.cells) == before


@pytest.mark.parametrize("threads", [1, 2])
def test_mixed_guest_floats_off_its_own_pinned_cpus(threads):
    """Without CPU sets a pinned CPU leaves the floating pool: the placement's own pins too."""
    from ansible_collections.vmfleet.compute.plugins.module_utils.cpuset import parse_cpuset
    from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import schedule
    host = make_host("hv", sockets=1, cores=4, threads=threads, cells=1)
    flavor = {"vcpus": 3, "memory_mb": 512,
              "extra_specs": {"hw:cpu_policy": "mixed", "hw:cpu_dedicated_mask": "^0"}}
    placement = schedule([host], [{"name": "vm", "flavor": flavor}]).placed[0].to_dict()
    cell = placement["numa"][0]
    pinned = set(p["cpu"] for p in cell["pinning"])
    assert len(pinned) == 2
    floating = set(parse_cpuset(cell["cpuset"], "cpuset"))
    assert floating and not floating & pinned, (floating, pinned)


# ------------------------------------------------------------------ issue 14: mixed guests and the cell limits

MIXED_TWO_NODES = {"hw:cpu_policy": "mixed", "hw:cpu_dedicated_mask": "^0", "hw:numa_nodes": "2"}
# 2 cells of 4096 MB, each with 2 dedicated and 2 shared CPUs
TWO_BY_TWO = dict(sockets=2, cores=4, threads=1, memory_mb=4096, cpu_dedicated_set=[0, 1, 4, 5],
                  cpu_shared_set=[2, 3, 6, 7])


def test_mixed_cell_without_floating_vcpus_stays_within_the_ram_limit():
    """Guest cell 1 (512 MB, one pinned vCPU) would take host cell 1 to 3112 MB of 3072."""
    host, spec, result = fit(dict(TWO_BY_TWO, ram_allocation_ratio=0.75, memory_used={1: 2600}), 2, 1024,
                             MIXED_TWO_NODES)
    assert [(g.cpus, g.pcpus) for g in spec.numa_cells] == [((0,), ()), ((), (1,))]
    assert not result, [(c.guest_cell, c.host_cell) for c in result.cells]
    assert "guest cell 1 fits host cell(s) 0;" in result.reason
    assert "cell 1 takes none: cell 1 has 2600 of 3072 MB in use (ram ratio 0.75)" in result.reason


def test_mixed_cell_without_floating_vcpus_stays_within_the_cpu_ratio():
    """Host cell 1 already floats 3 vCPUs on its 2 shared CPUs at ratio 1.0: Nova refuses any
    cell of a mixed guest there, also one that adds no floating vCPU."""
    host, spec, result = fit(dict(TWO_BY_TWO, cpu_allocation_ratio=1.0, shared_vcpus_used={1: 3}), 2, 1024,
                             MIXED_TWO_NODES)
    assert not result, [(c.guest_cell, c.host_cell) for c in result.cells]
    assert "guest cell 1 fits host cell(s) 0;" in result.reason
    assert "cell 1 takes none: cell 1 has 3 of 2 floating vCPUs in use (2 CPUs x 1)" in result.reason


def test_dedicated_guest_ignores_the_cell_ratios_as_in_nova():
    """Pinned guests never overcommit: their cells are held to the physical memory, not the ratio."""
    host, spec, result = fit(dict(TWO_BY_TWO, ram_allocation_ratio=0.75, memory_used={0: 2600, 1: 2600}), 2, 1024,
                             dict(DED, **{"hw:numa_nodes": "2"}))
    assert result, result.reason


# ------------------------------------------------------------------ issue 14: SMT trait, isolate with CPU sets

@pytest.mark.parametrize("trait, threads, fits", [
    ("forbidden", 2, False), ("forbidden", 1, True), ("required", 1, False), ("required", 2, True)])
def test_hyperthreading_trait_picks_hosts_with_or_without_smt(trait, threads, fits):
    host, spec, result = fit(dict(sockets=2, cores=4, threads=threads), 2, 1024,
                             {"resources:PCPU": "2", "trait:HW_CPU_HYPERTHREADING": trait})
    assert bool(result) == fits, result.reason
    if not fits:
        assert result.reason == "host %s SMT (hyperthreading), the flavor has trait:HW_CPU_HYPERTHREADING=%s" % (
            "has" if threads == 2 else "has no", trait)


def test_smt_is_the_hosts_not_the_usable_cpus():
    """A dedicated set of one thread per core still leaves an SMT host (libvirt reports the trait)."""
    host, spec, result = fit(dict(sockets=1, cores=4, threads=2, cpu_dedicated_set=[0, 1, 2, 3],
                                  cpu_shared_set=[4, 5]), 2, 1024,
                             {"hw:cpu_policy": "dedicated", "trait:HW_CPU_HYPERTHREADING": "forbidden"})
    assert not result and "host has SMT" in result.reason


def test_isolate_on_smt_host_with_cpu_sets_takes_whole_cores():
    """Nova sends isolate only to hosts without SMT when CPU sets are configured; here the guest
    gets one thread per core and the siblings are kept from every other guest (README: Differences
    from Nova, on purpose)."""
    from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.placement import Placement
    host, spec, result = fit(dict(sockets=1, cores=4, threads=2, cpu_dedicated_set=[0, 1, 2, 4, 5, 6],
                                  cpu_shared_set=[3, 7]), 2, 1024, dict(DED, **{"hw:cpu_thread_policy": "isolate"}))
    assert result, result.reason
    assert sorted(result.cells[0].pinning.values()) == [0, 1]
    host.consume(Placement(spec, host.name, cells=result.cells))
    assert host.cells[0].pinned == {0, 1, 4, 5}
    second = numa_fit.fit(host, build_request_spec(make_request("vm2", 2, 1024, extra_specs=dict(
        DED, **{"hw:cpu_thread_policy": "isolate"}))))
    assert not second
    assert second.reason == "cell 0 has 1 free whole cores under the isolate policy, guest cell 0 needs 2 " \
                            "(a whole core: every thread of it a free dedicated CPU)"


def test_readme_lists_the_isolate_difference():
    import os
    readme = os.path.join(os.path.dirname(__file__), *([os.pardir] * 5), "README.md")
    with open(readme) as handle:
        text = handle.read()
    section = " ".join(text.split("## Differences from Nova, on purpose", 1)[1].split("\n## ", 1)[0].split())
    assert "`hw:cpu_thread_policy=isolate` on a host with SMT" in section
    assert "cell 0 has 1 free whole cores under the isolate policy, guest cell 0 needs 2 (a whole core: every " \
           "thread of it a free dedicated CPU)" in section
