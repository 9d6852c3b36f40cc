# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Guest CPU topology: Nova's order of candidates, preferences and limits."""

from __future__ import annotations

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.cpu_topology import (
    UNLIMITED, Topology, best_topology, possible_topologies, topology_constraints)

# (id, vcpus, flavor extra specs, image properties, expected (sockets, cores, threads))
CASES = [
    ("default-one-socket-per-vcpu", 4, {}, {}, (4, 1, 1)),
    ("flavor-prefers-cores", 4, {"hw:cpu_sockets": "1"}, {}, (1, 4, 1)),
    ("flavor-full-preference", 8, {"hw:cpu_sockets": "2", "hw:cpu_cores": "2", "hw:cpu_threads": "2"}, {},
     (2, 2, 2)),
    ("max-sockets-pushes-to-cores", 8, {"hw:cpu_max_sockets": "2"}, {}, (2, 4, 1)),
    ("max-sockets-and-cores-force-threads", 8, {"hw:cpu_max_sockets": "1", "hw:cpu_max_cores": "4"}, {},
     (1, 4, 2)),
    ("image-preference", 4, {}, {"hw_cpu_cores": 4}, (1, 4, 1)),
    ("image-preference-replaces-flavor", 4, {"hw:cpu_sockets": "4"}, {"hw_cpu_cores": 2}, (2, 2, 1)),
    ("image-lowers-max-drops-flavor-pref", 4, {"hw:cpu_sockets": "4", "hw:cpu_max_sockets": "4"},
     {"hw_cpu_max_sockets": 2}, (2, 2, 1)),
    ("threads-preference", 4, {"hw:cpu_threads": "2"}, {}, (2, 1, 2)),
    ("odd-vcpus", 6, {"hw:cpu_max_sockets": "1"}, {}, (1, 6, 1)),
    ("one-vcpu", 1, {}, {}, (1, 1, 1)),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_best_topology(case):
    name, vcpus, specs, props, expected = case
    preferred, maximum = topology_constraints(specs, props)
    assert tuple(best_topology(vcpus, preferred, maximum)) == expected


def test_possible_order_matches_nova():
    found = possible_topologies(8, Topology(UNLIMITED, UNLIMITED, UNLIMITED))
    assert [tuple(t) for t in found] == [(8, 1, 1), (4, 2, 1), (2, 4, 1), (1, 8, 1), (4, 1, 2), (2, 2, 2),
                                         (1, 4, 2), (2, 1, 4), (1, 2, 4), (1, 1, 8)]


def test_no_threads_when_not_allowed():
    found = possible_topologies(4, Topology(UNLIMITED, UNLIMITED, UNLIMITED), allow_threads=False)
    assert all(t.threads == 1 for t in found)


def test_limits_default_unlimited():
    preferred, maximum = topology_constraints({}, {})
    assert tuple(preferred) == (0, 0, 0) and tuple(maximum) == (UNLIMITED,) * 3
    assert Topology(1, 2, 3).to_dict() == {"sockets": 1, "cores": 2, "threads": 3}
