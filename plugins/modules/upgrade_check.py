#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: upgrade_check
short_description: Upgrade preflight of a libvirt/KVM fleet, like nova-status upgrade check
version_added: 0.1.0
description:
  - Runs checks over the fleet's host facts (from M(vmfleet.compute.hypervisor_info)) and returns one row per
    check and host (or per check for the whole fleet) with a result V(Success), V(Warning), V(Failure), or
    V(Error) when the check itself crashed (the other checks still run), and details that say what to do.
  - "Checks: C(versions) (libvirt and QEMU against O(target_libvirt_version) / O(target_qemu_version)),
    C(version_skew) (different versions across the fleet), C(cpu_compatibility) (live migration between the
    hosts' CPUs, compared by libvirt, see O(libvirt_compare)), C(n_plus_one) (every guest of each host re-placed
    on the other hosts by the collection's scheduler: pinning, NUMA, hugepages, server groups; guests the drain
    cannot move, with host devices or a resize awaiting confirmation, fail it), C(guest_states)
    (paused, crashed, suspended, resized awaiting confirmation), C(migrations) (libvirt jobs, tasks, the
    migration journal), C(cordoned), C(storage) (instance pools against a drain of the most demanding other host, with the
    base images it would copy),
    C(hugepages) (reserved but unused, or exhausted), C(settings) (RAM overcommit with pinned guests, no
    reserved host memory, high CPU ratios), C(unmanaged_guests) (guests without the collection's metadata),
    C(machine_types) (against O(target_machine_types) or the other hosts)."
  - The result code RV(rc) is nova-status's, 0 when every check succeeds, 1 with a warning, 2 with a failure,
    255 when a check crashed.
  - The task fails on a Failure or an Error, and on a Warning when O(strict=true); a failed task still returns
    RV(checks), RV(table), RV(rc) and RV(summary), so AWX shows why. Use C(failed_when) to print the table first
    (the C(vmfleet.compute.preflight) role does).
  - It changes nothing. Besides the facts given, only C(cpu_compatibility) reads the hosts, through the C(uri) of
    their facts, unless O(libvirt_compare=false).
author:
  - vmfleet.compute contributors (@vmfleet)
extends_documentation_fragment:
  - vmfleet.compute.fleet_state
options:
  hosts:
    description:
      - Host facts, one per hypervisor, as M(vmfleet.compute.hypervisor_info) returns them under C(hypervisor)
        (a registered result holding C(hypervisor) is accepted too).
      - Cordons, drains and the migration journal are read from the fleet state store (O(state_url)) when the
        module runs, so the checks see them as they are now.
    type: list
    elements: dict
    required: true
  target_libvirt_version:
    description: The minimum libvirt version of the release being upgraded to, such as V(10.0.0).
    type: str
  target_qemu_version:
    description: The minimum QEMU version of the release being upgraded to, such as V(8.2.0).
    type: str
  target_machine_types:
    description:
      - Machine types the target QEMU offers. Guests using another one fail C(machine_types).
      - When not given, each guest's machine type is compared with what the other hosts offer.
    type: list
    elements: str
  checks:
    description: The checks to run, in the table's order. Empty runs them all.
    type: list
    elements: str
    default: []
    choices: [versions, version_skew, cpu_compatibility, n_plus_one, guest_states, migrations, cordoned, evacuated,
              storage, hugepages, settings, unmanaged_guests, machine_types]
  strict:
    description: Fail the task on a Warning too.
    type: bool
    default: false
  storage_min_free_gb:
    description:
      - C(storage) fails when an instance pool, after taking a drain of the most demanding other host (the
        allocated bytes of its guests' disks, and the base images under them that the pool does not hold yet),
        would have less than this free.
    type: float
    default: 1.0
  storage_warn_free_percent:
    description: C(storage) warns when less than this percentage of a pool would be free after that drain.
    type: float
    default: 10.0
  max_cpu_allocation_ratio:
    description: C(settings) warns when a host's C(cpu_allocation_ratio) is above this (Nova's default is 4.0).
    type: float
    default: 16.0
  libvirt_compare:
    description:
      - C(cpu_compatibility) asks each destination's libvirt (C(compareHypervisorCPU)) whether the source's host-model
        CPU and the live CPU of each running guest can run there, connecting to each host through the C(uri) of its
        facts from where the module runs. A connection must reach the host its facts describe (the same host UUID).
      - A host that cannot be reached that way (a local C(qemu:///system) URI gathered on the host itself, a daemon
        down, no libvirt-python where the module runs) is compared from its facts (arch, vendor, CPU features)
        instead, and the row's details say which and why.
      - V(false) compares the facts only, without connecting to any host.
    type: bool
    default: true
  scheduler_config:
    description:
      - The scheduler configuration C(n_plus_one) places with, as M(vmfleet.compute.schedule)'s O(vmfleet.compute.schedule#module:config).
        The check asks the drain's own planner, so C(max_io_ops_per_host) counts the migrations and builds in flight
        on each destination, not the drain's planned moves (a drain runs those a few at a time).
    type: dict
attributes:
  check_mode:
    support: full
    description: The module changes nothing; check mode runs the same checks.
  diff_mode:
    support: none
    description: Nothing changes.
seealso:
  - module: vmfleet.compute.hypervisor_info
  - module: vmfleet.compute.host_maintenance
  - name: nova-status upgrade check
    description: The command this module follows.
    link: https://docs.openstack.org/nova/latest/cli/nova-status.html
"""

EXAMPLES = r"""
- name: Preflight the fleet before upgrading to libvirt 10 / QEMU 8.2
  vmfleet.compute.upgrade_check:
    hosts: "{{ groups['hypervisors'] | map('extract', hostvars, 'hypervisor_facts_host') | list }}"
    target_libvirt_version: "10.0.0"
    target_qemu_version: "8.2.0"
  register: preflight
  failed_when: false
  run_once: true

- name: Show the table, then fail on a Failure
  ansible.builtin.debug:
    msg: "{{ preflight.table.split('\n') }}"
  failed_when: preflight.rc >= 2

- name: Only the drain capacity, strict
  vmfleet.compute.upgrade_check:
    hosts: "{{ facts }}"
    checks: [n_plus_one]
    strict: true
"""

RETURN = r"""
checks:
  description: One row per check and host; fleet-wide checks have RV(checks[].host) null.
  returned: always
  type: list
  elements: dict
  contains:
    check:
      description: The check's name.
      type: str
      sample: n_plus_one
    host:
      description: The host the row is about; null for a fleet-wide row.
      type: str
      sample: hv1
    result:
      description: The result.
      type: str
      choices: [Success, Warning, Failure, Error]
    details:
      description: What was found and what to do.
      type: str
      sample: "all 2 guests fit on the other hosts: vm1->hv2, vm2->hv3"
table:
  description: The rows as a text table (Check, Host, Result, Details).
  returned: always
  type: str
rc:
  description: 0 every check succeeded, 1 a warning, 2 a failure, 255 a check crashed.
  returned: always
  type: int
  sample: 0
summary:
  description: How many rows of each result.
  returned: always
  type: dict
  contains:
    success:
      description: Rows that succeeded.
      type: int
    warning:
      description: Rows with a warning.
      type: int
    failure:
      description: Rows with a failure.
      type: int
    error:
      description: Rows of checks that crashed.
      type: int
    rc:
      description: Same as RV(rc).
      type: int
    rows:
      description: All rows.
      type: int
msg:
  description: The summary in one line, with the rows that failed the task.
  returned: always
  type: str
"""

from ansible_collections.vmfleet.compute.plugins.module_utils.host.cpu_comparison import FleetCpuComparison
from ansible_collections.vmfleet.compute.plugins.module_utils.host.facts import facts_in_force
from ansible_collections.vmfleet.compute.plugins.module_utils.host.hosts_option import parse_hosts
from ansible_collections.vmfleet.compute.plugins.module_utils.module import VmfleetModule
from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store
from ansible_collections.vmfleet.compute.plugins.module_utils.state.url import STATE_URL_ARGSPEC
from ansible_collections.vmfleet.compute.plugins.module_utils.upgrade_checks import runner


_OPTIONS = ("target_libvirt_version", "target_qemu_version", "target_machine_types", "storage_min_free_gb",
            "storage_warn_free_percent", "max_cpu_allocation_ratio", "scheduler_config", "libvirt_compare")


def argument_spec():
    return dict(
        hosts=dict(type="list", elements="dict", required=True),
        target_libvirt_version=dict(type="str"),
        target_qemu_version=dict(type="str"),
        target_machine_types=dict(type="list", elements="str"),
        checks=dict(type="list", elements="str", default=[], choices=list(runner.CHECKS)),
        strict=dict(type="bool", default=False),
        storage_min_free_gb=dict(type="float", default=1.0),
        storage_warn_free_percent=dict(type="float", default=10.0),
        max_cpu_allocation_ratio=dict(type="float", default=16.0),
        scheduler_config=dict(type="dict"),
        libvirt_compare=dict(type="bool", default=True),
        **STATE_URL_ARGSPEC,
    )


def run(params):
    """The result dict, ``failed`` on a Failure (or a Warning when strict)."""
    with open_store(params["state_url"]) as store:  # cordons, drains and the journal as they are now
        hosts = facts_in_force(parse_hosts(params["hosts"], entries=False), store)
    rows, rc = runner.run_checks(hosts, dict((k, params.get(k)) for k in _OPTIONS), params["checks"],
                                 cpu_comparison=FleetCpuComparison)
    failed, msg = runner.verdict(rows, rc, params["strict"])
    return dict(changed=False, checks=rows, table=runner.render_table(rows), rc=rc,
                summary=runner.summary(rows, rc), msg=msg, failed=failed)


def main():
    module = VmfleetModule(argument_spec(), needs_libvirt=False)
    if module.params["libvirt_compare"]:
        module.require_libvirt()  # the CPU check asks each host's libvirt
    module.run(run, module.params)


if __name__ == "__main__":
    main()
