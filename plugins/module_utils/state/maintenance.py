# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a host's state folder says about it, as host facts carry it under ``maintenance``:
the folder, its cordon record and its migration journal."""

from __future__ import annotations

import os

from ansible_collections.vmfleet.compute.plugins.module_utils.state import cordon as host_cordon
from ansible_collections.vmfleet.compute.plugins.module_utils.state import journal as migration_journal


def read_journal(state_dir):
    """The host's migration journal (migration_journal.py), or None while it has none."""
    if not os.path.isdir(os.path.join(state_dir, migration_journal.JOURNAL_DIR)):
        return None
    return migration_journal.read(state_dir, tolerant=True)


def read_state(state_dir):
    """``{state_dir, cordon, journal}`` for host facts' ``maintenance``; None without a state folder."""
    if not state_dir:
        return None
    return {"state_dir": state_dir, "cordon": host_cordon.read_cordon(state_dir), "journal": read_journal(state_dir)}
