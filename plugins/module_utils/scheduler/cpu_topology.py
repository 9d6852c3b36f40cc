# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Guest CPU topology (sockets x cores x threads), as Nova chooses it.

Flavor extra specs ``hw:cpu_{sockets,cores,threads}`` are preferences and
``hw:cpu_max_{sockets,cores,threads}`` limits; the image (``hw_cpu_*``) may
only lower the flavor's limits and, when it states any preference, its
preferences replace the flavor's as a whole. Without preferences Nova gives
one socket per vCPU: candidates are ordered by most sockets*cores (fewest
threads), then most sockets, then threads; preferences only reorder them by
how many of sockets/cores/threads they match.
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, whole_number

UNLIMITED = 65536
_DIMENSIONS = ("sockets", "cores", "threads")


class Topology(tuple):
    """(sockets, cores, threads)"""

    __slots__ = ()

    def __new__(cls, sockets, cores, threads):
        return tuple.__new__(cls, (sockets, cores, threads))

    sockets = property(lambda self: self[0])
    cores = property(lambda self: self[1])
    threads = property(lambda self: self[2])

    def to_dict(self):
        return {"sockets": self[0], "cores": self[1], "threads": self[2]}


def _count(value, field):
    if value is None or value == "":
        return 0
    return whole_number(field, value)


def topology_constraints(extra_specs, image_props):
    """Return ``(preferred, maximum)`` Topologies; 0 in preferred = no preference.

    Raises InvalidInput when the image asks for more than the flavor allows.
    """
    flavor_max = [_count(extra_specs.get("hw:cpu_max_" + d), "hw:cpu_max_" + d) for d in _DIMENSIONS]
    image_max = [_count(image_props.get("hw_cpu_max_" + d), "hw_cpu_max_" + d) for d in _DIMENSIONS]
    for dim, fmax, imax in zip(_DIMENSIONS, flavor_max, image_max):
        if fmax and imax > fmax:
            raise InvalidInput("hw_cpu_max_" + dim, imax, "at most the flavor's hw:cpu_max_%s=%d" % (dim, fmax),
                               reason="the image may only lower the flavor's limits")
    maximum = Topology(*[(imax or fmax or UNLIMITED) for fmax, imax in zip(flavor_max, image_max)])

    flavor_pref = [_count(extra_specs.get("hw:cpu_" + d), "hw:cpu_" + d) for d in _DIMENSIONS]
    image_pref = [_count(image_props.get("hw_cpu_" + d), "hw_cpu_" + d) for d in _DIMENSIONS]
    if any(p > m for p, m in zip(flavor_pref, maximum)):
        # the image lowered the limits below the flavor's preference: drop it (Nova)
        flavor_pref = [0, 0, 0]
    for dim, pref, limit in zip(_DIMENSIONS, image_pref, maximum):
        if pref > limit:
            raise InvalidInput("hw_cpu_" + dim, pref, "at most %d (hw_cpu_max_%s / hw:cpu_max_%s)" % (limit, dim, dim),
                               reason="the image's preferred topology exceeds the limits")
    preferred = Topology(*(image_pref if any(image_pref) else flavor_pref))
    return preferred, maximum


def possible_topologies(vcpus, maximum, allow_threads=True):
    """Every topology with sockets*cores*threads == vcpus within ``maximum``,
    most sockets*cores first, then most sockets, then most threads (Nova's order).
    """
    max_sockets = min(vcpus, maximum[0])
    max_cores = min(vcpus, maximum[1])
    max_threads = min(vcpus, maximum[2]) if allow_threads else 1
    found = []
    for sockets in range(1, max_sockets + 1):
        if vcpus % sockets:
            continue
        for cores in range(1, max_cores + 1):
            rest = vcpus // sockets
            if rest % cores:
                continue
            threads = rest // cores
            if threads <= max_threads:
                found.append(Topology(sockets, cores, threads))
    found.sort(key=lambda t: (t[0] * t[1], t[0], t[2]), reverse=True)
    return found


def _score(topology, preferred):
    return sum(1 for got, want in zip(topology, preferred) if want and got == want)


def sort_topologies(possible, preferred):
    """Stable-sort by how many of the preferred sockets/cores/threads match."""
    return sorted(possible, key=lambda t: -_score(t, preferred))


def best_topology(vcpus, preferred, maximum, allow_threads=True):
    """The topology Nova would give the guest; InvalidInput when none is possible."""
    possible = possible_topologies(vcpus, maximum, allow_threads)
    if not possible:
        raise InvalidInput("hw:cpu_max_sockets", list(maximum),
                           "limits whose product of sockets, cores and threads can reach %d vCPUs" % vcpus,
                           reason="no sockets*cores*threads = %d within sockets<=%d cores<=%d threads<=%d"
                           % (vcpus, maximum[0], maximum[1], maximum[2]))
    return sort_topologies(possible, preferred)[0]
