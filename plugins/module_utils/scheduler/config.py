# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scheduler's configuration, with Nova's option names and defaults.

``build_config(raw)`` validates a user dict and returns a ``SchedulerConfig``:
the enabled filters (cheapest first), the weighers with their multipliers,
``host_subset_size``, ``max_io_ops_per_host`` (8), ``max_instances_per_host``
(50), ``percentage_of_hosts_to_score`` (100: every host, as Nova; see
``sampling``), ``host_failures_to_tolerate`` (0: off; 1: admission control keeps
every host drainable onto the others, planning/admission.py) and the PCI aliases.
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, whole_number
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.filters import (
    ALIASES, DEFAULT_FILTERS, FILTERS)
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import PCI_NUMA_POLICIES
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.sampling import ALL_HOSTS
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.weighers import DEFAULT_WEIGHERS, WEIGHERS

# the scheduling options of the modules that place an instance (doc fragment vmfleet.compute.scheduling)
SCHEDULING_ARGSPEC = dict(
    scheduler_config=dict(type="dict", default={}),
    seed=dict(type="int"),
)
INT_OPTIONS = {"host_subset_size": (1, 1), "max_io_ops_per_host": (8, 0), "max_instances_per_host": (50, 0),
               "percentage_of_hosts_to_score": (ALL_HOSTS, 0), "host_failures_to_tolerate": (0, 0)}
# tolerating 2 failures would need a plan per pair of hosts drained together: not offered
MAXIMUM = {"percentage_of_hosts_to_score": ALL_HOSTS, "host_failures_to_tolerate": 1}
MULTIPLIERS = dict((w.option, w.default) for w in WEIGHERS.values())
KNOWN = set(INT_OPTIONS) | set(MULTIPLIERS) | {"enabled_filters", "weighers", "pci_aliases"}


class SchedulerConfig(dict):
    """The validated options (a dict) plus ``filters`` and ``weighers`` resolved to objects."""

    def __init__(self, options, filters, weighers, pci_aliases):
        super(SchedulerConfig, self).__init__(options)
        self.filters = filters            # filter objects, cheapest first
        self.weighers = weighers          # [(weigher, multiplier)]
        self.pci_aliases = pci_aliases    # {alias: {vendor_id, product_id, numa_policy}}


def _int(raw, key, default, minimum):
    value = raw.get(key)
    if value is None:
        return default
    number = whole_number("config.%s" % key, value, minimum)
    if key in MAXIMUM and number > MAXIMUM[key]:
        raise InvalidInput("config.%s" % key, value, "a whole number from %d to %d" % (minimum, MAXIMUM[key]))
    return number


def _float(raw, key, default):
    value = raw.get(key)
    if value is None:
        return default
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        return float(value)
    except (TypeError, ValueError):
        raise InvalidInput("config.%s" % key, value, "a number (negative inverts the weigher)")


def _names(raw, key, registry, default, aliases=None):
    names = raw.get(key)
    if names is None:
        names = default
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    resolved = []
    for name in names:
        real = (aliases or {}).get(name, name)
        if real not in registry:
            raise InvalidInput("config.%s" % key, name, ", ".join(sorted(registry)))
        if real not in resolved:
            resolved.append(real)
    return resolved


def _hex_id(value, field):
    text = str(value or "").strip().lower()
    text = text[2:] if text.startswith("0x") else text
    if len(text) != 4 or any(c not in "0123456789abcdef" for c in text):
        raise InvalidInput(field, value, "a 4-digit hexadecimal PCI id such as 8086 or 0x8086")
    return text


def _pci_aliases(raw):
    aliases = {}
    items = raw.get("pci_aliases") or []
    if isinstance(items, dict):
        items = [dict(alias, name=name) for name, alias in items.items()]
    for index, alias in enumerate(items):
        field = "config.pci_aliases[%d]" % index
        if not isinstance(alias, dict) or not alias.get("name"):
            raise InvalidInput(field, alias, "a dict with name, vendor_id, product_id and optional numa_policy")
        policy = str(alias.get("numa_policy") or "legacy").lower()
        if policy not in PCI_NUMA_POLICIES:
            raise InvalidInput(field + ".numa_policy", alias.get("numa_policy"), ", ".join(PCI_NUMA_POLICIES))
        aliases[alias["name"]] = {"vendor_id": _hex_id(alias.get("vendor_id"), field + ".vendor_id"),
                                  "product_id": _hex_id(alias.get("product_id"), field + ".product_id"),
                                  "numa_policy": policy}
    return aliases


def build_config(raw=None):
    """Validate ``raw`` (None = Nova's defaults) and return a ``SchedulerConfig``."""
    raw = dict(raw or {})
    unknown = sorted(set(k for k, v in raw.items() if v is not None) - KNOWN)
    if unknown:
        raise InvalidInput("config.%s" % unknown[0], raw[unknown[0]], ", ".join(sorted(KNOWN)))
    options = {}
    for key, (default, minimum) in INT_OPTIONS.items():
        options[key] = _int(raw, key, default, minimum)
    for key, default in MULTIPLIERS.items():
        options[key] = _float(raw, key, default)
    options["enabled_filters"] = _names(raw, "enabled_filters", FILTERS, DEFAULT_FILTERS, ALIASES)
    options["weighers"] = _names(raw, "weighers", WEIGHERS, DEFAULT_WEIGHERS)
    filters = sorted((FILTERS[n] for n in options["enabled_filters"]), key=lambda f: f.cost)
    weighers = [(WEIGHERS[n], options[WEIGHERS[n].option]) for n in options["weighers"]]
    aliases = _pci_aliases(raw)
    options["pci_aliases"] = [dict(v, name=k) for k, v in sorted(aliases.items())]
    return SchedulerConfig(options, filters, weighers, aliases)
