# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a copy failed because its pool is full, in words that name the pool,
the host and the space needed.

A copy into a full pool fails with the errno of whatever wrote (qemu-img, an
NBD export, a stream): "No space left on device" at best, an I/O error of a
block job at worst. So after a failed copy (and after its partial volume was
removed) the pool itself is asked: free space below what the copy needs is
the cause, whatever the message said.
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.storage import volumes as storage_volumes

MIB = 1024 * 1024


def shortfall(conn, pool_names, host, needed_bytes):
    """"pool 'p' on HOST has N MiB free; the copy needs M MiB ..." when the pools of ``pool_names`` together
    have less free space than ``needed_bytes``; None when they have room, or cannot be asked."""
    libvirt = libvirt_client.libvirt
    free = {}
    for name in sorted(set(pool_names)):
        try:
            pool = storage_volumes.active_pool(conn, name, host)
            pool.refresh(0)
            free[name] = pool.info()[3]
        except (VmfleetError, libvirt.libvirtError):
            return None
    if not free or not needed_bytes or sum(free.values()) >= needed_bytes:
        return None
    return "%s on %s %s; the copy needs %d MiB: free space there (or give the host a bigger pool) and run " \
           "again" % (", ".join("pool %r" % name for name in free), host,
                      "has %d MiB free" % (sum(free.values()) // MIB) if len(free) == 1
                      else "have %d MiB free together" % (sum(free.values()) // MIB), -(-needed_bytes // MIB))
