# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Gather the host facts of docs/host-facts.md from one libvirt connection.

Read-only. Each libvirt object is asked once (one XMLDesc per domain, one
lookup per storage volume); guests and devices that vanish while they are
listed are skipped.
"""

from __future__ import annotations

import os

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.host.resource_tracker import track_resources
from ansible_collections.vmfleet.compute.plugins.module_utils.host.settings import check_against_host
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import networks
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.capabilities_xml import parse_capabilities
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.domain_xml import parse_domain
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.nodedev_xml import parse_pci_device
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.storage_xml import parse_pool, volume_backing_path
from ansible_collections.vmfleet.compute.plugins.module_utils.state import maintenance as maintenance_record
from ansible_collections.vmfleet.compute.plugins.module_utils.state.errors import StoreError

# virDomainState values, by number (libvirt-domain.h), so the names need no binding.
_PAUSED = 3
# virDomainPausedReason: an incoming or outgoing migration holds the guest paused.
_PAUSED_BY_MIGRATION = (2, 12)  # MIGRATION, POSTCOPY
_MAX_BACKING_DEPTH = 32


def gather_host_facts(conn, name, uri, config, gather_guests=True, maintenance=None, pending=(), remember=None):
    """The ``hypervisor`` dict of docs/host-facts.md for the host behind ``conn``.

    ``name``: the host's fleet name (None: libvirt's hostname); ``config``:
    the output of host_config.normalize_host_config; ``maintenance``: what
    the fleet state store says of the host, as state.maintenance.read_state
    reads it (None: not read); a cordon there, or a drain holding the host,
    disables it. ``pending``: guest dicts (as
    domain_xml.parse_domain returns them) of claims in flight, counted as
    guests in state ``claimed`` (claims.py). ``remember``: the fleet state
    store, which then keeps the guests read (remember_guests) so that they can
    be rebuilt elsewhere if the host goes down (evacuate). Raises HostUnreachable
    when the connection fails midway, InvalidInput when ``config`` names CPUs
    the host lacks.
    """
    libvirt = libvirt_client.libvirt
    config = with_cordon(config, (maintenance or {}).get("cordon"), (maintenance or {}).get("draining"))
    try:
        caps = parse_capabilities(conn.getCapabilities())
        hostname = conn.getHostname()
        info = conn.getInfo()
        cells = _cells(conn, caps)
        cpu_ids = [cpu["id"] for cell in cells for cpu in cell["cpus"]] or list(range(info[2]))
        check_against_host(config, cpu_ids)
        pools = _storage_pools(conn)
        guests, io_ops, xml_of = _guests(conn, pools) if gather_guests else ([], 0, {})
        if remember is not None and gather_guests:
            _remember(remember, name or hostname, guests, xml_of)
        guests.extend(_pending_guest(guest) for guest in pending)
        io_ops += len(pending)  # Nova counts a build in progress as an I/O operation
        facts = {
            "name": name or hostname,
            "hostname": hostname,
            "uri": uri,
            "host_uuid": caps["host_uuid"],
            "hypervisor_type": conn.getType(),
            "virt_type": caps["virt_type"],
            "libvirt_version": _version(conn.getLibVersion()),
            "hypervisor_version": _version(conn.getVersion()),
            "cpu": caps["cpu"],
            "machine_types": caps["machine_types"],
            "numa": {"cells": cells},
            "pci_devices": _pci_devices(conn),
            "storage_pools": pools,
            "networks": networks.host_networks(conn),
            "host_interfaces": networks.host_interface_names(conn),
            "guests": guests,
            "config": config,
            "maintenance": maintenance,
        }
    except libvirt.libvirtError as exc:
        raise libvirt_client.unreachable(name or uri, uri, exc)
    counted = track_resources(cpu_ids, cells, info[1], guests, pools, config, io_ops=io_ops)
    for cell in cells:
        cell["usage"] = counted["cell_usage"][cell["id"]]
    for guest, usage in zip(guests, counted["guest_usage"]):
        guest["usage"] = usage
    facts["resources"] = counted["resources"]
    return facts


def facts_in_force(hosts, store):
    """Host facts (parsed ``hosts`` items) with what the fleet state store says of each host now
    (with_store_state); for the modules that take facts gathered earlier (schedule, upgrade_check)."""
    in_store = maintenance_record.read_states(store, [facts["name"] for facts in hosts])
    return [with_store_state(facts, in_store[facts["name"]]) for facts in hosts]


def with_store_state(facts, maintenance):
    """A copy of host ``facts`` with what the fleet state store says of the host now (``maintenance``, as
    state.maintenance.read_state reads it): facts gathered earlier in a play, or by another job, then
    schedule and preflight with the cordons and drains in force, not those of when they were gathered."""
    config = dict(facts.get("config") or {})
    then = facts.get("maintenance") or {}
    if then.get("cordon") or then.get("draining"):  # disabled by what the store said then: say what it says now
        config.update(enabled=True, disabled_reason=None, disabled_by=None, disabled_at=None)
    if config.get("enabled", True) is False:
        return dict(facts, maintenance=maintenance, config=config)  # disabled for another reason: stays so
    return dict(facts, maintenance=maintenance,
                config=with_cordon(config, maintenance.get("cordon"), maintenance.get("draining")))


def with_cordon(config, record, draining=None):
    """A copy of ``config`` with ``disabled_by`` / ``disabled_at``, disabled when ``record`` is a cordon
    or ``draining`` (the store's drain lock ``{run_id, owner, lease_expires_at}``) says a drain holds it."""
    config = dict(config, disabled_by=None, disabled_at=None)
    if record:
        config.update(enabled=False, disabled_reason=record.get("reason") or "cordoned",
                      disabled_by=record.get("by"), disabled_at=record.get("at"))
    elif draining:
        config.update(enabled=False, disabled_reason="being drained (run %s)" % draining.get("run_id"),
                      disabled_by=draining.get("owner"))
    return config


def _remember(store, host, guests, xml_of):
    """Keep what was read of the host's guests in the store (state/store.py remember_guests): their domain
    XML and disks as filled here (pools, sizes, base images), for an evacuation of the host once it is down."""
    records = [{"name": guest["name"], "uuid": guest["uuid"], "state": guest["state"],
                "domain_xml": xml_of[guest["name"]], "disks": guest["disks"]} for guest in guests]
    try:
        store.remember_guests(host, records)
    except StoreError:
        pass  # the next read keeps them; a store that does not answer must not make the host look unreachable


def _version(number):
    """libvirt's packed version (major * 1000000 + minor * 1000 + release) -> "9.0.0"."""
    return "%d.%d.%d" % (number // 1000000, number // 1000 % 1000, number % 1000)


def _cells(conn, caps):
    """Capabilities cells with measured free memory and free pages added."""
    cells = caps["cells"]
    if not cells:
        return []
    first = min(cell["id"] for cell in cells)
    count = max(cell["id"] for cell in cells) - first + 1
    free_bytes = conn.getCellsFreeMemory(first, count)
    sizes = sorted(set(page["size_kb"] for cell in cells for page in cell["pages"]))
    free_pages = _free_pages(conn, sizes, first, count)
    result = []
    for cell in cells:
        free = free_bytes[cell["id"] - first] if cell["id"] - first < len(free_bytes) else None
        measured = free_pages.get(cell["id"], {})
        pages = []
        smallest = min(page["size_kb"] for page in cell["pages"]) if cell["pages"] else None
        for page in cell["pages"]:
            page_free = measured.get(page["size_kb"])
            if page_free is None and page["size_kb"] == smallest and free is not None:
                page_free = free // (page["size_kb"] * 1024)  # small pages: what the kernel has free
            pages.append({"size_kb": page["size_kb"], "total": page["total"], "free": page_free})
        result.append({
            "id": cell["id"],
            "memory_mb": cell["memory_mb"],
            "free_memory_mb": None if free is None else free // (1024 * 1024),
            "cpus": cell["cpus"],
            "pages": pages,
            "distances": cell["distances"],
        })
    return result


def _free_pages(conn, sizes, first, count):
    """``{cell: {size_kb: free}}``; empty where the driver cannot say."""
    libvirt = libvirt_client.libvirt
    if not sizes:
        return {}
    try:
        return conn.getFreePages(sizes, first, count) or {}
    except libvirt.libvirtError:
        # One size the kernel lacks makes the whole call fail; ask size by size.
        measured = {}
        for size in sizes:
            try:
                for cell, free in (conn.getFreePages([size], first, count) or {}).items():
                    measured.setdefault(cell, {}).update(free)
            except libvirt.libvirtError:
                continue
        return measured


def _pci_devices(conn):
    libvirt = libvirt_client.libvirt
    devices = []
    try:
        listed = conn.listAllDevices(libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT:
            return []
        raise
    for device in listed:
        try:
            parsed = parse_pci_device(device.XMLDesc(0))
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_NODE_DEVICE:
                continue  # unplugged while listed
            raise
        if parsed:
            devices.append(parsed)
    return sorted(devices, key=lambda dev: dev["address"])


def _storage_pools(conn):
    libvirt = libvirt_client.libvirt
    pools = []
    for pool in conn.listAllStoragePools(0):
        try:
            described = parse_pool(pool.XMLDesc(0))
            _state, capacity, allocation, available = pool.info()
            active = bool(pool.isActive())
            volumes = sorted(pool.listVolumes()) if active else []
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_POOL:
                continue  # undefined while listed
            raise
        pools.append({
            "name": described["name"],
            "type": described["type"],
            "active": active,
            "path": described["path"],
            "capacity_bytes": capacity,
            "allocation_bytes": allocation,
            "available_bytes": available,
            # names only: whether a base image is cached here (a drain onto the host copies the missing ones)
            "volumes": volumes,
        })
    return sorted(pools, key=lambda p: p["name"])


def _guests(conn, pools):
    """Guest dicts (without usage), how many guests are busy (IoOpsFilter), and each one's domain XML by name."""
    libvirt = libvirt_client.libvirt
    volumes = _VolumeCache(conn)
    pool_of_dir = dict((p["path"].rstrip("/"), p["name"]) for p in pools if p["path"])
    guests, busy, xml_of = [], 0, {}
    for domain in conn.listAllDomains(0):
        try:
            guest, is_busy, xml = _guest(domain, volumes, pool_of_dir)
        except libvirt.libvirtError as exc:
            if _vanished(exc):
                continue  # undefined (or migrated away) while we listed
            raise
        guests.append(guest)
        xml_of[guest["name"]] = xml
        busy += 1 if is_busy else 0
    return sorted(guests, key=lambda g: g["name"]), busy, xml_of


def _guest(domain, volumes, pool_of_dir):
    state, reason = domain.state()[:2]
    xml = domain.XMLDesc(0)
    parsed = parse_domain(xml)
    state_name = states.guest_state_name(state)
    guest = {"name": parsed["name"], "uuid": parsed["uuid"], "state": state_name}
    guest.update((key, value) for key, value in parsed.items() if key not in guest)
    for disk in guest["disks"]:
        _fill_disk(domain, disk, volumes, pool_of_dir)
    busy = _has_job(domain, state_name) or (state == _PAUSED and reason in _PAUSED_BY_MIGRATION)
    task = ((guest["metadata"] or {}).get("state") or {})
    busy = busy or (isinstance(task, dict) and bool(task.get("task")))
    return guest, busy, xml


def _pending_guest(parsed):
    """A claim's guest: counted from its flavor, its disks not created yet."""
    guest = dict(parsed, state="claimed")
    guest["disks"] = [dict(disk, pool=None, capacity_bytes=None, allocation_bytes=None)
                      for disk in parsed["disks"]]
    return guest


def _vanished(exc):
    return exc.get_error_code() == libvirt_client.libvirt.VIR_ERR_NO_DOMAIN


def _has_job(domain, state_name):
    libvirt = libvirt_client.libvirt
    if state_name not in states.ACTIVE_GUEST_STATES:
        return False
    try:
        return domain.jobInfo()[0] != libvirt.VIR_DOMAIN_JOB_NONE
    except libvirt.libvirtError as exc:
        if _vanished(exc):
            raise
        return False  # drivers without job support (test:///) have no jobs


def _fill_disk(domain, disk, volumes, pool_of_dir):
    """Add capacity, allocation, pool and backing chain to a parsed disk."""
    libvirt = libvirt_client.libvirt
    path = disk["source"] if disk["type"] in ("file", "block") else None
    volume = None
    if disk["type"] == "volume" and disk["source"]:
        volume = volumes.by_name(*disk["source"].split("/", 1))
        path = volume["path"] if volume else None
    if disk["pool"] is None and path:
        disk["pool"] = pool_of_dir.get(os.path.dirname(path))
    if disk["device"] in ("disk", "lun") and disk["target"]:
        try:
            capacity, allocation = domain.blockInfo(disk["target"], 0)[:2]
            disk["capacity_bytes"], disk["allocation_bytes"] = capacity, allocation
        except libvirt.libvirtError as exc:
            if _vanished(exc):
                raise
            volume = volume or (volumes.by_path(path) if path else None)
            if volume:
                disk["capacity_bytes"], disk["allocation_bytes"] = volume["capacity"], volume["allocation"]
    if disk["backing_chain"] is None:
        disk["backing_chain"] = volumes.backing_chain(path) if path else []
    # the bottom of the chain: what a block migration needs cached on the destination first
    base = disk["backing_chain"][-1] if disk["backing_chain"] else None
    base_volume = volumes.by_path(base) if base else None
    disk["base_image"] = {"name": os.path.basename(base), "path": base,
                          "allocation_bytes": base_volume["allocation"] if base_volume else None} if base else None


class _VolumeCache(object):
    """Storage volume lookups, each path asked once per gather (base images are shared)."""

    def __init__(self, conn):
        self._conn = conn
        self._by_path = {}

    def by_path(self, path):
        """``{path, capacity, allocation, backing}`` of the volume at ``path``, or None."""
        libvirt = libvirt_client.libvirt
        if path not in self._by_path:
            try:
                self._by_path[path] = self._describe(self._conn.storageVolLookupByPath(path))
            except libvirt.libvirtError:
                self._by_path[path] = None  # not in any pool, or the driver cannot tell
        return self._by_path[path]

    def by_name(self, pool, name):
        libvirt = libvirt_client.libvirt
        try:
            volume = self._describe(self._conn.storagePoolLookupByName(pool).storageVolLookupByName(name))
        except libvirt.libvirtError:
            return None
        self._by_path[volume["path"]] = volume
        return volume

    def backing_chain(self, path):
        """Backing files below ``path`` as the pools' volume XML tells; [] when unknown."""
        chain = []
        volume = self.by_path(path)
        while volume and volume["backing"] and len(chain) < _MAX_BACKING_DEPTH:
            chain.append(volume["backing"])
            volume = self.by_path(volume["backing"])
        return chain

    @staticmethod
    def _describe(volume):
        _type, capacity, allocation = volume.info()[:3]
        return {
            "path": volume.path(),
            "capacity": capacity,
            "allocation": allocation,
            "backing": volume_backing_path(volume.XMLDesc(0)),
        }
