# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host's cordon, kept in its state folder (``vmfleet_state_dir``).

``<state_dir>/cordon.json`` holds the cordon record ``{host, reason, by, at}``
while the host is cordoned (Nova: the compute service is disabled): the
scheduler's ComputeFilter then never places onto it. The file is written
atomically (a temporary file in the same folder, then ``os.replace``), so a
reader sees either the old record or the new one, never half of one.
"""

from __future__ import annotations

import datetime
import os

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.state import folder as state_folder

CORDON_FILE = "cordon.json"


def cordon_path(state_dir):
    return os.path.join(state_dir, CORDON_FILE)


def read_cordon(state_dir):
    """The cordon record of the host, or None when it is not cordoned.

    Raises VmfleetError when the record exists but cannot be read: a broken
    record must not silently uncordon a host.
    """
    path = cordon_path(state_dir)
    record = state_folder.read_json(path, "cordon record")
    if record is not None and not isinstance(record, dict):
        raise VmfleetError("cordon record %s is not a JSON object: fix or remove it, then run again" % path,
                           path=path)
    return record


def new_record(host, reason, by, now=None):
    """The record ``cordon`` writes; ``now``: a datetime (UTC), for tests."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return {
        "host": host,
        "reason": reason or "cordoned for maintenance",
        "by": by or "unknown",
        "at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def write_cordon(state_dir, record):
    """Write ``record`` atomically; creates ``state_dir`` (mode 0755) when missing."""
    state_folder.require(state_dir)
    state_folder.write_json(cordon_path(state_dir), record, "cordon record")


def remove_cordon(state_dir):
    """Remove the record; False when there was none."""
    return state_folder.remove(cordon_path(state_dir), "cordon record")


def set_state(state_dir, state, host, reason=None, by=None, check_mode=False):
    """Bring the host to ``state``; returns ``(changed, before, after)`` records (None: not cordoned).

    Idempotent: an existing cordon is kept as it is (its reason, author and time
    are those of the cordon that is in force).
    """
    if state not in states.CORDON_STATES:
        raise InvalidInput("state", state, ", ".join(states.CORDON_STATES))
    before = read_cordon(state_dir)
    if state == states.CORDONED:
        if before is not None:
            return False, before, before
        after = new_record(host, reason, by)
        if not check_mode:
            write_cordon(state_dir, after)
        return True, None, after
    if before is None:
        return False, None, None
    if not check_mode:
        remove_cordon(state_dir)
    return True, before, None
