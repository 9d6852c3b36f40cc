# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Server group membership comes from the fleet: the guests whose metadata names the group, the
batch's own placements, and the names a request lists; never the moving guest itself."""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from host_factory import group_member, make_host, make_request

from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.host_state import HostState
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import build_request_spec
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import schedule
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.server_group import GroupIndex

ANTI = {"name": "demo-db", "policy": "anti-affinity"}


def small_host(name, guests=(), **kwargs):
    return make_host(name, sockets=1, cores=4, threads=1, memory_mb=16384, guests=guests, **kwargs)


def member(name, group=None):
    group = group or ANTI
    return group_member(name, group["name"], group["policy"])


def move(name, source, group=None):
    """The request a drain or a live migration makes for guest ``name`` leaving ``source``."""
    return make_request(name, 1, 512, hints={"group": dict(group or ANTI), "retry_exclude": [source]})


def reasons(result, name):
    return ["%s: %s: %s" % (r["host"], r["filter"], r["reason"]) for r in result.rejections_dict()[name]]


def test_a_new_member_avoids_the_hosts_of_members_known_from_facts_alone():
    facts = [small_host("hv1", [member("demo-db1")]), small_host("hv2", [member("demo-db2"), "web1"]),
             small_host("hv3", ["web2"])]
    result = schedule(facts, [make_request("demo-db3", 1, 512, hints={"group": dict(ANTI)})])
    assert [p.host for p in result.placed] == ["hv3"]
    assert reasons(result, "demo-db3") == [
        "hv1: ServerGroupAntiAffinityFilter: group demo-db has member demo-db1 on hv1",
        "hv2: ServerGroupAntiAffinityFilter: group demo-db has member demo-db2 on hv2"]


def test_the_lab_drain_finds_no_host_for_a_member_rather_than_joining_another():
    # issue 14: hv1 cordoned, demo-db1 on hv2, demo-db2 on hv3; draining hv2 planned demo-db1 -> hv3
    facts = [small_host("hv1", enabled=False), small_host("hv2", [member("demo-db1"), "web1"]),
             small_host("hv3", [member("demo-db2")])]
    result = schedule(facts, [move("demo-db1", "hv2"), make_request("web1", 1, 512,
                                                                    hints={"retry_exclude": ["hv2"]})])
    assert [(o.spec.name, o.placement and o.placement.host) for o in result.outcomes] == [
        ("demo-db1", None), ("web1", "hv3")]
    assert "hv3: ServerGroupAntiAffinityFilter: group demo-db has member demo-db2 on hv3" in reasons(
        result, "demo-db1")


def test_a_forced_destination_with_a_member_is_refused():
    # live_migrate of demo-db1 to hv3 (named destination, checked by the scheduler)
    facts = [small_host("hv2", [member("demo-db1")]), small_host("hv3", [member("demo-db2")])]
    request = move("demo-db1", "hv2")
    request["hints"]["force_host"] = "hv3"
    result = schedule(facts, [request])
    assert result.placed == []
    assert reasons(result, "demo-db1") == [
        "hv3: ServerGroupAntiAffinityFilter: group demo-db has member demo-db2 on hv3"]


def test_a_drain_batch_keeps_the_members_apart():
    # hv1 (being drained) ran three members (the group was broken before): each goes to its own host,
    # none to hv2 where demo-db4 runs, and the batch's earlier placements count for the later ones
    facts = [small_host("hv1", [member("demo-db1"), member("demo-db2"), member("demo-db3"), "web1"]),
             small_host("hv2", [member("demo-db4")])] + [small_host("hv%d" % i) for i in (3, 4, 5)]
    requests = [move(name, "hv1") for name in ("demo-db1", "demo-db2", "demo-db3")]
    requests.append(make_request("web1", 1, 512, hints={"retry_exclude": ["hv1"]}))
    result = schedule(facts, requests)
    placed = dict((p.name, p.host) for p in result.placed)
    assert sorted(placed[n] for n in ("demo-db1", "demo-db2", "demo-db3")) == ["hv3", "hv4", "hv5"]
    assert "web1" in placed


def test_a_fourth_member_of_a_drain_batch_finds_no_host():
    facts = [small_host("hv1", [member("demo-db%d" % i) for i in range(3)]), small_host("hv2"),
             small_host("hv3")]
    result = schedule(facts, [move("demo-db%d" % i, "hv1") for i in range(3)])
    assert sorted(p.host for p in result.placed) == ["hv2", "hv3"]
    failed = result.failed[0]
    assert sorted(r.reason for r in failed.rejections if r.filter == "ServerGroupAntiAffinityFilter") == sorted(
        "group demo-db has member %s on %s" % (p.name, p.host) for p in result.placed)


def test_the_moving_guest_is_no_member_on_its_own_host():
    facts = [small_host("hv1", [member("demo-db1")]), small_host("hv2", [member("demo-db2")])]
    hosts = [HostState.from_facts(f) for f in facts]
    spec = build_request_spec(make_request("demo-db1", 1, 512, hints={"group": dict(ANTI)}))
    assert GroupIndex(hosts).members_for(spec).by_host == {"hv2": ("demo-db2",)}
    # a resize to the same host stays where it is: the guest does not refuse itself
    assert [p.host for p in schedule(facts, [move("demo-db1", "nowhere")]).placed] == ["hv1"]


def test_the_only_member_of_an_affinity_group_may_move_anywhere():
    affinity = {"name": "web", "policy": "affinity"}
    facts = [small_host("hv1", [member("web1", affinity)]), small_host("hv2")]
    assert [p.host for p in schedule(facts, [move("web1", "hv1", affinity)]).placed] == ["hv2"]
    # the second member follows the first, known from its metadata
    joining = make_request("web2", 1, 512, hints={"group": dict(affinity)})
    result = schedule(facts, [joining])
    assert [p.host for p in result.placed] == ["hv1"]
    assert reasons(result, "web2") == ["hv2: ServerGroupAffinityFilter: group web (affinity) has its members on "
                                       "hv1 (web1)"]


def test_members_named_by_the_request_count_with_those_of_the_metadata():
    facts = [small_host("hv1", ["legacy-db"]), small_host("hv2", [member("demo-db2")]), small_host("hv3")]
    group = dict(ANTI, members=["legacy-db"])
    result = schedule(facts, [make_request("demo-db3", 1, 512, hints={"group": group})])
    assert [p.host for p in result.placed] == ["hv3"]


def test_members_of_another_group_do_not_count():
    facts = [small_host("hv1", [member("x1", {"name": "other", "policy": "anti-affinity"})])]
    assert [p.host for p in schedule(facts, [make_request("demo-db1", 1, 512, hints={"group": dict(ANTI)})]).placed
            ] == ["hv1"]


def soft(policy, names_by_host):
    group = {"name": "g", "policy": policy}
    facts = [small_host(host, [member(n, group) for n in names]) for host, names in sorted(names_by_host.items())]
    weigher = "ServerGroupSoftAffinityWeigher" if policy == "soft-affinity" else "ServerGroupSoftAntiAffinityWeigher"
    return schedule(facts, [make_request("new", 1, 512, hints={"group": group})], {"weighers": [weigher]})


def test_soft_policies_weigh_by_the_members_the_metadata_names():
    layout = {"hv1": ["g1", "g2"], "hv2": ["g3"], "hv3": []}
    assert [p.host for p in soft("soft-anti-affinity", layout).placed] == ["hv3"]
    assert [p.host for p in soft("soft-affinity", layout).placed] == ["hv1"]
    # the weights are 0..1 by member count (hv1: 2, hv2: 1, hv3: 0)
    assert soft("soft-anti-affinity", layout).placed[0].weight == 1.0
    # a soft group never refuses: with a member everywhere the guest still lands
    assert soft("soft-anti-affinity", {"hv1": ["g1"], "hv2": ["g2"]}).placed


def test_a_moving_member_does_not_weigh_its_own_host():
    group = {"name": "g", "policy": "soft-affinity"}
    facts = [small_host("hv1", [member("g1", group)]), small_host("hv2", [member("g2", group)]), small_host("hv3")]
    hosts = [HostState.from_facts(f) for f in facts]
    spec = build_request_spec(make_request("g1", 1, 512, hints={"group": group}))
    assert GroupIndex(hosts).members_for(spec).by_host == {"hv2": ("g2",)}


# --- the property: no placement puts two members of one anti-affinity group on one host ------------

@st.composite
def fleets_and_batches(draw):
    """Hosts (some cordoned, some small), members of anti-affinity groups already placed at most one
    per host per group, other guests; and a batch mixing new members, moves of members away from
    their hosts (drain or live migration) and plain guests."""
    host_count = draw(st.integers(2, 7))
    groups = ["ga", "gb"]
    guests = dict(("hv%d" % i, []) for i in range(host_count))
    where = {}      # member name -> its host
    for group in groups:
        for index, host in enumerate(draw(st.lists(st.sampled_from(sorted(guests)), unique=True,
                                                   max_size=host_count))):
            name = "%s-%d" % (group, index)
            guests[host].append(member(name, {"name": group, "policy": "anti-affinity"}))
            where[name] = host
    facts = []
    for host in sorted(guests):
        guests[host].extend("plain-%s-%d" % (host, i) for i in range(draw(st.integers(0, 2))))
        facts.append(make_host(host, sockets=1, cores=draw(st.sampled_from([2, 4])), threads=1,
                               memory_mb=draw(st.sampled_from([2048, 8192])), guests=guests[host],
                               enabled=draw(st.booleans()) or host == "hv0"))
    requests = []
    for name in draw(st.lists(st.sampled_from(sorted(where) or ["none"]), unique=True)):
        if name in where:
            requests.append(make_request(name, 1, 512, hints={
                "group": {"name": name.split("-")[0], "policy": "anti-affinity"}, "retry_exclude": [where[name]]}))
    for index in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(groups + [None]))
        hints = {"group": {"name": kind, "policy": "anti-affinity"}} if kind else {}
        requests.append(make_request("new-%d" % index, draw(st.integers(1, 2)), 512, hints=hints))
    order = draw(st.permutations(range(len(requests))))
    config = {"host_subset_size": draw(st.integers(1, 3))}
    return facts, [requests[i] for i in order], where, config


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fleets_and_batches(), st.integers(0, 1000))
def test_no_placement_puts_two_members_of_one_anti_affinity_group_on_one_host(case, seed):
    facts, requests, where, config = case
    result = schedule(facts, requests, config, seed=seed)
    final = dict((name, (name.split("-")[0], host)) for name, host in where.items())
    for outcome in result.outcomes:     # a member not moved, or that could not be, stays where it is
        if outcome.placement is not None and outcome.spec.group:
            final[outcome.spec.name] = (outcome.spec.group["name"], outcome.placement.host)
    per_host = Counter(final.values())
    assert max(per_host.values() or [0]) <= 1, per_host
    # while a member moves its source still counts: no new member joins it there in the same batch
    sources = set((n.split("-")[0], h) for n, h in where.items())
    for outcome in result.outcomes:
        if outcome.placement is not None and outcome.spec.group and outcome.spec.name.startswith("new-"):
            assert (outcome.spec.group["name"], outcome.placement.host) not in sources
