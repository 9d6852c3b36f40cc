# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scoring a sample of the hosts (kube-scheduler's percentageOfNodesToScore), and the
fit caches that survive a host's change: what the batch at fleet scale relies on."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fit_checks import fit_problems
from host_factory import make_host, make_request

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler import numa_fit
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import build_config
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.host_state import HostState
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import build_request_spec
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.sampling import HostSampler, hosts_to_find
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import schedule

SHAPES = [dict(sockets=2, cores=4, threads=2, cells=2, memory_mb=8192, hugepages={2048: 1024}),
          dict(sockets=2, cores=8, threads=1, cells=4, memory_mb=4096),
          dict(sockets=1, cores=4, threads=2, cells=1, memory_mb=16384)]
FLAVORS = [(2, 1024, {}),
           (4, 2048, {"hw:cpu_policy": "dedicated"}),
           (4, 2048, {"hw:cpu_policy": "dedicated", "hw:numa_nodes": "2"}),
           (2, 2048, {"hw:mem_page_size": "2MB"}),
           (4, 2048, {"hw:cpu_policy": "dedicated", "hw:cpu_thread_policy": "isolate"}),
           (4, 4096, {"hw:cpu_policy": "mixed", "hw:cpu_dedicated_mask": "^0"})]


def fleet(count, seed):
    rng = random.Random(seed)
    hosts = []
    for index in range(count):
        shape = SHAPES[rng.randrange(len(SHAPES))]
        per_cell = shape["sockets"] * shape["cores"] // shape["cells"]
        pinned = dict((cell, list(range(cell * per_cell, cell * per_cell + rng.randint(0, per_cell))))
                      for cell in range(shape["cells"]))
        hosts.append(make_host("hv%03d" % index, pinned=pinned, enabled=rng.random() > 0.05, **shape))
    return hosts


def batch(count, seed, group_every=0):
    rng = random.Random(seed)
    requests = []
    for index in range(count):
        vcpus, memory, specs = FLAVORS[rng.randrange(len(FLAVORS))]
        hints = {"group": {"name": "g", "policy": "anti-affinity"}} if group_every and index % group_every == 0 else {}
        requests.append(make_request("vm%03d" % index, vcpus, memory, extra_specs=specs, hints=hints))
    return requests


@pytest.mark.parametrize("total, percentage, expected", [
    (50, 0, 50),            # no more than kube's 100 hosts: all of them
    (100, 10, 100),
    (1000, 100, 1000),      # the default: every host
    (1000, 0, 420),         # adaptive: 50 - 1000/125 = 42 %
    (5000, 0, 500),         # adaptive: 10 % at 5,000, as kube-scheduler
    (20000, 0, 1000),       # adaptive never below 5 %
    (1000, 30, 300),
    (1000, 1, 100),         # never fewer than 100 hosts
])
def test_hosts_to_find(total, percentage, expected):
    assert hosts_to_find(total, percentage) == expected


def test_slices_start_where_the_last_request_stopped_and_cover_every_host_once():
    hosts = list(range(250))
    sampler = HostSampler(hosts, 10)            # 100 hosts to find
    first = list(sampler.slices(lambda: 0))
    assert sorted(h for chunk in first for h in chunk) == hosts
    found = []
    for chunk in sampler.slices(found.__len__):
        found.extend(chunk)
        if len(found) >= 100:
            break
    assert found[0] == sampler.hosts[0] and len(found) == 100
    second = next(iter(sampler.slices(lambda: 0)))
    assert second[0] == 100                     # the next request goes on from there


@pytest.mark.parametrize("value", [101, -1, "most", True])
def test_percentage_is_validated(value):
    with pytest.raises(InvalidInput) as caught:
        build_config({"percentage_of_hosts_to_score": value})
    assert caught.value.field == "config.percentage_of_hosts_to_score"


def test_default_scores_every_host():
    assert build_config()["percentage_of_hosts_to_score"] == 100


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(101, 160), st.integers(0, 10 ** 6), st.sampled_from([0, 1, 20]))
def test_property_no_valid_host_lists_every_host_whatever_the_mode(count, seed, percentage):
    facts = fleet(count, seed)
    impossible = make_request("huge", 4, 10 ** 6, extra_specs={"hw:cpu_policy": "dedicated"})
    answers = {}
    for mode in (100, percentage):
        outcome = schedule(facts, [dict(impossible)], {"percentage_of_hosts_to_score": mode}).outcomes[0]
        assert outcome.placement is None
        verdicts = sorted((v.host, v.filter, v.reason) for v in outcome.rejections)
        assert sorted(v[0] for v in verdicts) == sorted(f["name"] for f in facts)   # each host once
        answers[mode] = verdicts
    assert answers[100] == answers[percentage]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(101, 140), st.integers(0, 10 ** 6))
def test_property_sampling_changes_where_not_whether(count, seed):
    """A sampled batch places a request when a host can take it (claims that fail make it
    look further), every placement passes every filter on the host as it was, and a
    request it cannot place is refused by every host."""
    facts = fleet(count, seed)
    config = build_config({"percentage_of_hosts_to_score": 1, "host_subset_size": 2})
    states = [HostState.from_facts(f) for f in facts]
    requests = batch(60, seed, group_every=4)
    result = schedule(states, requests, config, seed=seed)
    for outcome in result.outcomes:
        if outcome.placement is None:
            assert sorted(v.host for v in outcome.rejections if v.filter != "NUMATopologyClaim") == \
                sorted(f["name"] for f in facts)
            continue
        cells = outcome.placement.cells or ()
        pinned = [c for cell in cells for c in list(cell.pinning.values()) + list(cell.reserved)]
        assert len(pinned) == len(set(pinned))
    groups = [o.placement.host for o in result.outcomes if o.placement and o.spec.group]
    assert len(groups) == len(set(groups))      # anti-affinity held across slices


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10 ** 6), st.integers(5, 30))
def test_property_cached_fits_equal_fresh_fits_after_every_consume(seed, count):
    """The fit caches that survive a consume (pairs of untouched cells, every fit after a
    guest without NUMA cells) never answer other than a fit computed from scratch: so
    the index never skips a host that would pass, nor keeps one that would not."""
    facts = fleet(6, seed)
    states = [HostState.from_facts(f) for f in facts]
    requests = batch(count, seed)
    specs = [build_request_spec(r) for r in requests]
    schedule(states, requests, {"host_subset_size": 3}, seed=seed)
    for host in states:
        for spec in specs:
            cached = numa_fit.fit(host, spec)
            pairs = dict(host.pair_cache)
            host.fit_cache.clear()
            host.pair_cache.clear()
            fresh = numa_fit.fit(host, spec)
            assert bool(cached) == bool(fresh)
            assert str(cached) == str(fresh)
            if fresh and fresh.cells is not None:
                assert [(c.host_cell, c.pinning, c.reserved, c.page_size_kb) for c in cached.cells] == \
                    [(c.host_cell, c.pinning, c.reserved, c.page_size_kb) for c in fresh.cells]
                assert fit_problems(host, spec, cached) == []
            for key, value in pairs.items():
                assert host.pair_cache.get(key, value) == value
