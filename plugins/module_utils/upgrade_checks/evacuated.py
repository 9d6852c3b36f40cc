# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stale copies on a host that came back after an evacuation: guests it still defines that were rebuilt on
other hosts (the journal's ``evacuation`` records from it, not cleaned yet). Starting one would run the guest
twice, on the same disks when they are shared."""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.upgrade_checks.common import (
    FAILURE, SUCCESS, guests, host_rows, names)


def stale_copies(host):
    """``{guest name: the host it was evacuated to}`` of the guests ``host`` (facts) still defines although the
    journal says they were evacuated from it and the copy was not cleaned."""
    evacuated = {}
    for entry in (host.get("maintenance") or {}).get("journal") or ():
        if entry.get("kind") == states.EVACUATION and entry.get("source") == host["name"] and \
                entry.get("status") == states.COMPLETED:
            evacuated[entry.get("guest")] = None if entry.get("cleaned_at") else entry.get("destination")
    defined = set(g["name"] for g in guests(host))
    return dict((name, to) for name, to in evacuated.items() if to and name in defined)


def check_evacuated(hosts, options):
    def per_host(host):
        stale = stale_copies(host)
        if stale:
            return FAILURE, "stale copies of guests evacuated to other hosts: %s; never start them (each runs " \
                "elsewhere), remove them with vmfleet.compute.evacuate state=cleaned" % names(
                    ["%s (now on %s)" % (name, to) for name, to in sorted(stale.items())])
        return SUCCESS, "no copy of an evacuated guest"
    return host_rows("evacuated", hosts, per_host)
