# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``hosts`` option of the modules that operate on an instance across the fleet (module_utils/host/hosts_option.py)."""

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  hosts:
    description:
      - The hosts the instance may be on or go to, each as its facts (M(vmfleet.compute.hypervisor_info)'s
        C(hypervisor), or its registered result), with their state folders.
      - Or each host's entry (C(name), C(uri), C(state_dir) and the host settings of
        M(vmfleet.compute.hypervisor_info), as the filter C(vmfleet.compute.inventory_host) builds it from the
        inventory); the module then reads the host's facts itself, so no facts play is needed first.
      - The module reaches each host by its C(uri), and claims and journals in its state folder.
    type: list
    elements: dict
    required: true
"""
