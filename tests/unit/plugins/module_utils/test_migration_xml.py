# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The destination XML of a live migration: the running guest's devices untouched, its
placement and metadata those of the destination's claim, its disks re-pointed."""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.domain_template import render_domain
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.domain_xml import parse_domain
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.migration_xml import destination_xml
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import schedule
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.scheduler.host_factory import make_request
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.test_domain_template import (
    FLAVORS, VALIDATE, host, spec_for)


def placed(kind, flavors):
    """Plans of ``flavors`` (guests g0, g1, ...) scheduled as one batch on a fresh host ``kind``."""
    requests = [make_request("g%d" % i, FLAVORS[f][0], FLAVORS[f][1], extra_specs=FLAVORS[f][2], flavor_name=f)
                for i, f in enumerate(flavors)]
    plans = schedule([host(kind)], requests, {"max_io_ops_per_host": 50}).to_dict()["plan"]
    assert [p["host"] for p in plans] == [kind] * len(flavors), [p.get("error") for p in plans]
    return plans


# what libvirt adds to a running guest's XML: addresses, aliases, the probed backing chain
LIVE_DEVICES = """
    <controller type='pci' index='0' model='pci-root'><alias name='pci.0'/></controller>
    <video><model type='cirrus' vram='16384' heads='1' primary='yes'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/></video>
"""


def _live(xml):
    """``xml`` as libvirt shows a running guest: device addresses and a backing chain."""
    domain = ET.fromstring(xml)
    devices = domain.find("devices")
    for element in ET.fromstring("<devices>%s</devices>" % LIVE_DEVICES):
        devices.append(element)
    disk = devices.find("disk")
    ET.SubElement(disk, "address", type="pci", domain="0x0000", bus="0x00", slot="0x04", function="0x0")
    chain = ET.SubElement(disk, "backingStore", type="file")
    ET.SubElement(chain, "source", file="/var/lib/libvirt/images/base.qcow2")
    other = ET.SubElement(domain.find("metadata"), "{urn:other}note")
    other.text = "kept"
    return ET.tostring(domain, encoding="unicode")


@pytest.fixture(scope="module", params=[("8-cells", "dedicated-isolate"), ("4-cells", "mixed-numa2"),
                                        ("2s-smt", "1gb-dedicated"), ("2s-smt", "shared")])
def moved(request):
    kind, flavor = request.param
    # on the destination the same flavor lands elsewhere: the source's CPUs are taken there
    first, again = placed(kind, [flavor, flavor])
    source = _live(render_domain(spec_for(first)))
    dest_plan = dict(again, name=first["name"])
    rendered = render_domain(spec_for(dest_plan, disks=[{"target": "vda", "path": "/srv/fast/x.qcow2"}]))
    return first, dest_plan, source, destination_xml(source, rendered, {"vda": "/srv/fast/x.qcow2"})


def test_the_guest_is_pinned_where_the_destination_placed_it(moved):
    first, dest_plan, source, dest = moved
    before, after = parse_domain(source), parse_domain(dest)
    expected = parse_domain(render_domain(spec_for(dest_plan)))
    assert after["vcpupin"] == expected["vcpupin"]
    assert after["numatune"] == expected["numatune"]
    if first["cpu_policy"] == "dedicated":
        assert after["vcpupin"] != before["vcpupin"]  # the source's CPUs are taken on the destination


def test_devices_and_guest_topology_are_the_running_guests(moved):
    _first, _plan, source, dest = moved
    before, after = ET.fromstring(source), ET.fromstring(dest)
    assert ET.tostring(before.find("cpu")) == ET.tostring(after.find("cpu"))
    assert len(before.find("devices")) == len(after.find("devices"))
    assert after.find("devices/video/address").get("slot") == "0x02"
    assert after.find("devices/disk/address").get("slot") == "0x04"


def test_disk_is_repointed_without_the_sources_backing_chain(moved):
    dest = ET.fromstring(moved[3])
    disk = dest.find("devices/disk")
    assert disk.find("source").get("file") == "/srv/fast/x.qcow2"
    assert disk.find("backingStore") is None


def test_metadata_holds_the_destinations_placement_and_keeps_other_tools_metadata(moved):
    _first, dest_plan, _source, dest = moved
    assert parse_domain(dest)["metadata"]["placement"] == dest_plan
    assert ET.fromstring(dest).find("metadata/{urn:other}note").text == "kept"


@pytest.mark.skipif(not os.path.exists(VALIDATE), reason="virt-xml-validate is not installed")
def test_destination_xml_passes_libvirts_schema(moved, tmp_path):
    path = tmp_path / "dest.xml"
    path.write_text(moved[3])
    checked = subprocess.run([VALIDATE, str(path), "domain"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             universal_newlines=True, check=False)
    assert checked.returncode == 0, checked.stdout


def test_without_a_rendering_only_disks_change():
    plan = placed("2s-smt", ["shared"])[0]
    source = _live(render_domain(spec_for(plan)))
    dest = destination_xml(source, None, {"vda": "/other/x.qcow2"})
    assert parse_domain(dest)["vcpupin"] == parse_domain(source)["vcpupin"]
    assert ET.fromstring(dest).find("devices/disk/source").get("file") == "/other/x.qcow2"


def test_refusals():
    plan = placed("2s-smt", ["dedicated-prefer"])[0]
    source = render_domain(spec_for(plan))
    bigger = placed("2s-smt", ["1gb-dedicated"])[0]
    with pytest.raises(VmfleetError, match="cannot change the vCPU count"):
        destination_xml(source, render_domain(spec_for(dict(bigger, name=plan["name"]))))
    with pytest.raises(VmfleetError, match="no disk vdz"):
        destination_xml(source, None, {"vdz": "/x"})
    with pytest.raises(VmfleetError, match="cannot be parsed"):
        destination_xml("<domain", None)
