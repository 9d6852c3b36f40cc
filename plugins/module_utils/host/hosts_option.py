# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``hosts`` option, parsed in one place for every module that takes it.

An item is a host's facts (hypervisor_info's ``hypervisor``), a registered
hypervisor_info result holding them, or (where the caller reads hosts itself:
the fleet's operations) a host's *entry*: its name, uri, state folder and
hypervisor_info's host settings, as the ``inventory_host`` filter builds it.
Nothing here talks to libvirt: the preflight and the scheduler parse with it too.
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.host.settings import (
    HOST_CONFIG_ARGSPEC,
    normalize_host_config,
)

# what a host's entry (not yet its facts) may hold: hypervisor_info's options
ENTRY_KEYS = frozenset(["name", "uri", "state_dir"]) | frozenset(HOST_CONFIG_ARGSPEC)
# what only facts hold: their settings are normalized under config, the state folder under maintenance
FACTS_ONLY_KEYS = ("numa", "config", "maintenance")

# the option as the fleet's operations take it (documented by the vmfleet.compute.fleet_hosts doc fragment)
HOSTS_ARGSPEC = dict(hosts=dict(type="list", elements="dict", required=True))

FACTS_ALLOWED = "host facts as hypervisor_info returns them (a dict with name, config, resources, ...)"
HOSTS_ALLOWED = ("host facts as hypervisor_info returns them, or a host's entry: name, uri, state_dir and "
                 "hypervisor_info's host settings (the vmfleet.compute.inventory_host filter builds it)")


def is_entry(item):
    """True for a host's entry (connection and settings), False for its facts (hypervisor_info's shape)."""
    return not any(key in item for key in FACTS_ONLY_KEYS)


def host_facts(item, index, entries=True):
    """One ``hosts`` item as facts: facts, a registered hypervisor_info result holding them, or (with
    ``entries``) a host's entry, returned as the facts' name, uri, config and maintenance (not read yet:
    no ``numa``). Operations need a ``uri`` to reach the host; without ``entries`` (the preflight, the
    scheduler: pure over facts) only the name is required."""
    if isinstance(item, dict) and isinstance(item.get("hypervisor"), dict):
        item = item["hypervisor"]
    allowed = HOSTS_ALLOWED if entries else FACTS_ALLOWED
    if not isinstance(item, dict) or not item.get("name") or (entries and not item.get("uri")):
        raise InvalidInput("hosts[%d]" % index, item if not isinstance(item, dict) else item.get("name"), allowed)
    if not is_entry(item):
        return item
    if not entries:
        raise InvalidInput("hosts[%d]" % index, item["name"], allowed,
                           reason="a host's entry is not enough here: this module reads no host itself, "
                                  "give it hypervisor_info's results")
    unknown = sorted(set(item) - ENTRY_KEYS)
    if unknown:
        raise InvalidInput("hosts[%d].%s" % (index, unknown[0]), item[unknown[0]], HOSTS_ALLOWED)
    try:
        config = normalize_host_config(item)
    except InvalidInput as exc:
        raise InvalidInput("hosts[%d].%s" % (index, exc.field), exc.value, exc.allowed)
    return {"name": item["name"], "uri": item["uri"], "config": config,
            "maintenance": {"state_dir": item.get("state_dir")}}


def parse_hosts(hosts, entries=True):
    """Every ``hosts`` item as facts (see host_facts), each host once."""
    parsed, seen = [], set()
    for index, item in enumerate(hosts or ()):
        facts = host_facts(item, index, entries)
        if facts["name"] in seen:
            raise InvalidInput("hosts[%d].name" % index, facts["name"], "each host once")
        seen.add(facts["name"])
        parsed.append(facts)
    return parsed
