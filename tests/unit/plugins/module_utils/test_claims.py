# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compute-side claims in the fleet state store, on libvirt's test driver (a real libvirt, no daemon)."""

from __future__ import annotations

import pytest

libvirt = pytest.importorskip("libvirt")

# pylint: disable=wrong-import-position
from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.instances import claims
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.model import Instance, domain_xml
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.request import normalize_image
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.domain_xml import parse_domain
from ansible_collections.vmfleet.compute.plugins.module_utils.state import cordon as host_cordon
from ansible_collections.vmfleet.compute.plugins.module_utils.cpuset import format_cpuset
from ansible_collections.vmfleet.compute.plugins.module_utils.host.fleet import Fleet
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.libvirt_test_fleet import (
    fleet, flavor, guest, store)
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.scheduler.host_factory import make_host
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.xml_factory import domain_xml as guest_xml


def instance(name, vcpus=2, **extra_specs):
    return Instance(name, flavor(name="f%d" % vcpus, vcpus=vcpus, memory_mb=256, root_gb=1, extra_specs=extra_specs),
                    normalize_image({"name": "cirros"}))


def claim_on(hosts, wanted):
    host = hosts.host("hv1")

    def render(placement, facts):  # the test driver's own virt type is "test": render as for KVM
        return domain_xml(wanted, dict(facts, virt_type="kvm"), placement, [], states.VM_ACTIVE)

    return claims.claim(hosts.conn("hv1"), host.as_claim_target(), wanted.spec(), render, wanted.scheduler_config)


def test_a_claim_is_kept_in_the_store_until_dropped(tmp_path):
    hosts = fleet(tmp_path, {"hv1": []})
    made = claim_on(hosts, instance("vm1"))
    kept = hosts.store.claims("hv1")
    assert [c["id"] for c in kept] == [made.id] and kept[0]["instance"] == "vm1"
    assert parse_domain(kept[0]["domain_xml"])["name"] == "vm1"
    claims.drop(hosts.host("hv1").as_claim_target(), made.id)
    assert hosts.store.claims("hv1") == []


def instance_of(name, memory_mb):
    return Instance(name, flavor(name="m%d" % memory_mb, vcpus=1, memory_mb=memory_mb, root_gb=1),
                    normalize_image({"name": "cirros"}))


def test_claims_in_flight_count_so_memory_is_never_claimed_twice(tmp_path):
    hosts = fleet(tmp_path, {"hv1": []})
    made, refused = [], None
    for index in range(64):  # far more than the test driver's node has memory for
        try:
            made.append(claim_on(hosts, instance_of("big%d" % index, 1024)))
        except claims.ClaimFailed as exc:
            refused = exc
            break
    assert made and refused is not None and "RamFilter" in refused.message
    seen = made[-1].facts["resources"]  # the host as the last claim saw it: every earlier claim counted
    assert seen["memory_mb_used"] + 1024 <= seen["memory_mb"] < seen["memory_mb_used"] + 2 * 1024
    assert len(hosts.store.claims("hv1")) == len(made)


def test_a_cordon_in_the_store_refuses_the_claim(tmp_path):
    hosts = fleet(tmp_path, {"hv1": []})
    host_cordon.set_state(hosts.store, states.CORDONED, "hv1", "firmware", "ops")
    with pytest.raises(claims.ClaimFailed) as refused:
        claim_on(hosts, instance("vm1"))
    assert "firmware" in refused.value.message and hosts.store.claims("hv1") == []


def test_a_claim_whose_guest_is_defined_is_spent(tmp_path):
    hosts = fleet(tmp_path, {"hv1": []})
    first = claim_on(hosts, instance("vm1"))
    hosts.conn("hv1").defineXML(first.domain_xml)  # the guest carries the claim id in its metadata
    second = claim_on(hosts, instance("vm2"))
    assert [c["id"] for c in hosts.store.claims("hv1")] == [second.id]


DEMO_DB = {"name": "demo-db", "policy": "anti-affinity"}


def member(name):
    """An instance of the anti-affinity group demo-db, which names none of the other members: the
    claim finds them in the fleet (issue 14)."""
    return Instance(name, flavor(name="f1", vcpus=1, memory_mb=256, root_gb=1),
                    normalize_image({"name": "cirros"}), hints={"group": dict(DEMO_DB)})


def test_a_claim_refuses_a_member_where_a_guest_of_its_group_is_defined(tmp_path):
    hosts = fleet(tmp_path, {"hv1": [guest("demo-db2", hints={"group": dict(DEMO_DB)})]})
    with pytest.raises(claims.ClaimFailed) as refused:
        claim_on(hosts, member("demo-db1"))
    assert refused.value.details["reasons"] == [
        "hv1: ServerGroupAntiAffinityFilter: group demo-db has member demo-db2 on hv1"]
    assert hosts.store.claims("hv1") == []


def test_a_pending_claim_of_a_member_refuses_the_next_member(tmp_path):
    # two moves planned on the same old facts (Nova bug 1821755): the second claim sees the first
    hosts = fleet(tmp_path, {"hv1": []})
    first = claim_on(hosts, member("demo-db1"))
    with pytest.raises(claims.ClaimFailed) as refused:
        claim_on(hosts, member("demo-db2"))
    assert refused.value.details["reasons"] == [
        "hv1: ServerGroupAntiAffinityFilter: group demo-db has member demo-db1 on hv1"]
    assert [c["id"] for c in hosts.store.claims("hv1")] == [first.id]
    # a guest of no group, and a member of another group, still claim beside it
    claim_on(hosts, instance("web1"))
    other = Instance("x1", flavor(name="f1", vcpus=1, memory_mb=256, root_gb=1), normalize_image({"name": "cirros"}),
                     hints={"group": {"name": "other", "policy": "anti-affinity"}})
    claim_on(hosts, other)
    assert len(hosts.store.claims("hv1")) == 3


def test_a_moving_member_may_claim_where_only_it_runs(tmp_path):
    # a resize to the same host: the guest itself is no member on its own host
    hosts = fleet(tmp_path, {"hv1": [guest("demo-db1", hints={"group": dict(DEMO_DB)})]})
    assert claim_on(hosts, member("demo-db1")).host == "hv1"


def allowed(cpumaps):
    return [set(cpu for cpu, ok in enumerate(cpumap) if ok) for cpumap in cpumaps]


def numa_fleet(tmp_path, guests):
    """A fleet of one host on test:///default, the test driver's host with NUMA cells (node files have none),
    its guests (the driver's own, or an earlier test's: the process keeps them) replaced by ``guests``
    (domain XML, started)."""
    facts = make_host("hv1")
    facts["uri"] = "test:///default"
    facts["config"]["instance_pools"] = ["default-pool"]
    hosts = Fleet([facts], store(tmp_path))
    conn = hosts.conn("hv1")
    for old in conn.listAllDomains(0):
        if old.isActive():
            old.destroy()
        old.undefine()
    for text in guests:
        conn.defineXML(text).create()
    return hosts


def test_a_pinning_claim_first_takes_its_cpus_from_the_floating_guests(tmp_path):
    # issue 14, defect 2: floating guests already on the host kept the CPUs a pin was given
    # cell 1 (CPUs 8-15) is taken by a dedicated guest: the pin goes to cell 0, where web floats
    db0 = guest_xml("db0", vcpus=8, vcpupin=dict((vcpu, str(8 + vcpu)) for vcpu in range(8)), emulatorpin="8-15",
                    domain_type="test", uuid="00000000-0000-0000-0000-0000000000d0")
    web = guest_xml("web", vcpupin={0: "0-7", 1: "0-7"}, emulatorpin="0-7", domain_type="test")
    hosts = numa_fleet(tmp_path, [db0, web])
    made = claim_on(hosts, instance("db1", vcpus=2, **{"hw:cpu_policy": "dedicated"}))
    pinned = set(pin["cpu"] for cell in made.placement["numa"] for pin in cell["pinning"])
    assert len(pinned) == 2 and made.repinned == {"web": sorted(pinned)}
    assert made.actions() == ["took CPUs %s from floating guest web" % format_cpuset(pinned)]
    web = hosts.conn("hv1").lookupByName("web")
    current = libvirt.VIR_DOMAIN_AFFECT_CURRENT
    for cpus in allowed(web.vcpuPinInfo(current)) + allowed([web.emulatorPinInfo(current)]):
        assert cpus and not cpus & pinned
    inactive = parse_domain(web.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    for cpus in [inactive["vcpu_cpuset"], inactive["emulatorpin"]] + [p["cpus"] for p in inactive["vcpupin"]]:
        assert cpus and not set(cpus) & pinned


def test_a_floating_claim_in_flight_refuses_a_pin_on_its_cpus(tmp_path):
    # the floating guest's XML is in the store, not in libvirt: it cannot be narrowed, so the pin waits
    hosts = numa_fleet(tmp_path, [])
    claim_on(hosts, instance("web1", vcpus=2))
    with pytest.raises(claims.ClaimFailed) as refused:
        claim_on(hosts, instance("db1", vcpus=2, **{"hw:cpu_policy": "dedicated"}))
    assert "floating guest web1, claimed and not defined yet" in refused.value.message
    assert len(hosts.store.claims("hv1")) == 1
