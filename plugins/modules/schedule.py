#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: schedule
short_description: Place guests on hypervisors the way Nova's scheduler does
version_added: 0.1.0
description:
  - Computes a placement plan for a batch of guest requests (flavor, image properties, scheduler hints)
    from the host facts that M(vmfleet.compute.hypervisor_info) returns. It changes nothing.
  - Filters drop hosts, weighers rank the survivors (each weigher normalised to 0..1 across the hosts,
    times its multiplier), and one of the O(config.host_subset_size) best hosts is picked. Each placed request
    consumes its resources (vCPUs, pinned CPUs, memory, hugepages, disk, PCI devices) in the scheduler's
    view before the next request of the batch is placed.
  - Flavor extra specs C(hw:*) and image properties C(hw_*) have Nova's meaning (guest NUMA nodes, CPU
    pinning with thread and emulator thread policies, hugepages, guest CPU topology). A request that is
    wrong fails before any host is looked at, naming the spec, the value and what is allowed.
  - For every host a request did not get, the result says which filter refused it and why.
  - Differences from Nova. A forced host (O(requests[].hints.force_host)) still has to pass every filter
    unless O(requests[].hints.force=true). Filters run cheapest first whatever their order in
    O(config.enabled_filters). The C(isolate) thread policy is honoured on SMT hosts by taking the
    siblings of every pinned CPU out of use.
author:
  - vmfleet.compute contributors (@vmfleet)
extends_documentation_fragment:
  - vmfleet.compute.fleet_state
options:
  hosts:
    description:
      - Host facts, one per hypervisor, as M(vmfleet.compute.hypervisor_info) returns them under the key
        C(hypervisor). A whole registered result that holds a C(hypervisor) key is accepted too.
      - The cordons and drains in force are read from the fleet state store (O(state_url)) when the module runs,
        so facts gathered earlier never place onto a host cordoned since.
    type: list
    elements: dict
    required: true
  requests:
    description:
      - The guests to place, in order.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name of the guest; unique within the batch.
        type: str
        required: true
      flavor:
        description: Nova-style flavor.
        type: dict
        required: true
        suboptions:
          name:
            description: Flavor name, reported in the plan.
            type: str
          vcpus:
            description: Number of vCPUs.
            type: int
            required: true
          memory_mb:
            description: Memory in MiB.
            type: int
            required: true
          root_gb:
            description:
              - Root disk in GiB (Nova's name, as M(vmfleet.compute.instance) takes it). The disk the request
                takes on a host is O(requests[].flavor.root_gb) + O(requests[].flavor.ephemeral_gb)
                + O(requests[].flavor.swap).
              - The alias C(disk_gb) is deprecated and will be removed in 1.0.0.
            type: int
            default: 0
            aliases: [disk_gb]
          ephemeral_gb:
            description: Ephemeral disk in GiB (0 for none).
            type: int
            default: 0
          swap:
            description: Swap disk in MiB (0 for none), counted rounded up to a whole GiB.
            type: int
            default: 0
          extra_specs:
            description:
              - Nova flavor extra specs, for example C(hw:cpu_policy=dedicated), C(hw:numa_nodes=2),
                C(hw:mem_page_size=1GB), C(hw:cpu_thread_policy=isolate), C(hw:emulator_threads_policy=isolate),
                C(hw:cpu_max_sockets=2), C(pci_passthrough:alias=nic:1), and aggregate extra specs.
            type: dict
            default: {}
      image:
        description: The image the guest boots from.
        type: dict
        suboptions:
          properties:
            description:
              - Image properties, for example C(hw_cpu_cores=4), C(hw_mem_page_size=2MB) (only when the
                flavor allows C(large) or C(any)), C(hw_architecture=x86_64), C(img_hv_requested_version=>=7.0).
            type: dict
            default: {}
      networks:
        description:
          - What the guest's interfaces are plugged into, as M(vmfleet.compute.instance) takes them. C(NetworkFilter)
            keeps only hosts that define each libvirt network and have each bridge (when their facts list them).
        type: list
        elements: dict
        suboptions:
          network:
            description: A libvirt network the host must define. Exactly one of O(requests[].networks[].network)
              and O(requests[].networks[].bridge).
            type: str
          bridge:
            description: A host bridge the host must have.
            type: str
      hints:
        description: Scheduler hints.
        type: dict
        suboptions:
          availability_zone:
            description: Only hosts of this availability zone.
            type: str
          group:
            description:
              - The server group of the guest. Its members are read from the fleet, as Nova reads them from
                its database. They are the guests (and the claims in flight) whose collection metadata names
                the group, the requests of the same group placed earlier in the batch, and the guests
                O(requests[].hints.group.members) names.
              - The guest being scheduled never counts as a member, so a guest moved away from a host
                (drain, live migration, resize) is not refused or attracted by itself.
            type: dict
            suboptions:
              name:
                description: Group name.
                type: str
              policy:
                description: Group policy. The soft policies only weigh, the others filter.
                type: str
                required: true
                choices: [affinity, anti-affinity, soft-affinity, soft-anti-affinity]
              members:
                description:
                  - More guests of the group, by name, besides those whose metadata names it (for
                    guests built before they joined, or outside the collection).
                type: list
                elements: str
                default: []
          same_host:
            description: Place on a host that runs one of these guests.
            type: list
            elements: str
            default: []
          different_host:
            description: Place on a host that runs none of these guests.
            type: list
            elements: str
            default: []
          force_host:
            description: Consider only this host. Its filters still run unless O(requests[].hints.force=true).
            type: str
          force:
            description:
              - Skip the filters on O(requests[].hints.force_host); the placement lists in C(would_fail) the
                filters it would have failed.
            type: bool
            default: false
          retry_exclude:
            description: Hosts already tried for this request (RetryFilter).
            type: list
            elements: str
            default: []
  config:
    description:
      - Scheduler configuration, with Nova's option names. Omitted options take Nova's defaults.
    type: dict
    suboptions:
      enabled_filters:
        description:
          - Filters to run, by Nova's names. C(CoreFilter) is accepted for C(VCPUFilter) and
            C(AvailabilityZone) for C(AvailabilityZoneFilter), the names older Nova releases used.
          - Default is every filter (each alias stands for a filter already in the list).
        type: list
        elements: str
        choices: [ComputeFilter, RetryFilter, AvailabilityZoneFilter, SameHostFilter, DifferentHostFilter,
                  ServerGroupAffinityFilter, ServerGroupAntiAffinityFilter, IoOpsFilter, NumInstancesFilter,
                  RamFilter, VCPUFilter, DiskFilter, DiskTierFilter, NetworkFilter, ImagePropertiesFilter,
                  AggregateInstanceExtraSpecsFilter, PciPassthroughFilter, NUMATopologyFilter,
                  CoreFilter, AvailabilityZone]
      weighers:
        description:
          - Weighers to use. Default is every weigher listed in the choices.
        type: list
        elements: str
        choices: [RAMWeigher, CPUWeigher, DiskWeigher, IoOpsWeigher, NumInstancesWeigher,
                  ServerGroupSoftAffinityWeigher, ServerGroupSoftAntiAffinityWeigher]
      ram_weight_multiplier:
        description: Multiplier of free RAM; positive spreads, negative stacks.
        type: float
        default: 1.0
      cpu_weight_multiplier:
        description: Multiplier of free vCPUs.
        type: float
        default: 1.0
      disk_weight_multiplier:
        description: Multiplier of free disk.
        type: float
        default: 1.0
      io_ops_weight_multiplier:
        description: Multiplier of builds and migrations in flight.
        type: float
        default: -1.0
      num_instances_weight_multiplier:
        description: Multiplier of the number of guests.
        type: float
        default: 0.0
      soft_affinity_weight_multiplier:
        description: Multiplier of the soft-affinity weigher.
        type: float
        default: 1.0
      soft_anti_affinity_weight_multiplier:
        description: Multiplier of the soft-anti-affinity weigher.
        type: float
        default: 1.0
      host_subset_size:
        description: Pick at random among this many best hosts.
        type: int
        default: 1
      max_io_ops_per_host:
        description: IoOpsFilter refuses hosts with this many builds and migrations in flight.
        type: int
        default: 8
      percentage_of_hosts_to_score:
        description:
          - The share of the passing hosts a request is weighed over, in percent (kube-scheduler's
            C(percentageOfNodesToScore)). V(100), the default, weighs every passing host, as Nova does.
          - Below 100, filtering stops once that share of the hosts has passed, and the next request starts
            where the last one stopped; V(0) takes kube-scheduler's adaptive share (10% at 5,000 hosts).
          - A request no sampled host can take is tried on every host, so a refusal still lists every host's
            reason.
        type: int
        default: 100
      max_instances_per_host:
        description: NumInstancesFilter refuses hosts with this many guests.
        type: int
        default: 50
      host_failures_to_tolerate:
        description:
          - Admission control. V(1) refuses a placement after which some host of the fleet could no
            longer be drained onto the others (the drain's and the preflight's N+1 planner); the refusal
            names that host and the guest that would not fit. Hosts that cannot be drained already
            refuse nothing.
          - V(0), the default, turns it off. Only V(0) and V(1) are accepted.
          - It applies to M(vmfleet.compute.schedule), M(vmfleet.compute.instance),
            M(vmfleet.compute.resize) and M(vmfleet.compute.live_migrate); a drain
            (M(vmfleet.compute.host_maintenance)) ignores it.
        type: int
        default: 0
      pci_aliases:
        description: PCI aliases that flavors request with C(pci_passthrough:alias).
        type: list
        elements: dict
        default: []
        suboptions:
          name:
            description: Alias name.
            type: str
            required: true
          vendor_id:
            description: PCI vendor id, for example C(8086).
            type: str
            required: true
          product_id:
            description: PCI product id, for example C(1572).
            type: str
            required: true
          numa_policy:
            description:
              - C(required) only devices on the guest's NUMA cells; C(legacy) those or devices without NUMA
                information; C(preferred) any device, NUMA-local first. Flavor C(hw:pci_numa_affinity_policy)
                overrides it.
            type: str
            choices: [required, legacy, preferred]
            default: legacy
  seed:
    description: Seed of the random pick among O(config.host_subset_size) hosts, for repeatable plans.
    type: int
  allow_partial:
    description:
      - Return a plan even when some requests found no valid host (their plan entry has C(host=null) and
        an C(error)). By default the module fails then, with the plan and the rejections in the result.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: The module only computes a plan; check mode returns the same plan.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
notes:
  - The module only computes; it runs where the facts are (usually the controller via C(delegate_to)).
seealso:
  - module: vmfleet.compute.hypervisor_info
"""

EXAMPLES = r"""
- name: Gather the facts of every hypervisor
  vmfleet.compute.hypervisor_info:
  register: hv

- name: Place two pinned guests and one floating guest
  vmfleet.compute.schedule:
    hosts: "{{ groups['hypervisors'] | map('extract', hostvars, ['hv', 'hypervisor']) | list }}"
    requests:
      - name: db1
        flavor:
          name: pinned.large
          vcpus: 8
          memory_mb: 16384
          root_gb: 40
          extra_specs:
            "hw:cpu_policy": dedicated
            "hw:cpu_thread_policy": prefer
            "hw:numa_nodes": 2
            "hw:mem_page_size": 1GB
        hints:
          group: {name: db, policy: anti-affinity}
      - name: db2
        flavor: {name: pinned.large, vcpus: 8, memory_mb: 16384, root_gb: 40,
                 extra_specs: {"hw:cpu_policy": dedicated, "hw:numa_nodes": 2}}
        hints:
          group: {name: db, policy: anti-affinity}
      - name: web1
        flavor: {name: small, vcpus: 2, memory_mb: 2048, root_gb: 10}
        image:
          properties: {hw_cpu_cores: 2}
    config:
      host_subset_size: 2
      ram_weight_multiplier: -1.0
    seed: 42
  delegate_to: localhost
  run_once: true
  register: plan

- name: Show where db1 goes and its pinning
  ansible.builtin.debug:
    msg: "{{ plan.plan | selectattr('name', 'equalto', 'db1') | first }}"

- name: Force a host, skipping the filters
  vmfleet.compute.schedule:
    hosts: "{{ [hv.hypervisor] }}"
    requests:
      - name: rescue
        flavor: {vcpus: 1, memory_mb: 512}
        hints: {force_host: hv1, force: true}
"""

RETURN = r"""
plan:
  description: One entry per request, in request order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The request's name.
      type: str
      sample: db1
    host:
      description: The chosen host, or null when no host is valid.
      type: str
      sample: hv2
    error:
      description: Only when no host is valid; says for every host which filter refused it and why.
      type: str
      sample: "No valid host was found for db1: hv3: NUMATopologyFilter: cell 1 has 2 free dedicated CPUs under the isolate policy, guest cell 0 needs 4"
    cpu_policy:
      description: shared, dedicated or mixed.
      type: str
      sample: dedicated
    cpu_topology:
      description: Guest sockets, cores and threads.
      type: dict
      sample: {sockets: 1, cores: 8, threads: 1}
    numa:
      description: Per guest NUMA cell, or null when the guest has no NUMA topology.
      type: list
      elements: dict
      sample:
        - guest_cell: 0
          host_cell: 1
          memory_mb: 8192
          page_size_kb: 1048576
          vcpus: [0, 1, 2, 3]
          pinning: [{vcpu: 0, cpu: 8}, {vcpu: 1, cpu: 24}, {vcpu: 2, cpu: 9}, {vcpu: 3, cpu: 25}]
          cpuset: null
          emulator_cpus: []
    cpuset:
      description: Host CPUs a guest without NUMA topology floats on.
      type: str
      sample: "0-31"
    emulator_cpus:
      description: Host CPUs of the emulator threads.
      type: str
      sample: "4"
    pci_devices:
      description: PCI addresses given to the guest.
      type: list
      elements: str
      sample: ["0000:3b:00.0"]
    weight:
      description: The host's total weight.
      type: float
      sample: 1.85
    forced:
      description: The host was named by force_host.
      type: bool
      sample: false
    would_fail:
      description: With force, the filters the host would have failed.
      type: list
      elements: dict
      sample: [{host: hv1, filter: RamFilter, reason: "512 MB usable RAM left ..., request needs 1024 MB"}]
rejections:
  description: Per request name, every host a filter refused, with the filter and a one-line reason.
  returned: always
  type: dict
  sample:
    db1:
      - {host: hv3, filter: NUMATopologyFilter,
         reason: "cell 1 has 2 free dedicated CPUs under the isolate policy, guest cell 0 needs 4"}
"""

from ansible_collections.vmfleet.compute.plugins.module_utils.host.facts import facts_in_force
from ansible_collections.vmfleet.compute.plugins.module_utils.host.hosts_option import parse_hosts
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.names import check_instance_name
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.request import flavor_option
from ansible_collections.vmfleet.compute.plugins.module_utils.module import VmfleetModule
from ansible_collections.vmfleet.compute.plugins.module_utils.planning.admission import schedule_admitted
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import INT_OPTIONS, MULTIPLIERS
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.filters import ALIASES, FILTERS
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.weighers import WEIGHERS
from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store
from ansible_collections.vmfleet.compute.plugins.module_utils.state.url import STATE_URL_ARGSPEC


# The registries are the one list of names: a filter or weigher added there is accepted here.
FILTER_CHOICES = list(FILTERS) + list(ALIASES)
WEIGHER_CHOICES = list(WEIGHERS)


def argument_spec():
    names = dict(type="list", elements="str", default=[])
    return dict(
        hosts=dict(type="list", elements="dict", required=True),
        requests=dict(type="list", elements="dict", required=True, options=dict(
            name=dict(type="str", required=True),
            flavor=flavor_option(required=True, name_required=False, disk_gb_alias=True),
            image=dict(type="dict", options=dict(properties=dict(type="dict", default={}))),
            networks=dict(type="list", elements="dict", options=dict(network=dict(type="str"), bridge=dict(type="str")),
                          mutually_exclusive=[["network", "bridge"]], required_one_of=[["network", "bridge"]]),
            hints=dict(type="dict", options=dict(
                availability_zone=dict(type="str"),
                group=dict(type="dict", options=dict(
                    name=dict(type="str"),
                    policy=dict(type="str", required=True,
                                choices=["affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity"]),
                    members=dict(type="list", elements="str", default=[]),
                )),
                same_host=dict(names),
                different_host=dict(names),
                force_host=dict(type="str"),
                force=dict(type="bool", default=False),
                retry_exclude=dict(names),
            )),
        )),
        config=dict(type="dict", options=dict(
            enabled_filters=dict(type="list", elements="str", choices=FILTER_CHOICES),
            weighers=dict(type="list", elements="str", choices=WEIGHER_CHOICES),
            # Nova's defaults, as the scheduler library holds them (one source for both)
            **dict((option, dict(type="float", default=default)) for option, default in MULTIPLIERS.items()),
            **dict((option, dict(type="int", default=default)) for option, (default, _minimum) in INT_OPTIONS.items()),
            pci_aliases=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True),
                vendor_id=dict(type="str", required=True),
                product_id=dict(type="str", required=True),
                numa_policy=dict(type="str", choices=["required", "legacy", "preferred"], default="legacy"),
            )),
        )),
        seed=dict(type="int"),
        allow_partial=dict(type="bool", default=False),
        **STATE_URL_ARGSPEC,
    )


def run(params):
    """The module's work on validated params: the result dict (``failed`` when a request was not placed)."""
    for index, request in enumerate(params["requests"]):
        check_instance_name(request["name"], "requests[%d].name" % index)
    with open_store(params["state_url"]) as store:  # the cordons and drains in force now, not at facts time
        hosts = facts_in_force(parse_hosts(params["hosts"], entries=False), store)
    result = schedule_admitted(hosts, params["requests"], params.get("config"), params.get("seed"))
    output = result.to_dict()
    failed = result.failed
    output["changed"] = False
    if failed and not params.get("allow_partial"):
        output["msg"] = "; ".join(o.error for o in failed)
        output["failed"] = True
        return output
    output["msg"] = "%d of %d requests placed" % (len(result.placed), len(result.outcomes))
    return output


def main():
    module = VmfleetModule(argument_spec(), needs_libvirt=False)
    module.run(run, module.params)


if __name__ == "__main__":
    main()
