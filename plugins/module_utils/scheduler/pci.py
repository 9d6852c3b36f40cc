# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PCI passthrough requests (flavor ``pci_passthrough:alias``) against a host's
free devices, with Nova's NUMA affinity policies:

- ``required``: only devices on a host cell the guest's NUMA cells use;
- ``legacy`` (default): those, or devices that report no NUMA node;
- ``preferred``: any device, NUMA-affine ones first.

A guest without a NUMA topology takes any matching device.
"""

from __future__ import annotations


def select_devices(host, spec, cell_ids=None):
    """Pick devices for every PCI request of ``spec``.

    ``cell_ids``: the host cells of the guest's NUMA cells, or None for a guest
    without NUMA topology. Returns a list of ``((vendor, product), (address,
    numa_node))`` claims, or a reason string when a request cannot be met.
    """
    taken = set()
    claims = []
    for request in spec.pci_requests:
        key = (request.vendor_id, request.product_id)
        devices = [d for d in host.pci_devices.get(key, ()) if d[0] not in taken]
        if cell_ids is not None:
            policy = request.numa_policy
            if policy == "required":
                devices = [d for d in devices if d[1] in cell_ids]
            elif policy == "legacy":
                devices = [d for d in devices if d[1] in cell_ids or d[1] is None]
            else:
                devices.sort(key=lambda d: d[1] not in cell_ids)
        if len(devices) < request.count:
            where = "" if cell_ids is None else " on host cells %s (numa policy %s)" % (
                sorted(cell_ids), request.numa_policy)
            return "%d free %s:%s device(s) for alias %s%s, %d needed" % (
                len(devices), key[0], key[1], request.alias, where, request.count)
        for device in devices[:request.count]:
            taken.add(device[0])
            claims.append((key, device))
    return claims


def count_free(host, spec):
    """Reason string when the host lacks matching free devices at all, else None."""
    for request in spec.pci_requests:
        free = len(host.pci_devices.get((request.vendor_id, request.product_id), ()))
        if free < request.count:
            return "%d free %s:%s device(s) for alias %s, %d needed" % (
                free, request.vendor_id, request.product_id, request.alias, request.count)
    return None


def pci_by_cell(host, spec):
    """Number of free devices matching the request's aliases per host cell (Nova's cell sort)."""
    counts = {}
    for request in spec.pci_requests:
        for address, node in host.pci_devices.get((request.vendor_id, request.product_id), ()):
            counts[node] = counts.get(node, 0) + 1
    return counts
