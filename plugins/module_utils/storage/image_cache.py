# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base images cached once per host, like Nova's ``_base`` folder.

An instance's disk is a qcow2 overlay on a base image that its host holds once,
shared by every instance made from it. Before an instance lands on a host (a
boot, or a move), the host must have the base: it is either there already,
uploaded from a file on the controller, or copied from a peer host that has it.
"""

from __future__ import annotations

import functools
import os
import posixpath

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.storage_xml import parse_pool
from ansible_collections.vmfleet.compute.plugins.module_utils.storage import volume_copy
from ansible_collections.vmfleet.compute.plugins.module_utils.storage import volumes as storage_volumes


def ensure_base_image(conn, pool_name, image_name, host, source_path=None, peers=(), check_mode=False):
    """Make sure volume ``image_name`` is in pool ``pool_name`` on ``host``; say how.

    Returns ``{path, action}``; ``action`` is ``cached`` (it was there),
    ``uploaded`` (from ``source_path``, a file on the controller) or
    ``copied`` (from the first of ``peers``, ``(conn, pool_name)`` pairs, whose
    pool holds it), the last two with ``from`` naming the origin (and the
    copy's ``bytes`` and ``seconds``). In check mode nothing is written and
    ``path`` is where the image would land. VmfleetError when no origin has it.
    """
    pool = storage_volumes.active_pool(conn, pool_name, host)
    volume = _present(pool, image_name)
    if volume is not None:
        return {"path": volume.path(), "action": "cached"}
    if source_path:
        action, origin, copy = _from_file(source_path, pool, image_name)
    else:
        action, origin, copy = _from_peer(peers, pool, image_name, host)
    if check_mode:
        return {"path": posixpath.join(parse_pool(pool.XMLDesc(0))["path"] or "", image_name),
                "action": action, "from": origin}
    result = copy()
    return {"path": result["path"], "action": action, "from": origin,
            "bytes": result["bytes"], "seconds": result["seconds"]}


def base_of(overlay_volume):
    """The volume an overlay's reads fall through to (its backing file), or None for a standalone image.

    VmfleetError when the backing file is in no storage pool: libvirt cannot
    stream it then, so it cannot be cached on another host.
    """
    backing = storage_volumes.describe(overlay_volume)["backing_path"]
    if not backing:
        return None
    return storage_volumes.volume_at(overlay_volume.connect(), backing,
                                     "base image of %s" % overlay_volume.path())


def _present(pool, image_name):
    """The cached volume, looking again after a pool refresh (files may be put there by other means)."""
    volume = storage_volumes.lookup(pool, image_name)
    if volume is None:
        storage_volumes.refresh(pool)
        volume = storage_volumes.lookup(pool, image_name)
    return volume


def _from_file(source_path, pool, image_name):
    """``(action, from, copy)`` for an upload of a controller file (checked now, even in check mode)."""
    if not os.path.isfile(source_path):
        raise VmfleetError("base image %r: image.source %s is not a file on the controller"
                           % (image_name, source_path), path=source_path)
    return "uploaded", {"file": source_path}, functools.partial(volume_copy.upload_file, source_path, pool, image_name)


def _from_peer(peers, pool, image_name, host):
    """``(action, from, copy)`` for a stream copy from the first peer that holds the image."""
    looked = []
    for peer_conn, peer_pool_name in peers:
        volume = _on_peer(peer_conn, peer_pool_name, image_name, looked)
        if volume is not None:
            origin = {"uri": peer_conn.getURI(), "pool": peer_pool_name, "path": _standalone(volume)}
            return "copied", origin, functools.partial(volume_copy.copy_volume, volume, pool, image_name)
    raise VmfleetError(
        "base image %r is not in pool %r on host %s and there is nowhere to get it from: give image.source "
        "(an image file on the controller) or put the image in that pool on a peer host (peers looked at: %s)"
        % (image_name, pool.name(), host, ", ".join(looked) or "none"),
        image=image_name, pool=pool.name(), host=host)


def _on_peer(conn, pool_name, image_name, looked):
    """The image's volume in a peer's pool, or None when that peer has no such pool or volume, or does
    not answer (another peer may have it); ``looked`` gets where it looked."""
    libvirt = libvirt_client.libvirt
    try:
        uri = conn.getURI()
        looked.append("%s (pool %s)" % (uri, pool_name))
        return storage_volumes.lookup(storage_volumes.active_pool(conn, pool_name, uri), image_name)
    except (VmfleetError, libvirt.libvirtError):
        return None


def _standalone(volume):
    """The volume's path; VmfleetError if it is itself an overlay (a copy would name a file the
    destination does not have)."""
    info = storage_volumes.describe(volume)
    if info["backing_path"]:
        raise VmfleetError("base image %s on %s is itself an overlay of %s; copy or flatten its base first"
                           % (info["path"], volume.connect().getURI(), info["backing_path"]),
                           path=info["path"])
    return info["path"]
