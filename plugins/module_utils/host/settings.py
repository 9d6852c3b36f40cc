# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-host settings an inventory gives (reservations, allocation ratios, CPU
sets, availability zone, aggregates, instance pools), with Nova's defaults.

``HOST_SETTINGS`` declares each setting once: its option name, type, default,
choices, inventory variable, one-line meaning and Nova's name for it. From it
come ``HOST_CONFIG_ARGSPEC`` (the module options), :func:`inventory_variables`
(what the ``inventory_host`` filter and the ``hypervisor_facts`` role read) and
:func:`normalize_host_config`, which validates the values and returns the
``config`` dict of the host facts. The ``vmfleet.compute.host_config`` doc
fragment and the role must stay static YAML; unit tests hold them equal to
``HOST_SETTINGS``, and the scheduler's fallbacks for a missing key too.
:func:`check_against_host` checks what needs the host's CPU list.
"""

from __future__ import annotations

import copy
import math
from urllib.parse import urlsplit
from dataclasses import dataclass
from typing import Any, Callable, Optional

from ansible_collections.vmfleet.compute.plugins.module_utils.cpuset import format_cpuset, parse_cpuset
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, whole_number

DEFAULT_AVAILABILITY_ZONE = "default"
CPU_MODES = ("host-model", "host-passthrough", "custom", "none")
# The host's state folder is a per-host inventory variable too, but an option of the
# modules (a path they read), not a setting of the ``config`` dict.
STATE_DIR_VARIABLE = "vmfleet_state_dir"


@dataclass(frozen=True)
class HostSetting:
    """One host setting, declared once."""

    name: str                   # module option and key of the host facts' ``config``
    type: str                   # the option's Ansible type
    parse: Callable[[str, Any], Any]  # (field, value given) -> value in ``config``; raises InvalidInput
    description: str            # one line; the doc fragment's description starts with it
    default: Any = None
    elements: Optional[str] = None
    choices: Optional[tuple] = None
    variable: Optional[str] = None   # inventory variable; None: the inventory does not set it
    nova_name: Optional[str] = None  # Nova's option, where Nova has one

    def argspec(self):
        spec = {"type": self.type}
        for key in ("default", "elements", "choices"):
            value = getattr(self, key)
            if value is not None:
                spec[key] = list(value) if key == "choices" else copy.deepcopy(value)
        return spec


def _ratio(field, value):
    try:
        ratio = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(field, value, "a number greater than 0, such as 1.0 or 4.0")
    if isinstance(value, bool) or math.isnan(ratio) or ratio <= 0 or math.isinf(ratio):
        raise InvalidInput(field, value, "a number greater than 0, such as 1.0 or 4.0")
    return ratio


def _cpu_set(field, text):
    """CPU list syntax -> sorted CPU ids; None when unset (Nova: no set given)."""
    if text in (None, ""):
        return None
    cpus = parse_cpuset(text, field)
    if not cpus:
        raise InvalidInput(field, text, "a non-empty CPU list such as '4-12,^8,15', or unset")
    return cpus


def _name(field, value):
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, value, "a non-empty name")
    return value


def _names(field, values):
    if not isinstance(values, (list, tuple)):
        raise InvalidInput(field, values, "a list of names")
    names = []
    for name in values:
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(field, values, "a list of non-empty names")
        if name not in names:
            names.append(name)
    return names


def _aggregates(field, values):
    allowed = "a list of aggregate names, or of {name: NAME, metadata: {KEY: VALUE}}"
    if not isinstance(values, (list, tuple)):
        raise InvalidInput(field, values, allowed)
    aggregates = []
    for item in values:
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or set(item) - {"name", "metadata"}:
            raise InvalidInput(field, item, allowed)
        name = item.get("name")
        metadata = item.get("metadata") or {}
        if not isinstance(name, str) or not name.strip() or not isinstance(metadata, dict):
            raise InvalidInput(field, item, allowed)
        if any(a["name"] == name for a in aggregates):
            raise InvalidInput(field, name, allowed, reason="aggregate %s is listed twice" % name)
        # Nova's aggregate metadata values are strings; so are ours.
        aggregates.append({"name": name, "metadata": dict((str(k), _text(v)) for k, v in metadata.items())})
    return aggregates


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


_TIERS_ALLOWED = "a mapping of tier names (such as hdd, ssd, nvme) to instance pools of the host"


def _disk_tiers(field, tiers):
    """Storage tier (flavor extra spec ``vmfleet:disk_tier``) -> pool; the pools are checked
    against instance_pools by normalize_host_config."""
    if not isinstance(tiers, dict):
        raise InvalidInput(field, tiers, _TIERS_ALLOWED)
    for tier in tiers:
        if not isinstance(tier, str) or not tier.strip():
            raise InvalidInput(field, {tier: tiers[tier]}, _TIERS_ALLOWED)
    return dict(tiers)


def _address(field, address):
    if address is None:
        return None
    if not isinstance(address, str) or not address.strip() or "/" in address:
        raise InvalidInput(field, address, "a host name or IP address (no scheme, no path)")
    return address.strip()


# the remote transports a peer's libvirtd can dial (qemu:// alone is TLS); unix and ext are local or opaque
PEER_URI_SCHEMES = ("qemu+ssh", "qemu+tls", "qemu+tcp", "qemu")
_PEER_URI_ALLOWED = ("a libvirt URI naming this host, with a scheme of %s and the path /system or /session, "
                     "such as qemu+tls://compute-01.example.net/system" % ", ".join(PEER_URI_SCHEMES))


def _peer_uri(field, uri):
    """A URI another host's libvirtd can dial: a remote scheme and a host name (qemu:///system, with no host,
    would be the source itself)."""
    if uri is None:
        return None
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidInput(field, uri, _PEER_URI_ALLOWED)
    try:
        parts = urlsplit(uri.strip())
        port = parts.port  # urlsplit checks the port only when it is read
    except ValueError:  # a port that is not a number, an unclosed IPv6 address
        raise InvalidInput(field, uri, _PEER_URI_ALLOWED)
    if (parts.scheme not in PEER_URI_SCHEMES or not parts.hostname or port == 0
            or parts.path not in ("/system", "/session")):
        raise InvalidInput(field, uri, _PEER_URI_ALLOWED)
    return uri.strip()


def _flag(_field, value):
    return bool(value)


def _as_given(_field, value):
    return value


HOST_SETTINGS = (
    HostSetting("reserved_host_memory_mb", "int", whole_number, default=512,
                variable="vmfleet_reserved_host_memory_mb", nova_name="reserved_host_memory_mb",
                description="Memory (MiB) kept for the host itself; counted as used."),
    HostSetting("reserved_host_disk_mb", "int", whole_number, default=0,
                variable="vmfleet_reserved_host_disk_mb", nova_name="reserved_host_disk_mb",
                description="Disk (MiB) of the instance pools kept for the host; counted as used, "
                            "rounded up to whole GiB."),
    HostSetting("reserved_host_cpus", "int", whole_number, default=0,
                variable="vmfleet_reserved_host_cpus", nova_name="reserved_host_cpus",
                description="Number of CPUs taken off the floating (shared) pool's capacity."),
    HostSetting("cpu_allocation_ratio", "float", _ratio, default=4.0,
                variable="vmfleet_cpu_allocation_ratio", nova_name="cpu_allocation_ratio",
                description="Overcommit ratio of floating vCPUs to shared host CPUs."),
    HostSetting("ram_allocation_ratio", "float", _ratio, default=1.0,
                variable="vmfleet_ram_allocation_ratio", nova_name="ram_allocation_ratio",
                description="Overcommit ratio of guest memory to host memory."),
    HostSetting("disk_allocation_ratio", "float", _ratio, default=1.0,
                variable="vmfleet_disk_allocation_ratio", nova_name="disk_allocation_ratio",
                description="Overcommit ratio of guest disk to the instance pools' capacity."),
    HostSetting("cpu_dedicated_set", "str", _cpu_set,
                variable="vmfleet_cpu_dedicated_set", nova_name="[compute] cpu_dedicated_set",
                description="Host CPUs that pinned (dedicated) guest vCPUs may use, in CPU list syntax "
                            "such as V(4-12,^8,15)."),
    HostSetting("cpu_shared_set", "str", _cpu_set,
                variable="vmfleet_cpu_shared_set", nova_name="[compute] cpu_shared_set",
                description="Host CPUs that floating (shared) guest vCPUs and shared emulator threads run on, "
                            "in CPU list syntax."),
    HostSetting("availability_zone", "str", _name, default=DEFAULT_AVAILABILITY_ZONE,
                variable="vmfleet_availability_zone", nova_name="default_availability_zone",
                description="Availability zone of the host."),
    HostSetting("aggregates", "list", _aggregates, default=[], elements="raw",
                variable="vmfleet_aggregates",
                description="Host aggregates the host belongs to, as names or as dicts "
                            "C({name: NAME, metadata: {KEY: VALUE}})."),
    HostSetting("instance_pools", "list", _names, default=["default"], elements="str",
                variable="vmfleet_instance_pools",
                description="libvirt storage pools whose capacity counts as the host's local disk (C(local_gb))."),
    HostSetting("disk_tiers", "dict", _disk_tiers, default={},
                variable="vmfleet_disk_tiers",
                description="Storage tiers of the host, as C({TIER: POOL}), such as C({hdd: default, ssd: fast})."),
    HostSetting("cpu_mode", "str", _as_given, choices=CPU_MODES,
                variable="vmfleet_cpu_mode", nova_name="[libvirt] cpu_mode",
                description="The guest CPU of guests built here."),
    HostSetting("cpu_models", "list", _names, default=[], elements="str",
                variable="vmfleet_cpu_models", nova_name="[libvirt] cpu_models",
                description="CPU models for O(cpu_mode=custom), such as V(Skylake-Server) or V(kvm64)."),
    HostSetting("live_migration_inbound_addr", "str", _address,
                variable="vmfleet_migration_address", nova_name="[libvirt] live_migration_inbound_addr",
                description="The address other hosts send live migration data to, such as a storage or "
                            "migration network's address."),
    HostSetting("live_migration_uri", "str", _peer_uri,
                variable="vmfleet_migration_uri", nova_name="[libvirt] live_migration_uri",
                description="The URI other hosts' libvirtd use to reach this host's libvirtd for a peer-to-peer "
                            "live migration, such as V(qemu+tls://compute-01.example.net/system) (certificates and "
                            "keys as the source host sees them); unset means the host's own URI."),
    # Set by a cordon (host_maintenance), not by the inventory: no variable.
    HostSetting("enabled", "bool", _flag, default=True,
                description="Whether the scheduler may place new guests here; V(false) while the host is cordoned."),
    HostSetting("disabled_reason", "str", _as_given,
                description="Why the host is disabled, shown to people; only meaningful with O(enabled=false)."),
)

HOST_CONFIG_ARGSPEC = dict((setting.name, setting.argspec()) for setting in HOST_SETTINGS)


def inventory_variables():
    """Module option -> inventory variable, for every option an inventory sets per host
    (the ``hypervisor_facts`` role passes these to hypervisor_info; ``inventory_host`` reads them)."""
    variables = {"state_dir": STATE_DIR_VARIABLE}
    variables.update((setting.name, setting.variable) for setting in HOST_SETTINGS if setting.variable)
    return variables


def normalize_host_config(params):
    """Validate host settings and apply defaults; return the ``config`` dict.

    ``params`` may hold any subset of ``HOST_CONFIG_ARGSPEC`` (other keys
    are ignored; None means the default). Raises InvalidInput naming the
    field and what is allowed.
    """
    config = {}
    for setting in HOST_SETTINGS:
        value = params.get(setting.name)
        if value is None:
            value = copy.deepcopy(setting.default)
        if setting.choices and value is not None and value not in setting.choices:
            raise InvalidInput(setting.name, value, ", ".join(setting.choices))
        config[setting.name] = setting.parse(setting.name, value)
    _check_cpu_sets_disjoint(config)
    _check_tier_pools(config)
    _check_cpu_models(config)
    return config


def _check_cpu_sets_disjoint(config):
    overlap = set(config["cpu_dedicated_set"] or []) & set(config["cpu_shared_set"] or [])
    if overlap:
        raise InvalidInput(
            "cpu_dedicated_set", format_cpuset(config["cpu_dedicated_set"]),
            "CPUs not in cpu_shared_set (%s)" % format_cpuset(config["cpu_shared_set"]),
            reason="CPUs %s are in both sets" % format_cpuset(overlap))


def _check_tier_pools(config):
    """A tier's pool must be an instance pool: its disks count as local disk."""
    pools = config["instance_pools"]
    for tier, pool in config["disk_tiers"].items():
        if pool not in pools:
            raise InvalidInput("disk_tiers", {tier: pool}, "%s (%s)" % (_TIERS_ALLOWED, ", ".join(pools)),
                               reason="pool %r is not in instance_pools" % (pool,))


def _check_cpu_models(config):
    """Nova's ``[libvirt] cpu_mode`` / ``cpu_models``: the guest CPU new guests get here.

    None (unset) means Nova's default: host-model under KVM, none under TCG.
    ``custom`` needs at least one model; the first is used."""
    mode, models = config["cpu_mode"], config["cpu_models"]
    if mode == "custom" and not models:
        raise InvalidInput("cpu_models", models, "at least one CPU model name (such as Skylake-Server) with "
                                                 "cpu_mode custom")
    if models and mode != "custom":
        raise InvalidInput("cpu_models", models, "only with cpu_mode custom")


def check_against_host(config, host_cpu_ids):
    """Raise InvalidInput when the CPU sets name CPUs the host does not have,
    or when ``reserved_host_cpus`` reserves more CPUs than the floating pool holds."""
    known = set(host_cpu_ids)
    for field in ("cpu_dedicated_set", "cpu_shared_set"):
        missing = set(config[field] or []) - known
        if missing:
            raise InvalidInput(
                field, format_cpuset(config[field]),
                "CPU ids of this host (%s)" % format_cpuset(known),
                reason="CPUs %s do not exist on this host" % format_cpuset(missing))
    if config["cpu_shared_set"] is not None:
        floating = len(config["cpu_shared_set"])
    else:
        floating = len(known - set(config["cpu_dedicated_set"] or []))
    if config["reserved_host_cpus"] > floating:
        raise InvalidInput(
            "reserved_host_cpus", config["reserved_host_cpus"],
            "at most the %d CPUs of the floating (shared) pool" % floating)
