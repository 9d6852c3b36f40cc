# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""gather_host_facts against libvirt's own test:///default driver (no daemon needed). Its shape against
hypervisor_info's RETURN: tests/unit/plugins/modules/test_facts_contract.py."""

from __future__ import annotations

import pytest

libvirt = pytest.importorskip("libvirt")

# pylint: disable=wrong-import-position
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import HostUnreachable, InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.host.facts import gather_host_facts
from ansible_collections.vmfleet.compute.plugins.module_utils.host.settings import normalize_host_config
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import instance_metadata
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.xml_factory import domain_xml

URI = "test:///default"


@pytest.fixture
def conn():
    """A test:///default connection; guests a test defines are removed afterwards."""
    with libvirt_client.connection(URI, "test-host") as connection:
        before = set(d.name() for d in connection.listAllDomains())
        yield connection
        for domain in connection.listAllDomains():
            if domain.name() not in before:
                if domain.isActive():
                    domain.destroy()
                domain.undefine()


def test_test_driver_host(conn):
    facts = gather_host_facts(conn, None, URI, normalize_host_config({}))
    assert facts["name"] == facts["hostname"]
    assert facts["hypervisor_type"] == "TEST"
    assert facts["libvirt_version"].count(".") == 2
    assert [cell["id"] for cell in facts["numa"]["cells"]] == [0, 1]
    assert facts["cpu"]["total_threads"] == 16 and facts["resources"]["vcpus"] == 16
    assert facts["numa"]["cells"][0]["pages"][0]["size_kb"] == 4
    assert facts["numa"]["cells"][0]["free_memory_mb"] is not None
    assert [pool["name"] for pool in facts["storage_pools"]] == ["default-pool"]
    test_guest = [g for g in facts["guests"] if g["name"] == "test"][0]
    assert test_guest["state"] == "running"
    assert test_guest["disks"][0]["capacity_bytes"] > 0
    assert test_guest["usage"]["vcpus"] == 2
    assert facts["resources"]["running_vms"] == len(facts["guests"])


def test_shut_off_and_managed_guests_count(conn):
    config = normalize_host_config({"instance_pools": ["default-pool"]})
    before = gather_host_facts(conn, "hv-test", URI, config)["resources"]
    domain = conn.defineXML(domain_xml(name="facts-off", vcpus=3, memory_mib=768, domain_type="test"))
    domain.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT,
                       instance_metadata.render({"flavor": {"vcpus": 3, "memory_mb": 1024, "root_gb": 7}}),
                       instance_metadata.PREFIX, instance_metadata.NAMESPACE, 0)
    facts = gather_host_facts(conn, "hv-test", URI, config)
    after = facts["resources"]
    added = [g for g in facts["guests"] if g["name"] == "facts-off"][0]
    assert facts["name"] == "hv-test"
    assert added["state"] == "shutoff"
    assert added["managed"] is True and added["metadata"]["flavor"]["root_gb"] == 7
    assert added["usage"] == {"vcpus": 3, "memory_mb": 1024, "disk_gb": 7}
    assert after["vcpus_used"] - before["vcpus_used"] == 3
    assert after["memory_mb_used"] - before["memory_mb_used"] == 1024
    assert after["local_gb_used"] - before["local_gb_used"] == 7
    assert after["running_vms"] - before["running_vms"] == 1


def test_config_naming_cpus_the_host_lacks(conn):
    with pytest.raises(InvalidInput, match="do not exist on this host"):
        gather_host_facts(conn, None, URI, normalize_host_config({"cpu_dedicated_set": "8-63"}))


class _Vanishing(object):
    """A domain undefined between listAllDomains and XMLDesc."""

    def state(self):
        error = libvirt.libvirtError("Domain not found")
        error.err = (libvirt.VIR_ERR_NO_DOMAIN, libvirt.VIR_FROM_DOMAIN, "Domain not found: gone", 2,
                     None, None, None, 0, 0)
        raise error


class _ConnWithVanishingDomain(object):
    def __init__(self, conn):
        self._conn = conn

    def __getattr__(self, name):
        return getattr(self._conn, name)

    def listAllDomains(self, flags=0):
        return [_Vanishing()] + self._conn.listAllDomains(flags)


def test_domain_that_vanishes_while_listed_is_skipped(conn):
    facts = gather_host_facts(_ConnWithVanishingDomain(conn), None, URI, normalize_host_config({}))
    assert "test" in [g["name"] for g in facts["guests"]]


@pytest.mark.parametrize("uri, hint", [
    ("qemu+tcp://127.0.0.1:1/system", "libvirtd"),
    ("qemu+unix:///system?socket=/nonexistent/libvirt-sock", "libvirtd"),
    ("::::", "URI's syntax"),
])
def test_unreachable_host_says_which_host_and_what_to_check(uri, hint):
    with pytest.raises(HostUnreachable) as caught:
        libvirt_client.open_connection(uri, "hv9")
    message = caught.value.message
    assert message.startswith("host hv9 (%s): " % uri)
    assert hint in message
    assert caught.value.details["host"] == "hv9" and caught.value.details["uri"] == uri


@pytest.mark.parametrize("reason, hint", [
    ("Failed to connect socket to '/var/run/libvirt/libvirt-sock': Permission denied", "polkit"),
    ("authentication failed: Failed to start SASL negotiation", "authentication"),
    ("Unable to resolve address 'hvx' service '16509': Name or service not known", "does not resolve"),
    ("unable to connect to server at 'h:16509': Connection refused", "listen_tcp"),
    ("something new", "Check the URI"),
])
def test_hints(reason, hint):
    assert hint in libvirt_client.hint_for(reason)
