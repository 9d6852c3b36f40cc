# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's weighers, registered by Nova's names in ``WEIGHERS``.

Each weigher gives a raw value per host; ``weigh`` normalises every
weigher's values to 0..1 across the candidate hosts (all equal -> all 0),
multiplies them by the weigher's multiplier and sums the products. Higher
total wins. Multipliers are the scheduler configuration's
``*_weight_multiplier`` options, with Nova's defaults.
"""

from __future__ import annotations

from functools import partial
from operator import add, attrgetter, mul

from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.server_group import members_of


class BaseWeigher(object):
    name = None
    option = None          # the multiplier's configuration key
    default = 1.0
    attribute = None       # the HostState attribute that is the raw value, when it is one

    def applies(self, spec):
        return True

    def raw(self, host, spec):
        return getattr(host, self.attribute)

    def raw_all(self, hosts, spec):
        if self.attribute is not None:
            # one C loop over the hosts: this runs for every request of a batch
            return list(map(attrgetter(self.attribute), hosts))
        raw = self.raw
        return [raw(h, spec) for h in hosts]


class RAMWeigher(BaseWeigher):
    """Free RAM (MB): positive multiplier spreads, negative stacks."""

    name, option, attribute = "RAMWeigher", "ram_weight_multiplier", "free_ram_mb"


class CPUWeigher(BaseWeigher):
    """Free floating vCPUs within the allocation ratio."""

    name, option, attribute = "CPUWeigher", "cpu_weight_multiplier", "vcpu_headroom"


class DiskWeigher(BaseWeigher):
    """Free disk (GB)."""

    name, option, attribute = "DiskWeigher", "disk_weight_multiplier", "free_disk_gb"


class IoOpsWeigher(BaseWeigher):
    """Builds and migrations in flight; the default -1.0 prefers quiet hosts."""

    name, option, default, attribute = "IoOpsWeigher", "io_ops_weight_multiplier", -1.0, "io_ops"


class NumInstancesWeigher(BaseWeigher):
    """Guests on the host; 0.0 by default (Nova's), so it counts only when configured."""

    name, option, default, attribute = "NumInstancesWeigher", "num_instances_weight_multiplier", 0.0, "running_vms"


class ServerGroupSoftAffinityWeigher(BaseWeigher):
    """Members of the request's soft-affinity group on the host: the same fleet-wide membership
    the hard filters read (server_group.py)."""

    name, option = "ServerGroupSoftAffinityWeigher", "soft_affinity_weight_multiplier"
    policy, sign = "soft-affinity", 1

    def applies(self, spec):
        return bool(spec.group and spec.group["policy"] == self.policy)

    def raw(self, host, spec):
        return self.sign * len(members_of(spec).on(host.name))


class ServerGroupSoftAntiAffinityWeigher(ServerGroupSoftAffinityWeigher):
    """Minus the members of the request's soft-anti-affinity group on the host."""

    name, option = "ServerGroupSoftAntiAffinityWeigher", "soft_anti_affinity_weight_multiplier"
    policy, sign = "soft-anti-affinity", -1


WEIGHERS = dict((cls.name, cls()) for cls in (
    RAMWeigher, CPUWeigher, DiskWeigher, IoOpsWeigher, NumInstancesWeigher,
    ServerGroupSoftAffinityWeigher, ServerGroupSoftAntiAffinityWeigher))
DEFAULT_WEIGHERS = tuple(WEIGHERS)


def weigh(hosts, spec, weighers):
    """Total weight per host (same order). ``weighers``: [(weigher, multiplier), ...].

    Nova's normalisation: each weigher's values become 0..1 between their
    smallest and largest (all equal: all 0), times the multiplier. Computed as
    ``sum(value * scale) - sum(low * scale)``, in C loops."""
    totals = None
    offset = 0.0
    if len(hosts) < 2:
        return [0.0] * len(hosts)
    for weigher, multiplier in weighers:
        if not multiplier or not weigher.applies(spec):
            continue
        values = weigher.raw_all(hosts, spec)
        low, high = min(values), max(values)
        if low == high:
            continue
        scale = multiplier / float(high - low)
        offset += low * scale
        scaled = map(partial(mul, scale), values)
        # lazily chained: the sums are computed in one pass at the end
        totals = scaled if totals is None else map(add, totals, scaled)
    if totals is None:
        return [0.0] * len(hosts)
    return list(map(partial(add, -offset), totals))
