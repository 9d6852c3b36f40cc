# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Take host CPUs out of a floating guest, live and in its persistent definition.

A claim that pins CPUs on a host without CPU sets calls this for each floating
guest that may run on them (scheduler/floating_pool.py decides which, and
whether the pin may be given at all). The running guest is re-pinned through
libvirt (``pinVcpuFlags`` / ``pinEmulator``, affecting the running guest),
which gives every vCPU an explicit ``<vcpupin>`` in the live XML; the
persistent definition is rewritten (``<vcpu cpuset>``, each ``<vcpupin>``,
``<emulatorpin>``, ``<iothreadpin>``) and defined again, so the guest keeps the
narrower set after a restart. In the live XML, ``<vcpu cpuset>`` stays as it
was: libvirt cannot change it on a running guest, and it is only the default
of vCPUs without ``<vcpupin>``, of which there are none left.

A vCPU (or the emulator) that ran only on CPUs being taken goes to what is
left of the guest's floating set (``fallback``), never to nothing.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ansible_collections.vmfleet.compute.plugins.module_utils.cpuset import format_cpuset, parse_cpuset
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import instance_metadata

# the collection's metadata keeps its prefix when the definition is written back
ET.register_namespace(instance_metadata.PREFIX, instance_metadata.NAMESPACE)

# cputune children whose cpuset says where something of the guest runs
_PIN_TAGS = ("vcpupin", "emulatorpin", "iothreadpin")


def narrowed(cpus, taken, fallback):
    """``cpus`` without ``taken``; ``fallback`` when nothing would be left."""
    left = set(cpus) - set(taken)
    return left or set(fallback)


def without_cpus(xml_text, taken, fallback):
    """The domain XML text with host CPUs ``taken`` out of every CPU set of its ``<vcpu>`` and
    ``<cputune>``, or None when none of them holds any of ``taken``.

    ``fallback``: the guest's floating set once narrowed, where something left
    with no CPU goes; a guest without ``<vcpu cpuset>`` (anywhere) gets it.
    """
    domain = ET.fromstring(xml_text)
    found = []
    vcpu = domain.find("vcpu")
    if vcpu is not None:
        # without a cpuset the guest may run anywhere, on the taken CPUs too: it gets the fallback
        found.append((vcpu, parse_cpuset(vcpu.get("cpuset"), "vcpu cpuset") if vcpu.get("cpuset") else taken))
    for tag in _PIN_TAGS:
        found.extend((pin, parse_cpuset(pin.get("cpuset"), tag + " cpuset"))
                     for pin in domain.findall("cputune/" + tag) if pin.get("cpuset"))
    changed = False
    for element, cpus in found:
        if set(cpus) & set(taken):
            element.set("cpuset", format_cpuset(narrowed(cpus, taken, fallback)))
            changed = True
    return ET.tostring(domain, encoding="unicode") if changed else None


def _cpumap(allowed, length):
    return tuple(cpu in allowed for cpu in range(length))


def take_cpus(conn, name, taken, fallback):
    """Take host CPUs ``taken`` from guest ``name``: live when it runs, and in its persistent definition.

    Returns what changed, for the caller's report. Raises libvirtError as libvirt does.
    """
    libvirt = libvirt_client.libvirt
    # on a running guest CURRENT is LIVE (the persistent side is written below); the test driver knows no other
    live = libvirt.VIR_DOMAIN_AFFECT_CURRENT
    domain = conn.lookupByName(name)
    changed = []
    if domain.isActive():
        for vcpu, cpumap in enumerate(domain.vcpuPinInfo(live)):
            cpus = set(cpu for cpu, allowed in enumerate(cpumap) if allowed)
            if cpus & set(taken):
                domain.pinVcpuFlags(vcpu, _cpumap(narrowed(cpus, taken, fallback), len(cpumap)), live)
                changed.append("vCPU %d" % vcpu)
        cpumap = domain.emulatorPinInfo(live)
        cpus = set(cpu for cpu, allowed in enumerate(cpumap) if allowed)
        if cpus & set(taken):
            domain.pinEmulator(_cpumap(narrowed(cpus, taken, fallback), len(cpumap)), live)
            changed.append("emulator")
    if domain.isPersistent():
        inactive = domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE)
        rewritten = without_cpus(inactive, taken, fallback)
        if rewritten is not None:
            conn.defineXML(rewritten)
            changed.append("definition")
    return changed
