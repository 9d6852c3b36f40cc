# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host facts read earlier, with the claims in flight on that host counted as guests.

A claim under admission control re-checks the whole fleet (instances/claims.py)
but reads libvirt of its own host only: for the other hosts it has the facts its
caller read, which do not hold the guests other controllers have claimed there
since. The fleet state store has those claims; they are counted here as
gather_host_facts counts the claims of the host it reads (state ``claimed``, an
I/O operation in flight), so the planner both moves them off their host and
finds their room taken. A guest live-migrated since is counted on its
destination (the move's spent claim) and taken off its source's facts.
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.host.facts import _pending_guest
from ansible_collections.vmfleet.compute.plugins.module_utils.host.resource_tracker import track_resources


def with_claimed_guests(facts, domains):
    """A copy of host ``facts`` with ``domains`` (parsed domain XML of the claims in flight there) counted as
    guests; a claim whose guest the facts list already (same UUID: defined since) is not counted twice."""
    known = set(guest.get("uuid") for guest in facts.get("guests") or ())
    added = [_pending_guest(domain) for domain in domains if domain.get("uuid") not in known]
    if not added:
        return facts
    guests = [dict(guest) for guest in facts.get("guests") or ()] + added
    return _recounted(facts, guests, io_ops=int(facts["resources"].get("io_ops") or 0) + len(added))


def without_guests(facts, uuids):
    """A copy of host ``facts`` without the guests whose UUID is in ``uuids``: guests live-migrated away from
    the host after its facts were read (the store's spent claims of their destinations say so)."""
    guests = [dict(guest) for guest in facts.get("guests") or () if guest.get("uuid") not in uuids]
    if len(guests) == len(facts.get("guests") or ()):
        return facts
    return _recounted(facts, guests, io_ops=int(facts["resources"].get("io_ops") or 0))


def _recounted(facts, guests, io_ops):
    """``facts`` with its usage counted again over ``guests``, as gather_host_facts counts it."""
    cells = [dict(cell) for cell in (facts.get("numa") or {}).get("cells") or ()]
    resources = facts["resources"]
    # as gather_host_facts: the cells' CPUs, else (a host without NUMA cells) libvirt's count of CPUs
    cpu_ids = [cpu["id"] for cell in cells for cpu in cell["cpus"]] or list(range(resources["vcpus"]))
    counted = track_resources(cpu_ids, cells, resources["memory_mb"], guests, facts.get("storage_pools") or [],
                              facts["config"], io_ops=io_ops)
    for cell in cells:
        cell["usage"] = counted["cell_usage"][cell["id"]]
    for guest, usage in zip(guests, counted["guest_usage"]):
        guest["usage"] = usage
    return dict(facts, guests=guests, numa=dict(facts.get("numa") or {}, cells=cells),
                resources=counted["resources"])
