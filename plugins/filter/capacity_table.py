# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: capacity_table
short_description: Render hypervisor facts as a capacity table
version_added: 0.1.0
description:
  - Turns a list of C(hypervisor) results of M(vmfleet.compute.hypervisor_info) into a
    plain-text table, one row per host, with vCPU, pinned CPU, RAM and disk used and total
    counted the way Nova's resource tracker counts them, and a totals row.
options:
  _input:
    description: List of host facts, as returned by M(vmfleet.compute.hypervisor_info) under C(hypervisor).
    type: list
    elements: dict
    required: true
  numa:
    description: Add one line per NUMA cell under each host.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Print the fleet's capacity
  ansible.builtin.debug:
    msg: "{{ groups['hypervisors'] | map('extract', hostvars, 'hypervisor_facts_host') | vmfleet.compute.capacity_table }}"
"""

RETURN = r"""
_value:
  description: The table, lines separated by newlines.
  type: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.vmfleet.compute.plugins.module_utils.host.capacity_table import render_capacity_table


def capacity_table(hosts, numa=True):
    if not isinstance(hosts, list) or not all(isinstance(h, dict) for h in hosts):
        raise AnsibleFilterError("capacity_table expects a list of hypervisor facts (dicts), got %s"
                                 % type(hosts).__name__)
    try:
        return render_capacity_table(hosts, numa=numa)
    except KeyError as exc:
        raise AnsibleFilterError("capacity_table: a host's facts lack %s; pass the 'hypervisor' "
                                 "result of vmfleet.compute.hypervisor_info" % exc)


class FilterModule(object):
    def filters(self):
        return {"capacity_table": capacity_table}
