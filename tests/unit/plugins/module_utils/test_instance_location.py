# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where an instance is defined across a fleet of libvirt test-driver hosts, and which copy is the instance."""

from __future__ import annotations

import os

import pytest

libvirt = pytest.importorskip("libvirt")

# pylint: disable=wrong-import-position
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import HostUnreachable, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.location import InstanceLocation
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.libvirt_test_fleet import (
    fleet, flavor, guest, pending_resize)


def test_an_instance_on_one_host_is_read_from_its_domain_xml(tmp_path):
    big = flavor("m1.large", vcpus=4, memory_mb=8192, root_gb=40)
    hosts = fleet(tmp_path, {"hv1": [guest("other")], "hv2": [guest("vm1", instance_flavor=big, hints={"group": "g"})]})
    located = InstanceLocation(hosts, "vm1")
    assert located and located.host == "hv2" and located.name == "vm1"
    assert located.domain.name() == "vm1" and located.xml == located.domain.XMLDesc(0)
    assert (located.guest["name"], located.guest["vcpus"]) == ("vm1", 4)
    assert located.guest["uuid"] == located.domain.UUIDString()
    assert [d["source"] for d in located.guest["disks"]] == ["/pool/vm1.disk.qcow2"]
    assert located.metadata["flavor"] == big
    assert located.metadata["request"]["hints"] == {"group": "g"}
    assert located.pending is None and located.source_copy() is None
    assert [copy[0] for copy in located.copies] == ["hv2"]
    assert located.require_managed(hosts) is located


def test_an_instance_defined_nowhere_is_falsy_and_not_managed(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1")], "hv2": []})
    located = InstanceLocation(hosts, "ghost")
    assert not located
    assert (located.host, located.domain, located.xml, located.guest) == (None, None, "", None)
    assert located.metadata == {} and located.pending is None
    with pytest.raises(VmfleetError) as missing:
        located.require_managed(hosts)
    assert missing.value.message == "instance ghost is defined on none of the given hosts (hv1, hv2)"
    assert missing.value.details == {"instance": "ghost"}


def test_only_the_hosts_asked_are_looked_at(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1")], "hv2": [], "hv3": [guest("vm1")]})
    assert [c[0] for c in InstanceLocation(hosts, "vm1", ["hv2", "hv3"]).copies] == ["hv3"]
    assert not InstanceLocation(hosts, "vm1", ["hv2"])
    # a host nobody asked about is never opened: its node file may as well be gone
    os.remove(hosts.host("hv3").uri[len("test://"):])
    assert InstanceLocation(hosts, "vm1", ["hv1"]).host == "hv1"


def test_a_host_that_cannot_be_opened_is_an_error_naming_it(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1")], "hv2": []})
    os.remove(hosts.host("hv2").uri[len("test://"):])
    with pytest.raises(HostUnreachable) as unreachable:
        InstanceLocation(hosts, "vm1")
    assert "hv2" in unreachable.value.message


def test_a_guest_without_the_collections_metadata_is_found_but_not_managed(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("byhand", managed=False)]})
    located = InstanceLocation(hosts, "byhand")
    assert located and located.metadata == {} and located.guest["managed"] is False
    with pytest.raises(VmfleetError) as unmanaged:
        located.require_managed(hosts)
    assert unmanaged.value.message == ("byhand on hv1 was not created by this collection (no vmfleet metadata): it "
                                       "cannot be resized or migrated by it")
    assert unmanaged.value.details == {"instance": "byhand", "host": "hv1"}


def test_two_copies_without_a_resize_are_a_stale_copy_to_remove(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("vm1")], "hv2": [], "hv3": [guest("vm1")]})
    located = InstanceLocation(hosts, "vm1")
    assert [c[0] for c in located.copies] == ["hv1", "hv3"] and located.host == "hv1"
    with pytest.raises(VmfleetError) as stale:
        located.require_managed(hosts)
    assert stale.value.message == ("vm1 is defined on several hosts (hv1, hv3) and no resize is pending: remove the "
                                   "stale copy")


@pytest.mark.parametrize("source, resized", [("hv1", "hv2"), ("hv2", "hv1")])
def test_while_a_resize_waits_the_resized_copy_is_the_instance_and_the_other_its_source(tmp_path, source, resized):
    new = flavor("m1.large", vcpus=4)
    pending = pending_resize(source, resized)
    hosts = fleet(tmp_path, {source: [guest("vm1")],
                             resized: [guest("vm1", instance_flavor=new, extra_metadata={"resize": pending})]})
    located = InstanceLocation(hosts, "vm1")
    assert located.host == resized and located.guest["vcpus"] == 4
    assert located.metadata["flavor"] == new and located.pending == pending
    host, domain = located.source_copy()
    assert host == source and domain.name() == "vm1" and domain.connect().getURI() == hosts.host(source).uri
    assert located.require_managed(hosts) is located


def test_a_same_host_resize_or_a_vanished_source_has_no_source_copy(tmp_path):
    same = pending_resize("hv1", "hv1")
    hosts = fleet(tmp_path, {"hv1": [guest("vm1", extra_metadata={"resize": same})],
                             "hv2": [guest("vm2", extra_metadata={"resize": pending_resize("hv3", "hv2")})],
                             "hv3": []})
    assert InstanceLocation(hosts, "vm1").source_copy() is None
    orphan = InstanceLocation(hosts, "vm2")
    assert orphan.pending["source_host"] == "hv3" and orphan.source_copy() is None
