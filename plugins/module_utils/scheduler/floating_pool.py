# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a host can give CPUs to a pinned guest without sharing them with its floating guests.

On a host without CPU sets, every CPU no guest owns is in the floating pool, and
the floating guests already there may run on it (their ``<vcpu cpuset>``,
``<vcpupin>`` and ``<emulatorpin>``). A pinned CPU must never be shared with them,
so a pin is given only together with taking that CPU out of every floating
guest's CPU set, live and persistently (libvirt/floating_pins.py does it, in the
claim, under the host's lock). The pin is refused instead when that cannot be
done safely:

- a floating guest that is only claimed (its XML is in the store, not defined
  yet) may run on the CPU: its definition cannot be changed from here;
- a floating guest may run on no other CPU: it would be left nowhere to run;
- the floating pool left, at ``cpu_allocation_ratio``, cannot hold the floating
  vCPUs the host and the request already have (host-wide and in each cell the
  pin takes CPUs from).

The decision is made here once, for the scheduler's placement and for the
claim (which runs the scheduler on the one host): they cannot disagree.

CPUs are not given back when a pinned guest leaves: the floating guests keep
the narrower set (never shared, only less spread) until they are moved, resized
or rebuilt; a floating guest placed later gets the whole pool of the moment.
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.cpuset import format_cpuset


class FloatingGuest(object):
    """CPUs one guest's floating vCPUs (and its emulator threads, when they float) may run on."""

    __slots__ = ("cpus", "repinnable")

    def __init__(self, cpus, repinnable):
        self.cpus = frozenset(cpus)
        self.repinnable = repinnable   # defined in libvirt (not only claimed): its pins can be changed


def floating_guests(guests):
    """``{name: FloatingGuest}`` from host facts' guests (their ``floating_cpus``, resource_tracker)."""
    found = {}
    for guest in guests or ():
        cpus = guest.get("floating_cpus")
        if cpus and guest.get("name"):
            found[guest["name"]] = FloatingGuest(cpus, guest.get("state") != "claimed")
    return found


def pin_refusal(host, placement, taken):
    """Why ``host`` (a HostState) cannot pin the CPUs ``taken`` (``{cell id: CPUs}``, what
    ``host.cpus_taken(placement)`` returns) for ``placement`` now, or None."""
    new = frozenset().union(*taken.values()) if taken else frozenset()
    if not new:
        return None
    for name in sorted(host.floating):
        guest = host.floating[name]
        lost = guest.cpus & new
        if not lost or name == placement.name:
            continue
        if not guest.repinnable:
            return "floating guest %s, claimed and not defined yet, may run on CPUs %s that the pin needs" % (
                name, format_cpuset(lost))
        if not guest.cpus - new:
            return "floating guest %s may run only on CPUs %s: the pin would leave it no CPU" % (
                name, format_cpuset(guest.cpus))
    if host.sets_configured:
        return None     # pins come from cpu_dedicated_set: the shared set does not shrink
    ratio = host.cpu_allocation_ratio
    request = placement.request.shared_vcpus
    left = len(host.shared_cpus - new) - host.reserved_host_cpus
    if host.shared_vcpus_used + request > left * ratio:
        left = max(left, 0)
        return ("pinning CPUs %s leaves %g floating vCPUs of room (%d CPUs x %g), the host's floating guests "
                "have %d and the request %d" % (format_cpuset(new), left * ratio, left, ratio,
                                                host.shared_vcpus_used, request))
    for cell_id, cpus in sorted(taken.items()):
        if not cpus:
            continue
        cell = host.cell_by_id[cell_id]
        here = sum(len(c.shared_vcpus) for c in placement.cells or () if c.host_cell == cell_id)
        cell_left = len(cell.shared_cpus - cpus)
        if cell.shared_vcpus_used + here > cell_left * ratio:
            return ("pinning CPUs %s of cell %d leaves it %g floating vCPUs of room (%d CPUs x %g), its "
                    "floating guests have %d and the request %d" % (format_cpuset(cpus), cell_id, cell_left * ratio,
                                                                    cell_left, ratio, cell.shared_vcpus_used, here))
    return None


def shrinks(host, taken):
    """``{guest name: CPUs to take out of its set}`` for the floating guests a pin of ``taken`` touches."""
    new = frozenset().union(*taken.values()) if taken else frozenset()
    return dict((name, guest.cpus & new) for name, guest in host.floating.items() if guest.cpus & new)
