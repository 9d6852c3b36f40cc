# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one path that settles the moves an earlier run did not finish: a run that
was killed (its journal record stays ``migrating``), a failure whose destination
did not answer (its record is ``error`` and not ``cleaned_up``), a source whose
daemon went away (``source_unconfirmed``).

Every operation that moves a guest calls it before it starts: the drain for the
moves out of its host, live_migrate, resize and instance for the moves of their
guest. So an interrupted move is settled by whatever runs next, not only by a
drain, and the same way:

- a live migration still running in libvirt is waited for, then recorded as
  done (the guest runs on the destination) or undone (it runs on its source,
  nothing left on the destination);
- a resize or cold migration is finished when its copy was defined on the
  destination, else undone (migration/../instances/resize.settle);
- what a failed move left on a destination that answers again is removed;
- a guest whose source daemon went away gets its power state back.
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.instances import resize as instance_resize
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import live as live_migration
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import policy as migration_policy
from ansible_collections.vmfleet.compute.plugins.module_utils.state import journal as migration_journal
from ansible_collections.vmfleet.compute.plugins.module_utils.state import run_owner


def settle_host(fleet, host_name, settings=None):
    """Settle the moves out of ``host_name``; the lines saying what was found."""
    return _settle(fleet, [r for r in migration_journal.read(fleet.store, host_name,
                                                             statuses=states.UNSETTLED_STATUSES)
                           if r.get("source") == host_name], settings)


def settle_guest(fleet, name, settings=None, check_mode=False):
    """Settle the moves of guest ``name`` before an operation on it (in check mode nothing is settled: the
    plan changes nothing); the lines saying what was found."""
    if check_mode:
        return []
    records = migration_journal.read(fleet.store, guest=name, statuses=states.UNSETTLED_STATUSES)
    for record in records:
        if record.get("status") == states.MIGRATING and run_owner.running_here(record.get("owner")):
            raise VmfleetError("%s is being moved from %s to %s by a run still under way (%s, journal %s): wait for "
                               "it to end, or cancel it (live_migrate state=cancelled)" % (
                                   name, record.get("source"), record.get("destination"), record["owner"],
                                   record["id"][:8]), instance=name, host=record.get("source"), migration=record)
    return _settle(fleet, records, settings)


def with_settled(result, settled):
    """The operation's ``result`` with what settling found first in its ``actions``."""
    if settled:
        result["actions"] = list(settled) + list(result.get("actions") or ())
        result["changed"] = True
    return result


def _settle(fleet, records, settings):
    settings = migration_policy.normalize(settings)
    lines = []
    for record in records:
        try:
            line = _settle_one(fleet, record, settings)
        except VmfleetError as exc:
            raise VmfleetError("%s has an unfinished %s move from %s to %s (journal %s) that cannot be settled "
                               "now: %s" % (record.get("guest"), record.get("kind"), record.get("source"),
                                            record.get("destination"), record["id"][:8], exc.message),
                               instance=record.get("guest"), host=record.get("source"), migration=record)
        if line:
            lines.append(line)
    return lines


def _settle_one(fleet, record, settings):
    if record.get("kind") not in states.MIGRATION_KINDS:
        return None  # an evacuation's record: its source is down; the evacuate module settles it
    live = record.get("kind") == states.LIVE
    status = record.get("status")
    if status == states.ERROR:
        if live and record.get("source_unconfirmed"):
            return live_migration.confirm_source(fleet, record)
        if record.get("cleaned_up") is False and record.get("destination") in fleet.hosts:
            clean = live_migration.clean_leftovers if live else instance_resize.clean_leftovers
            if clean(fleet, record):
                return "%s: removed what the failed migration %s left on %s" % (
                    record.get("guest"), record["id"][:8], record.get("destination"))
        return None
    if status != states.MIGRATING:
        return None
    if record.get("uuid") and record.get("destination") in fleet.hosts and record.get("source") in fleet.hosts:
        if live:
            wait_for = max(60, migration_policy.completion_timeout(settings, migration_policy.MIN_DATA_GB))
            return live_migration.settle(fleet, record, wait_timeout=wait_for)
        return instance_resize.settle(fleet, record)
    # a record of an earlier version (no uuid) or of a host not given: say where to look
    error = "interrupted %s migration: the guest stays where libvirt has it; look on %s for volumes it may have " \
            "left" % (record.get("kind"), record.get("destination"))
    migration_journal.update(fleet.store, record, status=states.ERROR, error=error)
    return "%s: interrupted %s migration to %s marked as error" % (
        record.get("guest"), record.get("kind"), record.get("destination"))
