# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options every module that talks to one libvirt host shares."""

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  uri:
    description:
      - libvirt connection URI of the hypervisor host.
      - V(qemu:///system) when the module runs on the host itself; V(qemu+ssh://user@host/system),
        V(qemu+tls://host/system) or V(qemu+tcp://host:port/system) to reach it from the controller.
      - When not given, the environment variable E(LIBVIRT_DEFAULT_URI) is used, then V(qemu:///system).
    type: str
    default: qemu:///system
requirements:
  - libvirt-python (the C(libvirt) Python binding) on the machine that runs the module
"""
