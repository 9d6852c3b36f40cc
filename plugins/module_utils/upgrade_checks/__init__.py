# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The upgrade preflight: nova-status-style checks over the fleet's host facts.

Every check is a pure function ``check(hosts, options) -> [row]`` over the
``hypervisor`` dicts of docs/host-facts.md (no libvirt call, no file read);
a row is ``{check, host, result, details}`` (``host`` None for a fleet-wide
row). ``runner.run_checks`` runs the registry, turns a crashing check into an
``Error`` row (rc 255) while the others still run, and computes the rc.

- ``common``: results, rows, versions, options
- ``versions``: libvirt / QEMU against the target's minimums, skew across the fleet
- ``cpu``: CPU compatibility for live migration
- ``drain``: N+1, through the drain's own planner (planning/evacuation.py)
- ``resources``: storage, hugepages, dangerous settings
- ``guests``: blocking states, migrations in flight, unmanaged guests, machine types, cordons
- ``runner``: the registry, the rc, the table
"""
