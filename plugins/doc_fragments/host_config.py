# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-host capacity settings (Nova's names and defaults), set per host or group in an inventory.

Static YAML (ansible-doc reads it as such); a unit test holds it equal to the settings' one
declaration, HOST_SETTINGS in plugins/module_utils/host/settings.py: edit both together."""

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  reserved_host_memory_mb:
    description:
      - Memory (MiB) kept for the host itself; counted as used.
      - Nova's C(reserved_host_memory_mb).
    type: int
    default: 512
  reserved_host_disk_mb:
    description:
      - Disk (MiB) of the instance pools kept for the host; counted as used, rounded up to whole GiB.
      - Nova's C(reserved_host_disk_mb).
    type: int
    default: 0
  reserved_host_cpus:
    description:
      - Number of CPUs taken off the floating (shared) pool's capacity.
      - Never removes CPUs from O(cpu_dedicated_set). Nova's C(reserved_host_cpus).
    type: int
    default: 0
  cpu_allocation_ratio:
    description:
      - Overcommit ratio of floating vCPUs to shared host CPUs.
      - Dedicated (pinned) CPUs are never overcommitted. Must be greater than 0. Nova's C(cpu_allocation_ratio).
    type: float
    default: 4.0
  ram_allocation_ratio:
    description:
      - Overcommit ratio of guest memory to host memory.
      - Must be greater than 0. Nova's C(ram_allocation_ratio).
    type: float
    default: 1.0
  disk_allocation_ratio:
    description:
      - Overcommit ratio of guest disk to the instance pools' capacity.
      - Must be greater than 0. Nova's C(disk_allocation_ratio).
    type: float
    default: 1.0
  cpu_dedicated_set:
    description:
      - Host CPUs that pinned (dedicated) guest vCPUs may use, in CPU list syntax such as V(4-12,^8,15).
      - Must not overlap O(cpu_shared_set) and must name CPUs the host has. Nova's C([compute] cpu_dedicated_set).
      - When neither set is given every CPU serves both kinds of guest, and a pinned CPU leaves the floating pool.
    type: str
  cpu_shared_set:
    description:
      - Host CPUs that floating (shared) guest vCPUs and shared emulator threads run on, in CPU list syntax.
      - Must not overlap O(cpu_dedicated_set) and must name CPUs the host has. Nova's C([compute] cpu_shared_set).
    type: str
  availability_zone:
    description:
      - Availability zone of the host.
      - Nova's C(default_availability_zone) is C(nova); this collection's default is V(default).
    type: str
    default: default
  aggregates:
    description:
      - "Host aggregates the host belongs to, as names or as dicts C({name: NAME, metadata: {KEY: VALUE}})."
      - Metadata values are kept as strings, as Nova keeps them.
    type: list
    elements: raw
    default: []
  instance_pools:
    description:
      - libvirt storage pools whose capacity counts as the host's local disk (C(local_gb)).
      - Guest disks in other pools are not counted as local disk usage.
    type: list
    elements: str
    default: [default]
  disk_tiers:
    description:
      - "Storage tiers of the host, as C({TIER: POOL}), such as C({hdd: default, ssd: fast})."
      - A flavor asks for a tier with the extra spec C(vmfleet:disk_tier); its disks go to that pool,
        and the scheduler places it only on hosts that have the tier.
      - Each pool must be one of O(instance_pools). Without a tier, disks go to the first instance pool.
    type: dict
    default: {}
  cpu_mode:
    description:
      - The guest CPU of guests built here.
      - Nova's C([libvirt] cpu_mode). Unset means Nova's default, V(host-model) under KVM and no CPU model
        under TCG.
      - V(custom) uses the first model of O(cpu_models), for fleets whose hosts must offer a common CPU for
        live migration, or where the host CPU cannot be passed to guests (some nested hypervisors).
    type: str
    choices: [host-model, host-passthrough, custom, none]
  cpu_models:
    description:
      - CPU models for O(cpu_mode=custom), such as V(Skylake-Server) or V(kvm64).
      - Nova's C([libvirt] cpu_models).
    type: list
    elements: str
    default: []
  live_migration_inbound_addr:
    description:
      - The address other hosts send live migration data to, such as a storage or migration network's address.
      - Nova's C([libvirt] live_migration_inbound_addr). Unset means libvirt's choice (the host's name).
    type: str
  live_migration_uri:
    description:
      - The URI other hosts' libvirtd use to reach this host's libvirtd for a peer-to-peer live migration, such as
        V(qemu+tls://compute-01.example.net/system) (certificates and keys as the source host sees them); unset means
        the host's own URI.
      - Nova's C([libvirt] live_migration_uri), which is one template for all hosts; this is each host's own URI.
      - Its scheme is one of V(qemu+ssh), V(qemu+tls), V(qemu+tcp) or V(qemu), and it names the host. Use it when the
        controller's URI for the host (C(vmfleet_libvirt_uri)) holds something only the controller has, such as
        C(?pkipath=) of the controller's certificates.
    type: str
  enabled:
    description:
      - Whether the scheduler may place new guests here; V(false) while the host is cordoned.
    type: bool
    default: true
  disabled_reason:
    description:
      - Why the host is disabled, shown to people; only meaningful with O(enabled=false).
    type: str
"""
