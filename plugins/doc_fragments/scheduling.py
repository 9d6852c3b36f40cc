# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scheduling options of the modules that place an instance (scheduler/config.py SCHEDULING_ARGSPEC)."""

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  scheduler_config:
    description:
      - Scheduler configuration, as O(vmfleet.compute.schedule#module:config). Used to choose a host and for the
        claim on it.
      - With C(host_failures_to_tolerate) set to V(1) (admission control), a host is chosen only if every
        host that can be drained now still can after the placement; a drain ignores it.
    type: dict
    default: {}
  seed:
    description: Seed of the scheduler's random pick among equal hosts.
    type: int
"""
