# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Taking host CPUs out of a floating guest (libvirt/floating_pins.py): the persistent XML rewrite, pure,
and the live re-pin on libvirt's test driver."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.floating_pins import without_cpus
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.libvirt_test_fleet import guest, node_uri
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.xml_factory import domain_xml


def cpusets(text):
    root = ET.fromstring(text)
    found = {"vcpu": root.find("vcpu").get("cpuset")}
    for pin in root.findall("cputune/*"):
        found["%s%s" % (pin.tag, pin.get("vcpu", ""))] = pin.get("cpuset")
    return found


def test_every_cpu_set_of_the_definition_loses_the_taken_cpus():
    text = domain_xml("web", vcpus=2, vcpupin={0: "0-3", 1: "1"}, emulatorpin="0-3")
    rewritten = without_cpus(text, {1}, {0, 2, 3})
    # no <vcpu cpuset> meant anywhere, and vCPU 1 ran only on CPU 1: both get what the guest has left
    assert cpusets(rewritten) == {"vcpu": "0,2-3", "vcpupin0": "0,2-3", "vcpupin1": "0,2-3", "emulatorpin": "0,2-3"}


def test_a_definition_off_the_taken_cpus_is_left_alone():
    text = domain_xml("web", vcpus=1, vcpupin={0: "2-3"}, emulatorpin="2-3")
    assert without_cpus(text.replace("<vcpu ", "<vcpu cpuset='2-3' "), {0, 1}, {2, 3}) is None


def test_a_running_guest_is_re_pinned_live_and_its_definition_rewritten(tmp_path):
    libvirt = pytest.importorskip("libvirt")
    from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.floating_pins import take_cpus

    conn = libvirt.open(node_uri(tmp_path, "hv1", [guest("web", vcpupin={0: "0-7", 1: "1"}, emulatorpin="0-7")]))
    try:
        assert take_cpus(conn, "web", {0, 1}, set(range(2, 8))) == ["vCPU 0", "vCPU 1", "emulator", "definition"]
        domain = conn.lookupByName("web")
        current = libvirt.VIR_DOMAIN_AFFECT_CURRENT
        live = [[cpu for cpu, ok in enumerate(cpumap) if ok] for cpumap in domain.vcpuPinInfo(current)]
        emulator = [cpu for cpu, ok in enumerate(domain.emulatorPinInfo(current)) if ok]
        assert live == [list(range(2, 8))] * 2 and emulator == list(range(2, 8))
        persistent = cpusets(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        assert persistent == {"vcpu": "2-7", "vcpupin0": "2-7", "vcpupin1": "2-7", "emulatorpin": "2-7"}
        assert domain.isActive()
    finally:
        conn.close()
