#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: live_migrate
short_description: Live-migrate a running instance to another host, NUMA-aware and bounded by Nova's timeouts
version_added: 0.1.0
description:
  - Moves one running (or paused) instance built by M(vmfleet.compute.instance), peer-to-peer between the libvirt
    daemons, while it keeps running.
  - "Before anything moves: the destination is the scheduler's choice in the source's availability zone, or
    O(destination), which the scheduler's filters still check; guests with host devices are refused; libvirt on
    the destination compares the guest's CPU with what it can offer; the destination claims the resources under
    its lock, with the guest's pinned vCPUs and NUMA cells placed on CPUs and cells free there (the destination
    XML is rewritten, and the placement in the guest's metadata with it). A destination refused at this stage is
    replaced by the next one, up to O(max_attempts)."
  - "Storage: disks on storage both hosts share stay where they are; local disks are copied during the migration
    (a block migration), into an overlay created on the destination over its copy of the base image (copied
    there first when missing), so only what the guest wrote travels."
  - "While it runs: Nova's downtime ladder, completion timeout and bandwidth, a progress timeout, auto-converge,
    post-copy, compression and parallel connections. The progress (data total, processed and remaining, dirty
    rate, iteration) is written into the migration journal every 2 seconds; run the task with C(async) and follow
    it with M(vmfleet.compute.migration_info)."
  - "After success the guest runs on the destination, it is gone from the source with its local disks, and the
    journal record has the duration, downtime and data moved. After a failure the guest runs on its source,
    nothing is left defined, claimed or created on the destination, and the error says what happened."
  - "Faults: every connection the collection opens has libvirt keepalive, so a daemon that stops answering ends
    the task within 20 s of silence plus the source daemon's own keepalive (about 30 s), naming the host whose
    daemon stopped answering or went away. What could not be removed then (on a destination that did not
    answer) and a move whose run was killed are settled by the next operation on the guest (this module,
    M(vmfleet.compute.resize), M(vmfleet.compute.instance)) or a drain of its source, before it starts; the
    result's C(actions) say what was found."
author:
  - vmfleet.compute contributors (@vmfleet)
extends_documentation_fragment:
  - vmfleet.compute.fleet_state
  - vmfleet.compute.scheduling
  - vmfleet.compute.fleet_hosts
  - vmfleet.compute.live_migration
options:
  name:
    description: The instance.
    type: str
    required: true
  state:
    description:
      - V(migrated) live-migrates the instance.
      - "V(cancelled) cancels its live migration in flight, started by any controller (KubeVirt's migration
        cancel): the migration's job is aborted on the source (libvirt's C(virDomainAbortJob)), the run that
        started it puts the guest back on its source and records it, and this task waits for that record (up to
        60 s; when that run is gone, a killed playbook, it settles the migration itself). The result's C(host)
        says where the guest runs. Nothing in flight: no change."
      - Killing C(ansible-playbook) does not stop a running migration (Ansible's worker runs the module in a
        session of its own); this does.
    type: str
    choices: [migrated, cancelled]
    default: migrated
  destination:
    description: The destination host; the scheduler's filters still check it, and no other host is tried.
    type: str
  block_migration:
    description:
      - "V(auto) (Nova's default): copy the disks when the hosts do not share their storage, found by creating a
        probe volume in the disk's pool on the source and looking for it on the destination."
      - V(true) always copies the disks; V(false) requires shared storage and refuses otherwise.
    type: str
    choices: [auto, "true", "false"]
    default: auto
  max_attempts:
    description: Destinations to try when one refuses before anything moved (not with O(destination)).
    type: int
    default: 3
attributes:
  check_mode:
    support: full
    description: Returns the destination and the placement the guest would get there; nothing moves.
  diff_mode:
    support: none
    description: The result lists the actions taken; there is no diff.
notes:
  - The source daemon connects to the destination itself (peer-to-peer), at the destination's
    C(live_migration_uri) (inventory C(vmfleet_migration_uri)) when its facts have one, else at its C(uri) (in its
    facts in O(hosts)), which must then work from the source host, not only from the controller. Set
    C(live_migration_uri) when the controller's URI names files only the controller has, such as a qemu+tls
    C(?pkipath=). Migration data goes to the destination's C(live_migration_inbound_addr) when its facts have one.
seealso:
  - module: vmfleet.compute.host_maintenance
  - module: vmfleet.compute.migration_info
  - module: vmfleet.compute.resize
"""

EXAMPLES = r"""
- name: Live-migrate db1 wherever the scheduler says
  vmfleet.compute.live_migrate:
    name: db1
    hosts: "{{ fleet_facts }}"
  register: moved

- name: Live-migrate web1 to hv3, giving up after 60 s per GiB, and follow it
  vmfleet.compute.live_migrate:
    name: web1
    hosts: "{{ fleet_facts }}"
    destination: hv3
    completion_timeout: 60
    max_downtime: 300
  async: 1800
  poll: 0
  register: web1_job

- name: Cancel web1's migration (from another play, or after its playbook was killed)
  vmfleet.compute.live_migrate:
    name: web1
    hosts: "{{ fleet_facts }}"
    state: cancelled

- name: Watch its progress
  vmfleet.compute.migration_info:
    hosts: "{{ fleet_facts }}"
    guest: web1
    status: [migrating]
"""

RETURN = r"""
host:
  description: Where the instance runs after the task (in check mode, where it runs now).
  returned: always
  type: str
  sample: hv3
source:
  description: The host it ran on.
  returned: always
  type: str
  sample: hv1
destination:
  description: The host it moved to (in check mode, would move to).
  returned: always
  type: str
  sample: hv3
placement:
  description: Its placement on the destination (pinned CPUs, NUMA cells), with the claim id.
  returned: when O(state=migrated)
  type: dict
migration:
  description: >-
    The journal record of the migration (id, status, times, data_bytes, downtime_ms, peer_uri: the URI the
    source's libvirtd dialled to reach the destination's, and native_tls: whether QEMU encrypted the data).
  returned: success
  type: dict
duration_s:
  description: Seconds the migration took.
  returned: success
  type: float
  sample: 2.6
downtime_ms:
  description: The pause the guest saw at the switch, as libvirt measured it.
  returned: success
  type: int
  sample: 34
data_bytes:
  description: Bytes sent (memory and, for a block migration, disks).
  returned: success
  type: int
  sample: 150994944
storage:
  description: V(shared) or V(block).
  returned: success
  type: str
  sample: block
forced:
  description: Whether the completion timeout forced completion (post-copy or pause).
  returned: success
  type: bool
attempts:
  description: Destinations tried, with why each refused.
  returned: when O(state=migrated)
  type: list
  elements: dict
actions:
  description: What was done, in order.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import whole_number
from ansible_collections.vmfleet.compute.plugins.module_utils.host.fleet import Fleet
from ansible_collections.vmfleet.compute.plugins.module_utils.host.hosts_option import HOSTS_ARGSPEC
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.location import InstanceLocation
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.names import check_instance_name
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import live as live_migration
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import policy as migration_policy
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import settle as migration_settle
from ansible_collections.vmfleet.compute.plugins.module_utils.module import VmfleetModule
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import SCHEDULING_ARGSPEC
from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store
from ansible_collections.vmfleet.compute.plugins.module_utils.state.url import STATE_URL_ARGSPEC


_BLOCK = {"auto": "auto", "true": True, "false": False}


def argument_spec():
    spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=list(states.LIVE_MIGRATE_STATES), default=states.MIGRATED),
        destination=dict(type="str"),
        block_migration=dict(type="str", choices=list(_BLOCK), default="auto"),
        max_attempts=dict(type="int", default=3),
    )
    spec.update(HOSTS_ARGSPEC)
    spec.update(STATE_URL_ARGSPEC)
    spec.update(SCHEDULING_ARGSPEC)
    spec.update(migration_policy.ARGSPEC)
    return spec


def run(params, check_mode):
    check_instance_name(params["name"])
    whole_number("max_attempts", params["max_attempts"], 1)
    settings = migration_policy.from_params(params)
    with open_store(params["state_url"]) as store, Fleet(params["hosts"], store) as fleet:
        if params["state"] == states.MIGRATION_CANCELLED:
            return live_migration.cancel(fleet, params["name"], check_mode=check_mode)
        settled = migration_settle.settle_guest(fleet, params["name"], settings, check_mode)
        location = InstanceLocation(fleet, params["name"])
        result = live_migration.live_migrate(
            fleet, location, destination=params["destination"], settings=settings,
            scheduler_config=params["scheduler_config"], max_attempts=params["max_attempts"],
            block_migration=_BLOCK[params["block_migration"]], seed=params["seed"], check_mode=check_mode)
    return migration_settle.with_settled(result, settled)


def main():
    module = VmfleetModule(argument_spec())
    module.run(run, module.params, module.check_mode)


if __name__ == "__main__":
    main()
