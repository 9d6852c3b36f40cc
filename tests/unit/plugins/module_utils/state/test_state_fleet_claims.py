# -*- coding: utf-8 -*-
"""Claim sections under admission control: fleet-wide, as real processes on one store (SQLite file or
PostgreSQL database). A claim that re-checks the whole fleet must not decide beside a claim on another host."""

import time
import uuid

from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.state.test_state_concurrency import (
    run_processes)

FLEET_ROOM = 1  # the claims the whole fleet has room for, in this test's reduced capacity check


def fleet_claimant(url, host, start, results):
    with open_store(url, lock_timeout=60) as store:
        start.wait()
        with store.host_section(host, fleet_wide=True) as section:
            taken = len(section.claims) + sum(len(claims) for claims in section.elsewhere.values())
            # what a real claim does here (read libvirt, plan the fleet's evacuations) takes time: the race stays open
            time.sleep(0.2)
            if taken >= FLEET_ROOM:
                results.put(("claim_failed", host))
                return
            section.add({"id": str(uuid.uuid4()), "instance": "vm-%s" % host})
        results.put(("claimed", host))


def test_fleet_wide_claims_on_different_hosts_decide_one_at_a_time(store_url):
    outcomes = run_processes(fleet_claimant, [(store_url, "hv%d" % number) for number in range(1, 4)])
    assert sorted(result for result, _host in outcomes) == ["claim_failed", "claim_failed", "claimed"]
    winner = [host for result, host in outcomes if result == "claimed"][0]
    with open_store(store_url) as store:
        assert [c["instance"] for h in ("hv1", "hv2", "hv3") for c in store.claims(h)] == ["vm-%s" % winner]


def test_a_fleet_wide_section_lists_the_live_claims_of_the_other_hosts(store):
    now = [1000.0]
    store.clock = lambda: now[0]
    with store.host_section("hv1") as section:
        assert section.elsewhere is None  # a host's own section: other hosts' claims may change meanwhile
        section.add({"id": "c1", "instance": "vm1"}, ttl=10)
    with store.host_section("hv2") as section:
        section.add({"id": "c2", "instance": "vm2"}, ttl=100)
    with store.host_section("hv3", fleet_wide=True) as section:
        assert section.claims == []
        assert dict((host, [c["id"] for c in claims]) for host, claims in section.elsewhere.items()) == {
            "hv1": ["c1"], "hv2": ["c2"]}
    now[0] += 50  # c1 expired
    with store.host_section("hv2", fleet_wide=True) as section:
        assert [c["id"] for c in section.claims] == ["c2"] and section.elsewhere == {}


def test_a_spent_claim_is_no_longer_in_flight_but_other_hosts_still_see_it_until_it_expires(store):
    now = [1000.0]
    store.clock = lambda: now[0]
    with store.host_section("hv1") as section:
        section.add({"id": "c1", "instance": "vm1"}, ttl=100)
        section.add({"id": "c2", "instance": "vm2"}, ttl=100)
    assert store.spend_claim("hv1", "c1") and not store.spend_claim("hv1", "nope")
    with store.host_section("hv1") as section:
        assert [c["id"] for c in section.claims] == ["c2"]
        assert [c["id"] for c in section.spent] == ["c1"]  # kept: a claim on the host reads its moves
        assert section.spend("c2") and section.claims == []
        assert [(c["id"], c["spent"]) for c in section.spent] == [("c1", True), ("c2", True)]
    assert store.claims("hv1") == []
    with store.host_section("hv2", fleet_wide=True) as section:
        assert [(c["id"], c.get("spent")) for c in section.elsewhere["hv1"]] == [("c1", True), ("c2", True)]
    assert store.drop_claim("hv1", "c1")  # the guest deleted: forgotten at once
    now[0] += 200
    with store.host_section("hv2", fleet_wide=True) as section:
        assert section.elsewhere == {}
