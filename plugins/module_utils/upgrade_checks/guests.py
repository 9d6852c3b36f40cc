# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Guests and hosts in states that block maintenance: paused / crashed / resized guests,
migrations in flight or left behind, cordoned hosts, guests created outside the
collection, machine types the target QEMU does not offer."""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.state import journal as migration_journal
from ansible_collections.vmfleet.compute.plugins.module_utils.upgrade_checks.common import (
    FAILURE, SUCCESS, WARNING, awaiting_resize_confirm, guests, host_rows, names, state_metadata)

# A journal record still in flight this long after its move started was left by a run that died: the longest
# live migration the defaults allow (800 s per GiB) of a 16 GiB guest takes under 4 h.
IN_FLIGHT_TIMEOUT_SECONDS = 6 * 3600

_BLOCKING = {
    "paused": "resume it (virsh resume) or shut it down",
    "crashed": "destroy and start it again, or undefine it",
    "pmsuspended": "wake it up (virsh dompmwakeup) or shut it down",
}


def check_guest_states(hosts, options):
    def per_host(host):
        blocking = []
        for guest in guests(host):
            state = guest.get("state")
            if awaiting_resize_confirm(guest):
                blocking.append("%s is resized and awaiting confirmation: confirm or revert the resize" % guest["name"])
            elif state in _BLOCKING:
                blocking.append("%s is %s: %s" % (guest["name"], state, _BLOCKING[state]))
        if blocking:
            return FAILURE, "; ".join(blocking)
        return SUCCESS, "%d guests, none paused, crashed, suspended or awaiting a resize confirmation" % len(guests(host))
    return host_rows("guest_states", hosts, per_host)


def check_migrations(hosts, options):
    """Migrations in flight (libvirt jobs, guests with a task), moves in flight for longer than any run
    takes (IN_FLIGHT_TIMEOUT_SECONDS: their run died) and failed ones that left something, in the journal."""
    def per_host(host):
        io_ops = int((host.get("resources") or {}).get("io_ops") or 0)
        tasks = ["%s (%s)" % (g["name"], state_metadata(g)["task"]) for g in guests(host) if state_metadata(g).get("task")]
        maintenance = host.get("maintenance") or {}
        journal = maintenance.get("journal")
        in_flight, leftovers, interrupted = [], [], []
        for entry in journal or ():
            status = str(entry.get("status") or "").lower()
            label = "%s %s->%s (%s)" % (entry.get("guest") or entry.get("instance") or entry.get("id") or "?",
                                        entry.get("source") or "?", entry.get("destination") or "?", status or "no status")
            if status in states.IN_FLIGHT_STATUSES:
                age = migration_journal.age_seconds(entry)
                if age is not None and age > IN_FLIGHT_TIMEOUT_SECONDS:
                    interrupted.append("%s since %s" % (label, entry.get("started_at")))
                else:
                    in_flight.append(label)
            elif status not in states.SETTLED_STATUSES and not entry.get("cleaned_up"):
                leftovers.append(label)
        journal_note = ("no journal yet" if journal is None else "journal: %d open or recent moves" % len(journal))
        if not maintenance:
            journal_note = "no fleet state store read: journal not checked"
        if interrupted:
            return FAILURE, "moves in flight for over %d h (journal): %s; the runs that started them ended without " \
                "recording the outcome: any operation on the guest (live_migrate, resize, instance) or a drain " \
                "of its source settles them" % (IN_FLIGHT_TIMEOUT_SECONDS // 3600, names(interrupted))
        if leftovers:
            return FAILURE, "failed migrations left something behind (journal): %s; run any operation on the guest " \
                "(or drain its source) once the destination answers: it removes them" % names(leftovers)
        if io_ops or tasks or in_flight:
            parts = []
            if io_ops:
                parts.append("%d guests in a libvirt job or a migration now (io_ops)" % io_ops)
            if tasks:
                parts.append("tasks: %s" % names(tasks))
            if in_flight:
                parts.append("journal in flight: %s" % names(in_flight))
            return WARNING, "; ".join(parts) + ": wait for them to finish (virsh domjobinfo), then run the preflight again"
        return SUCCESS, "no migration in flight (no libvirt job, no task); %s" % journal_note
    return host_rows("migrations", hosts, per_host)


def check_cordoned(hosts, options):
    def per_host(host):
        config = host.get("config") or {}
        if config.get("enabled", True) is False:
            who = ", by %s" % config["disabled_by"] if config.get("disabled_by") else ""
            when = " at %s" % config["disabled_at"] if config.get("disabled_at") else ""
            return WARNING, "cordoned (%s%s%s): the scheduler places nothing here and it takes no drained guest; " \
                "uncordon it (host_maintenance state=uncordoned) when its maintenance is done" % (
                    config.get("disabled_reason") or "no reason given", who, when)
        return SUCCESS, "enabled"
    return host_rows("cordoned", hosts, per_host)


def check_unmanaged_guests(hosts, options):
    def per_host(host):
        found = [g for g in guests(host) if not g.get("managed")]
        if not found:
            return SUCCESS, "every guest carries the collection's metadata"
        counted = ["%s (%s vCPU, %s MiB, %s GiB)" % (g["name"], (g.get("usage") or {}).get("vcpus"),
                                                     (g.get("usage") or {}).get("memory_mb"),
                                                     (g.get("usage") or {}).get("disk_gb")) for g in found]
        return WARNING, "%d guests created outside the collection (no metadata), counted from their XML: %s; " \
            "their flavor, server group and pinning intent are guessed from the XML: adopt them or check the " \
            "drain plan by hand" % (len(found), names(counted))
    return host_rows("unmanaged_guests", hosts, per_host)


def check_machine_types(hosts, options):
    """Guests whose machine type the target QEMU (``target_machine_types``), or the other hosts, do not offer."""
    target = options.get("target_machine_types")

    def per_host(host):
        used = {}
        for guest in guests(host):
            if guest.get("machine_type"):
                used.setdefault(guest["machine_type"], []).append(guest["name"])
        if not used:
            return SUCCESS, "no guests with a machine type"
        if target is not None:
            gone = ["%s (%s)" % (m, names(g)) for m, g in sorted(used.items()) if m not in target]
            if gone:
                return FAILURE, "the target QEMU no longer offers %s: change these guests' machine type to one of " \
                    "%s (needs a guest restart) before the upgrade" % ("; ".join(gone), names(target, 6))
            return SUCCESS, "the target QEMU offers every machine type in use (%s)" % names(sorted(used))
        missing = []
        for other in hosts:
            offered = other.get("machine_types")
            if other["name"] == host["name"] or offered is None:
                continue
            lacking = sorted(m for m in used if m not in offered)
            if lacking:
                missing.append("%s lacks %s" % (other["name"], ", ".join(lacking)))
        if missing:
            return WARNING, "guests cannot move where their machine type is not offered: %s; use a machine type " \
                "every host offers" % "; ".join(missing)
        return SUCCESS, "every host offers the machine types in use (%s)" % names(sorted(used))
    return host_rows("machine_types", hosts, per_host)
