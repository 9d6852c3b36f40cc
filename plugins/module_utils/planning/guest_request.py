# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The request that places a guest of the collection again, from the guest as the facts carry it.

It is what a move asks the scheduler for (instances/move_destination.py builds the
same from the metadata): the flavor recorded at build time, with the vCPUs, memory
and disk the resource tracker counted from it (``usage``), the image properties
recorded at build time, and the scheduler hints that still mean something for a
guest that already runs (server group, same / different host). A move never leaves
the source's availability zone, so the zone is the source's, whatever was asked at
build time; ``force_host`` and ``retry_exclude`` of the build are dropped (they
named hosts for the build, not for the move). The guest's networks and bridges, as its
interfaces are now, go with it (NetworkFilter).
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import placement_networks

# hints of the build that still hold for the guest wherever it goes
_KEPT_HINTS = ("group", "different_host", "same_host")


def _part(mapping, key):
    value = (mapping or {}).get(key)
    return value if isinstance(value, dict) else {}


def guest_request(guest, availability_zone):
    """The ``schedule`` request dict of a managed ``guest`` (a guest dict of the facts, with
    ``metadata``) staying in ``availability_zone``."""
    metadata = guest.get("metadata") or {}
    flavor, request = _part(metadata, "flavor"), _part(metadata, "request")
    usage = guest.get("usage") or {}

    def counted(key, default):
        # what the tracker counted (from the flavor), else the flavor itself
        value = usage.get(key)
        return value if value is not None else flavor.get(key, default)

    hints = dict((k, v) for k, v in _part(request, "hints").items() if k in _KEPT_HINTS and v)
    hints["availability_zone"] = availability_zone
    return {
        "name": guest["name"],
        "flavor": {"name": flavor.get("name") or guest["name"], "vcpus": counted("vcpus", None),
                   "memory_mb": counted("memory_mb", None), "disk_gb": counted("disk_gb", 0),
                   "extra_specs": dict(_part(flavor, "extra_specs"))},
        "image": {"properties": dict(_part(_part(metadata, "image"), "properties"))},
        "networks": placement_networks(guest.get("interfaces")),
        "hints": hints,
    }
