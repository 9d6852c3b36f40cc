# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The disks of a live migration: shared storage, or a block migration.

Nova's ``block_migration: auto`` asks whether source and destination share
the instance's storage. Here the question goes through libvirt only: a
small probe volume is created in the source disk's pool and looked for, by
its path, in the destination's pool over the same folder. Seen there: the
storage is shared and the disks stay where they are. Otherwise the disks are
copied during the migration (libvirt's ``VIR_MIGRATE_NON_SHARED_INC``), which
needs their volumes created on the destination first: the root disk as an
empty overlay over the destination's copy of the base image (copied there
first when missing, image_cache.py), so only what the guest wrote travels;
other disks as empty volumes of the same size and format.
"""

from __future__ import annotations

import os
import uuid

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.storage_xml import parse_pool
from ansible_collections.vmfleet.compute.plugins.module_utils.storage import volumes as storage_volumes
from ansible_collections.vmfleet.compute.plugins.module_utils.storage.instance_disks import base_image, disk_layout

AUTO = "auto"
SHARED, BLOCK = "shared", "block"
_PROBE_BYTES = 512


def plan(fleet, located, instance, dest, block_migration=AUTO):
    """``{mode: shared | block, disks: [...]}``; each disk ``{target, role, source_path, format,
    capacity_bytes, backing_path, pool, volume, dest_path}`` (pool/volume/dest_path: on the destination)."""
    src_conn, dst_conn = fleet.conn(located.host), fleet.conn(dest.name)
    disks = []
    for disk in located.guest["disks"]:
        if disk["device"] != "disk":
            continue
        if disk["type"] != "file" or not disk["source"]:
            raise VmfleetError("disk %s of %s is not a file (%s): only file disks can be moved" % (
                disk["target"], located.name, disk["type"]), instance=located.name)
        volume = storage_volumes.volume_at(src_conn, disk["source"], "disk %s of %s" % (disk["target"], located.name))
        described = storage_volumes.describe(volume)
        disks.append({"target": disk["target"], "source_path": disk["source"], "format": described["format"],
                      "capacity_bytes": described["capacity_bytes"], "backing_path": described["backing_path"],
                      "allocation_bytes": described["allocation_bytes"]})
    if block_migration is True:
        mode = BLOCK
    else:
        shared = all(shares_storage(src_conn, dst_conn, d["source_path"]) for d in disks)
        if block_migration is False and not shared:
            raise InvalidInput("block_migration", False, "true or auto", reason="the disks of %s are not on "
                               "storage %s shares with %s" % (located.name, located.host, dest.name))
        mode = SHARED if shared else BLOCK
    layout = dict((d["target"], d) for d in disk_layout(instance, dest, dst_conn)) if mode == BLOCK else {}
    for disk in disks:
        if mode == SHARED:
            disk.update(pool=None, volume=None, dest_path=disk["source_path"], role=None)
            continue
        wanted = layout.get(disk["target"])
        if wanted is None:
            raise VmfleetError("disk %s of %s is not one its flavor gives (%s): it cannot be placed on %s" % (
                disk["target"], located.name, ", ".join(sorted(layout)), dest.name), instance=located.name)
        disk.update(pool=wanted["pool"], volume=wanted["volume"], dest_path=wanted["path"], role=wanted["role"])
    return {"mode": mode, "disks": disks}


def shares_storage(src_conn, dst_conn, path):
    """Whether a file created next to ``path`` on the source is seen by the destination."""
    libvirt = libvirt_client.libvirt
    src_pool = storage_volumes.volume_at(src_conn, path, "disk %s" % path).storagePoolLookupByVolume()
    folder = parse_pool(src_pool.XMLDesc(0))["path"]
    dst_pool = _pool_over(dst_conn, folder)
    if dst_pool is None:
        return False
    name = ".vmfleet-shared-probe-%s" % uuid.uuid4().hex[:12]
    probe = storage_volumes.create_blank(src_pool, name, _PROBE_BYTES, fmt="raw")
    try:
        storage_volumes.refresh(dst_pool)
        return storage_volumes.lookup(dst_pool, name) is not None
    finally:
        try:
            probe.delete(0)
        except libvirt.libvirtError:
            pass  # a 512-byte probe file; the next refresh shows it if it stays


def _pool_over(conn, folder):
    """The active pool of ``conn`` whose folder is ``folder``, or None."""
    for pool in conn.listAllStoragePools(libvirt_client.libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE):
        pool_path = parse_pool(pool.XMLDesc(0)).get("path")
        if pool_path and os.path.normpath(pool_path) == os.path.normpath(folder):
            return pool
    return None


def prepare(fleet, instance, dest, storage, created):
    """Create the destination volumes of a block migration; appends ``{pool, volume}`` of each to ``created``
    (the caller deletes them when the migration fails). Returns the actions taken."""
    if storage["mode"] != BLOCK:
        return []
    conn = fleet.conn(dest.name)
    actions = []
    for disk in storage["disks"]:
        pool = storage_volumes.active_pool(conn, disk["pool"], dest.name)
        if storage_volumes.lookup(pool, disk["volume"]) is not None:
            raise VmfleetError("volume %s already exists in pool %s on %s (left by an earlier move?): remove it "
                               "if no guest uses it, then run again" % (disk["volume"], disk["pool"], dest.name),
                               host=dest.name, volume=disk["volume"])
        if disk["backing_path"]:
            base = base_image(fleet, instance, dest, disk["pool"], check_mode=False)
            if base["action"] != "cached":
                actions.append("base image %s %s to %s" % (instance.image["name"], base["action"], dest.name))
            storage_volumes.create_overlay(pool, disk["volume"], base["path"], disk["capacity_bytes"])
        else:
            storage_volumes.create_blank(pool, disk["volume"], disk["capacity_bytes"], disk["format"] or "qcow2")
        created.append({"pool": disk["pool"], "volume": disk["volume"]})
        actions.append("prepared %s on %s" % (disk["volume"], dest.name))
    return actions


def delete_volumes(conn, volumes, host):
    """Delete volumes created by ``prepare``; the ones that could not be deleted, as text."""
    left = []
    for item in volumes:
        try:
            storage_volumes.delete(storage_volumes.active_pool(conn, item["pool"], host), item["volume"])
        except VmfleetError as exc:
            left.append("volume %s in pool %s on %s (%s)" % (item["volume"], item["pool"], host, exc.message))
    return left
