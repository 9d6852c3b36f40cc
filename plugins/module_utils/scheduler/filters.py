# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's host filters, registered by Nova's names in ``FILTERS``.

Each filter answers ``check(host, spec, config)`` with a ``Verdict`` (filter
name, passed, one-line reason), never a bare boolean. ``filter_hosts`` does the
same for a list of hosts and returns the kept hosts and the refusals; the
resource filters override it with a single comparison per host, because the
scheduler calls it for every request on every host. ``applies(spec)`` lets the
scheduler skip a filter that has nothing to say about a request (no hint, no
PCI request, no guest NUMA topology), as Nova's filters return early.

Filters run cheapest first (``cost``); a host refused by several filters is
reported with the first.
"""

from __future__ import annotations

import operator
from functools import partial
from itertools import compress

from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler import numa_fit, pci
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.server_group import members_of


class Verdict(object):
    """A filter's answer about one host."""

    __slots__ = ("host", "filter", "passed", "reason")

    def __init__(self, host, filter_name, passed, reason=None):
        self.host = host
        self.filter = filter_name
        self.passed = passed
        self.reason = reason

    def __bool__(self):
        return self.passed

    __nonzero__ = __bool__

    def __str__(self):
        return "%s: %s: %s" % (self.host, self.filter, self.reason or "passes")

    def to_dict(self):
        return {"host": self.host, "filter": self.filter, "reason": self.reason}


class BaseFilter(object):
    name = None
    cost = 5

    def applies(self, spec):
        """False when the filter passes every host for this request."""
        return True

    def reason(self, host, spec, config):
        """None when ``host`` passes, else a one-line reason."""
        raise NotImplementedError

    def passes_all(self, bounds, spec, config):
        """True when ``bounds`` (smallest and largest value of each attribute over
        all hosts) prove that no host can be refused: the filter is skipped."""
        return False

    def check(self, host, spec, config):
        why = self.reason(host, spec, config) if self.applies(spec) else None
        return Verdict(host.name, self.name, why is None, why)

    def filter_hosts(self, hosts, spec, config):
        """``(kept hosts, [(host, reason), ...])``; a reason may be an object whose str() is the reason."""
        kept, refused = [], []
        reason = self.reason
        for host in hosts:
            why = reason(host, spec, config)
            if why is None:
                kept.append(host)
            else:
                refused.append((host, why))
        return kept, refused


def holds_where(hosts, attribute, compare, limit):
    """Per host whether ``compare(limit, host.attribute)`` holds, in C loops (the hot path)."""
    return list(map(partial(compare, limit), map(operator.attrgetter(attribute), hosts)))


def split_by(hosts, passed):
    """``(hosts that passed, hosts that did not)``, both in host order, from one flag per host."""
    kept = list(compress(hosts, passed))
    if len(kept) == len(hosts):
        return kept, ()
    return kept, list(compress(hosts, map(operator.not_, passed)))


def others(hosts, kept):
    """The hosts not in ``kept``, in their order."""
    passed = set(map(id, kept))
    return [h for h in hosts if id(h) not in passed]


class _Threshold(BaseFilter):
    """A filter that compares one host attribute with one number:
    ``value >= limit``, or ``value < limit`` when ``below``."""

    attribute = None
    below = False

    def _limit(self, spec, config):
        raise NotImplementedError

    def _why(self, host, spec, config, limit):
        raise NotImplementedError

    def reason(self, host, spec, config):
        limit = self._limit(spec, config)
        value = getattr(host, self.attribute)
        if (value < limit) if self.below else (value >= limit):
            return None
        return self._why(host, spec, config, limit)

    def passes_all(self, bounds, spec, config):
        low, high = bounds[self.attribute]
        limit = self._limit(spec, config)
        return high < limit if self.below else low >= limit

    def filter_hosts(self, hosts, spec, config):
        limit = self._limit(spec, config)
        kept, refused = split_by(hosts, holds_where(hosts, self.attribute,
                                                    operator.gt if self.below else operator.le, limit))
        return kept, [(h, self._why(h, spec, config, limit)) for h in refused]


class ComputeFilter(BaseFilter):
    name = "ComputeFilter"
    cost = 0

    def reason(self, host, spec, config):
        if host.enabled:
            return None
        return "host is disabled%s" % (": %s" % host.disabled_reason if host.disabled_reason else " (cordoned)")

    def passes_all(self, bounds, spec, config):
        return bool(bounds["enabled"][0])

    def filter_hosts(self, hosts, spec, config):
        kept = list(compress(hosts, map(operator.attrgetter("enabled"), hosts)))
        if len(kept) == len(hosts):
            return kept, ()
        return kept, [(h, self.reason(h, spec, config)) for h in hosts if not h.enabled]


class RetryFilter(BaseFilter):
    name = "RetryFilter"
    cost = 1

    def applies(self, spec):
        return bool(spec.retry_exclude)

    def reason(self, host, spec, config):
        if host.name in spec.retry_exclude:
            return "host was already tried for this request"
        return None


class AvailabilityZoneFilter(BaseFilter):
    name = "AvailabilityZoneFilter"
    cost = 2

    def applies(self, spec):
        return bool(spec.availability_zone)

    def reason(self, host, spec, config):
        if host.availability_zone == spec.availability_zone:
            return None
        return "host is in availability zone %s, request asks for %s" % (
            host.availability_zone, spec.availability_zone)


class SameHostFilter(BaseFilter):
    name = "SameHostFilter"
    cost = 3

    def applies(self, spec):
        return bool(spec.same_host)

    def reason(self, host, spec, config):
        if host.instances.intersection(spec.same_host):
            return None
        return "host runs none of %s (same_host)" % ", ".join(spec.same_host)


class DifferentHostFilter(BaseFilter):
    name = "DifferentHostFilter"
    cost = 3

    def applies(self, spec):
        return bool(spec.different_host)

    def reason(self, host, spec, config):
        clash = sorted(host.instances.intersection(spec.different_host))
        if not clash:
            return None
        return "host runs %s (different_host)" % ", ".join(clash)


def _listed(names):
    return "member%s %s" % ("s" if len(names) > 1 else "", ", ".join(names))


class ServerGroupAffinityFilter(BaseFilter):
    """Once the group has members (server_group.py: from the fleet), only their hosts."""

    name = "ServerGroupAffinityFilter"
    cost = 3

    def applies(self, spec):
        return bool(spec.group and spec.group["policy"] == "affinity" and members_of(spec).by_host)

    def reason(self, host, spec, config):
        members = members_of(spec)
        if host.name in members.by_host:
            return None
        return "group %s (affinity) has its members on %s" % (members.name, ", ".join(
            "%s (%s)" % (where, ", ".join(names)) for where, names in sorted(members.by_host.items())))


class ServerGroupAntiAffinityFilter(BaseFilter):
    """No host that runs, or is claimed for, another member of the group (server_group.py)."""

    name = "ServerGroupAntiAffinityFilter"
    cost = 3

    def applies(self, spec):
        return bool(spec.group and spec.group["policy"] == "anti-affinity" and members_of(spec).by_host)

    def reason(self, host, spec, config):
        members = members_of(spec)
        here = members.on(host.name)
        if not here:
            return None
        return "group %s has %s on %s" % (members.name, _listed(here), host.name)

    def filter_hosts(self, hosts, spec, config):
        # the group is on a few hosts: find those, instead of a call per host
        taken = members_of(spec).by_host
        refused = [h for h in hosts if h.name in taken]
        if not refused:
            return hosts, ()
        return others(hosts, refused), [(h, self.reason(h, spec, config)) for h in refused]


class IoOpsFilter(_Threshold):
    name = "IoOpsFilter"
    cost = 4
    attribute = "io_ops"
    below = True

    def _limit(self, spec, config):
        return config["max_io_ops_per_host"]

    def _why(self, host, spec, config, limit):
        return "%d builds/migrations in flight, max_io_ops_per_host is %d" % (host.io_ops, limit)


class NumInstancesFilter(_Threshold):
    name = "NumInstancesFilter"
    cost = 4
    attribute = "running_vms"
    below = True

    def _limit(self, spec, config):
        return config["max_instances_per_host"]

    def _why(self, host, spec, config, limit):
        return "%d instances, max_instances_per_host is %d" % (host.running_vms, limit)


class RamFilter(_Threshold):
    name = "RamFilter"
    attribute = "ram_headroom"

    def _limit(self, spec, config):
        return spec.memory_mb

    def _why(self, host, spec, config, limit):
        return "%d MB usable RAM left (%d MB x %g - %d MB used), request needs %d MB" % (
            host.ram_headroom, host.memory_mb, host.ram_allocation_ratio, host.memory_mb_used, limit)


class VCPUFilter(BaseFilter):
    """Floating vCPUs within ``cpu_allocation_ratio``; pinned ones 1:1 on free dedicated CPUs."""

    name = "VCPUFilter"

    def reason(self, host, spec, config):
        if spec.shared_vcpus and host.vcpu_headroom < spec.shared_vcpus:
            return "%g floating vCPUs left (%g limit - %d used), request needs %d" % (
                host.vcpu_headroom, host.vcpus_limit, host.shared_vcpus_used, spec.shared_vcpus)
        if spec.pcpus_needed and host.pcpu_headroom < spec.pcpus_needed:
            return "%d free dedicated CPUs (%d - %d pinned), request needs %d" % (
                host.pcpu_headroom, host.pcpus, host.pcpus_used, spec.pcpus_needed)
        return None

    def passes_all(self, bounds, spec, config):
        return bounds["vcpu_headroom"][0] >= spec.shared_vcpus and bounds["pcpu_headroom"][0] >= spec.pcpus_needed

    def filter_hosts(self, hosts, spec, config):
        checks = []
        if spec.shared_vcpus:
            checks.append(holds_where(hosts, "vcpu_headroom", operator.le, spec.shared_vcpus))
        if spec.pcpus_needed:
            checks.append(holds_where(hosts, "pcpu_headroom", operator.le, spec.pcpus_needed))
        if not checks:
            return hosts, ()
        kept, refused = split_by(hosts, checks[0] if len(checks) == 1 else list(map(operator.and_, *checks)))
        return kept, [(h, self.reason(h, spec, config)) for h in refused]


class DiskFilter(_Threshold):
    name = "DiskFilter"
    attribute = "disk_headroom"

    def _limit(self, spec, config):
        return spec.disk_gb

    def _why(self, host, spec, config, limit):
        return "%g GB usable disk left (%d GB x %g - %d GB used), request needs %d GB" % (
            host.disk_headroom, host.local_gb, host.disk_allocation_ratio, host.local_gb_used, limit)


_ARCH_ALIASES = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64", "i686": "i686", "ppc64el": "ppc64le"}


def _version(text):
    parts = []
    for piece in str(text).strip().split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


_COMPARE = {">=": operator.ge, "<=": operator.le, "==": operator.eq, "!=": operator.ne, ">": operator.gt,
            "<": operator.lt, "=": operator.eq}


def version_satisfies(version, requirement):
    """``"7.2.0"`` against ``">=6.0, <8"`` (Nova's img_hv_requested_version)."""
    have = _version(version)
    for clause in str(requirement).split(","):
        clause = clause.strip()
        if not clause:
            continue
        for symbol in (">=", "<=", "==", "!=", ">", "<", "="):
            if clause.startswith(symbol):
                want = _version(clause[len(symbol):])
                break
        else:
            symbol, want = "==", _version(clause)
        width = max(len(have), len(want))
        if not _COMPARE[symbol](have + (0,) * (width - len(have)), want + (0,) * (width - len(want))):
            return False
    return True


class ImagePropertiesFilter(BaseFilter):
    """The image's architecture, hypervisor type, VM mode and hypervisor version."""

    name = "ImagePropertiesFilter"
    cost = 6
    _KEYS = ("hw_architecture", "architecture", "img_hv_type", "hypervisor_type", "hw_vm_mode", "vm_mode",
             "img_hv_requested_version", "hypervisor_version_requires")

    def applies(self, spec):
        return any(spec.image_props.get(k) for k in self._KEYS)

    def reason(self, host, spec, config):
        props = spec.image_props
        arch = props.get("hw_architecture") or props.get("architecture")
        if arch:
            arch = _ARCH_ALIASES.get(str(arch).lower(), str(arch).lower())
            if arch != str(host.arch or "").lower():
                return "host architecture is %s, image needs %s" % (host.arch, arch)
        hv_type = props.get("img_hv_type") or props.get("hypervisor_type")
        if hv_type:
            offered = ("kvm", "qemu") if host.virt_type == "kvm" else (str(host.virt_type).lower(),)
            if str(hv_type).lower() not in offered:
                return "host offers %s guests, image needs %s" % ("/".join(offered), hv_type)
        vm_mode = props.get("hw_vm_mode") or props.get("vm_mode")
        if vm_mode and str(vm_mode).lower() != "hvm":
            return "host runs hvm guests only, image needs %s" % vm_mode
        wanted = props.get("img_hv_requested_version") or props.get("hypervisor_version_requires")
        if wanted and host.hypervisor_version and not version_satisfies(host.hypervisor_version, wanted):
            return "hypervisor version %s does not satisfy %s" % (host.hypervisor_version, wanted)
        return None


def _as_float(text):
    return float(str(text).strip())


_SPEC_OPS = {
    "=": lambda x, y: _as_float(x) >= _as_float(y),
    "<in>": lambda x, y: y in x,
    "<all-in>": lambda x, y: all(v in x for v in y.split()),
    "==": lambda x, y: _as_float(x) == _as_float(y),
    "!=": lambda x, y: _as_float(x) != _as_float(y),
    ">=": lambda x, y: _as_float(x) >= _as_float(y),
    "<=": lambda x, y: _as_float(x) <= _as_float(y),
    "s==": operator.eq, "s!=": operator.ne, "s<": operator.lt, "s<=": operator.le, "s>": operator.gt,
    "s>=": operator.ge,
}


def extra_spec_matches(value, requirement):
    """Nova's extra_specs_ops: ``"true"``, ``"<in> ssd"``, ``">= 4"``, ``"<or> a <or> b"``, ``"s== x"``."""
    words = str(requirement).split()
    if not words:
        return str(value) == str(requirement)
    op = words[0]
    if op == "<or>":
        return str(value) in words[1::2]
    method = _SPEC_OPS.get(op)
    if method is None:
        return str(value) == str(requirement)
    if len(words) < 2:
        return False
    try:
        return bool(method(str(value), " ".join(words[1:]) if op == "<all-in>" else words[1]))
    except ValueError:
        return False


class AggregateInstanceExtraSpecsFilter(BaseFilter):
    """Flavor extra specs (unscoped or ``aggregate_instance_extra_specs:``) against aggregate metadata."""

    name = "AggregateInstanceExtraSpecsFilter"
    cost = 7
    SCOPE = "aggregate_instance_extra_specs"

    def _wanted(self, spec):
        wanted = getattr(spec, "_aggregate_wanted", None)
        if wanted is None:
            wanted = []
            for key, value in spec.extra_specs.items():
                scope, sep, rest = key.partition(":")
                if sep and scope != self.SCOPE:
                    continue
                wanted.append((rest if sep else key, value))
            spec._aggregate_wanted = wanted
        return wanted

    def applies(self, spec):
        return bool(self._wanted(spec))

    def reason(self, host, spec, config):
        for key, requirement in self._wanted(spec):
            values = host.aggregate_metadata.get(key)
            if not values:
                return "no aggregate of the host sets %s (flavor asks %s)" % (key, requirement)
            if not any(extra_spec_matches(v, requirement) for v in values):
                return "aggregate metadata %s=%s does not match %s" % (key, ",".join(sorted(values)), requirement)
        return None


DISK_TIER_SPEC = "vmfleet:disk_tier"


class DiskTierFilter(BaseFilter):
    """The flavor's storage tier (extra spec ``vmfleet:disk_tier``) must be one
    the host maps to a pool (host config ``disk_tiers``). The collection's own:
    Nova expresses this with aggregates."""

    name = "DiskTierFilter"
    cost = 2

    def applies(self, spec):
        return bool(spec.extra_specs.get(DISK_TIER_SPEC))

    def reason(self, host, spec, config):
        tier = spec.extra_specs[DISK_TIER_SPEC]
        if tier not in host.disk_tiers:
            return "no storage tier %s here (disk_tiers: %s)" % (tier, ", ".join(sorted(host.disk_tiers)) or "none")
        return None


class NetworkFilter(BaseFilter):
    """The guest's libvirt networks defined on the host, and its bridges there (oVirt's Network filter; Nova
    leaves networks to Neutron). Whether a network must also be running depends on whether the guest is to
    run there, which the request does not say: the build or move checks that on the host itself, as it checks
    everything again there in case the facts are old. A host whose facts do not list its networks (or whose
    libvirt cannot list its interfaces, for a bridge) is not ruled out."""

    name = "NetworkFilter"
    cost = 2

    def applies(self, spec):
        return bool(spec.networks or spec.bridges)

    def reason(self, host, spec, config):
        if host.networks is not None:
            for network in spec.networks:
                if network not in host.networks:
                    return "network '%s' is not defined here (networks: %s)" % (
                        network, ", ".join(sorted(host.networks)) or "none")
        if host.interfaces is not None:
            for bridge in spec.bridges:
                if bridge not in host.interfaces:
                    return "no bridge '%s' here" % bridge
        return None


class PciPassthroughFilter(BaseFilter):
    name = "PciPassthroughFilter"
    cost = 8

    def applies(self, spec):
        return bool(spec.pci_requests)

    def reason(self, host, spec, config):
        if spec.numa_cells:
            return pci.count_free(host, spec)
        claims = pci.select_devices(host, spec, None)
        return claims if isinstance(claims, str) else None


class NUMATopologyFilter(BaseFilter):
    """Guest NUMA cells, pinning, hugepages and per-cell ratios (the expensive one: last)."""

    name = "NUMATopologyFilter"
    cost = 10

    def applies(self, spec):
        return spec.numa_cells is not None

    def reason(self, host, spec, config):
        return numa_fit.fit(host, spec).reason

    def filter_hosts(self, hosts, spec, config):
        index = hosts[0].fit_index if hosts else None
        if index is not None:
            results = numa_fit.fit_many(hosts, spec, index)
            passed = list(map(operator.attrgetter("ok"), results))
            kept = list(compress(hosts, passed))
            if len(kept) == len(hosts):
                return kept, ()
            return kept, list(compress(zip(hosts, results), map(operator.not_, passed)))
        key = numa_fit.fit_key(spec)
        fit = numa_fit.fit
        kept, refused = [], []
        for host in hosts:
            result = host.fit_cache.get(key)
            if result is None:
                result = fit(host, spec)
            if result.ok:
                kept.append(host)
            else:
                refused.append((host, result))
        return kept, refused


BOUNDED = ("enabled", "io_ops", "running_vms", "ram_headroom", "vcpu_headroom", "pcpu_headroom", "disk_headroom")


class Bounds(dict):
    """Smallest and largest value of each ``BOUNDED`` host attribute, kept up to
    date as hosts are consumed (widened only, so always safe)."""

    def __init__(self, hosts):
        super(Bounds, self).__init__()
        for name in BOUNDED:
            values = list(map(operator.attrgetter(name), hosts)) or [0]
            self[name] = (min(values), max(values))

    def widen(self, host):
        for name in BOUNDED:
            value = getattr(host, name)
            low, high = self[name]
            if value < low or value > high:
                self[name] = (min(low, value), max(high, value))


FILTERS = dict((cls.name, cls()) for cls in (
    ComputeFilter, RetryFilter, AvailabilityZoneFilter, SameHostFilter, DifferentHostFilter,
    ServerGroupAffinityFilter, ServerGroupAntiAffinityFilter, IoOpsFilter, NumInstancesFilter,
    RamFilter, VCPUFilter, DiskFilter, DiskTierFilter, NetworkFilter, ImagePropertiesFilter,
    AggregateInstanceExtraSpecsFilter, PciPassthroughFilter, NUMATopologyFilter))
ALIASES = {"CoreFilter": "VCPUFilter", "AvailabilityZone": "AvailabilityZoneFilter"}
DEFAULT_FILTERS = tuple(FILTERS)
