#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: host_maintenance
short_description: Cordon, drain or uncordon a hypervisor host
version_added: 0.1.0
description:
  - Keeps a host's maintenance state in the fleet state store (O(state_url)), which every controller and every
    later job sees. V(cordoned) records the cordon (reason, by whom, when); V(uncordoned) removes it.
  - M(vmfleet.compute.hypervisor_info) reports a cordoned host as disabled (C(config.enabled=false) with the
    reason), so the scheduler's C(ComputeFilter) never places onto it, claims on it are refused, and the upgrade
    preflight reports it.
  - Cordoning moves no guest. V(drained) cordons the host and moves every guest elsewhere.
  - "Drain, plan first: every guest of the host is placed on the other hosts of O(hosts) as one batch by the
    scheduler (pinned and NUMA guests, hugepages, anti-affinity groups), before anything moves. When they do not
    all fit, or some cannot be moved (host devices, a resize waiting for confirm or revert, guests created
    outside the collection), the task fails with the reasons and moves nothing, unless O(allow_partial)."
  - "Drain, then execute: running and paused guests are live-migrated (M(vmfleet.compute.live_migrate), with its
    timeouts), shut-off ones cold-migrated and confirmed; at most O(max_parallel_outbound) migrations leave the
    host at a time, at most O(max_parallel_inbound) enter each destination, and O(max_parallel) run overall. A
    failed migration leaves the guest running on its source and is retried on another destination, up to
    O(max_attempts) destinations per guest. The limits count every move in flight in the fleet (the store's
    move slots), so two drains of two hosts share them, and a host being drained is never a destination."
  - "The drain is finished when libvirt lists no guest on the host, not when the migrations say so."
  - "Resumable: the drain holds the host's drain lock in the store (a lease it renews) while it runs. Run it again
    after an interruption (a killed playbook, a store that went away): it waits for a drain still running,
    settles the live migrations the interrupted run left in the journal (waiting for libvirt's job, then
    recording where the guest is), and moves only the guests still on the host."
  - "The result O(ignore:report) (also kept in the store with the drain run) has, per guest, where from and
    to, the kind, duration, downtime, data moved, attempts and result, and a summary."
  - Idempotent; a host already cordoned keeps its record as it is (reason, author and time of the cordon in force).
    Draining a host with no guests changes nothing but the cordon.
author:
  - vmfleet.compute contributors (@vmfleet)
extends_documentation_fragment:
  - vmfleet.compute.fleet_state
  - vmfleet.compute.scheduling
  - vmfleet.compute.live_migration
options:
  state:
    description:
      - V(cordoned) disables the host for new placements; V(uncordoned) enables it again; V(drained) cordons it
        and moves every guest to the other hosts of O(hosts).
      - "V(drain_cancelled) stops the drain running on the host, from any controller (KubeVirt's evacuation
        cancel): the request is recorded in the store; the drain looks every 5 s, aborts its live migrations
        (each guest back on its source), starts no other move and fails saying where every guest runs. A cold
        migration under way runs to its end. The host stays cordoned. No drain running: no change. Killing
        C(ansible-playbook) does not stop a drain (Ansible's worker runs the module in a session of its own)."
    type: str
    choices: [cordoned, uncordoned, drained, drain_cancelled]
    default: cordoned
  state_dir:
    description:
      - The host's state folder of an earlier version (inventory C(vmfleet_state_dir)); when given, it is imported
        into the store once, so a cordon, journal or drain report recorded there is not lost.
    type: path
  name:
    description:
      - The host's name in the fleet, written into the record. Usually C({{ inventory_hostname }}).
    type: str
    required: true
  hosts:
    description:
      - Host facts as M(vmfleet.compute.hypervisor_info) returns them; the host O(name) and every possible
        destination. Required with O(state=drained).
      - Or each host's entry, its connection and settings as M(vmfleet.compute.hypervisor_info) takes them
        (C(name), C(uri), C(reserved_host_memory_mb), ...; the filter C(vmfleet.compute.inventory_host)
        builds it from the inventory). The module then reads the host's facts itself, so no facts play is needed
        before a drain; a host it cannot reach is left out of the plan.
    type: list
    elements: dict
  allow_partial:
    description:
      - With O(state=drained), move the guests that can be moved even when others cannot; the task still reports
        the host as not drained (C(report.result=partial)) and does not fail.
    type: bool
    default: false
  max_parallel_outbound:
    description: Live migrations leaving the host at a time (KubeVirt's C(parallelOutboundMigrationsPerNode)).
    type: int
    default: 2
  max_parallel_inbound:
    description: Migrations entering one destination at a time.
    type: int
    default: 2
  max_parallel:
    description: Migrations of this drain at a time overall (KubeVirt's C(parallelMigrationsPerCluster)).
    type: int
    default: 5
  max_attempts:
    description: Destinations tried per guest before the drain gives up on it (it stays running on the host).
    type: int
    default: 3
  shutdown_timeout:
    description: Seconds a shut-off guest's cold migration waits for a clean shutdown (it is already off).
    type: int
    default: 60
  lock_timeout:
    description: Seconds to wait for another drain of the same host (a run still going) before failing.
    type: int
    default: 3600
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
    description:
      - Reports whether the state would change and the record it would write; writes nothing.
      - With O(state=drained), the full plan (each guest's destination, placement and kind); nothing moves.
  diff_mode:
    support: full
    description: The cordon record before and after (empty when the host is not cordoned).
notes:
  - With the default SQLite store the records live on the machine that runs the module; AWX and several
    controllers share a PostgreSQL store (docs/state-store.md).
seealso:
  - module: vmfleet.compute.hypervisor_info
  - module: vmfleet.compute.live_migrate
  - module: vmfleet.compute.migration_info
  - module: vmfleet.compute.upgrade_check
"""

EXAMPLES = r"""
- name: Cordon the host before its maintenance
  vmfleet.compute.host_maintenance:
    state: cordoned
    name: "{{ inventory_hostname }}"
    reason: "kernel upgrade, CHG-1234"

- name: Drain it (every guest to the other hosts), at most one migration at a time
  vmfleet.compute.host_maintenance:
    state: drained
    name: "{{ inventory_hostname }}"
    hosts: "{{ fleet_facts }}"
    max_parallel_outbound: 1
    completion_timeout: 300
  register: drained

- name: Show the drain report
  ansible.builtin.debug:
    var: drained.report.summary

- name: Drain hv1 with no facts play before (each host read from its inventory variables)
  vmfleet.compute.host_maintenance:
    state: drained
    name: hv1
    hosts: "{{ groups['hypervisors'] | map('vmfleet.compute.inventory_host', hostvars) | list }}"
  delegate_to: localhost

- name: Stop the drain of hv1 (run from another play or terminal; the drain's own playbook may be killed)
  vmfleet.compute.host_maintenance:
    state: drain_cancelled
    name: hv1

- name: Uncordon it afterwards
  vmfleet.compute.host_maintenance:
    state: uncordoned
    name: "{{ inventory_hostname }}"
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
report:
  description:
    - With O(state=drained), the drain report (in check mode, the plan); also in the failure result.
  returned: state=drained
  type: dict
  contains:
    host:
      description: The drained host.
      type: str
    result:
      description: V(drained), V(partial), V(failed), V(planned) (check mode) or V(not started).
      type: str
    guests:
      description:
        - Per guest; C(guest), C(from), C(to), C(kind) (live or cold), C(result) (migrated, failed, not moved,
          planned), C(attempts) (list of C(host) and C(result)), C(duration_s), C(downtime_ms), C(data_bytes),
          C(reason) (why it was not moved), C(error), C(running_on), C(placement) (pinned CPUs and NUMA cells on
          the destination, as planned).
      type: list
      elements: dict
    summary:
      description: Counts (guests, migrated, live, cold, failed, not_moved, retried), duration_s, data_bytes and
        max_downtime_ms.
      type: dict
    settled:
      description: Migrations an interrupted earlier run left in the journal, and what was found.
      type: list
      elements: str
    remaining:
      description: Guests libvirt still lists on the host at the end.
      type: list
      elements: str
drain_run:
  description: With O(state=drain_cancelled), the id of the drain run asked to stop; null when none ran.
  returned: state=drain_cancelled
  type: str
actions:
  description: With O(state=drain_cancelled), what was done.
  returned: state=drain_cancelled
  type: list
  elements: str
store:
  description: The fleet state store the record is in, in words (never its URL, which may hold a password).
  returned: always
  type: str
  sample: PostgreSQL database vmfleet on db1:5432 as vmfleet
"""

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.host.fleet import Fleet
from ansible_collections.vmfleet.compute.plugins.module_utils.maintenance import drain as host_drain
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import policy as migration_policy
from ansible_collections.vmfleet.compute.plugins.module_utils.module import VmfleetModule, current_user, diff
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import SCHEDULING_ARGSPEC
from ansible_collections.vmfleet.compute.plugins.module_utils.state import cordon as host_cordon
from ansible_collections.vmfleet.compute.plugins.module_utils.state import import_folders
from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store
from ansible_collections.vmfleet.compute.plugins.module_utils.state.url import STATE_URL_ARGSPEC


def argument_spec():
    spec = dict(
        state=dict(type="str", choices=list(states.HOST_MAINTENANCE_STATES), default=states.CORDONED),
        state_dir=dict(type="path"),
        name=dict(type="str", required=True),
        reason=dict(type="str", default="cordoned for maintenance"),
        by=dict(type="str"),
        hosts=dict(type="list", elements="dict"),
        allow_partial=dict(type="bool", default=False),
        max_attempts=dict(type="int", default=3),
        shutdown_timeout=dict(type="int", default=60),
        lock_timeout=dict(type="int", default=3600),
    )
    spec.update(host_drain.LIMITS_ARGSPEC)
    spec.update(SCHEDULING_ARGSPEC)
    spec.update(STATE_URL_ARGSPEC)
    spec.update(migration_policy.ARGSPEC)
    return spec


def _import_legacy(store, params):
    """The host's state folder of an earlier version, imported once."""
    if params["state_dir"]:
        import_folders.import_folder(store, params["name"], import_folders.checked_folder(
            params["name"], params["state_dir"], "state_dir"))


def set_cordon(params, check_mode):
    with open_store(params["state_url"]) as store:
        _import_legacy(store, params)
        changed, before, after = host_cordon.set_state(
            store, params["state"], params["name"], params["reason"], params["by"] or current_user(),
            check_mode=check_mode)
        where = store.url.describe()
    return dict(changed=changed, state=params["state"], cordon=after, store=where,
                diff=diff(before or {}, after or {}, "cordon of %s (%s)" % (params["name"], where)))


def drain(params, check_mode):
    if not params["hosts"]:
        raise InvalidInput("hosts", params["hosts"], "a value with state=drained")
    settings = migration_policy.from_params(params)
    limits = dict((key, params[key]) for key in host_drain.DEFAULT_LIMITS)
    with open_store(params["state_url"]) as store:
        _import_legacy(store, params)
        with Fleet(params["hosts"], store) as fleet:
            fleet.host(params["name"], "name")
            report = host_drain.drain(
                fleet, params["name"], settings=settings, scheduler_config=params["scheduler_config"],
                limits=limits, max_attempts=params["max_attempts"], allow_partial=params["allow_partial"],
                shutdown_timeout=params["shutdown_timeout"], seed=params["seed"], reason=params["reason"],
                by=params["by"] or current_user(), lock_timeout=params["lock_timeout"], check_mode=check_mode)
        cordon = store.cordon(params["name"])
        where = store.url.describe()
    moved = report["summary"]["migrated"]
    return dict(changed=bool(moved or report["cordoned_now"] or (check_mode and report["guests"])),
                state=states.DRAINED, cordon=cordon, store=where, report=report)


def cancel_drain(params, check_mode):
    with open_store(params["state_url"]) as store:
        result = host_drain.cancel(store, params["name"], params["by"] or current_user(), check_mode=check_mode)
        result.update(state=params["state"], cordon=store.cordon(params["name"]), store=store.url.describe())
    return result


def main():
    module = VmfleetModule(argument_spec(), needs_libvirt=False)
    if module.params["state"] == states.DRAIN_CANCELLED:
        module.run(cancel_drain, module.params, module.check_mode)
    if module.params["state"] == states.DRAINED:
        module.require_libvirt()
        module.run(drain, module.params, module.check_mode)
    module.run(set_cordon, module.params, module.check_mode)


if __name__ == "__main__":
    main()
