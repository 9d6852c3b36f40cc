#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: hypervisor_info
short_description: Gather one libvirt/KVM host's capacity, topology and guests, counted as Nova counts
version_added: 0.1.0
description:
  - Reads a hypervisor host through libvirt and returns its host facts, the dict every other module of
    the collection (the scheduler first) consumes; the shape is documented in RV(hypervisor) and in
    C(docs/host-facts.md).
  - Returns the host's identity and versions, CPU, NUMA cells (CPUs, memory, hugepage pools, distances),
    PCI devices, storage pools, guests (vCPUs, memory, pinning, NUMA, disks, the collection's metadata),
    and the resource view of Nova's resource tracker with reservations and allocation ratios applied.
  - Usage is theoretical, from what guests were given, running or shut off; free values go negative when the
    host is overcommitted, and are reported so.
  - Read-only; never changes the host.
author:
  - vmfleet.compute contributors (@vmfleet)
options:
  name:
    description:
      - Name of the host in the fleet, the key the scheduler uses for it.
      - Defaults to the hostname libvirt reports. Usually set to C({{ inventory_hostname }}).
    type: str
  gather_guests:
    description:
      - Whether to read the guests defined on the host.
      - With V(false), RV(hypervisor.guests) is empty and usage counts no guest; faster on large hosts, but
        the resource figures are then not fit for scheduling.
    type: bool
    default: true
  state_dir:
    description:
      - The host's state folder of an earlier version (inventory C(vmfleet_state_dir)); when given, it is imported
        into the fleet state store once (O(state_url)), so nothing recorded there is lost.
      - The host's cordon, journal and drains are read from the store. When the host is cordoned (or a drain holds
        it), RV(hypervisor.config.enabled) is V(false) and RV(hypervisor.config.disabled_reason),
        RV(hypervisor.config.disabled_by) and RV(hypervisor.config.disabled_at) say why, so the scheduler never
        places onto the host.
    type: path
extends_documentation_fragment:
  - vmfleet.compute.fleet_state
  - vmfleet.compute.libvirt_connection
  - vmfleet.compute.host_config
attributes:
  check_mode:
    support: full
    description: The module never changes anything; check mode returns the same facts.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
notes:
  - A bad URI, an unreachable daemon or an authentication problem fails with a message that names the host
    and says what to check.
seealso:
  - name: libvirt capabilities XML
    description: Where the host's CPU and NUMA topology come from.
    link: https://libvirt.org/formatcaps.html
"""

EXAMPLES = r"""
- name: Gather the local host's facts
  vmfleet.compute.hypervisor_info:
  register: local

- name: Gather every hypervisor's facts, with per-host settings from the inventory
  vmfleet.compute.hypervisor_info:
    uri: "{{ vmfleet_libvirt_uri }}"
    name: "{{ inventory_hostname }}"
    reserved_host_memory_mb: "{{ vmfleet_reserved_host_memory_mb | default(omit) }}"
    cpu_allocation_ratio: "{{ vmfleet_cpu_allocation_ratio | default(omit) }}"
    cpu_dedicated_set: "{{ vmfleet_cpu_dedicated_set | default(omit) }}"
    cpu_shared_set: "{{ vmfleet_cpu_shared_set | default(omit) }}"
    availability_zone: "{{ vmfleet_availability_zone | default(omit) }}"
    aggregates: "{{ vmfleet_aggregates | default(omit) }}"
  delegate_to: localhost
  register: facts

- name: Show free memory
  ansible.builtin.debug:
    msg: "{{ facts.hypervisor.name }}: {{ facts.hypervisor.resources.free_ram_mb }} MiB free"
"""

RETURN = r"""
hypervisor:
  description:
    - The host facts, the dict the scheduler and every other module of the collection read about a host
      (C(docs/host-facts.md) is generated from this). Memory in MiB, disk in GiB, page sizes in KiB.
  returned: success
  type: dict
  contains:
    name:
      description: The host's name in the fleet (option O(name), else libvirt's hostname).
      type: str
      sample: hv1
    hostname:
      description: The hostname libvirt reports (C(getHostname)).
      type: str
      sample: lab-hv1
    uri:
      description: The libvirt URI used.
      type: str
      sample: qemu+ssh://root@hv1.example.net/system
    host_uuid:
      description: The host UUID from the capabilities XML (C(<host><uuid>)); null when libvirt gives none.
      type: str
      sample: 5c0e8f4e-4d1a-4b35-9b7e-3f0a8c3b2a11
    hypervisor_type:
      description: The libvirt driver's hypervisor type (C(getType)).
      type: str
      sample: QEMU
    virt_type:
      description: The best domain type the host offers for its own arch, V(kvm) before V(qemu) (TCG).
      type: str
      sample: kvm
    libvirt_version:
      description: libvirt version.
      type: str
      sample: 9.0.0
    hypervisor_version:
      description: Hypervisor (QEMU) version.
      type: str
      sample: 7.2.0
    cpu:
      description: The host CPU.
      type: dict
      contains:
        arch:
          description: CPU architecture.
          type: str
          sample: x86_64
        vendor:
          description: CPU vendor; null when libvirt gives none.
          type: str
          sample: Intel
        model:
          description: Host CPU model name; null when libvirt gives none.
          type: str
          sample: Skylake-Client-IBRS
        features:
          description: Host CPU feature names (host-model features, from the capabilities XML).
          type: list
          elements: str
          sample: [vmx, pcid]
        sockets:
          description:
            - CPU sockets of the whole host (distinct socket ids over the cells).
            - This and the three below are null when libvirt gives no CPU topology at all.
          type: int
          sample: 2
        cores_per_socket:
          description: Cores per socket; null without a topology.
          type: int
          sample: 8
        threads_per_core:
          description: Threads per core; 1 without SMT; null without a topology.
          type: int
          sample: 2
        total_threads:
          description: Logical CPUs (threads) of the host; null when libvirt lists none.
          type: int
          sample: 32
    machine_types:
      description: Machine types the host's QEMU offers for its own architecture (names and aliases), from the
        capabilities XML.
      type: list
      elements: str
      sample: [pc, pc-i440fx-7.2, pc-q35-7.2, q35]
    numa:
      description: The host's NUMA topology.
      type: dict
      contains:
        cells:
          description: NUMA cells; empty when libvirt lists none.
          type: list
          elements: dict
          contains:
            id:
              description: Cell id.
              type: int
              sample: 0
            memory_mb:
              description: Memory of the cell.
              type: int
              sample: 65536
            free_memory_mb:
              description: Memory the kernel reports free now (measured, informative); null when libvirt cannot tell.
              type: int
              sample: 61000
            cpus:
              description: The cell's logical CPUs.
              type: list
              elements: dict
              contains:
                id:
                  description: Host CPU id.
                  type: int
                siblings:
                  description: CPU ids of the threads of the same core, this one included.
                  type: list
                  elements: int
                socket_id:
                  description: Socket id; null when libvirt gives none.
                  type: int
                die_id:
                  description: Die id; null when libvirt gives none.
                  type: int
                core_id:
                  description: Core id; null when libvirt gives none.
                  type: int
            pages:
              description: Every page size the cell offers, the small page size included.
              type: list
              elements: dict
              contains:
                size_kb:
                  description: Page size in KiB.
                  type: int
                  sample: 2048
                total:
                  description: Pages of that size in the cell.
                  type: int
                  sample: 512
                free:
                  description:
                    - Pages of that size free now (measured); null when libvirt cannot tell.
                    - For the small page size, derived from the cell's free memory when libvirt gives no count.
                  type: int
                  sample: 512
            distances:
              description: NUMA distance to each cell, keyed by cell id (as a string).
              type: dict
              sample: {"0": 10, "1": 21}
            usage:
              description: What the host's guests were given in this cell (theoretical).
              type: dict
              contains:
                pinned_cpus:
                  description: Host CPUs a dedicated guest vCPU or an isolated emulator thread owns.
                  type: list
                  elements: int
                  sample: [2, 3]
                memory_mb_used:
                  description: Memory of guest NUMA cells (or single-node numatune guests) bound to this cell.
                  type: int
                  sample: 2048
                pages_used:
                  description: Hugepages given to guests here, keyed by page size in KiB (as a string).
                  type: dict
                  sample: {"2048": 256}
                shared_vcpus_used:
                  description: Floating vCPUs of guest cells bound to this cell.
                  type: int
                  sample: 4
    pci_devices:
      description: The host's PCI devices, as libvirt's node devices list them.
      type: list
      elements: dict
      contains:
        address:
          description: PCI address.
          type: str
          sample: "0000:3b:00.0"
        vendor_id:
          description: Vendor id; null when libvirt gives none.
          type: str
          sample: "0x8086"
        product_id:
          description: Product id; null when libvirt gives none.
          type: str
          sample: "0x1572"
        vendor:
          description: Vendor name; null when libvirt gives none.
          type: str
          sample: Intel Corporation
        product:
          description: Product name; null when libvirt gives none.
          type: str
          sample: Ethernet Controller X710
        class:
          description: PCI class code; null when libvirt gives none.
          type: str
          sample: "0x020000"
        numa_node:
          description: NUMA node of the device; null where libvirt lists none.
          type: int
          sample: 0
        driver:
          description: Host kernel driver bound to the device; null when none.
          type: str
          sample: i40e
        capability:
          description: V(pci), or V(pf) / V(vf) for an SR-IOV physical / virtual function.
          type: str
          sample: pci
    storage_pools:
      description: libvirt storage pools of the host.
      type: list
      elements: dict
      contains:
        name:
          description: Pool name.
          type: str
          sample: default
        type:
          description: Pool type.
          type: str
          sample: dir
        active:
          description: Whether the pool is active.
          type: bool
        path:
          description: Target path of the pool; null for pools without one.
          type: str
          sample: /var/lib/libvirt/images
        capacity_bytes:
          description: Capacity.
          type: int
        allocation_bytes:
          description: Allocated bytes.
          type: int
        available_bytes:
          description: Available bytes.
          type: int
        volumes:
          description: Names of the pool's volumes (which base images are cached here); empty for an inactive pool.
          type: list
          elements: str
    networks:
      description:
        - libvirt networks of the host, sorted by name. The scheduler's C(NetworkFilter) places a guest only on a
          host with its networks defined (a build or move checks on the host that they run when the guest is to).
      type: list
      elements: dict
      contains:
        name:
          description: Network name.
          type: str
          sample: default
        active:
          description: Whether the network runs (a guest on it can start).
          type: bool
        bridge:
          description: The bridge the network's guests are plugged into; null for a network without one.
          type: str
          sample: virbr0
    host_interfaces:
      description:
        - Names of the host's network interfaces (its bridges among them), sorted; null when the host's libvirt
          has no interface driver and so cannot tell (the scheduler then does not rule the host out for a bridge).
      type: list
      elements: str
      sample: [br0, eno1, lo]
    guests:
      description: Guests defined on the host, running or not, sorted by name.
      type: list
      elements: dict
      contains:
        name:
          description: Domain name.
          type: str
          sample: vm1
        uuid:
          description: Domain UUID.
          type: str
        state:
          description: Domain state.
          type: str
          sample: running
          choices: [running, paused, shutoff, crashed, pmsuspended, blocked, shutdown, nostate]
        vcpus:
          description: Current vCPUs.
          type: int
          sample: 2
        max_vcpus:
          description: Maximum vCPUs.
          type: int
          sample: 2
        memory_mb:
          description: Current memory (C(<currentMemory>)).
          type: int
          sample: 128
        max_memory_mb:
          description: Memory (C(<memory>)).
          type: int
          sample: 128
        cpu_policy:
          description:
            - From the collection's metadata; else derived from vCPU pinning (every vCPU pinned to one CPU
              is V(dedicated), some is V(mixed), none is V(shared)).
          type: str
          choices: [dedicated, shared, mixed]
          sample: dedicated
        vcpu_cpuset:
          description: Host CPUs of C(<vcpu cpuset>), where vCPUs without C(<vcpupin>) may run; empty when not given.
          type: list
          elements: int
        floating_cpus:
          description:
            - Host CPUs the guest's floating vCPUs, and its emulator threads unless isolated, may run on (libvirt's
              defaults filled in); empty when everything of the guest runs on CPUs it owns. A pin on these CPUs
              first takes them out of the guest (README, "Pinned CPUs are never shared").
          type: list
          elements: int
        vcpupin:
          description: vCPU pinning.
          type: list
          elements: dict
          contains:
            vcpu:
              description: Guest vCPU id.
              type: int
            cpus:
              description: Host CPUs the vCPU may run on.
              type: list
              elements: int
        emulatorpin:
          description: Host CPUs of the emulator threads; empty when not pinned.
          type: list
          elements: int
        numatune:
          description: The guest's C(<numatune>); null when absent.
          type: dict
          contains:
            mode:
              description: Memory mode of C(<memory>); null when only per-cell C(<memnode>)s are given.
              type: str
              sample: strict
            nodeset:
              description: Host nodes of the guest's memory.
              type: list
              elements: int
            memnodes:
              description: Per guest cell binding.
              type: list
              elements: dict
              contains:
                cellid:
                  description: Guest NUMA cell id.
                  type: int
                mode:
                  description: Memory mode.
                  type: str
                nodeset:
                  description: Host nodes.
                  type: list
                  elements: int
        guest_numa_cells:
          description: The guest's NUMA cells (C(<cpu><numa>)); empty without a guest NUMA topology.
          type: list
          elements: dict
          contains:
            id:
              description: Guest cell id.
              type: int
            cpus:
              description: Guest vCPU ids of the cell.
              type: list
              elements: int
            memory_mb:
              description: Memory of the cell.
              type: int
            host_cell:
              description: Host cell the memory is bound to (numatune memnode of one node); null when not bound.
              type: int
        cpu_topology:
          description: Guest CPU topology; null when the XML has none.
          type: dict
          contains:
            sockets:
              description: Sockets.
              type: int
            cores:
              description: Cores per socket.
              type: int
            threads:
              description: Threads per core.
              type: int
        page_size_kb:
          description: Hugepage size backing the guest's memory; null for small pages.
          type: int
          sample: 2048
        disks:
          description: The guest's disks.
          type: list
          elements: dict
          contains:
            target:
              description: Target device; null when the XML gives none.
              type: str
              sample: vda
            device:
              description: Device kind.
              type: str
              sample: disk
            bus:
              description: Bus; null when the XML gives none.
              type: str
              sample: virtio
            type:
              description: Disk source type.
              type: str
              sample: file
            format:
              description: Image format; null when the XML gives none.
              type: str
              sample: qcow2
            source:
              description:
                - Path, V(pool/volume) for volume disks, or V(protocol:name) for network disks.
                - Null for a disk without a source (an empty CD-ROM drive).
              type: str
              sample: /var/lib/libvirt/images/vm1.qcow2
            pool:
              description: The storage pool holding the disk; null when it is in none.
              type: str
              sample: default
            capacity_bytes:
              description: Virtual size; null when libvirt cannot tell.
              type: int
              sample: 1073741824
            allocation_bytes:
              description: Bytes allocated on the host; null when libvirt cannot tell.
              type: int
              sample: 200704
            backing_chain:
              description:
                - Backing files below the top image, nearest first. From the live XML, else the storage pools'
                  volume XML; empty when there is none or libvirt cannot tell.
              type: list
              elements: str
            base_image:
              description:
                - The bottom of the backing chain (the base image a block migration needs cached on the destination
                  first); null when the disk has no backing file.
              type: dict
              contains:
                name:
                  description: File name of the base image.
                  type: str
                  sample: cirros.qcow2
                path:
                  description: Path of the base image.
                  type: str
                  sample: /var/lib/libvirt/images/_base/cirros.qcow2
                allocation_bytes:
                  description: Bytes the base image takes on the host; null when libvirt cannot tell.
                  type: int
                  sample: 16338944
        host_devices:
          description: Devices passed through from the host (they block live migration).
          type: list
          elements: dict
          contains:
            type:
              description: Device type.
              type: str
              sample: pci
            address:
              description: Host address of the device.
              type: str
              sample: "0000:3b:00.0"
        interfaces:
          description: The guest's network interfaces.
          type: list
          elements: dict
          contains:
            type:
              description:
                - V(network) for an interface on a libvirt network (whatever type a running guest's XML shows it
                  as), V(bridge) on a host bridge, else libvirt's type (V(direct), V(user), ...).
              type: str
              sample: network
            source:
              description: The network's or bridge's name (a C(direct) interface's device); null when none.
              type: str
              sample: default
            mac:
              description: MAC address; null when the XML gives none.
              type: str
              sample: "52:54:00:6b:3c:58"
            model:
              description: Device model; null when the XML gives none.
              type: str
              sample: virtio
        machine_type:
          description: Machine type; null when the XML gives none.
          type: str
          sample: pc-q35-7.2
        managed:
          description: Whether the collection's metadata is present.
          type: bool
        metadata:
          description:
            - The collection's metadata (namespace C(https://vmfleet.dev/xmlns/compute/instance/1)), keyed by
              element (flavor, request, placement, state, ...); null when unmanaged.
          type: dict
        usage:
          description: What the tracker counts for this guest.
          type: dict
          contains:
            vcpus:
              description: vCPUs counted.
              type: int
            memory_mb:
              description: Memory counted.
              type: int
            disk_gb:
              description: Local disk counted, each disk's virtual size rounded up to whole GiB.
              type: int
    config:
      description: The host settings in effect, defaults applied (see the options of the same names).
      type: dict
      contains:
        reserved_host_memory_mb:
          description: Reserved memory.
          type: int
        reserved_host_disk_mb:
          description: Reserved disk.
          type: int
        reserved_host_cpus:
          description: Reserved CPUs.
          type: int
        cpu_allocation_ratio:
          description: CPU allocation ratio.
          type: float
        ram_allocation_ratio:
          description: RAM allocation ratio.
          type: float
        disk_allocation_ratio:
          description: Disk allocation ratio.
          type: float
        cpu_dedicated_set:
          description: CPU ids for pinned guests; null when not set.
          type: list
          elements: int
        cpu_shared_set:
          description: CPU ids for floating guests; null when not set.
          type: list
          elements: int
        availability_zone:
          description: Availability zone.
          type: str
        aggregates:
          description: Aggregates, normalised to dicts.
          type: list
          elements: dict
          contains:
            name:
              description: Aggregate name.
              type: str
            metadata:
              description: Aggregate metadata (string values).
              type: dict
        instance_pools:
          description: Storage pools counted as local disk.
          type: list
          elements: str
        disk_tiers:
          description: Storage tier name -> pool of this host (flavor extra spec C(vmfleet:disk_tier)).
          type: dict
        cpu_mode:
          description: Guest CPU mode for guests built here; null for the default (host-model under KVM).
          type: str
        cpu_models:
          description: CPU models for C(cpu_mode=custom).
          type: list
          elements: str
        live_migration_inbound_addr:
          description: Where other hosts send live migration data; null for libvirt's choice.
          type: str
        live_migration_uri:
          description: The URI other hosts' libvirtd dial for a peer-to-peer live migration here; null for the host's own URI.
          type: str
        enabled:
          description: Whether the scheduler may place guests here; V(false) while the host is cordoned.
          type: bool
        disabled_reason:
          description: Why the host is disabled (the cordon's reason when it is cordoned); null when no reason is set.
          type: str
        disabled_by:
          description: Who cordoned the host; null when it is not cordoned.
          type: str
        disabled_at:
          description: When the host was cordoned (UTC, ISO 8601); null when it is not cordoned.
          type: str
          sample: "2026-11-21T08:30:00Z"
    maintenance:
      description:
        - What the fleet state store says of the host.
      type: dict
      contains:
        store:
          description: The store read, in words (never its URL, which may hold a password).
          type: str
          sample: SQLite file /var/lib/vmfleet/state.db
        draining:
          description: The drain that holds the host now; null when none does.
          type: dict
          contains:
            run_id:
              description: The drain run.
              type: str
            owner:
              description: Who runs it (user, machine, process).
              type: str
            lease_expires_at:
              description: When its lease runs out unless the drain renews it (UTC, ISO 8601).
              type: str
        cordon:
          description: The cordon record; null when the host is not cordoned.
          type: dict
          contains:
            host:
              description: The host cordoned.
              type: str
              sample: hv1
            reason:
              description: Why.
              type: str
              sample: kernel upgrade
            by:
              description: Who cordoned it.
              type: str
              sample: ops
            at:
              description: When (UTC, ISO 8601).
              type: str
              sample: "2026-11-21T08:30:00Z"
        journal:
          description:
            - The moves out of or into the host in the migration journal of the store, oldest first, that are
              still open (in flight; failed and not cleaned up; a resize awaiting confirmation; an evacuation
              from the host whose stale copy is not cleaned), and the host's 10 latest moves. The whole
              history is M(vmfleet.compute.migration_info)'s.
            - Each has C(id), C(guest), C(source), C(destination), C(kind) (V(live), V(cold) or V(resize)),
              C(status) (V(migrating), V(finished) (a resize awaiting confirmation), V(confirmed), V(reverted),
              V(completed), V(error)), C(started_at),
              C(finished_at), C(data_bytes), C(downtime_ms), C(error), and what the kind adds (a resize its
              C(old_flavor) and C(new_flavor); a failed one whether it left anything behind, C(cleaned_up)).
          type: list
          elements: dict
    resources:
      description: The Nova resource tracker's view of the host.
      type: dict
      contains:
        vcpus:
          description: Host CPU threads.
          type: int
        vcpus_used:
          description: Sum of every guest's vCPUs (theoretical; Nova's field).
          type: int
        memory_mb:
          description: Host memory (libvirt C(getInfo), Nova's source too).
          type: int
        memory_mb_used:
          description: Reserved host memory plus every guest's memory.
          type: int
        free_ram_mb:
          description: C(memory_mb - memory_mb_used); negative when overcommitted.
          type: int
        local_gb:
          description: Capacity of the active instance pools, whole GiB.
          type: int
        local_gb_used:
          description: Reserved host disk (rounded up to GiB) plus every guest's disk.
          type: int
        free_disk_gb:
          description: C(local_gb - local_gb_used); negative when overcommitted.
          type: int
        pcpus:
          description: CPUs that may be pinned (O(cpu_dedicated_set), else every CPU not in O(cpu_shared_set)).
          type: int
        pcpus_used:
          description: Host CPUs owned by dedicated guests and isolated emulator threads.
          type: int
        shared_cpus:
          description:
            - CPUs floating guests may run on now. O(cpu_shared_set); else, with O(cpu_dedicated_set), the CPUs
              outside it; else every CPU not pinned to a guest.
          type: list
          elements: int
        shared_vcpus_used:
          description: vCPUs of floating guests (the shared part of mixed guests included).
          type: int
        vcpus_limit:
          description: C((len(shared_cpus) - reserved_host_cpus) * cpu_allocation_ratio).
          type: float
        memory_mb_limit:
          description: C(memory_mb * ram_allocation_ratio).
          type: float
        local_gb_limit:
          description: C(local_gb * disk_allocation_ratio).
          type: float
        running_vms:
          description: Guests defined on the host, running or not (Nova counts every instance).
          type: int
        io_ops:
          description:
            - Guests in a migration or a build right now (IoOpsFilter) - an active libvirt job, paused by a
              migration, or a non-empty C(task) in the collection's C(state) metadata.
          type: int
"""

from ansible_collections.vmfleet.compute.plugins.module_utils.host.facts import gather_host_facts
from ansible_collections.vmfleet.compute.plugins.module_utils.host.settings import HOST_CONFIG_ARGSPEC, normalize_host_config
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.module import VmfleetModule
from ansible_collections.vmfleet.compute.plugins.module_utils.state import import_folders
from ansible_collections.vmfleet.compute.plugins.module_utils.state import maintenance as maintenance_record
from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store
from ansible_collections.vmfleet.compute.plugins.module_utils.state.url import STATE_URL_ARGSPEC


def argument_spec():
    spec = dict(
        name=dict(type="str"),
        gather_guests=dict(type="bool", default=True),
        state_dir=dict(type="path"),
    )
    spec.update(STATE_URL_ARGSPEC)
    spec.update(libvirt_client.CONNECTION_ARGSPEC)
    spec.update(HOST_CONFIG_ARGSPEC)
    return spec


def run(params):
    config = normalize_host_config(params)
    # a folder that is not one is refused before the store or the host is opened
    folder = import_folders.checked_folder(params["name"], params["state_dir"], "state_dir") \
        if params["state_dir"] is not None else None
    with open_store(params["state_url"]) as store, \
            libvirt_client.connection(params["uri"], params["name"]) as conn:
        name = params["name"] or conn.getHostname()
        if folder:
            import_folders.import_folder(store, name, folder)
        # the store keeps the guests read (also in check mode: a copy of what libvirt says, not a change), for
        # an evacuation of the host if it goes down
        facts = gather_host_facts(conn, name, params["uri"], config, params["gather_guests"],
                                  maintenance_record.read_state(store, name), remember=store)
    known_pools = set(pool["name"] for pool in facts["storage_pools"])
    warnings = ["host %s has no storage pool %r (instance_pools): its disk is not counted in local_gb"
                % (facts["name"], pool) for pool in config["instance_pools"] if pool not in known_pools]
    return dict(changed=False, hypervisor=facts, warnings=warnings)


def main():
    module = VmfleetModule(argument_spec())
    module.run(run, module.params)


if __name__ == "__main__":
    main()
