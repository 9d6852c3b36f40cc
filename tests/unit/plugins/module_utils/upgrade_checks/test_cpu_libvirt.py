# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cpu_compatibility with libvirt_compare: stub connections answer for each host, the facts stand in for the others."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

libvirt = pytest.importorskip("libvirt")

# pylint: disable=wrong-import-position
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import HostUnreachable, InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.host.cpu_comparison import FleetCpuComparison
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.upgrade_checks import runner
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.libvirt_stub import StubConn, error
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.upgrade_checks.facts import fleet, guest

MISSING = "the CPU is incompatible with host CPU: Host CPU does not provide required features: %s"
DOMCAPS = """<domainCapabilities><domain>kvm</domain><arch>x86_64</arch><cpu>
  <mode name='host-model' supported='yes'><model fallback='forbid'>EPYC</model>
    <feature policy='require' name='x2apic'/></mode></cpu></domainCapabilities>"""
LIVE = """<domain type='kvm'><name>%s</name><os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>
  <cpu mode='custom' match='exact' check='full'><model fallback='forbid'>%s</model></cpu></domain>"""


class Lab(object):
    """Stub connections for hosts hv1..hvN: ``refuse[(dest, model)]`` is the missing feature, else compatible."""

    def __init__(self, hosts, refuse=None, live=None):
        self.refuse = refuse or {}
        self.opened = []
        self.conns = {}
        for host in hosts:
            host["uri"] = "qemu+tcp://%s/system" % host["name"]
            host["host_uuid"] = "uuid-%s" % host["name"]
            self.conns[host["name"]] = StubConn(
                uri=host["uri"], getCapabilities="<capabilities><host><uuid>uuid-%s</uuid></host></capabilities>"
                % host["name"], getDomainCapabilities=DOMCAPS,
                lookupByUUIDString=lambda uuid: LIVE % (uuid, (live or {}).get(uuid, "kvm64")),
                compareHypervisorCPU=self._compare(host["name"]),
                baselineHypervisorCPU="<cpu mode='custom' match='exact'><model>kvm64</model>"
                                      "<feature policy='require' name='x2apic'/></cpu>")

    def _compare(self, dest):
        def compare(_emulator, _arch, _machine, _virttype, xml, _flags):
            feature = self.refuse.get((dest, ET.fromstring(xml).findtext("model")))
            if feature:
                raise error(libvirt.VIR_ERR_CPU_INCOMPATIBLE, MISSING % feature)
            return libvirt.VIR_CPU_COMPARE_SUPERSET
        return compare

    def open_connection(self, uri, name=None):
        self.opened.append(name)
        conn = self.conns.get(name)
        if conn is None:
            raise HostUnreachable(name, uri, "Failed to connect socket: Connection refused", "Check libvirtd.")
        return conn


@pytest.fixture
def lab(monkeypatch):
    def make(hosts, **kwargs):
        made = Lab(hosts, **kwargs)
        monkeypatch.setattr(libvirt_client, "open_connection", made.open_connection)
        return made
    return make


def check(hosts, **options):
    options.setdefault("libvirt_compare", True)
    rows, rc = runner.run_checks(hosts, options, ["cpu_compatibility"], cpu_comparison=FleetCpuComparison)
    return dict((r["host"], r) for r in rows), rc


def test_compatible_fleet_asks_each_host_once_and_closes_every_connection(lab):
    hosts = fleet()
    hosts[0]["guests"] = [guest("vm1"), guest("vm2"), guest("vm-off", state="shutoff")]
    made = lab(hosts)
    rows, rc = check(hosts)
    assert rc == 0
    assert rows["hv1"]["details"] == ("guests of hv1 can live-migrate to every other host (libvirt on hv2, hv3 "
                                      "accepts its host-model CPU EPYC and the CPUs of its 2 running guests)")
    assert sorted(made.opened) == ["hv1", "hv2", "hv3"]
    assert all(conn.closed for conn in made.conns.values())
    # hv2 compared hv1's host-model CPU and, once, the kvm64 both running guests share
    asked = [ET.fromstring(c[5]).findtext("model") for c in made.conns["hv2"].calls if c[0] == "compareHypervisorCPU"]
    assert asked.count("kvm64") == 1 and "EPYC" in asked


def test_libvirt_decides_over_the_facts(lab):
    hosts = fleet()
    hosts[0]["cpu"]["features"] = ["vmx", "avx512f"]  # the facts would refuse hv2 and hv3
    hosts[0]["guests"] = [guest("vm1")]
    lab(hosts)
    rows, rc = check(hosts)
    assert rc == 0 and rows["hv1"]["result"] == "Success"
    rows, rc = check(hosts, libvirt_compare=False)
    assert rc == 2 and "lacks avx512f" in rows["hv1"]["details"]


def test_a_guest_refused_by_one_host_is_a_warning_with_libvirts_reason_and_the_baseline(lab):
    hosts = fleet()
    hosts[0]["guests"] = [guest("vm1"), guest("vm2")]
    lab(hosts, refuse={("hv3", "Icelake-Server"): "avx512f, avx512bw"}, live={"uuid-vm2": "Icelake-Server"})
    rows, rc = check(hosts)
    assert rc == 1 and rows["hv1"]["result"] == "Warning"
    details = rows["hv1"]["details"]
    assert details.startswith("running guests vm2 cannot live-migrate to hv3 (lacks avx512f, avx512bw); ")
    assert "vm1" not in details
    assert "libvirt's baseline of the fleet: cpu mode custom, model kvm64 with 1 features" in details


def test_a_guest_no_host_takes_is_a_failure_and_host_model_refusals_alone_are_not(lab):
    hosts = fleet()
    hosts[0]["guests"] = [guest("vm1")]
    hosts[1]["guests"] = [guest("vm9")]
    lab(hosts, refuse={("hv2", "Icelake-Server"): "avx512f", ("hv3", "Icelake-Server"): "avx512f",
                       ("hv1", "EPYC"): "x2apic"}, live={"uuid-vm1": "Icelake-Server"})
    rows, rc = check(hosts)
    assert rc == 2 and rows["hv1"]["result"] == "Failure"
    assert "running guests vm1 can live-migrate to no other host: hv2 (lacks avx512f); hv3 (lacks avx512f)" in (
        rows["hv1"]["details"])
    # hv1 refuses host-model guests of hv2, but vm9 runs kvm64: it can go anywhere
    assert rows["hv2"]["result"] == "Success"
    assert rows["hv2"]["details"] == ("running guests vm9 can live-migrate to every other host; guests started "
                                      "here with its host-model CPU could not live-migrate to hv1 (lacks x2apic)")


def test_an_unreachable_host_is_compared_from_its_facts_and_named(lab):
    hosts = fleet()
    hosts[2]["cpu"]["vendor"] = "AMD"
    hosts[0]["guests"] = [guest("vm1")]
    made = lab(hosts)
    del made.conns["hv3"]
    rows, rc = check(hosts)
    assert rows["hv1"]["result"] == "Warning"
    details = rows["hv1"]["details"]
    assert details.startswith("running guests vm1 cannot live-migrate to hv3 (vendor AMD, not Intel); give the")
    assert details.endswith("; facts compared for hv3 (libvirt not used: Failed to connect socket: Connection refused)")
    assert "baseline of the fleet:" not in details  # not every host answered: the general advice
    assert rows["hv3"]["result"] == "Success" and "facts compared for hv3" in rows["hv3"]["details"]
    assert made.opened.count("hv3") == 1  # one attempt for the whole check


def test_a_uri_reaching_another_host_is_not_used(lab):
    hosts = fleet()
    made = lab(hosts)
    hosts[1]["host_uuid"] = "uuid-elsewhere"
    rows, _rc = check(hosts)
    assert rows["hv1"]["details"].endswith("; facts compared for hv2 (libvirt not used: it reaches host UUID uuid-hv2, "
                                           "the facts are of uuid-elsewhere)")
    assert made.conns["hv2"].closed


def test_facts_without_a_uri_are_compared_as_facts(lab):
    hosts = fleet()
    made = lab(hosts)
    del hosts[1]["uri"]
    rows, rc = check(hosts)
    assert rc == 0 and "hv2" not in made.opened
    assert rows["hv2"]["details"].endswith("(libvirt not used: its facts carry no uri)")


def test_without_libvirt_compare_no_host_is_opened(lab):
    hosts = fleet()
    made = lab(hosts)
    rows, rc = check(hosts, libvirt_compare=False)
    assert rc == 0 and made.opened == []
    assert rows["hv1"]["details"] == ("guests of hv1 can live-migrate to every other host "
                                      "(Skylake-Client-IBRS CPU, 1 features)")
    runner.run_checks(hosts, None, ["cpu_compatibility"])  # the library's default: the facts only
    assert made.opened == []


def test_libvirt_compare_must_be_a_boolean():
    with pytest.raises(InvalidInput) as err:
        runner.run_checks(fleet(), {"libvirt_compare": "yes"}, ["cpu_compatibility"])
    assert err.value.field == "libvirt_compare"
