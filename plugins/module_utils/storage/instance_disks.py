# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An instance's disks: their layout in the host's pool (Nova's ``disk``, ``disk.eph0``, ``disk.swap``),
creating and deleting them, and the base image their root overlay stands on.

``instance`` is anything with ``name``, ``flavor`` and ``image`` (instances.model.Instance);
``host`` a fleet host (host.fleet.FleetHost).
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.storage_xml import parse_pool
from ansible_collections.vmfleet.compute.plugins.module_utils.storage import image_cache
from ansible_collections.vmfleet.compute.plugins.module_utils.storage import volumes as storage_volumes
from ansible_collections.vmfleet.compute.plugins.module_utils.units import GIB


def disk_layout(instance, host, conn, volume_prefix=None):
    """The disks the flavor gives, in the pool of the flavor's tier on ``host``:
    a root overlay on the base image, and blank ephemeral and swap disks
    (Nova's ``disk``, ``disk.eph0``, ``disk.swap``)."""
    pool_name = host.pool_for(instance.flavor["extra_specs"])
    pool = storage_volumes.active_pool(conn, pool_name, host.name)
    folder = parse_pool(pool.XMLDesc(0))["path"]
    prefix = volume_prefix or instance.name
    disks = [{"role": "root", "target": "vda", "volume": "%s.disk.qcow2" % prefix,
              "capacity_bytes": instance.flavor["root_gb"] * GIB}]
    if instance.flavor["ephemeral_gb"]:
        disks.append({"role": "ephemeral", "target": "vdb", "volume": "%s.disk.eph0.qcow2" % prefix,
                      "capacity_bytes": instance.flavor["ephemeral_gb"] * GIB})
    if instance.flavor["swap"]:
        disks.append({"role": "swap", "target": "vd" + "bc"[len(disks) - 1], "volume": "%s.disk.swap.qcow2" % prefix,
                      "capacity_bytes": instance.flavor["swap"] * 1024 * 1024})
    for disk in disks:
        disk.update(pool=pool_name, path="%s/%s" % (folder.rstrip("/"), disk["volume"]), format="qcow2")
    return disks


def create_disks(conn, disks, base_path, host):
    """Create the volumes; on failure remove those created and re-raise."""
    created = []
    try:
        for disk in disks:
            pool = storage_volumes.active_pool(conn, disk["pool"], host)
            if disk["role"] == "root":
                storage_volumes.create_overlay(pool, disk["volume"], base_path, disk["capacity_bytes"])
            else:
                storage_volumes.create_blank(pool, disk["volume"], disk["capacity_bytes"])
            created.append(disk)
    except Exception:
        delete_disks(conn, created, host)
        raise
    return created


def delete_disks(conn, disks, host):
    for disk in disks:
        storage_volumes.delete(storage_volumes.active_pool(conn, disk["pool"], host), disk["volume"])


def root_capacity(instance, base):
    """Root disk size: the flavor's ``root_gb``, or the image's size when it is 0
    (Nova's meaning); a flavor disk smaller than the image is an error."""
    wanted = instance.flavor["root_gb"] * GIB
    if wanted and wanted < base["capacity_bytes"]:
        raise InvalidInput("flavor.root_gb", instance.flavor["root_gb"],
                           "at least the image's virtual size (%.2f GiB)" % (base["capacity_bytes"] / float(GIB)),
                           reason="flavor disk is smaller than image %s" % instance.image["name"])
    return wanted or base["capacity_bytes"]


def base_image(fleet, instance, host, pool_name, check_mode):
    """Cache the base image in the pool: from this host's other pools, other hosts, or the source file."""
    peers = [(fleet.conn(host.name), pool) for pool in host.config.get("instance_pools") or () if pool != pool_name]
    for other in fleet.reachable():
        if other == host.name:
            continue
        try:
            conn = fleet.conn(other)
        except VmfleetError:
            continue  # a host that is down cannot lend its copy; the others (or the source file) may
        peers += [(conn, pool) for pool in fleet.host(other).config.get("instance_pools") or ()]
    return image_cache.ensure_base_image(fleet.conn(host.name), pool_name, instance.image["name"], host.name,
                                         source_path=instance.image.get("source"), peers=peers,
                                         check_mode=check_mode)


def delete_guest_disks(conn, guest, keep=()):
    """Delete the volumes of a guest's local disks (the base image behind them stays), except ``keep``."""
    for disk in guest["disks"]:
        if disk["device"] == "disk" and disk["type"] == "file" and disk["source"] and disk["source"] not in keep:
            storage_volumes.delete_at(conn, disk["source"])
