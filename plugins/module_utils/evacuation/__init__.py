# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evacuation of a failed host (Nova's evacuate, Masakari's host recovery): its guests rebuilt on the others
from what the fleet state store remembers of them, and the host's stale copies cleaned when it comes back.

``plan`` (which guests, how, where), ``rebuild`` (one guest on its destination), ``evacuate`` (the
evacuate module's states: evacuated, cleaned)."""
