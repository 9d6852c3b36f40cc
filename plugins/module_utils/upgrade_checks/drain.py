# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""N+1: could each host be drained onto the others right now, with the real scheduler?

Each guest of the host becomes a request (its flavor from the collection's
metadata, else what the tracker counted from its XML: vCPUs, memory, disk,
CPU pinning, guest NUMA cells, hugepages; its server group and availability
zone from the metadata's request hints) and the whole batch is placed at once
on the other hosts, pinned and large guests first, exactly as a drain plans
it. Hosts that are disabled (cordoned) take nothing (ComputeFilter).

What a drain refuses to move counts too, as the drain plan refuses it: a
guest with host devices cannot be moved at all (no destination can be checked
to offer the same devices), so its host cannot be drained (Failure), and it is
not placed as if it could go anywhere without them; a resize waiting for
confirm or revert blocks the drain until it is settled (Failure); a guest
created outside the collection is placed from its XML but must be moved by
hand (Warning).
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import schedule
from ansible_collections.vmfleet.compute.plugins.module_utils.upgrade_checks.common import (
    FAILURE, SUCCESS, WARNING, awaiting_resize_confirm, guests, host_rows, names)

# Migrations of a drain run a few at a time (concurrency limits), so the
# batch is not refused by IoOpsFilter's count of builds in flight.
_DRAIN_IO_OPS = 1000000
_KEPT_HINTS = ("group", "availability_zone", "different_host", "same_host")


def place_on_other_hosts(other_hosts, requests, scheduler_config=None):
    """The one call into the scheduler: ``[(guest, host or None, error or None)]``.

    ``other_hosts``: host facts dicts; ``requests``: schedule request dicts.
    Raises InvalidInput when a request is refused before placement.
    """
    config = dict(scheduler_config or {})
    config.setdefault("max_io_ops_per_host", _DRAIN_IO_OPS)
    result = schedule(other_hosts, requests, config, seed=0)
    return [(o.spec.name, o.placement.host if o.placement is not None else None, o.error)
            for o in result.outcomes]


def _metadata_part(guest, key):
    value = (guest.get("metadata") or {}).get(key)
    return value if isinstance(value, dict) else {}


def _specs_from_xml(guest, memory_mb):
    """Flavor extra specs that describe what the guest's XML asks of a host."""
    specs = {}
    policy = guest.get("cpu_policy")
    if policy == "dedicated":
        specs["hw:cpu_policy"] = "dedicated"
    elif policy == "mixed":
        pinned = sorted(p["vcpu"] for p in guest.get("vcpupin") or () if len(p.get("cpus") or ()) == 1)
        if pinned and len(pinned) < (guest.get("vcpus") or 0):
            specs["hw:cpu_policy"] = "mixed"
            specs["hw:cpu_dedicated_mask"] = ",".join(str(v) for v in pinned)
    cells = guest.get("guest_numa_cells") or []
    if len(cells) > 1:
        specs["hw:numa_nodes"] = str(len(cells))
        if sum(c.get("memory_mb") or 0 for c in cells) == memory_mb:
            for index, cell in enumerate(sorted(cells, key=lambda c: c["id"])):
                specs["hw:numa_cpus.%d" % index] = ",".join(str(c) for c in cell["cpus"])
                specs["hw:numa_mem.%d" % index] = str(cell["memory_mb"])
    if guest.get("page_size_kb"):
        specs["hw:mem_page_size"] = str(guest["page_size_kb"])
    return specs


def guest_request(guest):
    """The request that would place ``guest`` again, as ``schedule`` takes it."""
    flavor = _metadata_part(guest, "flavor")
    request = _metadata_part(guest, "request")
    usage = guest.get("usage") or {}
    vcpus = usage.get("vcpus") or guest.get("vcpus") or 1
    memory_mb = usage.get("memory_mb") or guest.get("max_memory_mb") or 1
    specs = dict(flavor.get("extra_specs") or {}) if isinstance(flavor.get("extra_specs"), dict) else {}
    if not specs:
        specs = _specs_from_xml(guest, memory_mb)
    hints = request.get("hints") if isinstance(request.get("hints"), dict) else {}
    image = request.get("image") if isinstance(request.get("image"), dict) else {}
    return {
        "name": guest["name"],
        "flavor": {"name": flavor.get("name") or "(from XML)", "vcpus": vcpus, "memory_mb": memory_mb,
                   "disk_gb": usage.get("disk_gb") or 0, "extra_specs": specs},
        "image": {"properties": dict(image.get("properties") or {})},
        "hints": dict((k, v) for k, v in hints.items() if k in _KEPT_HINTS and v),
    }


def _order(request):
    specs = request["flavor"]["extra_specs"]
    pinned = specs.get("hw:cpu_policy") in ("dedicated", "mixed") or bool(specs.get("hw:mem_page_size"))
    return (0 if pinned else 1, -request["flavor"]["memory_mb"], -request["flavor"]["vcpus"], request["name"])


def _unmovable(guest):
    """Why a drain would refuse to move the guest at all, or None."""
    devices = guest.get("host_devices") or []
    if devices:
        return "%s has host devices (%s): the drain cannot move it anywhere; detach them first" % (
            guest["name"], ", ".join(d.get("address") or d.get("type") or "?" for d in devices))
    if awaiting_resize_confirm(guest):
        return "%s has a resize awaiting confirmation: confirm or revert it first" % guest["name"]
    return None


def check_n_plus_one(hosts, options):
    def per_host(host):
        own = guests(host)
        if not own:
            return SUCCESS, "no guests: nothing to drain"
        others = [h for h in hosts if h["name"] != host["name"]]
        if not others:
            return FAILURE, "%d guests and no other host to drain them to: add a host before the upgrade" % len(own)
        refusals = [(guest, _unmovable(guest)) for guest in own]
        blocked = [why for _guest, why in refusals if why]
        movable = [guest for guest, why in refusals if not why]
        requests = sorted((guest_request(g) for g in movable), key=_order)
        try:
            placed = place_on_other_hosts(others, requests, options.get("scheduler_config")) if requests else []
        except InvalidInput as exc:
            return WARNING, "could not check: a guest's flavor is not a valid request (%s); fix its metadata" % exc.message
        failed = [(name, error) for name, where, error in placed if where is None]
        if failed or blocked:
            parts = list(blocked)
            if failed:
                parts.append("%d of %d guests fit nowhere else: %s. Free capacity on the other hosts (or uncordon "
                             "one), add a host, or shut down / move these guests first" % (
                                 len(failed), len(own), " | ".join(error for _name, error in failed)))
            return FAILURE, "%s cannot be drained: %s" % (host["name"], "; ".join(parts))
        plan = ", ".join("%s->%s" % (name, where) for name, where, _error in placed)
        by_hand = [g["name"] for g in movable if not g.get("managed")]
        if by_hand:
            return WARNING, ("all %d guests fit on the other hosts (%s), but the drain does not move guests created "
                             "outside the collection: move %s by hand (virsh migrate) or adopt them"
                             % (len(own), plan, names(by_hand)))
        return SUCCESS, "all %d guests fit on the other hosts: %s" % (len(own), plan)
    return host_rows("n_plus_one", hosts, per_host)
