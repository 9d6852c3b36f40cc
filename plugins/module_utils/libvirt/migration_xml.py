# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The domain XML a live-migrated guest gets on its destination.

The guest keeps running, so its device model (the ABI libvirt checks
between source and destination XML) must not change: the destination XML is
the source's *migratable* XML with only host-side parts replaced, as Nova's
``get_updated_guest_xml`` does:

- the placement: ``<vcpu cpuset>``, ``<cputune>`` (vcpupin, emulatorpin)
  and ``<numatune>`` come from the domain rendered for the destination's
  claim, so pinned vCPUs land on CPUs free *there* (the source's CPU numbers
  may be taken) and guest cells bind to the destination's cells;
- the collection's ``<metadata>`` element (the new placement and its claim);
- disk sources: the volumes prepared on the destination (paths differ when
  the pool's folder differs between hosts), without the source's recorded
  backing chain (the destination reads its own from the image).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import instance_metadata

ET.register_namespace(instance_metadata.PREFIX, instance_metadata.NAMESPACE)

# Elements that say where the guest runs on its host; replaced as a whole.
_PLACEMENT_ELEMENTS = ("cputune", "numatune")


def destination_xml(source_xml, rendered_xml=None, disk_paths=None):
    """The destination's domain XML text.

    ``source_xml``: the running guest's ``XMLDesc(VIR_DOMAIN_XML_MIGRATABLE)``.
    ``rendered_xml``: the domain rendered for the destination's placement (its
    placement elements and metadata are taken); None keeps the source's (a
    guest created outside the collection, not pinned).
    ``disk_paths``: ``{target dev: destination path}`` for disks whose path changes.
    """
    try:
        domain = ET.fromstring(source_xml)
    except ET.ParseError as exc:
        raise VmfleetError("the source domain XML cannot be parsed: %s" % exc)
    if rendered_xml is not None:
        _take_placement(domain, ET.fromstring(rendered_xml))
    _set_disk_paths(domain, disk_paths or {})
    return ET.tostring(domain, encoding="unicode")


def _take_placement(domain, rendered):
    vcpu, new_vcpu = domain.find("vcpu"), rendered.find("vcpu")
    if vcpu is not None and new_vcpu is not None:
        if vcpu.text != new_vcpu.text:
            raise VmfleetError("the destination's domain has %s vCPUs, the running guest %s: a live migration "
                               "cannot change the vCPU count" % (new_vcpu.text, vcpu.text))
        vcpu.attrib.pop("cpuset", None)
        if new_vcpu.get("cpuset"):
            vcpu.set("cpuset", new_vcpu.get("cpuset"))
    for tag in _PLACEMENT_ELEMENTS:
        _replace_child(domain, tag, rendered.find(tag), after=("vcpu", "iothreads", "cputune"))
    new_meta = instance_metadata.find(rendered.find("metadata"))
    if new_meta is not None:
        metadata = domain.find("metadata")
        if metadata is None:
            metadata = ET.Element("metadata")
            domain.insert(_index_after(domain, ("uuid", "title", "description")), metadata)
        old = instance_metadata.find(metadata)
        if old is not None:
            metadata.remove(old)
        metadata.append(new_meta)


def _replace_child(domain, tag, replacement, after):
    old = domain.find(tag)
    if old is not None:
        index = list(domain).index(old)
        domain.remove(old)
    else:
        index = _index_after(domain, after)
    if replacement is not None:
        domain.insert(index, replacement)


def _index_after(domain, tags):
    """Where to insert a child that libvirt's schema wants after ``tags``."""
    children = list(domain)
    positions = [i for i, child in enumerate(children) if child.tag in tags]
    return positions[-1] + 1 if positions else len(children)


def _set_disk_paths(domain, disk_paths):
    seen = set()
    for disk in domain.findall("devices/disk"):
        target = disk.find("target")
        dev = target.get("dev") if target is not None else None
        if dev not in disk_paths:
            continue
        source = disk.find("source")
        if disk.get("type") != "file" or source is None:
            raise VmfleetError("disk %s is not a file disk: its path on the destination cannot be set" % dev)
        source.set("file", disk_paths[dev])
        for chain in disk.findall("backingStore"):
            disk.remove(chain)
        seen.add(dev)
    missing = sorted(set(disk_paths) - seen)
    if missing:
        raise VmfleetError("the guest has no disk %s to re-point" % ", ".join(missing))
