# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleets for the rebalance planner's tests, and the independent check that a plan breaks no rule."""

from __future__ import annotations

import copy

from ansible_collections.vmfleet.compute.plugins.module_utils.planning.guest_request import guest_request
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler import numa_fit
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import build_request_spec
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import Scheduler, build_hosts
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.upgrade_checks.facts import guest, host


def vm(name, vcpus=1, memory_mb=1024, pinned=False, group=None, policy="anti-affinity", state="running",
       managed=True):
    """A guest of the collection (its flavor recorded), optionally pinned or in a server group."""
    flavor = {"name": "f", "vcpus": vcpus, "memory_mb": memory_mb, "root_gb": 1,
              "extra_specs": {"hw:cpu_policy": "dedicated"} if pinned else {}}
    metadata = {"flavor": flavor}
    if group:
        metadata["request"] = {"name": name, "hints": {"group": {"name": group, "policy": policy}}}
    return guest(name, vcpus=vcpus, memory_mb=memory_mb, disk_gb=1, state=state, managed=managed,
                 metadata=metadata, cpu_policy="dedicated" if pinned else "shared")


def loaded_host(name, guests=(), memory_mb=16384, cores=4, **kwargs):
    """A host (1 socket, ``cores`` x 2 threads, one cell of ``memory_mb``) whose resources count ``guests``,
    as the resource tracker would: memory, vCPUs, and the host CPUs the pinned ones hold."""
    facts = host(name, guests=list(guests), sockets=1, cores=cores, threads=2, memory_mb=memory_mb, **kwargs)
    resources, cell = facts["resources"], facts["numa"]["cells"][0]
    free = sorted(cpu["id"] for cpu in cell["cpus"])
    for item in guests:
        resources["memory_mb_used"] += item["usage"]["memory_mb"]
        resources["vcpus_used"] += item["usage"]["vcpus"]
        if item["cpu_policy"] == "dedicated":
            taken, free = free[:item["vcpus"]], free[item["vcpus"]:]
            item["vcpupin"] = [{"vcpu": i, "cpus": [cpu]} for i, cpu in enumerate(taken)]
            cell["usage"]["pinned_cpus"] = sorted(cell["usage"]["pinned_cpus"] + taken)
            cell["usage"]["memory_mb_used"] += item["usage"]["memory_mb"]
            resources["pcpus_used"] += len(taken)
            resources["shared_cpus"] = [cpu for cpu in resources["shared_cpus"] if cpu not in taken]
    resources["vcpus_limit"] = len(resources["shared_cpus"]) * facts["config"]["cpu_allocation_ratio"]
    resources["free_ram_mb"] = resources["memory_mb"] - resources["memory_mb_used"]
    return facts


def after_plan(hosts, plan):
    """Where each guest runs once the plan is done: host name -> set of guest names."""
    layout = dict((facts["name"], set(g["name"] for g in facts.get("guests") or ())) for facts in hosts)
    for move in plan.moves:
        layout[move.source].remove(move.name)
        layout[move.destination].add(move.name)
    return layout


def rule_breaks(hosts, plan, config=None):
    """Replay the plan's moves, in order, on host states built again from the facts, each checked by every
    filter of the scheduler and the NUMA fit on its destination and then consumed there; and check the
    layout at the end against the server groups. Returns what a move broke (empty: nothing)."""
    hosts = copy.deepcopy(hosts)
    scheduler = Scheduler(build_hosts(hosts), config)
    by_name = dict((facts["name"], facts) for facts in hosts)
    guests = dict((g["name"], (facts, g)) for facts in hosts for g in facts.get("guests") or ())
    broken, given, taken = [], set(), set()
    for move in plan.moves:
        facts, item = guests[move.name]
        if (facts["config"].get("availability_zone") != by_name[move.destination]["config"].get("availability_zone")):
            broken.append("%s left its zone" % move.name)
        for name in (move.source, move.destination):
            if by_name[name]["config"].get("enabled") is False:
                broken.append("%s moved from or to disabled %s" % (move.name, name))
        spec = build_request_spec(guest_request(item, facts["config"]["availability_zone"]))
        if spec.group:
            spec.group_members = scheduler.groups.members_for(spec)
        destination = scheduler.by_name[move.destination]
        kept, refused = scheduler.run_filters([destination], spec)
        if not kept:
            broken.append("%s to %s: %s" % (move.name, move.destination, refused))
            continue
        if not numa_fit.fit(destination, spec):
            broken.append("%s to %s: no NUMA fit" % (move.name, move.destination))
            continue
        spec.force_host = move.destination
        scheduler.place(spec)
        destination.io_ops -= 1
        given.add(move.source)
        taken.add(move.destination)
    if given & taken:
        broken.append("hosts both gave and took guests: %s" % sorted(given & taken))
    before, layout = after_plan(hosts, _NoMoves()), after_plan(hosts, plan)
    groups = {}
    for facts in hosts:
        for item in facts.get("guests") or ():
            hints = ((item.get("metadata") or {}).get("request") or {}).get("hints") or {}
            if hints.get("group"):
                groups.setdefault((hints["group"]["name"], hints["group"]["policy"]), set()).add(item["name"])
    for (name, policy), members in groups.items():
        # a group the fleet broke before the plan (generated fleets do) is the scheduler's to refuse moves of
        if _group_broken(before, members, policy) is None:
            why = _group_broken(layout, members, policy)
            if why:
                broken.append("group %s: %s" % (name, why))
    return broken


class _NoMoves(object):
    moves = ()


def _group_broken(layout, members, policy):
    homes = [host_name for host_name, names in layout.items() for member in members if member in names]
    if policy == "anti-affinity" and len(homes) != len(set(homes)):
        return "anti-affinity members share a host: %s" % sorted(homes)
    if policy == "affinity" and len(set(homes)) > 1:
        return "affinity members split: %s" % sorted(set(homes))
    return None
