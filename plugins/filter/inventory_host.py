# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: inventory_host
short_description: A hypervisor's connection and settings, read from its inventory variables
version_added: 0.1.0
description:
  - Takes an inventory host name and C(hostvars) and returns the host's entry that the O(vmfleet.compute.host_maintenance#module:hosts)
    option (and the other modules' C(hosts)) accepts in place of its facts. The module then reads the facts
    itself, so a play that only drains a host does not first read every host with M(vmfleet.compute.hypervisor_info).
  - The variables are those the role C(vmfleet.compute.hypervisor_facts) passes to M(vmfleet.compute.hypervisor_info)
    C(vmfleet_libvirt_uri) (default C(qemu:///system)), C(vmfleet_state_dir), C(vmfleet_migration_address)
    (as C(live_migration_inbound_addr)), C(vmfleet_migration_uri) (as C(live_migration_uri)) and C(vmfleet_<setting>)
    for each host setting
    (C(vmfleet_reserved_host_memory_mb), C(vmfleet_cpu_allocation_ratio), C(vmfleet_instance_pools), ...),
    but for C(enabled) and C(disabled_reason), which a cordon sets. Unset variables are left out, so Nova's
    defaults apply.
options:
  _input:
    description: The host's inventory name.
    type: str
    required: true
  hostvars:
    description: The play's C(hostvars).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Drain hv1 onto the other hypervisors, with no facts play before
  vmfleet.compute.host_maintenance:
    state: drained
    name: hv1
    hosts: "{{ groups['hypervisors'] | map('vmfleet.compute.inventory_host', hostvars) | list }}"
  delegate_to: localhost
"""

RETURN = r"""
_value:
  description: The host's entry, C(name), C(uri) and the settings its inventory sets.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.vmfleet.compute.plugins.module_utils.host.settings import inventory_variables

# hypervisor_info option -> inventory variable, from the settings' one declaration;
# the role hypervisor_facts passes the same (a unit test holds it so)
SETTING_VARIABLES = inventory_variables()


def inventory_host(name, hostvars):
    try:
        variables = hostvars[name]
    except (KeyError, TypeError):
        raise AnsibleFilterError("inventory_host: %r is not a host of the inventory" % (name,))
    entry = {"name": name, "uri": variables.get("vmfleet_libvirt_uri") or "qemu:///system"}
    for setting, variable in SETTING_VARIABLES.items():
        value = variables.get(variable)
        if value is not None:
            entry[setting] = value
    return entry


class FilterModule(object):
    def filters(self):
        return {"inventory_host": inventory_host}
