# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cpu_compatibility against the lab's real libvirt daemons: what their hypervisors accept and refuse.

The lab's hosts share one machine, so they accept the same CPUs; what is refused is what this
machine's hypervisor cannot give a guest, read from a host's domain capabilities first. The one
guest started here is transient, named cpucheck-<random>, and destroyed when its test ends.
"""

import os
import uuid
import xml.etree.ElementTree as ET

import pytest

from lab_tools import INVENTORY, inventory_hosts

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import HostUnreachable
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import cpu_compatibility as cc

# Features a test may require that this machine's hypervisor lacks: the first one it lacks is used.
UNCOMMON_FEATURES = ("avx512f", "avx512-fp16", "amx-tile", "vmx", "svm", "sha-ni")


@pytest.fixture(scope="module")
def lab():
    """``{host: (conn, virt_type)}`` for the lab's hosts; skips when the lab is down or has one host."""
    if not os.path.exists(INVENTORY):
        pytest.skip("no lab inventory at %s: start the lab with lab/lab up" % INVENTORY)
    conns = {}
    try:
        for name, host in sorted(inventory_hosts().items()):
            conns[name] = (libvirt_client.open_connection(host["vmfleet_libvirt_uri"], name),
                           host.get("vmfleet_lab_virt_type", "kvm"))
    except HostUnreachable as exc:
        for conn, _virt_type in conns.values():
            conn.close()
        pytest.skip("the lab is down (%s); start it with lab/lab up" % exc.message)
    if len(conns) < 2:
        pytest.skip("the lab has %d host(s); these tests compare two" % len(conns))
    yield conns
    for conn, _virt_type in conns.values():
        conn.close()


@pytest.fixture(scope="module")
def hv2(lab):
    """The second lab host: its connection, virt type and domain capabilities."""
    conn, virt_type = lab[sorted(lab)[1]]
    return conn, virt_type, conn.getDomainCapabilities(None, "x86_64", None, virt_type, 0)


def guest_xml(virt_type, cpu, name="cpucheck"):
    return ("<domain type='%s'><name>%s</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os>%s"
            "<devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices></domain>" % (virt_type, name, cpu))


def kvm64(*features):
    return "<cpu mode='custom' match='exact' check='partial'><model fallback='forbid'>kvm64</model>%s</cpu>" % "".join(
        "<feature policy='require' name='%s'/>" % feature for feature in features)


def test_kvm64_is_compatible_on_hv2_under_tcg(hv2):
    conn, _virt_type, _caps = hv2
    assert cc.guest_cpu_check(conn, guest_xml("qemu", kvm64()), "hv2") is None


def test_a_running_guests_live_cpu_is_compatible_on_its_host_and_the_others(lab, hv2):
    """The lab's guests use kvm64; their live XML says what the hypervisor really gave them."""
    conn, virt_type, _caps = hv2
    name = "cpucheck-" + uuid.uuid4().hex[:8]
    domain = conn.createXML(guest_xml(virt_type, kvm64(), name), 0)
    try:
        live = domain.XMLDesc(0)
        for host, (other, _other_type) in sorted(lab.items()):
            assert cc.guest_cpu_check(other, live, host) is None, host
    finally:
        domain.destroy()


def test_a_feature_the_hypervisor_lacks_is_refused_with_its_name(hv2):
    conn, virt_type, caps = hv2
    host_model = cc.host_cpu_query(caps).cpu_xml
    offered = set(f.get("name") for f in ET.fromstring(host_model).findall("feature")
                  if f.get("policy") in ("require", "force"))
    lacking = [f for f in UNCOMMON_FEATURES if f not in offered]
    if not lacking:
        pytest.skip("this machine's hypervisor offers every feature of %s" % ", ".join(UNCOMMON_FEATURES))
    why = cc.guest_cpu_check(conn, guest_xml(virt_type, kvm64(lacking[0])), "hv2")
    assert why is not None and "incompatible" in why, why
    assert lacking[0] in why


def test_a_model_the_hypervisor_cannot_run_is_refused(hv2):
    conn, virt_type, caps = hv2
    unusable = [m.text for m in ET.fromstring(caps).findall("cpu/mode[@name='custom']/model")
                if m.get("usable") == "no"]
    if not unusable:
        pytest.skip("every CPU model is usable here")
    model = "Icelake-Server" if "Icelake-Server" in unusable else unusable[0]
    cpu = "<cpu mode='custom' match='exact'><model fallback='forbid'>%s</model></cpu>" % model
    why = cc.guest_cpu_check(conn, guest_xml(virt_type, cpu), "hv2")
    assert why is not None and "does not provide required features" in why, why


def test_an_unknown_model_is_a_reason_not_an_unreachable_host(hv2):
    conn, virt_type, _caps = hv2
    cpu = "<cpu mode='custom' match='exact'><model fallback='forbid'>NoSuchModel</model></cpu>"
    assert "NoSuchModel" in cc.guest_cpu_check(conn, guest_xml(virt_type, cpu), "hv2")


def test_host_model_guests_of_each_host_can_run_on_every_other(lab):
    for source, (source_conn, virt_type) in sorted(lab.items()):
        caps = source_conn.getDomainCapabilities(None, "x86_64", None, virt_type, 0)
        for dest, (dest_conn, _dest_type) in sorted(lab.items()):
            assert cc.host_cpu_check(dest_conn, caps, dest) is None, (source, dest)


def test_baseline_of_the_lab_names_a_model_every_host_runs(lab):
    cpu_xml = cc.baseline([conn for conn, _virt_type in lab.values()])
    cpu = ET.fromstring(cpu_xml)
    assert (cpu.findtext("model") or "").strip(), cpu_xml
    for host, (conn, virt_type) in sorted(lab.items()):
        assert cc.guest_cpu_check(conn, guest_xml(virt_type, cpu_xml), host) is None, host


def test_a_closed_connection_is_an_unreachable_host(lab):
    host = sorted(lab)[1]
    conn = libvirt_client.open_connection(inventory_hosts()[host]["vmfleet_libvirt_uri"], host)
    conn.close()
    with pytest.raises(HostUnreachable) as err:
        cc.guest_cpu_check(conn, guest_xml("qemu", kvm64()), host)
    assert err.value.details["host"] == host
