# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A placement request: flavor + image properties + scheduler hints.

``build_request_spec`` reads the flavor's ``hw:*`` extra specs and the image's
``hw_*`` properties with Nova's meaning and Nova's refusals, and returns a
``RequestSpec`` the filters read without parsing anything again. Every
refusal is an ``InvalidInput`` naming the spec, the value and what is allowed,
raised before any host is looked at.
"""

from __future__ import annotations

import re

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.cpuset import parse_cpuset
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, whole_number
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler import cpu_topology
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.extra_specs import (
    check_extra_specs, placement_key)

SHARED, DEDICATED, MIXED = "shared", "dedicated", "mixed"
CPU_POLICIES = (SHARED, DEDICATED, MIXED)
PREFER, ISOLATE, REQUIRE = "prefer", "isolate", "require"
THREAD_POLICIES = (PREFER, ISOLATE, REQUIRE)
EMULATOR_SHARE, EMULATOR_ISOLATE = "share", "isolate"
EMULATOR_POLICIES = (EMULATOR_SHARE, EMULATOR_ISOLATE)
PCI_NUMA_POLICIES = ("required", "preferred", "legacy")
GROUP_POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")
SMT_TRAIT = "HW_CPU_HYPERTHREADING"
SMT_REQUIRED, SMT_FORBIDDEN = "required", "forbidden"

# page size requests besides an explicit size in KiB
PAGE_SMALL, PAGE_LARGE, PAGE_ANY = -1, -2, -3
_PAGE_WORDS = {"small": PAGE_SMALL, "large": PAGE_LARGE, "any": PAGE_ANY}
_PAGE_ALLOWED = "small, large, any, or a size such as 2MB, 1GB, 2048 (KiB)"
_POWERS = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4}
# oslo's IEC byte strings, which Nova reads page sizes with: upper-case prefix, no space, b/bit = bits
_PAGE_RE = re.compile(r"^(\d+)([KMGT]?)i?(B|b|bit)$")
_TRUE = ("1", "t", "true", "on", "y", "yes")
NUMA_NODES_MAX = 128


class GuestCell(object):
    """One guest NUMA cell: its vCPU ids (floating and pinned) and memory."""

    __slots__ = ("id", "cpus", "pcpus", "memory_mb")

    def __init__(self, cell_id, cpus, pcpus, memory_mb):
        self.id = cell_id
        self.cpus = tuple(sorted(cpus))      # shared (floating) vCPUs of this cell
        self.pcpus = tuple(sorted(pcpus))    # dedicated (pinned) vCPUs of this cell
        self.memory_mb = memory_mb

    def to_dict(self):
        return {"id": self.id, "cpus": sorted(self.cpus + self.pcpus), "memory_mb": self.memory_mb}


class PciRequest(object):
    __slots__ = ("alias", "count", "vendor_id", "product_id", "numa_policy")

    def __init__(self, alias, count, vendor_id, product_id, numa_policy):
        self.alias = alias
        self.count = count
        self.vendor_id = vendor_id
        self.product_id = product_id
        self.numa_policy = numa_policy


class RequestSpec(object):
    """Everything the filters, weighers and NUMA fitting need about one request."""

    def __init__(self, name, vcpus, memory_mb, disk_gb):
        self.name = name
        self.flavor_name = None
        self.vcpus = vcpus
        self.memory_mb = memory_mb
        self.disk_gb = disk_gb
        self.extra_specs = {}
        self.image_props = {}
        self.cpu_policy = None          # None (shared, implicit) | shared | dedicated | mixed
        self.thread_policy = None
        self.smt_trait = None           # None | required | forbidden: the host must (not) have SMT
        self.emulator_policy = None
        self.page_size = None           # None | PAGE_* | size in KiB
        self.realtime_cpus = ()
        self.numa_cells = None          # list of GuestCell, or None (no guest NUMA topology)
        self.preferred_topology = None
        self.max_topology = None
        self.topology = None            # the guest's sockets/cores/threads
        self.pci_requests = []
        self.pci_numa_policy = None
        self.networks = ()              # libvirt networks the guest's interfaces are on (NetworkFilter)
        self.bridges = ()               # host bridges they are on
        self.availability_zone = None
        self.group = None               # {"name", "policy", "members"} or None, as the request asks
        self.group_members = None       # server_group.GroupMembers: the group as the fleet has it
        self.same_host = ()
        self.different_host = ()
        self.force_host = None
        self.force = False
        self.retry_exclude = ()
        # derived counts used in the hot path
        self.dedicated_vcpus = 0
        self.shared_vcpus = vcpus
        self.pcpus_needed = 0

    @property
    def is_pinned(self):
        return self.cpu_policy in (DEDICATED, MIXED)


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def _positive_int(value, field, minimum=1):
    return whole_number(field, value, minimum)


def _cpu_list(value, field):
    try:
        return set(parse_cpuset(value if isinstance(value, (list, tuple)) else _text(value), field))
    except InvalidInput:
        raise InvalidInput(field, value, "a guest CPU list such as '0-3,^2'")


def _choice(value, field, allowed):
    """One of ``allowed``, exactly as written: Nova's enums are case-sensitive."""
    if value is None or value == "":
        return None
    text = _text(value)
    if text not in allowed:
        raise InvalidInput(field, value, ", ".join(allowed))
    return text


def parse_page_size(value, field):
    """``small|large|any`` -> PAGE_*; ``2048`` (KiB), ``2MB``, ``2MiB``, ``1GB`` -> KiB."""
    text = _text(value)
    if text.lower() in _PAGE_WORDS:
        return _PAGE_WORDS[text.lower()]
    if text.isdigit():
        size = int(text)
    else:
        # 2MB, 2MiB, 1GB, 1048576KB; not 2M, 2mb or 2 MB, which Nova refuses too
        match = _PAGE_RE.match(text)
        if not match:
            raise InvalidInput(field, value, _PAGE_ALLOWED)
        size_bytes = int(match.group(1)) * 1024 ** _POWERS[match.group(2)]
        if match.group(3) != "B":
            size_bytes /= 8     # oslo reads 2Mb as 2 mebibits; no host has such pages, but it is not an error
        if size_bytes % 1024:
            raise InvalidInput(field, value, _PAGE_ALLOWED, reason="not a whole number of KiB")
        size = int(size_bytes // 1024)
    if size <= 0:
        raise InvalidInput(field, value, _PAGE_ALLOWED)
    return size


def _page_size(specs, props):
    flavor_value, image_value = specs.get("hw:mem_page_size"), props.get("hw_mem_page_size")
    if not flavor_value and image_value:
        raise InvalidInput("hw_mem_page_size", image_value, "only when the flavor sets hw:mem_page_size to large or any",
                           reason="the flavor sets no page size, so the image may not choose one")
    if not flavor_value:
        return None
    size = parse_page_size(flavor_value, "hw:mem_page_size")
    if image_value:
        if size in (PAGE_ANY, PAGE_LARGE):
            return parse_page_size(image_value, "hw_mem_page_size")
        raise InvalidInput("hw_mem_page_size", image_value, "only when the flavor sets hw:mem_page_size to large or any",
                           reason="the flavor fixed hw:mem_page_size=%s" % flavor_value)
    return size


def _cpu_policy(specs, props):
    flavor_policy = _choice(specs.get("hw:cpu_policy"), "hw:cpu_policy", CPU_POLICIES)
    image_policy = _choice(props.get("hw_cpu_policy"), "hw_cpu_policy", CPU_POLICIES)
    forbidden = {DEDICATED: (), MIXED: (DEDICATED,), SHARED: (MIXED, DEDICATED)}
    if flavor_policy:
        if image_policy in forbidden[flavor_policy]:
            raise InvalidInput("hw_cpu_policy", image_policy, "not %s when the flavor sets hw:cpu_policy=%s"
                               % (" or ".join(forbidden[flavor_policy]), flavor_policy),
                               reason="the image may not override the flavor's CPU pinning policy")
        return flavor_policy
    return image_policy


def _thread_policy(specs, props):
    flavor_policy = _choice(specs.get("hw:cpu_thread_policy"), "hw:cpu_thread_policy", THREAD_POLICIES)
    image_policy = _choice(props.get("hw_cpu_thread_policy"), "hw_cpu_thread_policy", THREAD_POLICIES)
    if flavor_policy in (None, PREFER):
        return flavor_policy or image_policy
    if image_policy and image_policy != flavor_policy:
        raise InvalidInput("hw_cpu_thread_policy", image_policy, "%s (as the flavor) or unset" % flavor_policy,
                           reason="the image may not override the flavor's hw:cpu_thread_policy=%s" % flavor_policy)
    return flavor_policy


def _vcpu_mask(mask, vcpus, field):
    text = _text(mask)
    if text.startswith("^"):
        text = "0-%d,%s" % (vcpus - 1, text)
    return _cpu_list(text, field)


def _dedicated_mask(specs, vcpus):
    mask = specs.get("hw:cpu_dedicated_mask")
    if not mask:
        return None
    pcpus = _vcpu_mask(mask, vcpus, "hw:cpu_dedicated_mask")
    allowed = "a subset of the vCPUs 0-%d leaving at least one dedicated and one shared vCPU" % (vcpus - 1)
    if not pcpus or not set(range(vcpus)) - pcpus or not pcpus <= set(range(vcpus)):
        raise InvalidInput("hw:cpu_dedicated_mask", mask, allowed)
    return pcpus


def _realtime(specs, props, vcpus, emulator_policy):
    if _text(specs.get("hw:cpu_realtime", "")).lower() not in _TRUE:
        return None
    mask = props.get("hw_cpu_realtime_mask") or specs.get("hw:cpu_realtime_mask")
    field = "hw_cpu_realtime_mask" if props.get("hw_cpu_realtime_mask") else "hw:cpu_realtime_mask"
    rt_cpus = _vcpu_mask(mask, vcpus, field) if mask else set(range(vcpus))
    allowed = "a subset of the vCPUs 0-%d that leaves one vCPU for the emulator threads " \
              "(or set hw:emulator_threads_policy)" % (vcpus - 1)
    if not rt_cpus or not rt_cpus <= set(range(vcpus)):
        raise InvalidInput(field, mask, allowed)
    if rt_cpus == set(range(vcpus)) and not emulator_policy:
        raise InvalidInput(field, mask, allowed, reason="every vCPU is realtime and no emulator threads policy is set")
    return rt_cpus


def _placement_cpu_policy(specs, cpu_policy, emulator_policy, vcpus):
    """``resources:PCPU=N`` / ``resources:VCPU=N`` (placement-era syntax, Nova since Train) as
    Nova's ``numa_get_constraints`` reads them: PCPU means dedicated and must count every vCPU
    (one more with isolated emulator threads), VCPU means shared; neither goes with a CPU
    policy, nor with the other."""
    asked, names = {}, {}
    for name in sorted(specs):
        key = placement_key(name)
        if key in ("resources:PCPU", "resources:VCPU"):
            # summed over the request groups, as Nova does; =0 asks for nothing
            count = whole_number(name, specs[name], 0)
            if count:
                asked[key] = asked.get(key, 0) + count
                names.setdefault(key, name)
    if not asked:
        return cpu_policy
    key = "resources:PCPU" if "resources:PCPU" in asked else "resources:VCPU"
    name = names[key]
    if cpu_policy:
        raise InvalidInput(name, specs[name], "either %s or hw:cpu_policy / hw_cpu_policy, not both" % key,
                           reason="the CPU policy is given twice (hw:cpu_policy=%s)" % cpu_policy)
    if len(asked) == 2:
        name = names["resources:VCPU"]
        raise InvalidInput(name, specs[name], "resources:VCPU or resources:PCPU, not both",
                           reason="a flavor's vCPUs are either all dedicated (PCPU) or all shared (VCPU)")
    if key == "resources:VCPU":
        return SHARED
    isolated = emulator_policy == EMULATOR_ISOLATE
    expected = vcpus + (1 if isolated else 0)
    if asked[key] != expected:
        raise InvalidInput(name, specs[name], "PCPU counts summing to exactly %d (the flavor's %d vCPUs%s)"
                           % (expected, vcpus, " + 1 for hw:emulator_threads_policy=isolate" if isolated else ""),
                           reason="every vCPU is pinned, so PCPU must count them all, the flavor asks for %d"
                           % asked[key])
    return DEDICATED


def _smt_trait(specs, props):
    """``(required|forbidden|None, field)`` from ``trait:HW_CPU_HYPERTHREADING`` in the flavor,
    else from the image's required traits (``trait:NAME=required`` or ``traits_required``)."""
    given = [(field, _text(specs[field])) for field in sorted(specs) if placement_key(field) == "trait:" + SMT_TRAIT]
    if len(set(value for field, value in given)) > 1:
        # placement could never satisfy both (Nova would find no host)
        raise InvalidInput(given[-1][0], given[-1][1], "the same value in every request group (%s)"
                           % ", ".join("%s=%s" % pair for pair in given),
                           reason="SMT is both required and forbidden")
    if given:
        return given[0][1], given[0][0]
    wanted = list(props.get("traits_required") or ())
    for key, value in props.items():
        if key.startswith("trait:"):
            if _text(value) != SMT_REQUIRED:
                raise InvalidInput(key, value, "required (an image can only require traits)")
            wanted.append(key.partition(":")[2])
    others = sorted(set(wanted) - {SMT_TRAIT})
    if others:
        raise InvalidInput("traits_required", others, SMT_TRAIT,
                           reason="not supported here: placement traits need Nova's placement service")
    return (SMT_REQUIRED, "image trait:" + SMT_TRAIT) if wanted else (None, None)


def _missing(field, allowed, reason):
    """An InvalidInput that says the spec is missing, not that its value is None."""
    error = InvalidInput(field, None, allowed, reason=reason)
    error.message = "missing %s: %s (allowed: %s)" % (field, reason, allowed)
    error.args = (error.message,)
    return error


def _numa_nodes(specs, props):
    flavor_nodes, image_nodes = specs.get("hw:numa_nodes"), props.get("hw_numa_nodes")
    if flavor_nodes and image_nodes:
        raise InvalidInput("hw_numa_nodes", image_nodes, "unset when the flavor sets hw:numa_nodes",
                           reason="the image may not override the flavor's hw:numa_nodes=%s" % flavor_nodes)
    if flavor_nodes is not None and flavor_nodes != "":
        return _positive_int(flavor_nodes, "hw:numa_nodes")
    if image_nodes is not None and image_nodes != "":
        return _positive_int(image_nodes, "hw_numa_nodes")
    return None


def _numa_lists(specs, props, key, convert):
    """``hw:numa_cpus.N`` from the flavor, else ``hw_numa_cpus.N`` (or a list) from the image."""
    flavor_list = []
    for cell in range(NUMA_NODES_MAX):
        name = "hw:%s.%d" % (key, cell)
        if name not in specs:
            break
        flavor_list.append(convert(specs[name], name))
    image_list = props.get("hw_" + key)
    if image_list is not None:
        image_list = [convert(v, "hw_%s.%d" % (key, i)) for i, v in enumerate(image_list)]
    else:
        image_list = []
        for cell in range(NUMA_NODES_MAX):
            name = "hw_%s.%d" % (key, cell)
            if name not in props:
                break
            image_list.append(convert(props[name], name))
    if flavor_list and image_list:
        raise InvalidInput("hw_%s.0" % key, props.get("hw_%s.0" % key, props.get("hw_" + key)),
                           "unset when the flavor sets hw:%s.N" % key,
                           reason="the image may not override the flavor's guest NUMA layout")
    return flavor_list or image_list or None


def _numa_value(specs, props, key, node):
    name = "hw:%s.%d" % (key, node)
    if name in specs:
        return specs[name]
    listed = props.get("hw_" + key)
    return listed[node] if listed is not None else props.get("hw_%s.%d" % (key, node))


def _numa_cells(spec, nodes, pcpus, specs, props):
    all_cpus = set(range(spec.vcpus))
    vcpus = all_cpus - pcpus
    cpu_list = _numa_lists(specs, props, "numa_cpus", _cpu_list)
    mem_list = _numa_lists(specs, props, "numa_mem", _positive_int)
    if cpu_list is None and mem_list is None:
        if spec.vcpus % nodes or spec.memory_mb % nodes:
            raise InvalidInput("hw:numa_nodes", nodes,
                               "a divisor of both the vCPUs (%d) and the memory (%d MB), or hw:numa_cpus.N and "
                               "hw:numa_mem.N for every node" % (spec.vcpus, spec.memory_mb),
                               reason="the vCPUs and memory do not split evenly")
        per_cpus, per_mem = spec.vcpus // nodes, spec.memory_mb // nodes
        cells = []
        for node in range(nodes):
            ids = set(range(node * per_cpus, (node + 1) * per_cpus))
            cells.append(GuestCell(node, ids & vcpus, ids & pcpus, per_mem))
        return cells
    for key, values in (("numa_cpus", cpu_list), ("numa_mem", mem_list)):
        if values is None or len(values) != nodes:
            given = len(values or ())
            allowed = "hw:numa_cpus.N and hw:numa_mem.N for every node 0-%d" % (nodes - 1)
            if given > nodes:
                raise InvalidInput("hw:%s.%d" % (key, nodes), _numa_value(specs, props, key, nodes), allowed,
                                   reason="the guest has %d NUMA nodes (hw:numa_nodes)" % nodes)
            raise _missing("hw:%s.%d" % (key, given), allowed, reason="both lists must name every guest NUMA node")
    free = set(all_cpus)
    cells = []
    for node in range(nodes):
        for cpu in sorted(cpu_list[node]):
            field = "hw:numa_cpus.%d" % node
            if cpu > spec.vcpus - 1:
                raise InvalidInput(field, sorted(cpu_list[node]), "vCPU ids 0-%d" % (spec.vcpus - 1),
                                   reason="vCPU %d is out of range" % cpu)
            if cpu not in free:
                raise InvalidInput(field, sorted(cpu_list[node]), "each vCPU in exactly one node",
                                   reason="vCPU %d is already in another node" % cpu)
            free.discard(cpu)
        cells.append(GuestCell(node, cpu_list[node] & vcpus, cpu_list[node] & pcpus, mem_list[node]))
    if free:
        raise InvalidInput("hw:numa_cpus.N", sorted(free), "every vCPU 0-%d assigned to a node" % (spec.vcpus - 1),
                           reason="vCPUs %s are in no node" % sorted(free))
    total = sum(mem_list)
    if total != spec.memory_mb:
        raise InvalidInput("hw:numa_mem.N", mem_list, "node memory summing to the flavor's %d MB" % spec.memory_mb,
                           reason="the nodes sum to %d MB" % total)
    return cells


def _pci_requests(spec, specs, props, aliases):
    text = specs.get("pci_passthrough:alias")
    flavor_policy = _choice(specs.get("hw:pci_numa_affinity_policy"), "hw:pci_numa_affinity_policy",
                            PCI_NUMA_POLICIES)
    image_policy = _choice(props.get("hw_pci_numa_affinity_policy"), "hw_pci_numa_affinity_policy",
                           PCI_NUMA_POLICIES)
    if flavor_policy and image_policy and flavor_policy != image_policy:
        raise InvalidInput("hw_pci_numa_affinity_policy", image_policy, "%s (as the flavor) or unset" % flavor_policy,
                           reason="the image may not override the flavor's PCI NUMA affinity policy")
    spec.pci_numa_policy = flavor_policy or image_policy
    if not text:
        return []
    requests = []
    for part in _text(text).split(","):
        name, sep, count = part.strip().partition(":")
        name = name.strip()
        if name not in aliases:
            raise InvalidInput("pci_passthrough:alias", text, "aliases from the scheduler config pci_aliases: %s"
                               % (", ".join(sorted(aliases)) or "(none configured)"),
                               reason="unknown alias %r" % name)
        number = _positive_int(count if sep else "1", "pci_passthrough:alias")
        alias = aliases[name]
        policy = spec.pci_numa_policy or alias.get("numa_policy") or "legacy"
        requests.append(PciRequest(name, number, alias["vendor_id"], alias["product_id"], policy))
    return requests


# Nova's flavor disks: what a guest takes on the host's storage is their sum (swap in MB)
NOVA_DISK_KEYS = ("root_gb", "ephemeral_gb", "swap")


def flavor_disk_gb(flavor, field="flavor"):
    """The local disk a flavor takes, in GiB: Nova's ``root_gb + ephemeral_gb + swap`` (swap in MB,
    rounded up to a GiB); a flavor without any of them may give the total as ``disk_gb`` (the
    scheduler's own request shape, and schedule's deprecated name)."""
    if not any(flavor.get(key) is not None for key in NOVA_DISK_KEYS):
        return _positive_int(flavor.get("disk_gb") or 0, "%s.disk_gb" % field, minimum=0)
    root, ephemeral, swap = (_positive_int(flavor.get(key) or 0, "%s.%s" % (field, key), minimum=0)
                             for key in NOVA_DISK_KEYS)
    return root + ephemeral + (swap + 1023) // 1024


def _flavor_numbers(flavor, name):
    for key, minimum in (("vcpus", 1), ("memory_mb", 1)):
        if key not in flavor or flavor[key] is None:
            raise InvalidInput("flavor.%s" % key, None, "a whole number of %d or more" % minimum,
                               reason="request %s has no flavor %s" % (name, key))
    return (_positive_int(flavor["vcpus"], "flavor.vcpus"),
            _positive_int(flavor["memory_mb"], "flavor.memory_mb"),
            flavor_disk_gb(flavor))


# The scheduler hints this scheduler acts on (Nova's group, same_host, different_host and force_hosts, with the
# availability zone and RetryFilter's list of hosts tried); any other key is refused rather than ignored, so a
# typo (``different_hosts``) cannot quietly place a guest where it was asked not to go.
KNOWN_HINTS = ("availability_zone", "group", "same_host", "different_host", "force_host", "force", "retry_exclude")
GROUP_KEYS = ("name", "policy", "members")
_NAME_LIST_HINTS = ("same_host", "different_host", "retry_exclude")


def _hints(spec, hints):
    if not isinstance(hints, dict):
        raise InvalidInput("hints", hints, "a dict with keys among %s" % ", ".join(KNOWN_HINTS))
    unknown = sorted(str(key) for key in hints if key not in KNOWN_HINTS)
    if unknown:
        raise InvalidInput("hints.%s" % unknown[0], hints[unknown[0]], ", ".join(KNOWN_HINTS),
                           reason="unknown scheduler hint %r (known hints: %s)" % (unknown[0], ", ".join(KNOWN_HINTS)))
    spec.availability_zone = _hint_text(hints, "availability_zone")
    group = hints.get("group")
    if group:
        if not isinstance(group, dict):
            raise InvalidInput("hints.group", group, "a dict with %s" % ", ".join(GROUP_KEYS))
        extra = sorted(str(key) for key in group if key not in GROUP_KEYS)
        if extra:
            raise InvalidInput("hints.group.%s" % extra[0], group[extra[0]], ", ".join(GROUP_KEYS),
                               reason="unknown key %r of a server group" % extra[0])
        policy = _choice(group.get("policy"), "hints.group.policy", GROUP_POLICIES)
        if not policy:
            raise InvalidInput("hints.group.policy", None, ", ".join(GROUP_POLICIES))
        spec.group = {"name": _hint_text(group, "name", "hints.group.name") or "group", "policy": policy,
                      "members": list(_name_list(group.get("members"), "hints.group.members"))}
    spec.same_host, spec.different_host, spec.retry_exclude = (
        _name_list(hints.get(key), "hints." + key) for key in _NAME_LIST_HINTS)
    spec.force_host = _hint_text(hints, "force_host")
    force = hints.get("force")
    if force not in (None, True, False):
        raise InvalidInput("hints.force", force, "true or false")
    spec.force = bool(force)
    if spec.force and not spec.force_host:
        raise InvalidInput("hints.force", True, "true only together with hints.force_host")


def _hint_text(hints, key, field=None):
    value = hints.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidInput(field or "hints." + key, value, "a name (text)")
    return value


def _name_list(value, field):
    """A hint naming guests or hosts: a list of names. A single text is refused, not read as a list of letters."""
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) and item for item in value):
        raise InvalidInput(field, value, "a list of names, such as ['db1']")
    return tuple(value)


def build_request_spec(request, pci_aliases=None):
    """Validate one request dict and return its ``RequestSpec``.

    ``request``: ``{name, flavor: {name, vcpus, memory_mb, root_gb, ephemeral_gb, swap, extra_specs},
    image: {properties}, hints: {...}}``. ``pci_aliases``: ``{alias: {vendor_id,
    product_id, numa_policy}}`` from the scheduler configuration.
    """
    name = request.get("name")
    if not name:
        raise InvalidInput("requests[].name", name, "a non-empty name for every request")
    flavor = request.get("flavor") or {}
    vcpus, memory_mb, disk_gb = _flavor_numbers(flavor, name)
    spec = RequestSpec(name, vcpus, memory_mb, disk_gb)
    spec.flavor_name = flavor.get("name")
    specs = dict((k, v) for k, v in (flavor.get("extra_specs") or {}).items() if v is not None)
    props = dict((k, v) for k, v in ((request.get("image") or {}).get("properties") or {}).items() if v is not None)
    spec.extra_specs, spec.image_props = specs, props

    check_extra_specs(specs)
    cpu_policy = _cpu_policy(specs, props)
    if cpu_policy == MIXED and vcpus < 2:
        field = "hw:cpu_policy" if specs.get("hw:cpu_policy") else "hw_cpu_policy"
        raise InvalidInput(field, cpu_policy, "mixed only for flavors of 2 or more vCPUs (else shared or dedicated)",
                           reason="a mixed guest needs at least 2 vCPUs (one pinned, one floating), the flavor has 1")
    thread_policy = _thread_policy(specs, props)
    thread_field = "hw:cpu_thread_policy"
    emulator_policy = _choice(specs.get("hw:emulator_threads_policy"), "hw:emulator_threads_policy",
                              EMULATOR_POLICIES)
    realtime = _realtime(specs, props, vcpus, emulator_policy)
    dedicated = _dedicated_mask(specs, vcpus)
    cpu_policy = _placement_cpu_policy(specs, cpu_policy, emulator_policy, vcpus)
    smt_trait, trait_field = _smt_trait(specs, props)
    if smt_trait:
        if thread_policy:
            raise InvalidInput(trait_field, smt_trait, "either %s or hw:cpu_thread_policy / hw_cpu_thread_policy, "
                               "not both" % trait_field, reason="the thread policy is given twice (%s)" % thread_policy)
        # Nova: forbidding SMT isolates the guest's threads, requiring it asks for sibling threads
        thread_policy = ISOLATE if smt_trait == SMT_FORBIDDEN else REQUIRE
        thread_field = trait_field
    if cpu_policy in (None, SHARED):
        for field, value, problem in (
                (thread_field, smt_trait or thread_policy, "a thread policy"),
                ("hw:emulator_threads_policy", emulator_policy == EMULATOR_ISOLATE and emulator_policy,
                 "isolated emulator threads"),
                ("hw:cpu_dedicated_mask", dedicated and specs.get("hw:cpu_dedicated_mask"), "a dedicated mask"),
                ("hw:cpu_realtime", realtime and specs.get("hw:cpu_realtime"), "realtime vCPUs")):
            if value:
                raise InvalidInput(field, value, "only with hw:cpu_policy=dedicated%s"
                                   % (" or mixed" if field != "hw:cpu_dedicated_mask" else ""),
                                   reason="%s needs pinned CPUs, the CPU policy is %s" % (problem, cpu_policy or SHARED))
    elif cpu_policy == DEDICATED:
        if dedicated:
            raise InvalidInput("hw:cpu_dedicated_mask", specs.get("hw:cpu_dedicated_mask"),
                               "only with hw:cpu_policy=mixed")
        dedicated = set(range(vcpus))
    else:
        if (realtime and dedicated) or not (realtime or dedicated):
            raise InvalidInput("hw:cpu_dedicated_mask", specs.get("hw:cpu_dedicated_mask"),
                               "exactly one of hw:cpu_dedicated_mask or hw:cpu_realtime_mask with hw:cpu_policy=mixed")
        dedicated = dedicated or realtime
    dedicated = dedicated or set()

    spec.cpu_policy, spec.thread_policy, spec.emulator_policy = cpu_policy, thread_policy, emulator_policy
    spec.smt_trait = smt_trait
    spec.realtime_cpus = tuple(sorted(realtime or ()))
    spec.dedicated_vcpus = len(dedicated)
    spec.shared_vcpus = vcpus - len(dedicated)
    spec.pcpus_needed = len(dedicated) + (1 if dedicated and emulator_policy == EMULATOR_ISOLATE else 0)

    nodes = _numa_nodes(specs, props)
    spec.page_size = _page_size(specs, props)
    if nodes or spec.page_size or cpu_policy in (DEDICATED, MIXED):
        spec.numa_cells = _numa_cells(spec, nodes or 1, dedicated, specs, props)
    elif any(k.startswith("hw:numa_cpus.") or k.startswith("hw:numa_mem.") for k in specs):
        raise _missing("hw:numa_nodes", "a positive integer when hw:numa_cpus.N / hw:numa_mem.N are set",
                       reason="guest NUMA node layout given without hw:numa_nodes")

    spec.preferred_topology, spec.max_topology = cpu_topology.topology_constraints(specs, props)
    spec.topology = cpu_topology.best_topology(vcpus, spec.preferred_topology, spec.max_topology)
    spec.pci_requests = _pci_requests(spec, specs, props, pci_aliases or {})
    spec.networks, spec.bridges = _networks(request.get("networks"))
    _hints(spec, request.get("hints") or {})
    return spec


def placement_networks(interfaces):
    """What of ``interfaces`` (``[{type, source, ...}]``, an instance's or a guest's in the facts) placement asks
    a host for: ``[{network: NAME} | {bridge: NAME}]``."""
    return [{i["type"]: i["source"]} for i in interfaces or ()
            if i.get("type") in states.INTERFACE_TYPES and i.get("source")]


def _networks(networks):
    """``(network names, bridge names)`` of a request's ``networks``: ``[{network: NAME} | {bridge: NAME}]``
    (the instance module's shape; other keys, a MAC or a model, do not matter to placement)."""
    if networks is None:
        return (), ()
    if not isinstance(networks, list):
        raise InvalidInput("networks", networks, "a list, each item {network: NAME} or {bridge: NAME}")
    found = dict((kind, []) for kind in states.INTERFACE_TYPES)
    for index, item in enumerate(networks):
        kinds = [kind for kind in found if isinstance(item, dict) and item.get(kind)]
        if len(kinds) != 1 or not isinstance(item[kinds[0]], str):
            raise InvalidInput("networks[%d]" % index, item, "exactly one of {network: NAME} (a libvirt network) or "
                               "{bridge: NAME} (a host bridge)")
        if item[kinds[0]] not in found[kinds[0]]:
            found[kinds[0]].append(item[kinds[0]])
    return tuple(found[states.INTERFACE_NETWORK]), tuple(found[states.INTERFACE_BRIDGE])


def build_request_specs(requests, pci_aliases=None):
    """Validate every request before any is placed; errors say which request."""
    specs, seen = [], set()
    for index, request in enumerate(requests):
        label = "requests[%d]" % index
        try:
            if not isinstance(request, dict):
                raise InvalidInput("requests[%d]" % index, request, "a dict with name and flavor")
            spec = build_request_spec(request, pci_aliases)
        except InvalidInput as error:
            raise error.within("%s (%s)" % (label, request.get("name") if isinstance(request, dict) else "?"),
                               request=index)
        if spec.name in seen:
            raise InvalidInput("requests[%d].name" % index, spec.name, "names unique within the batch")
        seen.add(spec.name)
        specs.append(spec)
    return specs
