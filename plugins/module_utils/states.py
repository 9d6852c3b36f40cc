# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every state and status name of the collection, spelled once.

Where a name is Nova's (vm_state, migration status) or libvirt's (a guest's
state), it is spelled as they spell it, so operators read the same words in
our results as in ``virsh list`` and ``nova migration-list``. Module choices,
the journal, the metadata, the drain report and the checks all import from
here; a name added here is one a reader can find everywhere it is used.
"""

from __future__ import annotations

# --- a guest as libvirt reports it ----------------------------------------------------------------
# virDomainState codes 0..7, by name (``virsh domstate``)
GUEST_STATES = ("nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed", "pmsuspended")
GUEST_RUNNING, GUEST_PAUSED, GUEST_SHUTOFF = "running", "paused", "shutoff"
# the states whose guest a live migration moves with its memory; the others move cold (disk only)
LIVE_GUEST_STATES = ("running", "paused", "blocked")
# the states in which a guest may have a libvirt job running (a migration, a block copy: host io_ops)
ACTIVE_GUEST_STATES = ("running", "blocked", "paused", "pmsuspended")
# virDomainPausedReason codes 0..14, by name (``virsh domstate --reason``): why a paused guest is paused
PAUSED_REASONS = ("unknown", "user", "migrating", "saving", "dumping", "I/O error", "watchdog", "from snapshot",
                  "shutting down", "creating snapshot", "crashed", "starting up", "post-copy", "post-copy failed",
                  "api error")


def paused_reason_name(code):
    """libvirt's reason code of a paused guest as a name of PAUSED_REASONS (``unknown`` for codes it does not
    know)."""
    return PAUSED_REASONS[code] if 0 <= code < len(PAUSED_REASONS) else "unknown"


def guest_state_name(code):
    """libvirt's state code as a name of GUEST_STATES (``nostate`` for codes it does not know)."""
    return GUEST_STATES[code] if 0 <= code < len(GUEST_STATES) else "nostate"


# --- an instance as its metadata keeps it (Nova's vm_state) ----------------------------------------
VM_ACTIVE = "active"
VM_RESIZED = "resized"  # a resize or cold migration waits for confirm or revert

# --- what the instance module makes of an instance (its ``state`` option) --------------------------
INSTANCE_RUNNING, INSTANCE_STOPPED, INSTANCE_PRESENT, INSTANCE_ABSENT = "running", "stopped", "present", "absent"
INSTANCE_STATES = (INSTANCE_RUNNING, INSTANCE_STOPPED, INSTANCE_PRESENT, INSTANCE_ABSENT)

# --- a resize (the resize module's ``state``), as Nova's resize / confirm / revert -----------------
RESIZED, CONFIRMED, REVERTED = VM_RESIZED, "confirmed", "reverted"
RESIZE_STATES = (RESIZED, CONFIRMED, REVERTED)

# --- a host (the host_maintenance module's ``state``) ----------------------------------------------
CORDONED, UNCORDONED, DRAINED = "cordoned", "uncordoned", "drained"
CORDON_STATES = (CORDONED, UNCORDONED)
DRAIN_CANCELLED = "drain_cancelled"  # asks the drain running on the host to stop (its migrations aborted)
HOST_MAINTENANCE_STATES = CORDON_STATES + (DRAINED, DRAIN_CANCELLED)

# --- a live migration (the live_migrate module's ``state``) ------------------------------------------
MIGRATED, MIGRATION_CANCELLED = "migrated", "cancelled"
LIVE_MIGRATE_STATES = (MIGRATED, MIGRATION_CANCELLED)

# --- what a guest's interface that the collection makes is plugged into: a libvirt network, a host bridge -------
INTERFACE_NETWORK, INTERFACE_BRIDGE = "network", "bridge"
INTERFACE_TYPES = (INTERFACE_NETWORK, INTERFACE_BRIDGE)

# --- moves: their kind and their status in the migration journal, as Nova's migration records ------
LIVE, COLD, RESIZE = "live", "cold", "resize"
MIGRATION_KINDS = (LIVE, COLD, RESIZE)
MIGRATING = "migrating"   # under way, or interrupted: settled by the next operation on the guest or host
FINISHED = "finished"     # a resize or cold migration done, waiting for confirm or revert
COMPLETED = "completed"   # a live migration done
ERROR = "error"           # failed; ``cleaned_up`` says whether anything was left behind
MIGRATION_STATUSES = (MIGRATING, FINISHED, CONFIRMED, REVERTED, COMPLETED, ERROR)
IN_FLIGHT_STATUSES = (MIGRATING,)
# the statuses settling looks at (migration/settle.py): in flight, or failed with something maybe left behind
UNSETTLED_STATUSES = (MIGRATING, ERROR)
# over, with nothing left behind by the move itself
SETTLED_STATUSES = (FINISHED, CONFIRMED, REVERTED, COMPLETED)

# --- a drain (its report) ----------------------------------------------------------------------------
DRAIN_PLANNED, DRAIN_PARTIAL, DRAIN_FAILED = "planned", "partial", "failed"
DRAIN_RESULTS = (DRAIN_PLANNED, DRAINED, DRAIN_PARTIAL, DRAIN_FAILED)
# one guest of a drain
GUEST_MIGRATED, GUEST_FAILED, GUEST_NOT_MOVED, GUEST_PLANNED = "migrated", "failed", "not moved", "planned"

# --- a fleet rebalance (planning/rebalance.py, maintenance/rebalance.py) -------------------------------
BALANCE, CONSOLIDATE = "balance", "consolidate"
REBALANCE_GOALS = (BALANCE, CONSOLIDATE)
REBALANCED = "rebalanced"
REBALANCE_RESULTS = (DRAIN_PLANNED, REBALANCED, DRAIN_PARTIAL, DRAIN_FAILED)
# the key of the fleet-wide lock a rebalance run holds in the store's drain locks: never a host's name
REBALANCE_LOCK = "(rebalance)"

# --- an evacuation of a failed host (the evacuate module's ``state``, Nova's evacuate) --------------
EVACUATED, CLEANED = "evacuated", "cleaned"
EVACUATE_STATES = (EVACUATED, CLEANED)
EVACUATION = "evacuation"  # its kind in the migration journal, beside live, cold and resize
# how a guest of the failed host comes back: its disks seen by the destination, or a new root disk
EVACUATE_SHARED, EVACUATE_REBUILD = "shared", "rebuild"
# one guest of an evacuation
GUEST_EVACUATED, GUEST_REBUILT, GUEST_NOT_EVACUATED = "evacuated", "rebuilt", "not evacuated"
GUEST_ALREADY_ELSEWHERE = "already elsewhere"
# whether the fleet still tolerates a host failure after an evacuation (evacuation/failover.py)
FAILOVER_OK, FAILOVER_LOST, FAILOVER_UNKNOWN = "ok", "lost", "unknown"
# the reason of the cordon an evacuation leaves on the failed host, until state=cleaned lifts it
EVACUATED_CORDON_REASON = "evacuated"
