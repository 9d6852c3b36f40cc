#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: rebalance
short_description: Rebalance the fleet by live migration, or consolidate it onto fewer hosts
version_added: 0.1.0
description:
  - "Plans first, then moves: the whole plan is made from the hosts' facts read now, before anything moves, and
    check mode returns it with the measure before and after."
  - "O(goal=balance) lowers the I(spread) of use across hosts. A host's use is its RAM fraction (memory used,
    reserved host memory included, over its memory limit) and its vCPU fraction (vCPUs of its guests over its CPU
    threads times C(cpu_allocation_ratio)); the spread is their standard deviation over the hosts that take part,
    both resources together (the square root of the RAM variance plus the vCPU variance), as OpenStack
    Watcher's C(workload_stabilization) balances on standard deviations of use. Each step makes the move that lowers the
    spread most (weighing, per source, the 16 least used hosts of its zone, and every host only when the rules
    refuse those), until O(max_moves) moves or until the best move gains less than O(min_gain)."
  - "O(goal=consolidate) empties as many hosts as it can so they can be switched off: the least used first, each
    only when every guest on it fits on the other hosts that run guests (the fullest first) within O(max_moves);
    a host that cannot be emptied whole keeps all its guests and the result says why. O(min_gain) does not apply."
  - "Every move is decided by the scheduler's own filters and NUMA fit on its destination, counting the moves
    planned before it: pinned CPUs and NUMA cells, hugepages, server groups, cordons, availability zones (a guest
    never leaves its zone), aggregates and tiers. Cordoned or unreachable hosts, and hosts a drain holds, take no
    part: their guests stay and they receive none. Within one plan a host gives guests or receives them, never
    both. Guests a drain could not move either (created outside the collection, host devices, a resize waiting
    for confirm or revert, a stale copy) stay and are listed in C(report.unmovable)."
  - "Moves go through the drain's executor: running guests are live-migrated (with the options of
    M(vmfleet.compute.live_migrate)), shut-off ones cold-migrated and confirmed; a slot in the fleet state store
    per move, so O(max_parallel), O(max_parallel_outbound) (per source) and O(max_parallel_inbound) (per
    destination) count every drain's moves too; each destination claims the guest again under its lock; the
    journal records every move. A failed move leaves its guest running on its source; with O(max_attempts)
    above 1 it is tried on another destination the scheduler picks."
  - "One rebalance at a time in the fleet (a lock in the store, a lease the run renews). Run it again after an
    interruption: it settles the migrations the interrupted run left in the journal and plans again from where
    the guests are now, so nothing moves twice; a balanced fleet plans nothing."
author:
  - vmfleet.compute contributors (@vmfleet)
extends_documentation_fragment:
  - vmfleet.compute.fleet_state
  - vmfleet.compute.scheduling
  - vmfleet.compute.fleet_hosts
  - vmfleet.compute.live_migration
options:
  goal:
    description: V(balance) spreads the use evenly; V(consolidate) empties hosts.
    type: str
    choices: [balance, consolidate]
    default: balance
  max_moves:
    description: Most moves one run makes; at least 1.
    type: int
    default: 10
  min_gain:
    description:
      - O(goal=balance) makes no move that gains less than this, from 0 (any gain) to 1.
      - "A move's gain is what it takes off the hosts' summed squared deviations from the mean use (RAM and vCPU
        fractions): a guest of fraction C(d) of its hosts moved between two hosts C(g) apart gains about
        C(2 d (g - d)) per resource, however large the fleet is (the spread itself moves less with each move as
        the fleet grows, so a threshold on it would stop a large fleet from balancing at all). The default is
        what a guest of 2% of its hosts gains between hosts 15 points apart."
    type: float
    default: 0.005
  max_parallel_outbound:
    description: Migrations out of one host at a time.
    type: int
    default: 2
  max_parallel_inbound:
    description: Migrations into one host at a time.
    type: int
    default: 2
  max_parallel:
    description: Migrations at a time in the whole fleet.
    type: int
    default: 5
  max_attempts:
    description: Destinations tried per guest; the first is the plan's, the others the scheduler's choice.
    type: int
    default: 1
  shutdown_timeout:
    description: Seconds a shut-off guest's cold migration may wait for a clean shutdown (it is already off).
    type: int
    default: 60
  lock_timeout:
    description: Seconds to wait for another rebalance that holds the fleet's rebalance lock.
    type: int
    default: 3600
  by:
    description: Who runs the rebalance, recorded with its lock (default the user running the module).
    type: str
attributes:
  check_mode:
    support: full
    description: Returns the plan (the moves, each guest's placement on its destination, the measure before and
      after); takes no lock and moves nothing.
  diff_mode:
    support: none
    description: The report lists every move; there is no diff.
notes:
  - The source daemon connects to the destination's C(uri) itself (peer-to-peer), as with
    M(vmfleet.compute.live_migrate).
seealso:
  - module: vmfleet.compute.host_maintenance
  - module: vmfleet.compute.live_migrate
  - module: vmfleet.compute.migration_info
"""

EXAMPLES = r"""
- name: Show what a rebalance would move, and the spread before and after
  vmfleet.compute.rebalance:
    hosts: "{{ groups['hypervisors'] | map('vmfleet.compute.inventory_host', hostvars) | list }}"
  check_mode: true
  register: plan

- name: Rebalance, at most 6 moves, none gaining under 0.02
  vmfleet.compute.rebalance:
    hosts: "{{ fleet_facts }}"
    max_moves: 6
    min_gain: 0.02
    completion_timeout: 300

- name: Empty what can be emptied, so those hosts can be switched off
  vmfleet.compute.rebalance:
    hosts: "{{ fleet_facts }}"
    goal: consolidate
    max_moves: 20
  register: packed

- name: The hosts now empty
  ansible.builtin.debug:
    var: packed.report.emptied
"""

RETURN = r"""
report:
  description: The plan and what happened to each move.
  returned: always
  type: dict
  contains:
    goal:
      description: V(balance) or V(consolidate).
      type: str
    result:
      description: V(planned) (check mode), V(rebalanced) (every planned move made) or V(failed).
      type: str
    measure_before:
      description: The spread before the plan, C(spread) (the square root of C(ram_stddev) squared plus
        C(vcpu_stddev) squared) over C(hosts) hosts.
      type: dict
      sample: {"spread": 0.3006, "ram_stddev": 0.0306, "vcpu_stddev": 0.299, "hosts": 3}
    measure_after:
      description: The spread the plan leads to.
      type: dict
    measure_now:
      description: The spread measured from the hosts' facts read again after the moves; null in check mode.
      type: dict
    moves:
      description: The planned moves in order; C(guest), C(kind) (live or cold), C(from), C(to), C(gain) (what it
        takes off the summed squared deviations, balance only) and C(placement) (pinned CPUs and NUMA cells on the
        destination).
      type: list
      elements: dict
    hosts:
      description: Per host taking part, C(host), C(before) and C(after) (each C(ram) and C(vcpu) fractions).
      type: list
      elements: dict
    emptied:
      description: Hosts the plan empties (consolidate).
      type: list
      elements: str
    kept:
      description: Hosts consolidate could not empty, with why.
      type: dict
    unmovable:
      description: Guests that cannot move at all (C(guest), C(host), C(reason)); they stay.
      type: list
      elements: dict
    excluded:
      description: Hosts that take no part (cordoned, unreachable, drained), with why.
      type: dict
    guests:
      description: Per move, as a drain's report; C(guest), C(from), C(to), C(kind), C(result) (planned,
        migrated, failed, not moved), C(attempts), C(duration_s), C(downtime_ms), C(data_bytes), C(reason),
        C(error), C(running_on), C(placement).
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
    table:
      description: The moves as lines of text.
      type: list
      elements: str
store:
  description: The fleet state store, in words (never its URL, which may hold a password).
  returned: always
  type: str
  sample: SQLite file /var/lib/vmfleet/state.db
"""

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.host.fleet import Fleet
from ansible_collections.vmfleet.compute.plugins.module_utils.host.hosts_option import HOSTS_ARGSPEC
from ansible_collections.vmfleet.compute.plugins.module_utils.maintenance import drain as host_drain
from ansible_collections.vmfleet.compute.plugins.module_utils.maintenance import rebalance as fleet_rebalance
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import policy as migration_policy
from ansible_collections.vmfleet.compute.plugins.module_utils.module import VmfleetModule, current_user
from ansible_collections.vmfleet.compute.plugins.module_utils.planning import rebalance as planner
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import SCHEDULING_ARGSPEC
from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store
from ansible_collections.vmfleet.compute.plugins.module_utils.state.url import STATE_URL_ARGSPEC


def argument_spec():
    spec = dict(
        goal=dict(type="str", choices=list(states.REBALANCE_GOALS), default=states.BALANCE),
        max_moves=dict(type="int", default=planner.DEFAULT_MAX_MOVES),
        min_gain=dict(type="float", default=planner.DEFAULT_MIN_GAIN),
        max_attempts=dict(type="int", default=1),
        shutdown_timeout=dict(type="int", default=60),
        lock_timeout=dict(type="int", default=3600),
        by=dict(type="str"),
    )
    spec.update(host_drain.LIMITS_ARGSPEC)
    spec.update(HOSTS_ARGSPEC)
    spec.update(STATE_URL_ARGSPEC)
    spec.update(SCHEDULING_ARGSPEC)
    spec.update(migration_policy.ARGSPEC)
    return spec


def run(params, check_mode):
    limits = dict((key, params[key]) for key in host_drain.DEFAULT_LIMITS)
    with open_store(params["state_url"]) as store, Fleet(params["hosts"], store) as fleet:
        report = fleet_rebalance.rebalance(
            fleet, goal=params["goal"], max_moves=params["max_moves"], min_gain=params["min_gain"],
            settings=migration_policy.from_params(params), scheduler_config=params["scheduler_config"],
            limits=limits, max_attempts=params["max_attempts"], shutdown_timeout=params["shutdown_timeout"],
            seed=params["seed"], by=params["by"] or current_user(), lock_timeout=params["lock_timeout"],
            check_mode=check_mode)
        where = store.url.describe()
    moved = report["summary"]["migrated"] or (check_mode and report["moves"])
    return dict(changed=bool(moved), report=report, store=where)


def main():
    module = VmfleetModule(argument_spec())
    module.run(run, module.params, module.check_mode)


if __name__ == "__main__":
    main()
