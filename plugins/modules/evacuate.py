#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: evacuate
short_description: Rebuild the guests of a failed, fenced host on the other hosts; clean it when it comes back
version_added: 0.1.0
description:
  - "Nova's evacuate (and Masakari's host recovery) for a libvirt fleet. V(evacuated): the host O(host) is down (its
    libvirtd does not answer) and the operator states that it is fenced (O(fenced=true)): it is powered off, or
    its guests are killed, and it will not come back with them running. Its guests are then defined again on the
    other hosts of O(hosts), from what the fleet state store remembers of them (the guests each host had when its
    facts were last read by M(vmfleet.compute.hypervisor_info) or any module that reads the fleet)."
  - "Per guest: when every disk (and the backing files under it) is seen at the same path with the same size by
    another host (shared storage), the guest is defined there with the same disks. Otherwise its disks are on the
    failed host's own storage: with O(allow_rebuild=true) it is rebuilt from its base image (a new root disk, its
    local data lost, and C(data_lost) says so), else it is reported and nothing is done."
  - "Placement is the scheduler's (pinning, NUMA, hugepages, server groups), as one batch, in the failed host's
    availability zone; each destination claims its guest under its lock in the store, and a refused claim is
    tried on another host, up to O(max_attempts). A guest that ran when last seen is started; a shut-off one
    stays shut off. Each evacuation is a record of kind C(evacuation) in the migration journal
    (M(vmfleet.compute.migration_info))."
  - "The host is cordoned first, with the reason C(evacuated), so when it comes back the scheduler, claims and
    drains refuse it. V(cleaned) (the host answers again) removes its copies of the guests that now run elsewhere,
    destroying any that something started, deletes the old local disks of rebuilt guests, and lifts that cordon.
    Guests that were not evacuated are left on the host as they are, with their data."
  - "Re-running is safe: a guest defined on another host already is not evacuated again."
  - "No guest may run twice: a host that answers is refused unless O(force) (and then every guest its libvirt says
    is running is left alone). The collection never marks a guest to autostart; if someone did, that guest starts
    with its libvirtd before anything can clean it, so keep such a host fenced until it is cleaned."
author:
  - vmfleet.compute contributors (@vmfleet)
extends_documentation_fragment:
  - vmfleet.compute.fleet_state
  - vmfleet.compute.scheduling
  - vmfleet.compute.fleet_hosts
options:
  host:
    description: The failed host, one of O(hosts).
    type: str
    required: true
  state:
    description:
      - V(evacuated) rebuilds the host's guests elsewhere; V(cleaned), once it is back, removes its stale copies and
        lifts the evacuation's cordon.
    type: str
    choices: [evacuated, cleaned]
    default: evacuated
  fenced:
    description:
      - Required to be V(true) with O(state=evacuated) the operator's statement that O(host) is fenced (powered
        off, or its guests killed) and will not come back with its guests running. The module refuses without it.
    type: bool
    default: false
  allow_rebuild:
    description:
      - Rebuild the guests whose disks no other host sees from their base image, losing the data on those disks.
        Without it such guests are reported (C(not evacuated)) and left for the host to come back.
    type: bool
    default: false
  force:
    description:
      - Evacuate although the host's libvirtd answers (it is fenced in another way, e.g. its network to the guests
        is cut). Guests its libvirt says are running are still left alone.
    type: bool
    default: false
  max_attempts:
    description: Destinations tried per guest when a claim is refused.
    type: int
    default: 3
  by:
    description: Who evacuates, written into the cordon. Defaults to the user that runs the module.
    type: str
attributes:
  check_mode:
    support: full
    description:
      - The plan per guest (how, destination, placement, or why not); nothing is cordoned, defined or removed.
  diff_mode:
    support: none
    description: The result lists what changed per guest (C(actions)) instead of a diff.
notes:
  - The guests known are those of the last read of the host's facts with the same store (C(remembered_at)); guests
    built on it after that read are unknown to the evacuation.
  - "Shared storage is judged from the paths the destination's libvirt sees: an active pool there over the disks'
    folder must list each disk file, and the backing files under it."
seealso:
  - module: vmfleet.compute.host_maintenance
  - module: vmfleet.compute.migration_info
  - module: vmfleet.compute.hypervisor_info
"""

EXAMPLES = r"""
- name: Evacuate hv2, which is powered off (its shared-storage guests come back with their disks)
  vmfleet.compute.evacuate:
    host: hv2
    fenced: true
    hosts: "{{ groups['hypervisors'] | map('vmfleet.compute.inventory_host', hostvars) | list }}"
  register: evacuation

- name: Also rebuild the guests on its local disks from their images (their local data is lost)
  vmfleet.compute.evacuate:
    host: hv2
    fenced: true
    allow_rebuild: true
    hosts: "{{ groups['hypervisors'] | map('vmfleet.compute.inventory_host', hostvars) | list }}"

- name: Once hv2 is back, remove its stale copies and uncordon it
  vmfleet.compute.evacuate:
    host: hv2
    state: cleaned
    hosts: "{{ groups['hypervisors'] | map('vmfleet.compute.inventory_host', hostvars) | list }}"
"""

RETURN = r"""
host:
  description: The evacuated host.
  returned: always
  type: str
  sample: hv2
state:
  description: The state asked for.
  returned: always
  type: str
  sample: evacuated
guests:
  description:
    - With O(state=evacuated), one entry per guest the store remembers of the host (in check mode, the plan).
    - "C(guest), C(from), C(to), C(how) (V(shared), V(rebuild) or null), C(result) (V(evacuated), V(rebuilt),
      V(not evacuated), V(already elsewhere), V(failed), V(planned)), C(reason) (why not), C(error), C(data_lost)
      (rebuilt from its image, so the data of its old disks is not on the new copy), C(last_state), C(start),
      C(placement) (pinned CPUs and NUMA cells on the destination), C(disks) (its disk paths), C(running_on),
      C(actions), C(attempts)."
  returned: state=evacuated
  type: list
  elements: dict
summary:
  description: Counts per result (evacuated, rebuilt, not_evacuated, already_elsewhere, failed, planned), guests,
    data_lost.
  returned: state=evacuated
  type: dict
settled:
  description: Evacuations an interrupted earlier run left in the journal, and what was found (defined on its
    destination, and started when it was to be; or not defined).
  returned: state=evacuated
  type: list
  elements: str
failover_capacity:
  description:
    - Whether the fleet still tolerates a host failure once the guests are evacuated (in check mode, once the plan
      is made). Each remaining host's evacuation is planned over the others, by the planner admission control and
      drains use. Admission control never refuses an evacuation; with C(host_failures_to_tolerate=1) in
      O(scheduler_config), a V(lost) also comes as a warning, C(insufficient failover capacity).
    - "C(status): V(ok) (every host can still be drained), V(lost) (some cannot), V(unknown) (the planner could not
      tell, see C(error)); C(undrainable): C(host) and C(reason) of each host that could not be drained;
      C(host_failures_to_tolerate): the setting."
  returned: state=evacuated
  type: dict
  sample: {"status": "lost", "host_failures_to_tolerate": 1, "error": null,
           "undrainable": [{"host": "hv3", "reason": "No valid host was found for web1: hv1: RamFilter: ..."}]}
remembered_at:
  description: When the host's guests were last read (UTC); guests built after that are not known.
  returned: state=evacuated
  type: str
  sample: "2026-12-01T10:00:00Z"
cordon:
  description: The host's cordon after the task (null once V(cleaned) lifted it).
  returned: always
  type: dict
cleaned:
  description:
    - With O(state=cleaned), the stale copies removed; C(guest), C(how), C(running_on) (where it runs now),
      C(destroyed) (it was running), C(deleted_disks), C(kept_disks).
  returned: state=cleaned
  type: list
  elements: dict
kept:
  description: With O(state=cleaned), the copies left because no other host has the guest (C(guest), C(reason)).
  returned: state=cleaned
  type: list
  elements: dict
store:
  description: The fleet state store, in words (never its URL).
  returned: always
  type: str
  sample: SQLite file /var/lib/vmfleet/state.db
"""

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import whole_number
from ansible_collections.vmfleet.compute.plugins.module_utils.evacuation import evacuate as evacuation
from ansible_collections.vmfleet.compute.plugins.module_utils.host.fleet import Fleet
from ansible_collections.vmfleet.compute.plugins.module_utils.host.hosts_option import HOSTS_ARGSPEC
from ansible_collections.vmfleet.compute.plugins.module_utils.module import VmfleetModule, current_user
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import SCHEDULING_ARGSPEC
from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store
from ansible_collections.vmfleet.compute.plugins.module_utils.state.url import STATE_URL_ARGSPEC


def argument_spec():
    spec = dict(
        host=dict(type="str", required=True),
        state=dict(type="str", choices=list(states.EVACUATE_STATES), default=states.EVACUATED),
        fenced=dict(type="bool", default=False),
        allow_rebuild=dict(type="bool", default=False),
        force=dict(type="bool", default=False),
        max_attempts=dict(type="int", default=3),
        by=dict(type="str"),
    )
    spec.update(HOSTS_ARGSPEC)
    spec.update(STATE_URL_ARGSPEC)
    spec.update(SCHEDULING_ARGSPEC)
    return spec


def run(params, check_mode):
    whole_number("max_attempts", params["max_attempts"], 1)
    with open_store(params["state_url"]) as store, Fleet(params["hosts"], store) as fleet:
        if params["state"] == states.CLEANED:
            result = evacuation.clean(fleet, params["host"], check_mode=check_mode)
        else:
            result = evacuation.evacuate(
                fleet, params["host"], fenced=params["fenced"], allow_rebuild=params["allow_rebuild"],
                force=params["force"], scheduler_config=params["scheduler_config"], seed=params["seed"],
                max_attempts=params["max_attempts"], by=params["by"] or current_user(), check_mode=check_mode)
        result["store"] = store.url.describe()
    return result


def main():
    module = VmfleetModule(argument_spec())
    module.run(run, module.params, module.check_mode)


if __name__ == "__main__":
    main()
