# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleets whose hosts are libvirt's own ``test:///`` driver, loaded from a node file per host.

A drain, an instance lookup and a storage plan ask libvirt which guests and
volumes a host has. libvirt's test driver answers that for real, in process
and without a daemon: each ``test:///<file>`` connection starts from the
guests (with their state) and pools the file describes. The scheduler still
places with host_factory's generated facts, as a Fleet built from
hypervisor_info results does. (Not collected by pytest: no ``test_`` prefix
on the functions, and the file defines no tests.)
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

from ansible_collections.vmfleet.compute.plugins.module_utils.host.fleet import Fleet
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.request import (
    instance_metadata, normalize_flavor)
from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.scheduler.host_factory import make_host
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.xml_factory import domain_xml

# the test driver reads a guest's state from this element of its own namespace
TEST_NAMESPACE = "http://libvirt.org/schemas/domain/test/1.0"
# libvirt's virDomainState codes, by the names host/facts.py gives them
STATE_CODES = {"running": 1, "blocked": 2, "paused": 3, "shutdown": 4, "shutoff": 5, "crashed": 6,
               "pmsuspended": 7}
GIB = 1024 ** 3


def flavor(name="m1.small", vcpus=2, memory_mb=2048, root_gb=10, **extra):
    """A flavor as instance_request normalizes it (what the metadata records)."""
    return normalize_flavor(dict(name=name, vcpus=vcpus, memory_mb=memory_mb, root_gb=root_gb, **extra))


def metadata(name, instance_flavor=None, image="cirros-0.6.qcow2", hints=None, extra=None):
    """The ``<vmfleet:instance>`` metadata the collection writes when it builds ``name``."""
    instance_flavor = instance_flavor or flavor()
    request = {"name": name, "hints": dict(hints or {})}
    return instance_metadata(instance_flavor, {"name": image, "properties": {}}, request, {"host": "built-on"},
                             "shared", "active", extra=extra)


def pending_resize(source_host, destination_host):
    """The ``resize`` metadata a resize waiting for confirm or revert leaves on the resized copy."""
    return {"migration_id": "m-7", "kind": "resize", "source_host": source_host,
            "destination_host": destination_host, "same_host": source_host == destination_host,
            "source_xml": "<domain/>", "source_was_running": True, "old_flavor": flavor(), "confirm_after": None}


def guest(name, state="running", managed=True, instance_flavor=None, hints=None, extra_metadata=None,
          interfaces=None, disk_folder="/pool", disks=None, **domain_args):
    """Domain XML of guest ``name`` for a node file: ``state`` for the test driver, the collection's
    metadata when ``managed``, one interface on network ``default`` unless ``interfaces`` says otherwise
    (``[(type, source, mac)]``, or raw XML strings), a root disk in ``disk_folder`` unless ``disks``."""
    instance_flavor = instance_flavor or flavor()
    meta = metadata(name, instance_flavor, hints=hints, extra=extra_metadata) if managed else None
    if disks is None:
        disks = [{"source": "%s/%s.disk.qcow2" % (disk_folder, name), "target": "vda"}]
    text = domain_xml(name, vcpus=instance_flavor["vcpus"], memory_mib=128, metadata=meta, disks=disks,
                      **domain_args)
    root = ET.fromstring(text)
    devices = root.find("devices")
    if interfaces is None:
        interfaces = [("network", "default", "52:54:00:%02x:00:01" % (sum(name.encode()) % 256))]
    for item in interfaces:
        if isinstance(item, str):
            devices.append(ET.fromstring(item))
            continue
        kind, source, mac = item
        element = ET.SubElement(devices, "interface", type=kind)
        ET.SubElement(element, "mac", address=mac)
        ET.SubElement(element, "source", **{kind: source})
        ET.SubElement(element, "model", type="virtio")
    ET.SubElement(root, "{%s}runstate" % TEST_NAMESPACE).text = str(STATE_CODES[state])
    return ET.tostring(root, encoding="unicode")


def pool(name="default", folder="/pool", volumes=()):
    """A directory pool for a node file; ``volumes``: ``(name, GiB)`` or ``(name, GiB, backing path)``."""
    root = ET.Element("pool", type="dir")
    ET.SubElement(root, "name").text = name
    ET.SubElement(ET.SubElement(root, "target"), "path").text = folder
    for volume in volumes:
        element = ET.SubElement(root, "volume", type="file")
        ET.SubElement(element, "name").text = volume[0]
        ET.SubElement(element, "capacity", unit="bytes").text = str(volume[1] * GIB)
        target = ET.SubElement(element, "target")
        ET.SubElement(target, "path").text = "%s/%s" % (folder, volume[0])
        ET.SubElement(target, "format", type="qcow2")
        if len(volume) > 2:
            store = ET.SubElement(element, "backingStore")
            ET.SubElement(store, "path").text = volume[2]
            ET.SubElement(store, "format", type="qcow2")
    return ET.tostring(root, encoding="unicode")


def network(name="default", bridge="virbr0"):
    """A network element of a node file (the test driver starts it active): what guests' interfaces name."""
    return ("<network><name>%s</name><bridge name='%s'/><forward mode='nat'/>"
            "<ip address='192.168.122.1' netmask='255.255.255.0'/></network>" % (name, bridge))


def node_uri(folder, host_name, guests=(), pools=None):
    """Write the node file of ``host_name`` into ``folder``; its ``test:///`` URI. ``pools``: pool (and network)
    elements; the network ``default`` is added unless a network is given."""
    path = os.path.join(str(folder), "%s.xml" % host_name)
    pools = [pool()] if pools is None else list(pools)
    if not any(item.startswith("<network>") for item in pools):
        pools.append(network())  # the network guest() plugs guests into, as every host of a fleet has
    with open(path, "w") as handle:
        handle.write("<node>\n%s\n</node>\n" % "\n".join(list(guests) + list(pools)))
    return "test://" + os.path.abspath(path)


def store(folder):
    """The fleet state store of a test: a SQLite file in ``folder`` (the same one for every call)."""
    return open_store("sqlite://" + os.path.join(os.path.abspath(str(folder)), "state.db"))


def fleet(folder, hosts, per_host=None, **host_args):
    """A Fleet of ``hosts`` (``{name: [guest XML]}``, or ``{name: (guest XMLs, pool XMLs)}``), each with
    host_factory's facts (``host_args`` for all, ``per_host[name]`` for one), and a SQLite state store in
    ``folder`` (``fleet.store``)."""
    facts = []
    for name, content in sorted(hosts.items()):
        guests, pools = content if isinstance(content, tuple) else (content, None)
        item = make_host(name, **dict(host_args, **(per_host or {}).get(name, {})))
        item["uri"] = node_uri(folder, name, guests, pools)
        facts.append(item)
    return Fleet(facts, store(folder))
