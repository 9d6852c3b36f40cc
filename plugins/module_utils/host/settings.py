# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-host settings an inventory gives (reservations, allocation ratios, CPU
sets, availability zone, aggregates, instance pools), with Nova's defaults.

``HOST_CONFIG_ARGSPEC`` is the module option spec (documented by the
``vmfleet.compute.host_config`` doc fragment); :func:`normalize_host_config`
validates the values and returns the ``config`` dict of docs/host-facts.md;
:func:`check_against_host` checks what needs the host's CPU list.
"""

from __future__ import annotations

import math

from ansible_collections.vmfleet.compute.plugins.module_utils.cpuset import format_cpuset, parse_cpuset
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, whole_number

DEFAULT_AVAILABILITY_ZONE = "default"

HOST_CONFIG_ARGSPEC = dict(
    reserved_host_memory_mb=dict(type="int", default=512),
    reserved_host_disk_mb=dict(type="int", default=0),
    reserved_host_cpus=dict(type="int", default=0),
    cpu_allocation_ratio=dict(type="float", default=4.0),
    ram_allocation_ratio=dict(type="float", default=1.0),
    disk_allocation_ratio=dict(type="float", default=1.0),
    cpu_dedicated_set=dict(type="str"),
    cpu_shared_set=dict(type="str"),
    availability_zone=dict(type="str", default=DEFAULT_AVAILABILITY_ZONE),
    aggregates=dict(type="list", elements="raw", default=[]),
    instance_pools=dict(type="list", elements="str", default=["default"]),
    disk_tiers=dict(type="dict", default={}),
    cpu_mode=dict(type="str", choices=["host-model", "host-passthrough", "custom", "none"]),
    cpu_models=dict(type="list", elements="str", default=[]),
    live_migration_inbound_addr=dict(type="str"),
    enabled=dict(type="bool", default=True),
    disabled_reason=dict(type="str"),
)

_RESERVED = ("reserved_host_memory_mb", "reserved_host_disk_mb", "reserved_host_cpus")
_RATIOS = ("cpu_allocation_ratio", "ram_allocation_ratio", "disk_allocation_ratio")
_CPU_SETS = ("cpu_dedicated_set", "cpu_shared_set")


def normalize_host_config(params):
    """Validate host settings and apply defaults; return the ``config`` dict.

    ``params`` may hold any subset of ``HOST_CONFIG_ARGSPEC`` (other keys
    are ignored). Raises InvalidInput naming the field and what is allowed.
    """
    values = dict((key, spec.get("default")) for key, spec in HOST_CONFIG_ARGSPEC.items())
    values.update((key, params[key]) for key in HOST_CONFIG_ARGSPEC if params.get(key) is not None)
    config = {}
    for field in _RESERVED:
        config[field] = whole_number(field, values[field])
    for field in _RATIOS:
        config[field] = _ratio(field, values[field])
    for field in _CPU_SETS:
        text = values[field]
        config[field] = parse_cpuset(text, field) if text not in (None, "") else None
        if text not in (None, "") and not config[field]:
            raise InvalidInput(field, text, "a non-empty CPU list such as '4-12,^8,15', or unset")
    overlap = set(config["cpu_dedicated_set"] or []) & set(config["cpu_shared_set"] or [])
    if overlap:
        raise InvalidInput(
            "cpu_dedicated_set", values["cpu_dedicated_set"],
            "CPUs not in cpu_shared_set (%s)" % values["cpu_shared_set"],
            reason="CPUs %s are in both sets" % format_cpuset(overlap))
    zone = values["availability_zone"]
    if not isinstance(zone, str) or not zone.strip():
        raise InvalidInput("availability_zone", zone, "a non-empty name")
    config["availability_zone"] = zone
    config["aggregates"] = _aggregates(values["aggregates"])
    config["instance_pools"] = _names("instance_pools", values["instance_pools"])
    config["disk_tiers"] = _disk_tiers(values["disk_tiers"], config["instance_pools"])
    config["cpu_mode"], config["cpu_models"] = _cpu_mode(values["cpu_mode"], values["cpu_models"])
    address = values["live_migration_inbound_addr"]
    if address is not None and (not isinstance(address, str) or not address.strip() or "/" in address):
        raise InvalidInput("live_migration_inbound_addr", address, "a host name or IP address (no scheme, no path)")
    config["live_migration_inbound_addr"] = address.strip() if address else None
    config["enabled"] = bool(values["enabled"])
    config["disabled_reason"] = values["disabled_reason"]
    return config


def check_against_host(config, host_cpu_ids):
    """Raise InvalidInput when the CPU sets name CPUs the host does not have,
    or when ``reserved_host_cpus`` reserves more CPUs than the floating pool holds."""
    known = set(host_cpu_ids)
    for field in _CPU_SETS:
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


def _ratio(field, value):
    try:
        ratio = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(field, value, "a number greater than 0, such as 1.0 or 4.0")
    if isinstance(value, bool) or math.isnan(ratio) or ratio <= 0 or math.isinf(ratio):
        raise InvalidInput(field, value, "a number greater than 0, such as 1.0 or 4.0")
    return ratio


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


CPU_MODES = ("host-model", "host-passthrough", "custom", "none")


def _cpu_mode(mode, models):
    """Nova's ``[libvirt] cpu_mode`` / ``cpu_models``: the guest CPU new guests get here.

    None (unset) means Nova's default: host-model under KVM, none under TCG.
    ``custom`` needs at least one model; the first is used."""
    if mode is not None and mode not in CPU_MODES:
        raise InvalidInput("cpu_mode", mode, ", ".join(CPU_MODES))
    models = _names("cpu_models", models or [])
    if mode == "custom" and not models:
        raise InvalidInput("cpu_models", models, "at least one CPU model name (such as Skylake-Server) with "
                                                 "cpu_mode custom")
    if models and mode != "custom":
        raise InvalidInput("cpu_models", models, "only with cpu_mode custom")
    return mode, models


def _disk_tiers(tiers, instance_pools):
    """Storage tier (flavor extra spec ``vmfleet:disk_tier``) -> pool of this host.

    A tier's pool must be an instance pool: its disks count as local disk."""
    allowed = "a mapping of tier names (such as hdd, ssd, nvme) to instance pools of the host (%s)" % (
        ", ".join(instance_pools))
    if not isinstance(tiers, dict):
        raise InvalidInput("disk_tiers", tiers, allowed)
    for tier, pool in tiers.items():
        if not isinstance(tier, str) or not tier.strip() or pool not in instance_pools:
            raise InvalidInput("disk_tiers", {tier: pool}, allowed,
                               reason="pool %r is not in instance_pools" % (pool,) if isinstance(tier, str) else None)
    return dict(tiers)


def _aggregates(values):
    allowed = "a list of aggregate names, or of {name: NAME, metadata: {KEY: VALUE}}"
    if not isinstance(values, (list, tuple)):
        raise InvalidInput("aggregates", values, allowed)
    aggregates = []
    for item in values:
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or set(item) - {"name", "metadata"}:
            raise InvalidInput("aggregates", item, allowed)
        name = item.get("name")
        metadata = item.get("metadata") or {}
        if not isinstance(name, str) or not name.strip() or not isinstance(metadata, dict):
            raise InvalidInput("aggregates", item, allowed)
        if any(a["name"] == name for a in aggregates):
            raise InvalidInput("aggregates", name, allowed, reason="aggregate %s is listed twice" % name)
        # Nova's aggregate metadata values are strings; so are ours.
        aggregates.append({"name": name, "metadata": dict((str(k), _text(v)) for k, v in metadata.items())})
    return aggregates


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
