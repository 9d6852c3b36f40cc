# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A claim under admission control re-checks the fleet (issue 17): libvirt's test driver, a real SQLite store.

Each test host has 3072 MB, 512 reserved: two guests of 1024 MB fit, three do not. With one such guest on
each of three hosts, a fourth keeps every host drainable; a fifth does not (the host with two could not be
drained onto hosts holding two and one). Two controllers that read the facts before either claimed both pass
the scheduler's admission control; the second claim must refuse.
"""

from __future__ import annotations

import pytest

libvirt = pytest.importorskip("libvirt")

# pylint: disable=wrong-import-position
from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.host.claimed_guests import with_claimed_guests
from ansible_collections.vmfleet.compute.plugins.module_utils.instances import claims
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.model import Instance, domain_xml
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.request import normalize_image
from ansible_collections.vmfleet.compute.plugins.module_utils.planning.admission import schedule_admitted
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.libvirt_test_fleet import (
    fleet, flavor, guest)

ADMISSION = {"host_failures_to_tolerate": 1}
GUEST_MB = 1024


def instance(name, memory_mb=GUEST_MB, admission=True):
    config = ADMISSION if admission else None
    return Instance(name, flavor(name="m%d" % memory_mb, vcpus=1, memory_mb=memory_mb, root_gb=1),
                    normalize_image({"name": "cirros"}), scheduler_config=config)


def one_guest_each(tmp_path):
    """hv1, hv2, hv3 with one guest of GUEST_MB each, their facts read from the test driver."""
    hosts = fleet(tmp_path, dict(("hv%d" % n, [guest("g%d" % n, instance_flavor=flavor(
        name="m%d" % GUEST_MB, vcpus=1, memory_mb=GUEST_MB, root_gb=1))]) for n in (1, 2, 3)))
    hosts.refresh()
    return hosts


def claim_on(hosts, name, wanted):
    """The claim a controller makes on host ``name`` with the facts ``hosts`` read last (the fleet is not read
    again between two claims: they are the same old facts)."""
    def render(placement, host_facts):  # the test driver's own virt type is "test": render as for KVM
        return domain_xml(wanted, dict(host_facts, virt_type="kvm"), placement, [], states.VM_ACTIVE)

    return claims.claim(hosts.conn(name), hosts.host(name).as_claim_target(), wanted.spec(), render,
                        wanted.scheduler_config, fleet=hosts)


def test_the_second_of_two_claims_on_stale_facts_is_refused_when_together_they_break_n_plus_1(tmp_path):
    hosts = one_guest_each(tmp_path)
    stale = hosts.facts_list()  # both controllers read the fleet now
    for name in ("vm-a", "vm-b"):  # each passes the scheduler's admission control alone
        assert schedule_admitted(stale, [instance(name).spec()], ADMISSION).outcomes[0].placement is not None
    first = claim_on(hosts, "hv1", instance("vm-a"))
    with pytest.raises(claims.ClaimFailed) as refused:
        claim_on(hosts, "hv2", instance("vm-b"))
    failure = refused.value
    assert failure.host == "hv2" and failure.details["retry_exclude"] == ["hv2"]
    assert "vm-b on hv2 would leave" in failure.message and "undrainable (host_failures_to_tolerate=1)" \
        in failure.message
    assert failure.details["undrainable"] in ("hv1", "hv2") and failure.details["undrainable"] in failure.message
    # nothing left behind: the first claim only
    assert [c["id"] for n in ("hv1", "hv2", "hv3") for c in hosts.store.claims(n)] == [first.id]


def test_a_second_claim_that_keeps_every_host_drainable_is_taken(tmp_path):
    hosts = one_guest_each(tmp_path)
    claim_on(hosts, "hv1", instance("vm-a"))
    claim_on(hosts, "hv2", instance("vm-b", memory_mb=256))  # small: hv2 still drains onto hv1 and hv3
    assert [len(hosts.store.claims(n)) for n in ("hv1", "hv2", "hv3")] == [1, 1, 0]


def test_without_admission_control_both_claims_are_taken(tmp_path):
    hosts = one_guest_each(tmp_path)
    claim_on(hosts, "hv1", instance("vm-a", admission=False))
    claim_on(hosts, "hv2", instance("vm-b", admission=False))
    assert [len(hosts.store.claims(n)) for n in ("hv1", "hv2", "hv3")] == [1, 1, 0]


def test_a_claim_on_a_third_host_counts_the_first_one_too(tmp_path):
    hosts = one_guest_each(tmp_path)
    claim_on(hosts, "hv1", instance("vm-a"))
    with pytest.raises(claims.ClaimFailed) as refused:
        claim_on(hosts, "hv3", instance("vm-b"))  # hv3 then has two guests, hv1 two: one cannot drain
    assert "undrainable (host_failures_to_tolerate=1)" in refused.value.message


def test_a_claim_whose_guest_the_facts_list_already_is_not_counted_twice(tmp_path):
    hosts = one_guest_each(tmp_path)
    made = claim_on(hosts, "hv1", instance("vm-a"))
    before = hosts.host("hv1").facts
    claimed = claims.parse_domain(made.domain_xml)
    counted = with_claimed_guests(before, [claimed])
    assert counted["resources"]["memory_mb_used"] == before["resources"]["memory_mb_used"] + GUEST_MB
    assert [g["name"] for g in counted["guests"]] == ["g1", "vm-a"] and counted["guests"][1]["state"] == "claimed"
    hosts.conn("hv1").defineXML(made.domain_xml)
    hosts.refresh(["hv1"])
    defined = hosts.host("hv1").facts  # read after the guest was defined: it lists vm-a
    assert with_claimed_guests(defined, [claimed]) is defined


def test_a_build_finished_before_the_second_claim_began_is_still_counted(tmp_path):
    # the first controller's guest is defined and its claim spent before the second claims: the second's
    # facts of hv1 do not list it, the store's spent claim does
    hosts = one_guest_each(tmp_path)
    first = claim_on(hosts, "hv1", instance("vm-a"))
    hosts.conn("hv1").defineXML(first.domain_xml)
    claims.spend(hosts.host("hv1").as_claim_target(), first.id)
    assert hosts.store.claims("hv1") == []  # no longer in flight: libvirt counts the guest on hv1
    with pytest.raises(claims.ClaimFailed) as refused:
        claim_on(hosts, "hv2", instance("vm-b"))
    assert "undrainable (host_failures_to_tolerate=1)" in refused.value.message
    # deleted by hand (virsh undefine): its spent claim is still in the store, but libvirt no longer defines it
    hosts.conn("hv1").lookupByName("vm-a").undefine()
    claim_on(hosts, "hv2", instance("vm-b"))


def test_deleting_a_guest_drops_its_spent_claim(tmp_path):
    hosts = one_guest_each(tmp_path)
    first = claim_on(hosts, "hv1", instance("vm-a"))
    claims.spend(hosts.host("hv1").as_claim_target(), first.id)
    with hosts.store.host_section("hv2", fleet_wide=True) as section:
        assert [c["id"] for c in section.elsewhere["hv1"]] == [first.id]
    claims.forget_guest(hosts.host("hv1").as_claim_target(), claims.parse_domain(first.domain_xml))
    with hosts.store.host_section("hv2", fleet_wide=True) as section:
        assert section.elsewhere == {}


def test_a_forced_build_is_not_asked_of_admission_control_at_claim_time_either(tmp_path):
    hosts = one_guest_each(tmp_path)
    claim_on(hosts, "hv1", instance("vm-a"))
    forced = Instance("vm-b", flavor(name="m%d" % GUEST_MB, vcpus=1, memory_mb=GUEST_MB, root_gb=1),
                      normalize_image({"name": "cirros"}), hints={"force_host": "hv2", "force": True},
                      scheduler_config=ADMISSION)
    claim_on(hosts, "hv2", forced)  # the scheduler skips admission control for it: so does the claim
    assert [len(hosts.store.claims(n)) for n in ("hv1", "hv2", "hv3")] == [1, 1, 0]


def _sized(name, memory_mb):
    return guest(name, instance_flavor=flavor(name="m%d" % memory_mb, vcpus=1, memory_mb=memory_mb, root_gb=1))


def live_migrated(hosts, name, source, dest, memory_mb=GUEST_MB):
    """Another controller live-migrates ``name`` from ``source`` to ``dest`` as migration/live.py does: a claim
    naming the host it leaves, the guest defined on ``dest`` and gone from ``source``, the claim spent."""
    located = hosts.conn(source).lookupByName(name)
    moving = instance(name, memory_mb=memory_mb, admission=False)
    moving.fixed_uuid = located.UUIDString()
    made = claims.claim(hosts.conn(dest), hosts.host(dest).as_claim_target(), moving.spec(),
                        lambda placement, facts: domain_xml(moving, dict(facts, virt_type="kvm"), placement, [],
                                                            states.VM_ACTIVE),
                        None, moves_from=source)
    hosts.conn(dest).defineXML(made.domain_xml).create()
    located.destroy()  # the source's copy ends and its definition goes (VIR_MIGRATE_UNDEFINE_SOURCE)
    located.undefine()
    claims.spend(hosts.host(dest).as_claim_target(), made.id)
    return made


def test_a_guest_live_migrated_after_the_facts_were_read_is_counted_where_it_runs_now(tmp_path):
    # 2560 MB for guests per host. Read: hv1 a1 (1280) and a2 (768), 512 free; hv2 c (512), 2048 free; hv3 a
    # 1536 MB guest; hv4 d (1024), 1536 free. Then another controller moves a2 to hv2: hv1 and hv2 have 1280
    # free, only hv4 can take the big guest. A guest on hv4 leaves it nowhere to go: the claim must be refused.
    # On the facts as read (hv2 with 2048 free) it would pass, as it did when a move's claim was dropped at its
    # end.
    hosts = fleet(tmp_path, {"hv1": [_sized("a1", 1280), _sized("a2", 768)], "hv2": [_sized("c", 512)],
                             "hv3": [_sized("big", 1536)], "hv4": [_sized("d", GUEST_MB)]})
    hosts.refresh()
    assert schedule_admitted(hosts.facts_list(), [instance("vm").spec()], ADMISSION,
                             ).outcomes[0].placement is not None  # on the facts as read, it would pass
    live_migrated(hosts, "a2", "hv1", "hv2", memory_mb=768)
    with pytest.raises(claims.ClaimFailed) as refused:
        claim_on(hosts, "hv4", instance("vm"))
    assert "undrainable (host_failures_to_tolerate=1)" in refused.value.message
    assert refused.value.details["undrainable"] == "hv3"


def test_a_guest_live_migrated_after_the_facts_were_read_is_not_counted_on_the_host_it_left(tmp_path):
    # read: hv1 full (a1, a2), hv2 empty, hv3 one guest. Then a2 moves to hv2. A guest on hv3 keeps every
    # host drainable (each has one guest and 1024 MB free, hv3 two): taken. Counting a2 on hv1 as read and on
    # hv2 (its move's claim) would leave hv1's two guests 1024 MB of room elsewhere, and refuse it.
    hosts = fleet(tmp_path, {"hv1": [_sized("a1", GUEST_MB), _sized("a2", GUEST_MB)], "hv2": [],
                             "hv3": [_sized("d", GUEST_MB)]})
    hosts.refresh()
    live_migrated(hosts, "a2", "hv1", "hv2")
    claim_on(hosts, "hv3", instance("vm"))
    # the move's claim is kept, spent, and names the host the guest left
    with hosts.store.host_section("hv3", fleet_wide=True) as section:
        (kept,) = section.elsewhere["hv2"]
        assert kept["spent"] and kept["moves_from"] == "hv1"


def moved_away_and_back(tmp_path):
    """hv1 (a1, a2), hv2 empty, hv3 d, read; then a2 moves to hv2 and back: as read, and as it is now."""
    hosts = fleet(tmp_path, {"hv1": [_sized("a1", GUEST_MB), _sized("a2", GUEST_MB)], "hv2": [],
                             "hv3": [_sized("d", GUEST_MB)]})
    hosts.refresh()
    live_migrated(hosts, "a2", "hv1", "hv2")
    live_migrated(hosts, "a2", "hv2", "hv1")
    return hosts


def test_a_guest_that_moved_away_and_back_is_not_counted_where_it_was_on_the_way(tmp_path):
    # a guest on hv3 keeps every host drainable (hv1's two go to hv2); counting a2 on hv2 too (the first
    # move's claim) would refuse it
    claim_on(moved_away_and_back(tmp_path), "hv3", instance("vm"))


def test_a_guest_that_moved_away_and_back_is_counted_where_it_runs(tmp_path):
    hosts = moved_away_and_back(tmp_path)
    claim_on(hosts, "hv2", instance("w"))  # hv1's a1 then goes to hv2, a2 to hv3
    # one on hv3 leaves hv1's two guests 512 MB on each other host: refused; were a2 taken off hv1 (as the
    # first move's claim once said) hv1 would have room for the guests of both others
    with pytest.raises(claims.ClaimFailed) as refused:
        claim_on(hosts, "hv3", instance("vm"))
    assert "undrainable (host_failures_to_tolerate=1)" in refused.value.message


def test_a_claim_on_the_host_a_guest_moved_to_takes_it_off_the_host_it_left(tmp_path):
    # hv2's own facts are read at claim time and list a2; hv1's, read before the move, list it too
    hosts = fleet(tmp_path, {"hv1": [_sized("a1", GUEST_MB), _sized("a2", GUEST_MB)], "hv2": [],
                             "hv3": [_sized("d", GUEST_MB)]})
    hosts.refresh()
    live_migrated(hosts, "a2", "hv1", "hv2")
    # hv2 then holds a2 and vm (full); hv1 a1, hv3 d: each drains (hv1 and hv3 onto each other, hv2 onto both)
    claim_on(hosts, "hv2", instance("vm"))
