#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: instance
short_description: Create, start, stop and delete instances placed by the scheduler, with claims and pinning
version_added: 0.1.0
description:
  - Builds an instance from a flavor, an image and a placement, the way Nova's compute host does.
    The placement comes from M(vmfleet.compute.schedule) (O(placement)), or the module schedules the
    instance itself over O(hosts).
  - "Claim: on the target host, under the exclusive lock of its state folder, the scheduler's filters and NUMA fit
    run again against what libvirt reports now plus the claims still in flight there. When the host cannot take
    the instance any more the module fails with C(claim_failed=true) and C(retry_exclude), which a playbook's retry
    passes to M(vmfleet.compute.schedule) as O(vmfleet.compute.schedule#module:requests[].hints.retry_exclude).
    A self-scheduled instance is rescheduled with the host excluded, up to O(max_attempts) hosts.
    Two playbooks placing onto one host at the same time never pin one CPU twice nor pass its allocation ratios."
  - "Disks: the root disk is a qcow2 overlay on the base image O(image.name) cached in the host's pool; the base is
    copied there once (from another pool of the host, another host, or O(image.source)) and never per instance.
    The pool is the one the host maps the flavor's storage tier to (extra spec C(vmfleet:disk_tier), host setting
    C(disk_tiers)), else the host's first instance pool. Ephemeral and swap disks are blank qcow2 volumes."
  - "Domain XML: rendered from the placement: vCPUs and guest CPU topology, C(<cputune>) vcpupin and emulatorpin,
    C(<numatune>) memnodes, guest NUMA cells, hugepage backing, interfaces with a MAC derived from the name, and a
    C(<metadata>) element in the namespace C(https://vmfleet.dev/xmlns/compute/instance/1) holding the flavor, the
    request and the placement, which every later operation reads."
  - Idempotent. An existing instance is compared with the request (same flavor and image) and only its power state
    is changed; a different flavor is refused (use M(vmfleet.compute.resize)), unless O(match_existing=false).
author:
  - vmfleet.compute contributors (@vmfleet)
extends_documentation_fragment:
  - vmfleet.compute.fleet_state
  - vmfleet.compute.scheduling
  - vmfleet.compute.fleet_hosts
options:
  name:
    description:
      - The instance's name (the libvirt domain name). Its UUID is derived from it.
      - "It names files on the hosts (its disks, libvirt's own), so it is 1 to 128 bytes in UTF-8, without C(/), control
        characters or white space at either end, and does not start with C(.) or C(-); other names are refused before
        any host is touched. XML specials (C(<), C(&), quotes) are allowed."
    type: str
    required: true
  state:
    description:
      - V(running) creates the instance when missing and starts it; V(stopped) creates it when missing and
        stops it (clean shutdown, powered off after O(shutdown_timeout)); V(present) creates it when missing, shut
        off, and leaves the power state of an existing one alone; V(absent) deletes the instance from every host it
        is defined on, with its disks (never the base image).
    type: str
    choices: [running, stopped, present, absent]
    default: running
  flavor:
    description:
      - Nova-style flavor. Required to create the instance; when given for an existing one it must match.
    type: dict
    suboptions:
      name:
        description: Flavor name.
        type: str
        required: true
      vcpus:
        description: Number of vCPUs.
        type: int
        required: true
      memory_mb:
        description: Memory in MiB.
        type: int
        required: true
      root_gb:
        description: Root disk in GiB; 0 means the image's size.
        type: int
        default: 0
      ephemeral_gb:
        description: Ephemeral disk in GiB (0 for none).
        type: int
        default: 0
      swap:
        description: Swap disk in MiB (0 for none).
        type: int
        default: 0
      extra_specs:
        description:
          - Nova flavor extra specs (C(hw:cpu_policy), C(hw:numa_nodes), C(hw:mem_page_size), ...) and
            C(vmfleet:disk_tier).
        type: dict
        default: {}
  image:
    description: The base image. Required to create the instance.
    type: dict
    suboptions:
      name:
        description: The base image's volume name in the host's pool, for example C(cirros-0.6.2.qcow2).
        type: str
        required: true
      source:
        description:
          - A qcow2 or raw file on the machine that runs the module, uploaded into the host's pool when neither this
            host nor another given host has the image.
        type: path
      properties:
        description: Image properties (C(hw_*)), for example C(hw_machine_type), C(hw_cpu_cores).
        type: dict
        default: {}
  networks:
    description:
      - Network interfaces, each on a libvirt network (C(network)) or a host bridge (C(bridge)).
    type: list
    elements: dict
    default: []
    suboptions:
      network:
        description:
          - Name of a libvirt network defined on the hosts. The target host must have it (and, for a guest to start,
            active) before anything is made there.
        type: str
      bridge:
        description: Name of a host bridge.
        type: str
      mac:
        description: MAC address; by default derived from the instance name and the interface's position.
        type: str
      model:
        description: NIC model.
        type: str
        choices: [virtio, e1000, e1000e, rtl8139]
        default: virtio
  placement:
    description:
      - One entry of M(vmfleet.compute.schedule)'s C(plan). Without it the module schedules the instance over
        O(hosts).
      - An existing instance is not moved. When it is on another host than the placement's (or than
        C(hints.force_host)) the task fails, naming where it is and how to move it, unless O(match_existing=false)
        (then a forced host only warns).
    type: dict
  hints:
    description:
      - Scheduler hints, as O(vmfleet.compute.schedule#module:requests[].hints) (availability_zone, group,
        same_host, different_host, force_host, force, retry_exclude). Stored in the instance's metadata; resize
        keeps them.
      - Any other key is refused, with the list of known hints, rather than ignored.
    type: dict
    default: {}
  match_existing:
    description:
      - Whether an existing instance must have the given flavor and image. V(false) creates the instance only when
        it is missing and leaves an existing one's flavor alone (a list of instances to have, some resized since).
    type: bool
    default: true
  max_attempts:
    description: Hosts to try when claims are refused, for a self-scheduled instance (Nova's C(max_attempts)).
    type: int
    default: 3
  shutdown_timeout:
    description: Seconds a clean shutdown may take before the guest is powered off (Nova's C(shutdown_timeout)).
    type: int
    default: 60
attributes:
  check_mode:
    support: full
    description: Returns the plan (host, placement, disks, base image action) and the domain XML; changes nothing.
  diff_mode:
    support: full
    description: The domain XML before and after.
notes:
  - The module runs where the state folders are (the controller for fleets reached through remote libvirt URIs).
seealso:
  - module: vmfleet.compute.schedule
  - module: vmfleet.compute.resize
  - module: vmfleet.compute.hypervisor_info
"""

EXAMPLES = r"""
- name: Gather the fleet's facts
  vmfleet.compute.hypervisor_info:
    uri: "{{ vmfleet_libvirt_uri }}"
    name: "{{ inventory_hostname }}"
    state_dir: "{{ vmfleet_state_dir }}"
  register: facts

- name: A pinned instance with two guest NUMA nodes on hugepages
  vmfleet.compute.instance:
    name: db1
    hosts: "{{ groups.hypervisors | map('extract', hostvars, ['facts', 'hypervisor']) | list }}"
    flavor:
      name: db.large
      vcpus: 4
      memory_mb: 8192
      root_gb: 20
      extra_specs:
        hw:cpu_policy: dedicated
        hw:numa_nodes: 2
        hw:mem_page_size: 2MB
        vmfleet:disk_tier: ssd
    image:
      name: debian-12.qcow2
      source: /srv/images/debian-12-genericcloud-amd64.qcow2
    networks:
      - network: default
  run_once: true
  delegate_to: localhost

- name: Stop it
  vmfleet.compute.instance:
    name: db1
    state: stopped
    hosts: "{{ fleet_facts }}"
"""

RETURN = r"""
instance:
  description: The instance after the task (null when absent, or when check mode would create it).
  returned: always
  type: dict
  contains:
    name:
      description: Domain name.
      type: str
    uuid:
      description: Domain UUID.
      type: str
    host:
      description: Host it is defined on.
      type: str
    power_state:
      description: V(running) or V(shutoff).
      type: str
    flavor:
      description: The flavor in its metadata.
      type: dict
    vm_state:
      description: Nova-style state from its metadata (V(active), V(stopped), V(resized), ...).
      type: str
    placement:
      description: The placement it was built with (the claim id included), as in its metadata.
      type: dict
    vcpupin:
      description: vCPU pinning read back from libvirt.
      type: list
      elements: dict
    disks:
      description: Target and source of each disk.
      type: list
      elements: dict
plan:
  description: What was (or, in check mode, would be) done to build the instance; null when nothing is built.
  returned: always
  type: dict
  contains:
    host:
      description: Target host.
      type: str
    placement:
      description: The placement claimed (in check mode, the planned one).
      type: dict
    disks:
      description: The volumes created.
      type: list
      elements: dict
    base_image:
      description: The base image in the host's pool and how it got there (C(cached), C(uploaded), C(copied)).
      type: dict
    domain_xml:
      description: The domain XML defined.
      type: str
actions:
  description: What the task did, in order.
  returned: always
  type: list
  elements: str
  sample: ["claimed on hv2", "created db1.disk.qcow2", "defined", "started"]
attempts:
  description: Hosts tried and why each failed, when claims were refused.
  returned: always
  type: list
  elements: dict
claim_failed:
  description: Set on failure when the target host refused the claim; C(retry_exclude) lists the hosts tried.
  returned: failed
  type: bool
retry_exclude:
  description: Hosts to exclude when scheduling again after a refused claim.
  returned: failed
  type: list
  elements: str
"""

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import whole_number
from ansible_collections.vmfleet.compute.plugins.module_utils.host.fleet import Fleet
from ansible_collections.vmfleet.compute.plugins.module_utils.host.hosts_option import HOSTS_ARGSPEC
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.ensure import ensure_instance
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.lifecycle import DEFAULT_MAX_ATTEMPTS
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.model import Instance
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.request import (
    INTERFACE_MODELS, flavor_option, normalize_flavor, normalize_image, normalize_networks)
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import settle as migration_settle
from ansible_collections.vmfleet.compute.plugins.module_utils.module import VmfleetModule, diff
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import SCHEDULING_ARGSPEC
from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store
from ansible_collections.vmfleet.compute.plugins.module_utils.state.url import STATE_URL_ARGSPEC


def argument_spec():
    return dict(
        HOSTS_ARGSPEC,
        **STATE_URL_ARGSPEC,
        **SCHEDULING_ARGSPEC,
        name=dict(type="str", required=True),
        state=dict(type="str", choices=list(states.INSTANCE_STATES), default=states.INSTANCE_RUNNING),
        flavor=flavor_option(),
        image=dict(type="dict", options=dict(
            name=dict(type="str", required=True),
            source=dict(type="path"),
            properties=dict(type="dict", default={}),
        )),
        networks=dict(type="list", elements="dict", default=[], options=dict(
            network=dict(type="str"),
            bridge=dict(type="str"),
            mac=dict(type="str"),
            model=dict(type="str", choices=list(INTERFACE_MODELS), default="virtio"),
        )),
        placement=dict(type="dict"),
        hints=dict(type="dict", default={}),
        match_existing=dict(type="bool", default=True),
        max_attempts=dict(type="int", default=DEFAULT_MAX_ATTEMPTS),
        shutdown_timeout=dict(type="int", default=60),
    )


def _instance(params):
    """The requested instance, validated before any host is touched; None when not enough is given."""
    if params["flavor"] is None or params["image"] is None:
        return None
    flavor = normalize_flavor(params["flavor"])
    image = normalize_image(params["image"])
    networks = normalize_networks(params["networks"], params["name"])
    return Instance(params["name"], flavor, image, networks, params["hints"], params["scheduler_config"])


def run(params, check_mode):
    whole_number("max_attempts", params["max_attempts"], 1)
    whole_number("shutdown_timeout", params["shutdown_timeout"], 0)
    instance = None if params["state"] == states.INSTANCE_ABSENT else _instance(params)
    with open_store(params["state_url"]) as store, Fleet(params["hosts"], store) as fleet:
        settled = migration_settle.settle_guest(fleet, params["name"], check_mode=check_mode)
        result, before, after = ensure_instance(
            fleet, params["name"], state=params["state"], instance=instance,
            missing="flavor" if params["flavor"] is None else "image", placement=params["placement"],
            match_existing=params["match_existing"], max_attempts=params["max_attempts"], seed=params["seed"],
            shutdown_timeout=params["shutdown_timeout"], check_mode=check_mode)
    result["diff"] = diff(before, after, "%s (domain XML)" % params["name"])
    return migration_settle.with_settled(result, settled)


def main():
    module = VmfleetModule(argument_spec())
    module.run(run, module.params, module.check_mode)


if __name__ == "__main__":
    main()
