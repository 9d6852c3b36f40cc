#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: host_maintenance
short_description: Cordon or uncordon a hypervisor host (the scheduler stops placing onto it)
version_added: 0.1.0
description:
  - Keeps a host's maintenance state in its state folder (inventory C(vmfleet_state_dir)). V(cordoned) writes
    the record C(<state_dir>/cordon.json) (reason, by whom, when), atomically; V(uncordoned) removes it.
  - M(vmfleet.compute.hypervisor_info) with O(vmfleet.compute.hypervisor_info#module:state_dir) reports a
    cordoned host as disabled (C(config.enabled=false) with the reason), so the scheduler's C(ComputeFilter)
    never places onto it, and the upgrade preflight reports it.
  - Cordoning moves no guest. Draining the host (a state C(drained), every guest moved elsewhere) comes with the
    live migration and drain work of the collection and is not available yet.
  - Idempotent; a host already cordoned keeps its record as it is (reason, author and time of the cordon in force).
author:
  - vmfleet.compute contributors (@vmfleet)
options:
  state:
    description:
      - V(cordoned) disables the host for new placements; V(uncordoned) enables it again.
    type: str
    choices: [cordoned, uncordoned]
    default: cordoned
  state_dir:
    description:
      - The host's state folder (inventory C(vmfleet_state_dir)), on the machine that runs the module.
      - Created (mode 0755) when missing.
    type: path
    required: true
  name:
    description:
      - The host's name in the fleet, written into the record. Usually C({{ inventory_hostname }}).
    type: str
  reason:
    description:
      - Why the host is cordoned; shown by M(vmfleet.compute.hypervisor_info), the capacity report and the preflight.
      - Ignored when the host is already cordoned, and with O(state=uncordoned).
    type: str
    default: cordoned for maintenance
  by:
    description:
      - Who cordons the host. Defaults to the user that runs the module (E(USER), else the login name).
    type: str
attributes:
  check_mode:
    support: full
    description: Reports whether the state would change and the record it would write; writes nothing.
  diff_mode:
    support: full
    description: The cordon record before and after (empty when the host is not cordoned).
notes:
  - The record lives on the machine that runs the module; with C(ansible_connection=local) (the lab, and
    fleets reached through remote libvirt URIs) that is the controller.
seealso:
  - module: vmfleet.compute.hypervisor_info
  - module: vmfleet.compute.upgrade_check
"""

EXAMPLES = r"""
- name: Cordon the host before its maintenance
  vmfleet.compute.host_maintenance:
    state: cordoned
    state_dir: "{{ vmfleet_state_dir }}"
    name: "{{ inventory_hostname }}"
    reason: "kernel upgrade, CHG-1234"

- name: Uncordon it afterwards
  vmfleet.compute.host_maintenance:
    state: uncordoned
    state_dir: "{{ vmfleet_state_dir }}"
"""

RETURN = r"""
state:
  description: The host's maintenance state after the task (in check mode, the state it would have).
  returned: always
  type: str
  sample: cordoned
cordon:
  description: The cordon record in force after the task; null when the host is not cordoned.
  returned: always
  type: dict
  contains:
    host:
      description: The host's name.
      type: str
      sample: hv1
    reason:
      description: Why the host is cordoned.
      type: str
      sample: kernel upgrade, CHG-1234
    by:
      description: Who cordoned it.
      type: str
      sample: root
    at:
      description: When (UTC, ISO 8601).
      type: str
      sample: "2026-11-21T08:30:00Z"
path:
  description: The record's file.
  returned: always
  type: str
  sample: /var/lib/vmfleet/state/cordon.json
"""

import getpass
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vmfleet.compute.plugins.module_utils import host_cordon
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError


def argument_spec():
    return dict(
        state=dict(type="str", choices=list(host_cordon.STATES), default=host_cordon.CORDONED),
        state_dir=dict(type="path", required=True),
        name=dict(type="str"),
        reason=dict(type="str", default="cordoned for maintenance"),
        by=dict(type="str"),
    )


def _user():
    try:
        return os.environ.get("USER") or getpass.getuser()
    except Exception:  # pylint: disable=broad-except
        return None  # no passwd entry (containers): the record says "unknown"


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    try:
        changed, before, after = host_cordon.set_state(
            params["state_dir"], params["state"], params["name"], params["reason"], params["by"] or _user(),
            check_mode=module.check_mode)
    except VmfleetError as exc:
        module.fail_json(msg=exc.message, **exc.to_result())
    result = dict(changed=changed, state=params["state"], cordon=after,
                  path=host_cordon.cordon_path(params["state_dir"]))
    if module._diff:
        result["diff"] = dict(before=before or {}, after=after or {},
                              before_header="%s (cordon record)" % result["path"],
                              after_header="%s (cordon record)" % result["path"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
