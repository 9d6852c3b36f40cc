# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host's cordon, in the fleet state store.

The cordon record ``{host, reason, by, at}`` exists while the host is cordoned
(Nova: the compute service is disabled): the scheduler's ComputeFilter then
never places onto it. It is in the store every controller shares, so a cordon
written by one job is seen by the next, wherever it runs.
"""

from __future__ import annotations

import datetime

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError


def new_record(host, reason, by, now=None):
    """The record a cordon writes; ``now``: a datetime (UTC), for tests."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return {
        "host": host,
        "reason": reason or "cordoned for maintenance",
        "by": by or "unknown",
        "at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def set_state(store, state, host, reason=None, by=None, check_mode=False):
    """Bring the host to ``state``; returns ``(changed, before, after)`` records (None: not cordoned).

    Idempotent: an existing cordon is kept as it is (its reason, author and time
    are those of the cordon that is in force). The cordon of an evacuation is
    lifted only by cleaning the host (evacuate state=cleaned), not here.
    """
    if state not in states.CORDON_STATES:
        raise InvalidInput("state", state, ", ".join(states.CORDON_STATES))
    before = store.cordon(host)
    if state == states.CORDONED:
        if before is not None:
            return False, before, before
        after = new_record(host, reason, by)
        if check_mode:
            return True, None, after
        changed, in_force = store.set_cordon(host, after)
        return changed, None if changed else in_force, in_force
    if before is None:
        return False, None, None
    if (before.get("reason") or "").startswith(states.EVACUATED_CORDON_REASON):
        # its stale copies would be placed beside, and started as, the guests that run elsewhere now
        raise VmfleetError("host %s was evacuated (cordoned: %s): run vmfleet.compute.evacuate state=cleaned, which "
                           "removes its stale copies and uncordons it; nothing was changed" % (host, before["reason"]),
                           host=host, cordon=before)
    if not check_mode:
        store.remove_cordon(host)
    return True, before, None
