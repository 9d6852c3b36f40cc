# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's side of schedule_vs_nova.py; runs in bench/.venv-nova (nova==34.0.0), never in ours.

Reads a JSON fleet and request list on stdin (hosts already described the way
Nova's libvirt driver reports them: NUMA cells with ``cpuset`` = the shared set
and ``pcpuset`` = the dedicated set) and places the requests one after another
the way Nova's FilterScheduler does: ``HostFilterHandler.get_filtered_objects``
with Nova's own filters, ``HostWeightHandler.get_weighed_objects`` with its
weighers, then ``HostState.consume_from_request`` on the chosen host, which
refits the NUMA topology and records its usage.

Nova 34 has no RAM, Core or Disk filter any more: Placement answers that with
SQL before the scheduler runs. ``PlacementStandIn`` does the same sums in
Python, inside the timed loop.

To compare which hosts pass, request ``i`` is consumed on the host ours chose
(``follow[i]``) when ours placed it there, so both sides keep the same fleet;
when Nova's filters refused that host, Nova's own best is taken and the
divergence is counted. Stops after the request that ends ``seconds`` of placing.
Writes one JSON object on stdout.
"""

from __future__ import annotations

import datetime
import json
import resource
import sys
import time
import warnings

warnings.filterwarnings("ignore")

from nova import conf as nova_conf  # noqa: E402
from nova import objects  # noqa: E402

objects.register_all()
from nova.scheduler import filters as nova_filters  # noqa: E402
from nova.scheduler import host_manager, weights  # noqa: E402
from nova.scheduler.filters import (affinity_filter, compute_filter, io_ops_filter,  # noqa: E402
                                    num_instances_filter, numa_topology_filter)
from nova.scheduler.weights import cpu, disk, io_ops, ram  # noqa: E402
from nova.virt import hardware  # noqa: E402

CONF = nova_conf.CONF
CONF([], project="nova", default_config_files=[])
# ComputeFilter asks whether each compute service was heard from within service_down_time;
# a run at 5,000 hosts lasts longer than the 60 s default, and no service heartbeats here.
CONF.set_override("service_down_time", 10 ** 6)


class PlacementStandIn(nova_filters.BaseHostFilter):
    """What Placement's allocation candidates query checks: RAM, VCPU, PCPU and disk
    inventories (total x ratio - used) against the flavor's resources."""

    run_filter_once_per_request = True

    def host_passes(self, host_state, spec_obj):
        flavor = spec_obj.flavor
        if host_state.total_usable_ram_mb * host_state.ram_allocation_ratio - \
                (host_state.total_usable_ram_mb - host_state.free_ram_mb) < flavor.memory_mb:
            return False
        if host_state.free_disk_mb < flavor.root_gb * 1024:
            return False
        topology = spec_obj.numa_topology
        pcpus = sum(len(cell.pcpuset) for cell in topology.cells) if topology is not None else 0
        vcpus = flavor.vcpus - pcpus
        if pcpus and flavor.extra_specs.get("hw:emulator_threads_policy") == "isolate":
            pcpus += 1
        if vcpus and host_state.vcpus_total * host_state.cpu_allocation_ratio - host_state.vcpus_used < vcpus:
            return False
        if pcpus:
            free = sum(len(cell.pcpuset - cell.pinned_cpus) for cell in host_state.numa_topology.cells)
            if free < pcpus:
                return False
        return True


def host_state(facts, now):
    state = host_manager.HostState(facts["name"], facts["name"], None)
    cells = []
    for cell in facts["cells"]:
        cells.append(objects.NUMACell(
            id=cell["id"], cpuset=set(cell["cpus"]), pcpuset=set(cell["pcpus"]), memory=cell["memory_mb"],
            cpu_usage=cell["shared_vcpus_used"], memory_usage=cell["memory_used_mb"],
            pinned_cpus=set(cell["pinned"]), siblings=[set(s) for s in cell["siblings"]],
            mempages=[objects.NUMAPagesTopology(size_kb=s, total=t, used=u, reserved=0)
                      for s, t, u in cell["pages"]],
            network_metadata=objects.NetworkMetadata(physnets=set(), tunneled=False), socket=None))
    state.numa_topology = objects.NUMATopology(cells=cells)
    state.total_usable_ram_mb = facts["memory_mb"]
    state.free_ram_mb = facts["memory_mb"] - facts["memory_mb_used"]
    state.total_usable_disk_gb = facts["local_gb"]
    state.free_disk_mb = (facts["local_gb"] - facts["local_gb_used"]) * 1024
    state.vcpus_total = facts["vcpus_total"]
    state.vcpus_used = facts["vcpus_used"]
    state.ram_allocation_ratio = facts["ram_ratio"]
    state.cpu_allocation_ratio = facts["cpu_ratio"]
    state.disk_allocation_ratio = facts["disk_ratio"]
    state.num_instances = facts["running_vms"]
    state.num_io_ops = facts["io_ops"]
    state.instances = dict((name, None) for name in facts["instances"])
    state.service = {"disabled": not facts["enabled"], "disabled_reason": None, "last_seen_up": now,
                     "created_at": now, "host": facts["name"], "binary": "nova-compute"}
    state.limits = {}
    return state


def request_spec(request, groups):
    flavor = objects.Flavor(name=request["name"], vcpus=request["vcpus"], memory_mb=request["memory_mb"],
                            root_gb=request["disk_gb"], ephemeral_gb=0, swap=0,
                            extra_specs=request["extra_specs"])
    image = objects.ImageMeta.from_dict({"properties": {}})
    group = None
    if request["group"]:
        group = groups.setdefault(request["group"], objects.InstanceGroup(
            name=request["group"], policy="anti-affinity", policies=["anti-affinity"], rules={}, members=[],
            hosts=[]))
        group.members.append(request["name"])
    return objects.RequestSpec(flavor=flavor, image=image, numa_topology=hardware.numa_get_constraints(flavor, image),
                               pci_requests=None, instance_group=group, instance_uuid=request["name"],
                               num_instances=1, ignore_hosts=None, force_hosts=None, force_nodes=None)


def main():
    payload = json.load(sys.stdin)
    now = datetime.datetime.utcnow()
    hosts = [host_state(h, now) for h in payload["hosts"]]
    by_name = dict((h.host, h) for h in hosts)
    filter_handler = nova_filters.HostFilterHandler()
    weight_handler = weights.HostWeightHandler()
    host_filters = [compute_filter.ComputeFilter(), PlacementStandIn(), io_ops_filter.IoOpsFilter(),
                    num_instances_filter.NumInstancesFilter(), affinity_filter.ServerGroupAntiAffinityFilter(),
                    affinity_filter.ServerGroupAffinityFilter(), numa_topology_filter.NUMATopologyFilter()]
    host_weighers = [ram.RAMWeigher(), cpu.CPUWeigher(), disk.DiskWeigher(), io_ops.IoOpsWeigher()]
    groups, results = {}, []
    elapsed = cpu_seconds = 0.0
    for request, follow in zip(payload["requests"], payload["follow"]):
        spec = request_spec(request, groups)
        start, cpu_start = time.perf_counter(), time.process_time()
        for host in hosts:
            host.allocation_candidates = [{"mappings": {}}]     # what Placement hands each request
        passed = filter_handler.get_filtered_objects(host_filters, hosts, spec, 0) or []
        weighed = weight_handler.get_weighed_objects(host_weighers, passed, spec) if passed else []
        chosen = weighed[0].obj if weighed else None
        diverged = False
        if follow is not None and any(h.host == follow for h in passed):
            chosen = by_name[follow]
        elif follow is not None or (chosen is not None and follow is None):
            diverged = True
        if chosen is not None:
            chosen.consume_from_request(spec)
            if spec.instance_group is not None:
                spec.instance_group.hosts.append(chosen.host)
            chosen.instances[request["name"]] = None
        elapsed += time.perf_counter() - start
        cpu_seconds += time.process_time() - cpu_start
        results.append({"passed": sorted(h.host for h in passed), "host": chosen.host if chosen else None,
                        "diverged": diverged})
        if cpu_seconds > payload["seconds"]:
            break       # slow at this size: the requests placed so far give the rate
    json.dump({"seconds": elapsed, "cpu_seconds": cpu_seconds, "results": results,
               "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}, sys.stdout)


if __name__ == "__main__":
    main()
