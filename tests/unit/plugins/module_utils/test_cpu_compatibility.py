# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cpu_compatibility against a stub connection that records what libvirt would be asked."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

libvirt = pytest.importorskip("libvirt")

# pylint: disable=wrong-import-position
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import HostUnreachable, InvalidInput, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import cpu_compatibility as cc
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.libvirt_stub import StubConn, error

MISSING = "the CPU is incompatible with host CPU: Host CPU does not provide required features: avx512f"

GUEST = """<domain type='{virttype}' id='3'>
  <name>vm1</name>
  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>
  {cpu}
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>
</domain>"""
KVM64 = """<cpu mode='custom' match='exact' check='full'>
    <model fallback='forbid'>kvm64</model>
    <feature policy='disable' name='pni'/>
    <feature policy='require' name='avx512f'/>
    <numa><cell id='0' cpus='0' memory='131072' unit='KiB'/></numa>
  </cpu>"""
DOMCAPS = """<domainCapabilities>
  <path>/usr/bin/qemu-system-x86_64</path><domain>kvm</domain><machine>pc-i440fx-7.2</machine><arch>x86_64</arch>
  <cpu>
    <mode name='host-passthrough' supported='yes'/>
    <mode name='host-model' supported='yes'>
      <model fallback='forbid'>EPYC</model><vendor>AMD</vendor>
      <feature policy='require' name='x2apic'/><feature policy='disable' name='pni'/>
    </mode>
  </cpu>
</domainCapabilities>"""
CAPS = """<capabilities><host><uuid>u</uuid>
  <cpu><arch>x86_64</arch><model>EPYC</model><vendor>AMD</vendor><feature name='avx512f'/></cpu>
</host></capabilities>"""


def guest(cpu=KVM64, virttype="kvm"):
    return GUEST.format(cpu=cpu, virttype=virttype)


def test_guest_cpu_is_sent_with_the_guests_emulator_arch_machine_and_type():
    conn = StubConn(compareHypervisorCPU=libvirt.VIR_CPU_COMPARE_SUPERSET)
    assert cc.guest_cpu_check(conn, guest(), "hv2") is None
    (method, emulator, arch, machine, virttype, xml, flags), = conn.calls
    assert (method, emulator, arch, machine, virttype) == (
        "compareHypervisorCPU", "/usr/bin/qemu-system-x86_64", "x86_64", "pc-q35-7.2", "kvm")
    assert flags == libvirt.VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE
    cpu = ET.fromstring(xml)
    assert cpu.tag == "cpu" and cpu.get("mode") == "custom" and cpu.findtext("model") == "kvm64"
    assert [(f.get("policy"), f.get("name")) for f in cpu.findall("feature")] == [
        ("disable", "pni"), ("require", "avx512f")]
    assert cpu.find("numa") is None


def test_identical_is_compatible_too():
    conn = StubConn(compareHypervisorCPU=libvirt.VIR_CPU_COMPARE_IDENTICAL)
    assert cc.guest_cpu_check(conn, guest(), "hv2") is None


def test_refused_cpu_returns_libvirts_message():
    conn = StubConn(compareHypervisorCPU=error(libvirt.VIR_ERR_CPU_INCOMPATIBLE, MISSING + "."))
    assert cc.guest_cpu_check(conn, guest(), "hv2") == MISSING


def test_incompatible_without_an_error_still_says_so():
    conn = StubConn(compareHypervisorCPU=libvirt.VIR_CPU_COMPARE_INCOMPATIBLE)
    assert cc.guest_cpu_check(conn, guest(), "hv2").startswith("the CPU is incompatible")


def test_other_libvirt_errors_are_reasons():
    refusal = error(libvirt.VIR_ERR_INVALID_ARG, "invalid argument: the machine 'pc-q35-7.2' is not supported by "
                    "emulator", libvirt.VIR_FROM_QEMU)
    conn = StubConn(compareHypervisorCPU=refusal)
    assert "is not supported by emulator" in cc.guest_cpu_check(conn, guest(), "hv2")


def test_a_failed_connection_raises_host_unreachable():
    conn = StubConn(compareHypervisorCPU=error(libvirt.VIR_ERR_SYSTEM_ERROR, "Cannot recv data: Connection reset",
                                               libvirt.VIR_FROM_RPC))
    with pytest.raises(HostUnreachable) as err:
        cc.guest_cpu_check(conn, guest(), "hv2")
    assert err.value.details["host"] == "hv2" and err.value.details["uri"] == "qemu+tcp://hv2/system"
    assert "libvirtd" in err.value.message  # the hint for a connection that was reset


@pytest.mark.parametrize("cpu, virttype", [
    ("", "kvm"),                                                      # no <cpu>: QEMU's default model
    ("<cpu mode='maximum'/>", "qemu"),                                # TCG emulates it
    ("<cpu mode='custom' match='exact'><topology sockets='1' cores='2' threads='1'/></cpu>", "kvm"),  # no model
])
def test_cpus_that_need_no_comparison(cpu, virttype):
    conn = StubConn()
    assert cc.guest_cpu_check(conn, guest(cpu, virttype), "hv2") is None
    assert conn.calls == []


def test_host_model_expansion_is_compared_as_custom():
    conn = StubConn(compareHypervisorCPU=libvirt.VIR_CPU_COMPARE_SUPERSET)
    cpu = "<cpu mode='host-model' check='partial'><model fallback='forbid'>EPYC</model></cpu>"
    assert cc.guest_cpu_check(conn, guest(cpu), "hv2") is None
    sent = ET.fromstring(conn.calls[0][5])
    assert (sent.get("mode"), sent.get("match"), sent.findtext("model")) == ("custom", "exact", "EPYC")


@pytest.mark.parametrize("cpu", ["<cpu mode='host-passthrough' check='none' migratable='on'/>",
                                 "<cpu mode='maximum'/>", "<cpu mode='host-model'/>"])
def test_source_cpu_modes_compare_the_source_hosts_cpu(cpu):
    source = cc.host_cpu_query(DOMCAPS).cpu_xml
    conn = StubConn(compareHypervisorCPU=error(libvirt.VIR_ERR_CPU_INCOMPATIBLE, MISSING))
    assert cc.guest_cpu_check(conn, guest(cpu), "hv2", source_host_cpu_xml=source) == MISSING
    assert conn.calls[0][5] == source and conn.calls[0][4] == "kvm"


def test_host_passthrough_without_the_source_cpu_cannot_be_checked():
    conn = StubConn()
    why = cc.guest_cpu_check(conn, guest("<cpu mode='host-passthrough'/>"), "hv2")
    assert "host-passthrough" in why and "cannot be checked" in why
    assert conn.calls == []


def test_no_support_falls_back_to_compare_cpu_then_to_a_note():
    unsupported = error(libvirt.VIR_ERR_NO_SUPPORT, "this function is not supported by the connection driver")
    conn = StubConn(compareHypervisorCPU=unsupported, compareCPU=error(libvirt.VIR_ERR_CPU_INCOMPATIBLE, MISSING))
    assert cc.guest_cpu_check(conn, guest(), "hv2") == MISSING
    assert [c[0] for c in conn.calls] == ["compareHypervisorCPU", "compareCPU"]
    assert conn.calls[1][2] == libvirt.VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE
    notes = []
    conn = StubConn(compareHypervisorCPU=unsupported, compareCPU=unsupported)
    assert cc.guest_cpu_check(conn, guest(), "hv2", notes=notes) is None
    assert notes == ["libvirt on hv2 cannot compare CPUs; assumed compatible"]


class OldBindingConn(object):
    """A binding older than libvirt 4.4: compareCPU only."""

    def __init__(self):
        self.calls = []

    def compareCPU(self, xml, flags):  # noqa: N802
        self.calls.append(("compareCPU", xml, flags))
        return libvirt.VIR_CPU_COMPARE_IDENTICAL


def test_a_binding_without_compare_hypervisor_cpu_uses_compare_cpu():
    conn = OldBindingConn()
    assert cc.guest_cpu_check(conn, guest(), "hv2") is None
    assert [c[0] for c in conn.calls] == ["compareCPU"]


def test_the_test_driver_has_neither_api():
    conn = libvirt.open("test:///default")
    try:
        notes = []
        assert cc.host_cpu_check(conn, DOMCAPS, "test", notes) is None
        assert notes and "cannot compare CPUs" in notes[0]
    finally:
        conn.close()


def test_host_check_sends_the_host_model_of_domain_capabilities():
    conn = StubConn(compareHypervisorCPU=libvirt.VIR_CPU_COMPARE_SUPERSET)
    assert cc.host_cpu_check(conn, DOMCAPS, "hv2") is None
    (_method, emulator, arch, machine, virttype, xml, _flags), = conn.calls
    assert (emulator, arch, machine, virttype) == (None, "x86_64", None, "kvm")
    cpu = ET.fromstring(xml)
    assert (cpu.get("mode"), cpu.get("match"), cpu.findtext("model"), cpu.findtext("vendor")) == (
        "custom", "exact", "EPYC", "AMD")
    assert [f.get("name") for f in cpu.findall("feature")] == ["x2apic", "pni"]


def test_host_check_from_capabilities_sends_the_host_cpu():
    conn = StubConn(compareHypervisorCPU=error(libvirt.VIR_ERR_CPU_INCOMPATIBLE, MISSING))
    assert cc.host_cpu_check(conn, CAPS, "hv2") == MISSING
    (_method, _emulator, arch, _machine, virttype, xml, _flags), = conn.calls
    assert (arch, virttype) == ("x86_64", None)
    assert ET.fromstring(xml).findtext("arch") == "x86_64" and not xml.endswith("\n")


def test_host_without_host_model_is_a_reason():
    conn = StubConn()
    text = DOMCAPS.replace("name='host-model' supported='yes'", "name='host-model' supported='no'")
    assert cc.host_cpu_check(conn, text, "hv2") == "its hypervisor offers no host-model CPU"
    with pytest.raises(InvalidInput):
        cc.host_cpu_check(conn, "<domain/>", "hv2")


def test_baseline_reads_each_connections_host_model_and_asks_the_first():
    answer = "<cpu mode='custom'><model>EPYC</model></cpu>"
    first = StubConn(getDomainCapabilities=DOMCAPS, baselineHypervisorCPU=answer)
    second = StubConn(getDomainCapabilities=DOMCAPS.replace("EPYC", "EPYC-Rome"))
    assert cc.baseline([first, second, DOMCAPS]) == answer
    call = first.calls[-1]
    assert call[:5] == ("baselineHypervisorCPU", None, "x86_64", None, "kvm")
    assert [ET.fromstring(x).findtext("model") for x in call[5]] == ["EPYC", "EPYC-Rome", "EPYC"]
    assert call[6] == libvirt.VIR_CONNECT_BASELINE_CPU_MIGRATABLE
    assert second.calls == [("getDomainCapabilities", None, None, None, None, 0)]


def test_baseline_falls_back_to_baseline_cpu_with_host_style_cpus():
    unsupported = error(libvirt.VIR_ERR_NO_SUPPORT, "not supported")
    conn = StubConn(baselineHypervisorCPU=unsupported, baselineCPU="<cpu/>")
    assert cc.baseline([DOMCAPS, CAPS], conn=conn, migratable=False) == "<cpu/>"
    xmls, flags = conn.calls[-1][1:]
    host_model = ET.fromstring(xmls[0])
    assert host_model.get("mode") is None and host_model.findtext("arch") == "x86_64"
    assert [f.get("name") for f in host_model.findall("feature")] == ["x2apic"]  # disabled ones dropped
    assert ET.fromstring(xmls[1]).findtext("model") == "EPYC" and flags == 0


def test_baseline_needs_a_connection_and_reports_libvirts_refusal():
    with pytest.raises(InvalidInput, match="conn"):
        cc.baseline([DOMCAPS])
    conn = StubConn(baselineHypervisorCPU=error(libvirt.VIR_ERR_INVALID_ARG, "CPU arch mismatch"))
    with pytest.raises(VmfleetError, match="libvirt found no baseline CPU: CPU arch mismatch"):
        cc.baseline([DOMCAPS], conn=conn)
