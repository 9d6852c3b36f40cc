#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: resize
short_description: Resize or cold-migrate an instance, then confirm or revert
version_added: 0.1.0
description:
  - Nova's resize and cold migration for instances built by M(vmfleet.compute.instance).
  - "V(resized): with O(flavor), a resize to that flavor; without it, a cold migration with the same flavor. The
    scheduler picks the destination in the source's availability zone (never another one), the source host only
    with O(allow_resize_to_same_host); O(host) names the destination, whose filters still run. The destination
    claims the new flavor under its lock; the guest is shut down; its disks are copied (only the root disk's
    overlay, re-pointed at the destination's cached base image, which is copied there first when missing), grown
    to the new flavor, and the guest is defined there with the new flavor and a new NUMA placement, and started
    when it was running. The source definition and disks stay as they are until the resize is confirmed."
  - "V(confirmed): the source definition and disks are deleted and their resources freed."
  - "V(reverted): the resized copy is deleted and the original runs again on the source, with its flavor, pinning
    and disk content as before the resize."
  - "Refused with no change, naming the field: the same flavor, a smaller root or ephemeral disk, a guest with host
    devices, another availability zone."
  - A failure part-way removes what was made on the destination and leaves the guest defined (and running when it
    was) on its source; the error says where the guest is and what, if anything, could not be removed.
  - Every move is recorded in the migration journal of the source and destination hosts
    (C(<state_dir>/journal/<id>.json)).
author:
  - vmfleet.compute contributors (@vmfleet)
extends_documentation_fragment:
  - vmfleet.compute.fleet_state
  - vmfleet.compute.scheduling
  - vmfleet.compute.fleet_hosts
options:
  name:
    description: The instance.
    type: str
    required: true
  state:
    description: V(resized) resizes or cold-migrates; V(confirmed) and V(reverted) finish a pending resize.
    type: str
    choices: [resized, confirmed, reverted]
    default: resized
  flavor:
    description:
      - The new flavor, with the keys of M(vmfleet.compute.instance)'s O(vmfleet.compute.instance#module:flavor).
        Omit it to cold-migrate with the current flavor.
    type: dict
  host:
    description: Destination host; the scheduler's filters still check it.
    type: str
  allow_resize_to_same_host:
    description: Whether the source host may be the destination (Nova's option of the same name).
    type: bool
    default: false
  resize_confirm_window:
    description:
      - Seconds after which a pending resize is confirmed automatically (Nova's C(resize_confirm_window)); 0 never.
      - The confirmation happens at the next run of this module or of M(vmfleet.compute.instance) for the
        instance once the window has passed (there is no daemon to do it earlier).
    type: int
    default: 0
  max_attempts:
    description: Destinations to try when claims are refused (not with O(host)).
    type: int
    default: 3
  shutdown_timeout:
    description: Seconds a clean shutdown may take before the guest is powered off.
    type: int
    default: 60
attributes:
  check_mode:
    support: full
    description: Returns the destination and placement the resize would use, or what confirm / revert would do.
  diff_mode:
    support: none
    description: The result lists the actions taken; there is no diff.
seealso:
  - module: vmfleet.compute.instance
  - module: vmfleet.compute.schedule
"""

EXAMPLES = r"""
- name: Resize db1 to a larger flavor
  vmfleet.compute.resize:
    name: db1
    hosts: "{{ fleet_facts }}"
    flavor:
      name: db.xlarge
      vcpus: 8
      memory_mb: 16384
      root_gb: 40
      extra_specs: {"hw:cpu_policy": dedicated}
  register: resized

- name: Keep it
  vmfleet.compute.resize:
    name: db1
    state: confirmed
    hosts: "{{ fleet_facts }}"

- name: Cold-migrate web1 (same flavor) to hv3
  vmfleet.compute.resize:
    name: web1
    hosts: "{{ fleet_facts }}"
    host: hv3
"""

RETURN = r"""
host:
  description: Where the instance is after the task (the destination after a resize, the source after a revert).
  returned: always
  type: str
  sample: hv2
source:
  description: The host the instance was resized from.
  returned: when a resize ran
  type: str
destination:
  description: The destination of the resize (in check mode, the planned one).
  returned: when a resize ran or was planned
  type: str
placement:
  description: The placement claimed on the destination (in check mode, the planned one).
  returned: when a resize ran or was planned
  type: dict
migration:
  description: The migration journal record (id, guest, source, destination, kind, status, times, data).
  returned: when a resize ran
  type: dict
actions:
  description: What the task did, in order.
  returned: always
  type: list
  elements: str
attempts:
  description: Destinations tried, when claims were refused.
  returned: when a resize ran
  type: list
  elements: dict
leftovers:
  description: On failure, what could not be removed from the destination.
  returned: failed
  type: list
  elements: str
"""

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import whole_number
from ansible_collections.vmfleet.compute.plugins.module_utils.host.fleet import Fleet
from ansible_collections.vmfleet.compute.plugins.module_utils.host.hosts_option import HOSTS_ARGSPEC
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.names import check_instance_name
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.request import normalize_flavor
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.resize import ensure_resize
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import settle as migration_settle
from ansible_collections.vmfleet.compute.plugins.module_utils.module import VmfleetModule
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import SCHEDULING_ARGSPEC
from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store
from ansible_collections.vmfleet.compute.plugins.module_utils.state.url import STATE_URL_ARGSPEC


def argument_spec():
    return dict(
        HOSTS_ARGSPEC,
        **STATE_URL_ARGSPEC,
        **SCHEDULING_ARGSPEC,
        name=dict(type="str", required=True),
        state=dict(type="str", choices=list(states.RESIZE_STATES), default=states.RESIZED),
        flavor=dict(type="dict"),
        host=dict(type="str"),
        allow_resize_to_same_host=dict(type="bool", default=False),
        resize_confirm_window=dict(type="int", default=0),
        max_attempts=dict(type="int", default=3),
        shutdown_timeout=dict(type="int", default=60),
    )


def run(params, check_mode):
    check_instance_name(params["name"])
    for field, minimum in (("resize_confirm_window", 0), ("max_attempts", 1), ("shutdown_timeout", 0)):
        whole_number(field, params[field], minimum)
    flavor = normalize_flavor(params["flavor"]) if params["flavor"] is not None else None
    with open_store(params["state_url"]) as store, Fleet(params["hosts"], store) as fleet:
        settled = migration_settle.settle_guest(fleet, params["name"], check_mode=check_mode)
        return migration_settle.with_settled(ensure_resize(
            fleet, params["name"], state=params["state"], flavor=flavor,
            allow_same_host=params["allow_resize_to_same_host"], destination=params["host"],
            scheduler_config=params["scheduler_config"], max_attempts=params["max_attempts"],
            shutdown_timeout=params["shutdown_timeout"], confirm_window=params["resize_confirm_window"],
            seed=params["seed"], check_mode=check_mode), settled)


def main():
    module = VmfleetModule(argument_spec())
    module.run(run, module.params, module.check_mode)


if __name__ == "__main__":
    main()
