# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Domain XML rendered from placements the real scheduler made, on hosts larger
than this machine: read back with parse_domain, counted with the resource
tracker, and checked against libvirt's schema."""

from __future__ import annotations

import copy
import math
import os
import subprocess
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.cpuset import parse_cpuset
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.host.resource_tracker import owned_cpus, track_resources
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import domain_template
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import mac_address
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.domain_template import render_domain
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.domain_xml import parse_domain
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import schedule
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.scheduler.host_factory import (
    make_host,
    make_request,
)

VALIDATE = "/usr/bin/virt-xml-validate"
PAGES = {2048: 4096, 1048576: 8}  # per cell: 8 GiB in 2 MiB pages, 8 GiB in 1 GiB pages
HOSTS = {
    "2s-smt": dict(sockets=2, cores=16, threads=2, hugepages=PAGES),
    "4-cells": dict(sockets=2, cores=16, threads=2, cells=4, hugepages=PAGES),
    "8-cells": dict(sockets=4, cores=16, threads=2, cells=8, hugepages=PAGES),
    # cpu_shared_set: emulator threads of policy share run there, not on the guest's CPUs
    "2s-sets": dict(sockets=2, cores=16, threads=2, hugepages=PAGES, cpu_shared_set=[0, 16, 32, 48],
                    cpu_dedicated_set=[c for c in range(64) if c not in (0, 16, 32, 48)]),
}
DED = {"hw:cpu_policy": "dedicated"}
FLAVORS = {
    "shared": (4, 4096, {}),
    "shared-numa2": (4, 4096, {"hw:numa_nodes": "2"}),
    "dedicated-prefer": (4, 4096, dict(DED, **{"hw:cpu_thread_policy": "prefer"})),
    "dedicated-isolate": (4, 4096, dict(DED, **{"hw:cpu_thread_policy": "isolate"})),
    "emulator-isolate": (4, 4096, dict(DED, **{"hw:emulator_threads_policy": "isolate"})),
    "emulator-share": (2, 2048, dict(DED, **{"hw:emulator_threads_policy": "share"})),
    "mixed-numa2": (6, 6144, {"hw:cpu_policy": "mixed", "hw:cpu_dedicated_mask": "^0,^3", "hw:numa_nodes": "2"}),
    "2mb-numa2": (4, 4096, {"hw:mem_page_size": "2MB", "hw:numa_nodes": "2", "hw:cpu_cores": "2"}),
    "1gb-dedicated": (8, 8192, dict(DED, **{"hw:mem_page_size": "1GB", "hw:cpu_sockets": "2",
                                            "hw:cpu_threads": "2"})),
}


def host(kind):
    return make_host(kind, memory_mb=32768, **HOSTS[kind])


def request(flavor):
    vcpus, memory_mb, extra_specs = FLAVORS[flavor]
    return make_request(flavor, vcpus, memory_mb, extra_specs=extra_specs, flavor_name=flavor)


def spec_for(plan, **overrides):
    spec = {
        "name": plan["name"], "uuid": "6f1c2a8e-93b4-4d5e-8f60-%012d" % len(plan["name"]),
        "virt_type": "kvm", "arch": "x86_64", "machine_type": "pc", "cpu_mode": "host-model",
        "vcpus": plan["vcpus"], "memory_mb": plan["memory_mb"], "placement": plan,
        "disks": [{"target": "vda", "path": "/var/lib/libvirt/images/%s.qcow2" % plan["name"]}],
        "interfaces": [{"type": "network", "source": "default"}, {"type": "bridge", "source": "br0"}],
        "metadata": {"flavor": {"name": plan["flavor"], "vcpus": plan["vcpus"], "memory_mb": plan["memory_mb"]},
                     "request": {"cpu_policy": plan["cpu_policy"]}, "placement": plan},
    }
    spec.update(overrides)
    return spec


def placed(kind, flavors):
    """Plans of ``flavors`` scheduled as one batch on a fresh host ``kind``; all must be placed."""
    # every placement of a batch counts as a build in flight: lift Nova's limit of 8
    plans = schedule([host(kind)], [request(f) for f in flavors], {"max_io_ops_per_host": 50}).to_dict()["plan"]
    assert [p["host"] for p in plans] == [kind] * len(flavors), [p.get("error") for p in plans]
    return plans


CASES = [(kind, flavor) for kind in HOSTS for flavor in FLAVORS]


@pytest.fixture(scope="module")
def rendered():
    """{(host kind, flavor): (plan, spec, xml)}: each flavor alone on each host."""
    out = {}
    for kind, flavor in CASES:
        plan = placed(kind, [flavor])[0]
        spec = spec_for(plan)
        out[(kind, flavor)] = (plan, spec, render_domain(spec))
    return out


def expected_vcpupin(plan):
    if plan["numa"] is None:
        cpus = parse_cpuset(plan["cpuset"])
        return [{"vcpu": v, "cpus": cpus} for v in range(plan["vcpus"])] if cpus else []
    pins = []
    for cell in plan["numa"]:
        pinned = dict((p["vcpu"], [p["cpu"]]) for p in cell["pinning"])
        pins.extend({"vcpu": v, "cpus": pinned.get(v) or parse_cpuset(cell["cpuset"])} for v in cell["vcpus"])
    return sorted(pins, key=lambda pin: pin["vcpu"])


@pytest.mark.parametrize("kind,flavor", CASES)
def test_parse_domain_reads_back_the_placement(rendered, kind, flavor):
    plan, spec, xml = rendered[(kind, flavor)]
    guest = parse_domain(xml)
    cells = plan["numa"] or []
    assert (guest["name"], guest["vcpus"], guest["memory_mb"]) == (flavor, plan["vcpus"], plan["memory_mb"])
    assert guest["cpu_policy"] == plan["cpu_policy"]
    assert guest["vcpupin"] == expected_vcpupin(plan)
    assert guest["emulatorpin"] == parse_cpuset(plan["emulator_cpus"])
    assert guest["cpu_topology"] == plan["cpu_topology"]
    assert guest["guest_numa_cells"] == [
        {"id": c["guest_cell"], "cpus": c["vcpus"], "memory_mb": c["memory_mb"], "host_cell": c["host_cell"]}
        for c in cells]
    if cells:
        assert guest["numatune"] == {
            "mode": "strict", "nodeset": sorted(c["host_cell"] for c in cells),
            "memnodes": [{"cellid": c["guest_cell"], "mode": "strict", "nodeset": [c["host_cell"]]} for c in cells]}
    else:
        assert guest["numatune"] is None
    huge = set(c["page_size_kb"] for c in cells if c["page_size_kb"] > 4)
    assert guest["page_size_kb"] == (huge.pop() if huge else None)
    assert guest["metadata"] == spec["metadata"]
    assert [d["source"] for d in guest["disks"]] == [spec["disks"][0]["path"]]


@pytest.mark.parametrize("kind,flavor", CASES)
def test_tracker_owns_exactly_the_pinned_and_isolated_cpus(rendered, kind, flavor):
    plan, spec, xml = rendered[(kind, flavor)]
    config = host(kind)["config"]
    pins = dict((p["vcpu"], p["cpu"]) for c in plan["numa"] or () for p in c["pinning"])
    isolated = sorted(cpu for c in plan["numa"] or () for cpu in c["emulator_cpus"])
    assert owned_cpus(parse_domain(xml), config) == (pins, isolated)
    # without the collection's metadata the tracker guesses the policy from the pins alone
    bare = render_domain(dict(spec, metadata=None))
    assert owned_cpus(parse_domain(bare), config) == (pins, isolated)


def test_flavors_exercise_what_they_are_named_for(rendered):
    plan = rendered[("2s-smt", "emulator-isolate")][0]
    emulator = parse_cpuset(plan["emulator_cpus"])
    assert len(emulator) == 1 and emulator[0] not in [p["cpu"] for p in plan["numa"][0]["pinning"]]
    assert rendered[("2s-sets", "emulator-share")][0]["emulator_cpus"] == "0,16,32,48"
    assert rendered[("2s-smt", "emulator-share")][0]["emulator_cpus"] == "0,32"  # no shared set: its own CPUs
    assert rendered[("8-cells", "1gb-dedicated")][0]["numa"][0]["page_size_kb"] == 1048576
    assert rendered[("8-cells", "1gb-dedicated")][0]["cpu_topology"] == {"sockets": 2, "cores": 2, "threads": 2}
    mixed = rendered[("4-cells", "mixed-numa2")][0]["numa"]
    assert [len(c["pinning"]) for c in mixed] == [2, 2] and all(c["cpuset"] for c in mixed)
    xml = rendered[("2s-smt", "shared")][2]
    assert "<vcpu placement='static' cpuset='0-63'>4</vcpu>" in xml


@pytest.mark.parametrize("kind", sorted(HOSTS))
def test_tracker_counts_a_rendered_batch_as_the_scheduler_placed_it(kind):
    facts = host(kind)
    plans = placed(kind, list(FLAVORS))
    guests = [parse_domain(render_domain(spec_for(plan))) for plan in plans]
    cpu_ids = [cpu["id"] for cell in facts["numa"]["cells"] for cpu in cell["cpus"]]
    usage = track_resources(cpu_ids, facts["numa"]["cells"], 0, guests, [], facts["config"])["cell_usage"]
    expected = dict((cell["id"], {"pinned_cpus": [], "memory_mb_used": 0, "pages_used": {}, "shared_vcpus_used": 0})
                    for cell in facts["numa"]["cells"])
    for cell in (c for plan in plans for c in plan["numa"] or ()):
        counted = expected[cell["host_cell"]]
        counted["pinned_cpus"] = sorted(counted["pinned_cpus"] + [p["cpu"] for p in cell["pinning"]]
                                        + cell["emulator_cpus"])
        counted["memory_mb_used"] += cell["memory_mb"]
        counted["shared_vcpus_used"] += len(cell["vcpus"]) - len(cell["pinning"])
        if cell["page_size_kb"] > 4:  # small pages leave no trace in the XML; memory_mb_used counts them
            size = str(cell["page_size_kb"])
            pages = int(math.ceil(cell["memory_mb"] * 1024.0 / cell["page_size_kb"]))
            counted["pages_used"][size] = counted["pages_used"].get(size, 0) + pages
    assert usage == expected


@pytest.mark.skipif(not os.path.exists(VALIDATE), reason="virt-xml-validate is not installed")
def test_every_rendering_passes_libvirt_schema(rendered, tmp_path):
    tcg = spec_for({"name": "tcg", "vcpus": 1, "memory_mb": 512, "flavor": "tiny", "cpu_policy": "shared"},
                   virt_type="qemu", cpu_mode=None, placement={"numa": None}, disks=[], interfaces=[])
    xmls = [xml for _plan, _spec, xml in rendered.values()] + [render_domain(tcg)]
    # the validator must be able to say no, or passing means nothing
    broken = xmls[0].replace("placement='static'", "placement='anywhere'")
    for index, xml in enumerate(xmls + [broken]):
        path = tmp_path / ("%d.xml" % index)
        path.write_text(xml)
        result = subprocess.run([VALIDATE, str(path), "domain"], capture_output=True, text=True, check=False)
        assert (result.returncode == 0) == (xml is not broken), result.stdout + result.stderr


def test_floating_guest_without_numa_or_cpuset_gets_no_cputune_and_tcg_no_cpu_mode():
    xml = render_domain(spec_for({"name": "tcg", "vcpus": 2, "memory_mb": 512, "flavor": "t", "cpu_policy": "shared"},
                                 virt_type="qemu", cpu_mode=None, placement={"numa": None}, metadata=None))
    assert "<cputune>" not in xml and "<numatune>" not in xml and "<cpu" not in xml and "<metadata>" not in xml
    assert "<domain type='qemu'>" in xml and "<vcpu placement='static'>2</vcpu>" in xml


def test_values_are_escaped_and_user_macs_normalized():
    plan = {"name": "x", "vcpus": 1, "memory_mb": 512, "flavor": "a'b", "cpu_policy": "shared"}
    spec = spec_for(plan, name="db'1<&>", placement={"numa": None},
                    disks=[{"target": "vda", "path": "/img/it's <here>.qcow2"}],
                    interfaces=[{"type": "bridge", "source": "br0", "mac": "52-54-00-AB-CD-EF"},
                                {"type": "network", "source": "default"}])
    guest = parse_domain(render_domain(spec))
    assert guest["name"] == "db'1<&>"
    assert guest["disks"][0]["source"] == "/img/it's <here>.qcow2"
    assert guest["metadata"]["flavor"]["name"] == "a'b"
    xml = render_domain(spec)
    assert "<mac address='52:54:00:ab:cd:ef'/>" in xml
    assert "<mac address='%s'/>" % mac_address.deterministic_mac("db'1<&>", 1) in xml


def _numa_spec():
    plan = placed("2s-smt", ["mixed-numa2"])[0]
    return spec_for(copy.deepcopy(plan))


@pytest.mark.parametrize("change,field", [
    (lambda s: s["placement"]["numa"][1]["vcpus"].append(0), "placement.numa[].vcpus"),
    (lambda s: s["placement"]["numa"][1]["vcpus"].pop(), "placement.numa[].vcpus"),
    (lambda s: s.update(vcpus=8), "placement.numa[].vcpus"),
    (lambda s: s["placement"]["numa"][0]["pinning"].append({"vcpu": 5, "cpu": 9}), "placement.numa[0].pinning"),
    (lambda s: s["placement"]["numa"][0].update(memory_mb=1024), "placement.numa[].memory_mb"),
    (lambda s: s["placement"].update(cpu_topology={"sockets": 2, "cores": 2, "threads": 2}),
     "placement.cpu_topology"),
    (lambda s: s["interfaces"][1].update(type="direct"), "interfaces[1].type"),
    (lambda s: s["interfaces"][0].update(mac="01:00:5e:00:00:01"), "interfaces[0].mac"),
    (lambda s: s["interfaces"][0].pop("source"), "interfaces[0].source"),
    (lambda s: s["disks"][0].pop("path"), "disks[0].path"),
    (lambda s: s.update(virt_type="xen"), "virt_type"),
    (lambda s: s.update(cpu_mode="host-custom"), "cpu_mode"),
    (lambda s: s.update(cpu_mode="custom"), "cpu_model"),
    (lambda s: s.update(cpu_model="kvm64"), "cpu_model"),
    (lambda s: s.pop("uuid"), "uuid"),
])
def test_inconsistent_input_names_the_field(change, field):
    spec = _numa_spec()
    render_domain(spec)  # consistent before the change
    change(spec)
    with pytest.raises(InvalidInput) as caught:
        render_domain(spec)
    assert caught.value.field == field


def test_missing_jinja2_is_reported_when_called(monkeypatch):
    monkeypatch.setattr(domain_template, "HAS_JINJA2", False)
    with pytest.raises(VmfleetError) as caught:
        render_domain(_numa_spec())
    assert "jinja2" in caught.value.message and caught.value.details["library"] == "jinja2"


def test_custom_cpu_mode_names_the_model():
    spec = _numa_spec()
    spec.update(cpu_mode="custom", cpu_model="kvm64")
    root = ET.fromstring(render_domain(spec))
    assert root.find("cpu").get("mode") == "custom"
    assert root.find("cpu").get("match") == "exact"
    assert root.findtext("cpu/model") == "kvm64"
    assert root.find("cpu/model").get("fallback") == "forbid"
