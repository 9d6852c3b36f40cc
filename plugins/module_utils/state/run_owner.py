# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who runs a drain or a move, as the store records it ("ops on ctl1 (pid 4242)"),
and whether that run is known to be gone or known to be running.

Only a process of this machine can be looked at; another machine's run is
neither (its lease, or its record's end, tells).
"""

from __future__ import annotations

import os
import re
import socket

_OWNER = re.compile(r" on (?P<machine>\S+) \(pid (?P<pid>\d+)\)$")


def describe(by):
    """This process, for another run that finds its lock held or its record in flight."""
    return "%s on %s (pid %d)" % (by or "unknown", socket.gethostname(), os.getpid())


def _process_here(owner):
    """True, False (this machine's process exists, or not), or None (not this machine's, or not readable)."""
    found = _OWNER.search(owner or "")
    if not found or found.group("machine") != socket.gethostname():
        return None
    try:
        os.kill(int(found.group("pid")), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists (another user's)
    return True


def gone(owner):
    """True when the run ran on this machine in a process that no longer exists (a killed playbook's module):
    nobody need wait for it."""
    return _process_here(owner) is False


def running_here(owner):
    """True when the run's process still exists on this machine (another process than this one)."""
    return _process_here(owner) is True and not owner.endswith("(pid %d)" % os.getpid())
