# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One host's storage volumes, through libvirt's storage API only.

Modules run on the controller; a hypervisor's image folders exist only for its
libvirt daemon (and may sit in that daemon's own mount namespace), so every
volume is created, sized, described and deleted by asking the daemon, never by
touching a path. Errors name the pool and the host (its URI) they happened on.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.storage_xml import volume_backing_path
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.xml_values import parse_xml

# A pool refresh is refused while the daemon builds or uploads a volume in it; that lasts seconds.
_REFRESH_TRIES = 20
_REFRESH_PAUSE = 0.25


def active_pool(conn, pool_name, host):
    """The running storage pool ``pool_name`` on ``conn``; VmfleetError naming pool and host if not."""
    libvirt = libvirt_client.libvirt
    try:
        pool = conn.storagePoolLookupByName(pool_name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_POOL:
            raise failure("looking up storage pool %r on host %s" % (pool_name, host), exc)
        raise VmfleetError("storage pool %r does not exist on host %s (pools there: %s); define it, or name "
                           "one of those" % (pool_name, host, ", ".join(sorted(_pool_names(conn))) or "none"),
                           pool=pool_name, host=host)
    if not pool.isActive():
        raise VmfleetError("storage pool %r on host %s is defined but not active; start it (virsh pool-start "
                           "%s) and set it to autostart" % (pool_name, host, pool_name),
                           pool=pool_name, host=host)
    return pool


def lookup(pool, name):
    """The volume ``name`` in ``pool``, or None when the pool has no such volume."""
    libvirt = libvirt_client.libvirt
    try:
        return libvirt_client.or_none(pool.storageVolLookupByName, libvirt.VIR_ERR_NO_STORAGE_VOL, name)
    except libvirt.libvirtError as exc:
        raise failure("looking up volume %r in %s" % (name, where(pool)), exc)


def describe(volume):
    """``{name, path, format, capacity_bytes, allocation_bytes, backing_path}`` of a volume.

    capacity is what the guest sees, allocation what the host's disk holds.
    """
    text = volume.XMLDesc(0)
    target_format = parse_xml(text, "storage volume XML").find("target/format")
    _type, capacity, allocation = volume.info()[:3]
    return {
        "name": volume.name(),
        "path": volume.path(),
        "format": target_format.get("type") if target_format is not None else None,
        "capacity_bytes": capacity,
        "allocation_bytes": allocation,
        "backing_path": volume_backing_path(text),
    }


def create_overlay(pool, name, backing_path, capacity_bytes=None):
    """A new qcow2 volume whose reads fall through to ``backing_path`` (a volume on the same host).

    The daemon writes the overlay (qemu-img on the host), so the base is
    checked where it really is. ``capacity_bytes`` defaults to the base's; a
    smaller one is refused, as it would cut the end off the guest's disk.
    """
    base = volume_at(pool.connect(), backing_path, "base image for overlay %r" % name)
    base_info = describe(base)
    if capacity_bytes is None:
        capacity_bytes = base_info["capacity_bytes"]
    if capacity_bytes < base_info["capacity_bytes"]:
        raise InvalidInput("capacity_bytes", capacity_bytes, "at least %d, the size of the base image %s"
                           % (base_info["capacity_bytes"], backing_path))
    backing = (backing_path, base_info["format"] or "qcow2")
    return _create(pool, volume_xml(name, capacity_bytes, "qcow2", backing), name)


def create_blank(pool, name, capacity_bytes, fmt="qcow2"):
    """A new empty volume (sparse: nothing is allocated until the guest writes)."""
    return _create(pool, volume_xml(name, capacity_bytes, fmt), name)


def grow(volume, capacity_bytes):
    """Make the guest-visible size ``capacity_bytes``; True if it changed.

    Shrinking is refused (InvalidInput): it would drop the guest's data at
    the end of the disk. For a volume a running guest uses, resize through
    the domain (blockResize) instead, so the guest is told.
    """
    current = volume.info()[1]
    if capacity_bytes < current:
        raise InvalidInput("capacity_bytes", capacity_bytes, "at least the current %d bytes of volume %s"
                           % (current, volume.path()), reason="shrinking a disk loses the data at its end")
    if capacity_bytes == current:
        return False
    try:
        volume.resize(capacity_bytes, 0)
    except libvirt_client.libvirt.libvirtError as exc:
        raise failure("growing volume %s to %d bytes" % (volume.path(), capacity_bytes), exc)
    return True


def delete(pool, name):
    """Delete volume ``name`` from ``pool``; True if it existed (absent is not an error)."""
    volume = lookup(pool, name)
    if volume is None:
        return False
    try:
        volume.delete(0)
    except libvirt_client.libvirt.libvirtError as exc:
        raise failure("deleting volume %r in %s" % (name, where(pool)), exc)
    return True


def delete_at(conn, path):
    """Delete the volume at ``path`` on ``conn``'s host; False when no pool holds it (already gone)."""
    try:
        volume = conn.storageVolLookupByPath(path)
    except libvirt_client.libvirt.libvirtError:
        return False
    try:
        volume.delete(0)
    except libvirt_client.libvirt.libvirtError as exc:
        raise failure("deleting volume %s on %s" % (path, conn.getURI()), exc, path=path)
    return True


def refresh(pool):
    """Re-read the pool's folder, so files changed outside libvirt (or just uploaded) are seen as they are.

    libvirt refreshes after an upload in a background thread that skips the
    refresh when another volume is being built; this does it in the caller's
    time, waiting while the daemon refuses because of such a job.
    """
    libvirt = libvirt_client.libvirt
    for attempt in range(_REFRESH_TRIES):
        try:
            pool.refresh(0)
            return
        except libvirt.libvirtError as exc:
            if "asynchronous jobs" not in message(exc) or attempt == _REFRESH_TRIES - 1:
                raise failure("refreshing %s" % where(pool), exc)
            time.sleep(_REFRESH_PAUSE)


def volume_at(conn, path, what):
    """The volume at ``path`` on ``conn``'s host; VmfleetError when no pool holds it."""
    try:
        return conn.storageVolLookupByPath(path)
    except libvirt_client.libvirt.libvirtError as exc:
        raise failure("%s: no storage pool on %s holds %s (define a pool over its folder)"
                      % (what, conn.getURI(), path), exc, path=path)


def volume_xml(name, capacity_bytes, fmt, backing=None):
    """Volume XML for ``storageVolCreateXML``; ``backing`` is ``(path, format)`` or None."""
    root = ET.Element("volume")
    ET.SubElement(root, "name").text = name
    ET.SubElement(root, "capacity", unit="bytes").text = str(int(capacity_bytes))
    ET.SubElement(root, "allocation", unit="bytes").text = "0"
    ET.SubElement(ET.SubElement(root, "target"), "format", type=fmt)
    if backing:
        store = ET.SubElement(root, "backingStore")
        ET.SubElement(store, "path").text = backing[0]
        ET.SubElement(store, "format", type=backing[1])
    return ET.tostring(root, encoding="unicode")


def where(pool):
    """``pool 'default' on qemu+tcp://host/system``: the words errors use for a pool."""
    try:
        uri = pool.connect().getURI()
    except libvirt_client.libvirt.libvirtError:
        uri = "an unreachable host"
    return "pool %r on %s" % (pool.name(), uri)


def message(exc):
    """libvirt's own words for a libvirtError."""
    return (exc.get_error_message() if hasattr(exc, "get_error_message") else None) or str(exc)


def failure(action, exc, **details):
    """A VmfleetError saying what was being done and what libvirt answered."""
    return VmfleetError("%s: %s" % (action, message(exc).rstrip(".")), **details)


def _create(pool, xml, name):
    try:
        return pool.createXML(xml, 0)
    except libvirt_client.libvirt.libvirtError as exc:
        raise failure("creating volume %r in %s" % (name, where(pool)), exc, volume=name)


def _pool_names(conn):
    try:
        return conn.listStoragePools() + conn.listDefinedStoragePools()
    except libvirt_client.libvirt.libvirtError:
        return []
