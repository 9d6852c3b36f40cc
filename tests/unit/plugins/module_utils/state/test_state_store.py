# -*- coding: utf-8 -*-
"""Every operation of the fleet state store, on SQLite and on a real PostgreSQL."""

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store, schema
from ansible_collections.vmfleet.compute.plugins.module_utils.state.errors import StoreBusy, StoreError

LIMITS = {"max_parallel": 5, "max_parallel_outbound": 2, "max_parallel_inbound": 2}


def cordon_record(host, reason="kernel update"):
    return {"host": host, "reason": reason, "by": "ops", "at": "2026-12-01T10:00:00Z"}


def journal_record(record_id, source="hv1", destination="hv2", status="migrating", started="2026-12-01T10:00:00Z"):
    return {"id": record_id, "guest": "vm-" + record_id, "source": source, "destination": destination,
            "kind": "live", "status": status, "started_at": started, "finished_at": None, "progress": None,
            "uuid": "6a3c", "leftovers": []}


def test_a_new_store_has_the_current_schema(store):
    assert store.schema_version == schema.VERSION
    assert store.cordons() == {} and store.migrations() == [] and store.draining_hosts() == {}


def test_opening_again_keeps_what_was_stored(store_url):
    with open_store(store_url) as first:
        first.set_cordon("hv1", cordon_record("hv1"))
    with open_store(store_url) as second:
        assert second.cordon("hv1")["reason"] == "kernel update"


def test_cordon_is_kept_as_first_written_and_removed_once(store):
    assert store.cordon("hv1") is None
    assert store.set_cordon("hv1", cordon_record("hv1")) == (True, cordon_record("hv1"))
    changed, in_force = store.set_cordon("hv1", cordon_record("hv1", reason="other"))
    assert (changed, in_force["reason"]) == (False, "kernel update")
    store.set_cordon("hv2", cordon_record("hv2"))
    assert sorted(store.cordons()) == ["hv1", "hv2"]
    assert store.remove_cordon("hv1")["reason"] == "kernel update"
    assert store.remove_cordon("hv1") is None
    assert list(store.cordons()) == ["hv2"]


def test_cordon_must_be_a_record(store):
    with pytest.raises(InvalidInput, match="cordon"):
        store.set_cordon("hv1", "yes")


def test_claim_section_sees_claims_and_cordon_and_commits_on_exit(store):
    store.set_cordon("hv1", cordon_record("hv1"))
    with store.host_section("hv1") as section:
        assert section.claims == [] and section.cordon["reason"] == "kernel update"
        stored = section.add({"id": "c1", "instance": "vm1", "domain_xml": "<domain/>"}, ttl=60)
        assert stored["host"] == "hv1" and stored["expires_at"] > stored["created_at"]
    with store.host_section("hv1") as section:
        assert [c["id"] for c in section.claims] == ["c1"]
        assert section.claims[0]["domain_xml"] == "<domain/>"
    assert store.claims("hv2") == []


def test_claim_section_rolls_back_when_the_claim_fails(store):
    with pytest.raises(RuntimeError):
        with store.host_section("hv1") as section:
            section.add({"id": "c1"})
            raise RuntimeError("the host refused the request")
    assert store.claims("hv1") == []


def test_claims_expire_and_are_dropped(store):
    with store.host_section("hv1") as section:
        section.add({"id": "short"}, ttl=30)
        section.add({"id": "long"}, ttl=600)
    store.clock = lambda real=store.clock: real() + 60
    assert [c["id"] for c in store.claims("hv1")] == ["long"]
    with store.host_section("hv1") as section:
        assert [c["id"] for c in section.claims] == ["long"]
        assert section.drop("long") is True and section.claims == []
    assert store.drop_claim("hv1", "long") is False


def test_drop_claim_outside_a_section(store):
    with store.host_section("hv1") as section:
        section.add({"id": "c1"})
    assert store.drop_claim("hv2", "c1") is False  # another host's claim is left alone
    assert store.drop_claim("hv1", "c1") is True
    assert store.claims("hv1") == []


def test_a_claim_needs_an_id(store):
    with pytest.raises(InvalidInput, match="claim"):
        with store.host_section("hv1") as section:
            section.add({"instance": "vm1"})


def test_journal_one_record_read_by_source_and_destination(store):
    store.record_migration(journal_record("m2", started="2026-12-01T11:00:00Z"))
    store.record_migration(journal_record("m1", source="hv3", destination="hv1"))
    done = dict(journal_record("m2", started="2026-12-01T11:00:00Z"), status="completed",
                finished_at="2026-12-01T11:01:00Z", downtime_ms=40)
    store.record_migration(done)
    assert store.migration("m2") == done
    assert store.migration("nope") is None
    assert [r["id"] for r in store.migrations()] == ["m1", "m2"]  # oldest first
    assert [r["id"] for r in store.migrations("hv1")] == ["m1", "m2"]
    assert [r["id"] for r in store.migrations("hv2")] == ["m2"]
    assert [r["id"] for r in store.migrations("hv3")] == ["m1"]


def test_journal_read_by_guest_status_kind_and_newest(store):
    store.record_migration(journal_record("m1", status="completed", started="2026-12-01T09:00:00Z"))
    store.record_migration(journal_record("m2", status="error", started="2026-12-01T10:00:00Z"))
    store.record_migration(dict(journal_record("m3", started="2026-12-01T11:00:00Z"), guest="vm-m1"))
    store.record_migration(dict(journal_record("m4", status="completed", destination="hv3",
                                               started="2026-12-01T12:00:00Z"), kind="evacuation"))
    assert [r["id"] for r in store.migrations(guest="vm-m1")] == ["m1", "m3"]
    assert [r["id"] for r in store.migrations(statuses=("migrating", "error"))] == ["m2", "m3"]
    assert [r["id"] for r in store.migrations("hv1", guest="vm-m1", statuses=("migrating",))] == ["m3"]
    assert [r["id"] for r in store.migrations(kinds=("evacuation",), statuses=("completed",))] == ["m4"]
    assert [r["id"] for r in store.migrations("hv2", newest=2)] == ["m2", "m3"]  # the latest, oldest first
    assert [r["id"] for r in store.migrations(newest=10)] == ["m1", "m2", "m3", "m4"]
    assert store.migrations(statuses=()) == [] and store.migrations(guest="nobody") == []
    assert store.latest_migrations(["hv1", "hv3", "hv9"], 2) == {
        "hv1": store.migrations("hv1", newest=2), "hv3": store.migrations("hv3", newest=2), "hv9": []}
    assert [r["id"] for r in store.latest_migrations(["hv3"], 2)["hv3"]] == ["m4"]


def test_a_migration_cancel_outlives_rewrites_of_its_record(store):
    # the run that migrates rewrites its whole record as it goes: the cancel is kept beside it
    store.record_migration(journal_record("m1"))
    assert store.migration_cancel_requested("m1") is None
    store.request_migration_cancel("m1", "ops")
    store.record_migration(dict(journal_record("m1"), progress={"data_remaining": 1}))
    assert store.migration_cancel_requested("m1")["by"] == "ops"
    store.request_migration_cancel("m1", "drain run r2")  # asked again: the latest request is kept
    assert store.migration_cancel_requested("m1")["by"] == "drain run r2"
    assert store.migration_cancel_requested("m2") is None


def test_journal_record_needs_an_id(store):
    with pytest.raises(InvalidInput, match="migration"):
        store.record_migration({"guest": "vm1"})


def test_drain_lock_progress_and_report(store):
    run = store.begin_drain("hv1", "ops@ctl1")
    assert run.resumed_from is None and run.progress is None
    assert store.draining_hosts()["hv1"]["run_id"] == run.id
    assert store.is_draining("hv1") and not store.is_draining("hv2")
    store.renew_drain(run.id, progress={"moved": ["vm1"]})
    assert store.last_drain("hv1")["progress"] == {"moved": ["vm1"]}
    with pytest.raises(StoreBusy, match="hv1 is being drained by ops@ctl1"):
        store.begin_drain("hv1", "ops@ctl2", timeout=0)
    store.finish_drain(run.id, "drained", {"result": "drained", "guests": []})
    last = store.last_drain("hv1")
    assert (last["result"], last["report"], last["owner"]) == ("drained", {"result": "drained", "guests": []},
                                                               "ops@ctl1")
    assert store.draining_hosts() == {}
    assert store.begin_drain("hv1", "ops@ctl2").resumed_from is None


def test_a_dead_drain_is_taken_over_and_resumed(store_url):
    with open_store(store_url) as first, open_store(store_url) as second:
        run = first.begin_drain("hv1", "ctl1", lease_seconds=30)
        first.renew_drain(run.id, progress={"moved": ["vm1"]}, lease_seconds=30)
        slot = first.start_move("vm2", "hv1", "hv2", LIMITS, run_id=run.id)
        second.clock = lambda real=second.clock: real() + 31  # ctl1 died: its lease ran out
        assert second.draining_hosts() == {}
        resumed = second.begin_drain("hv1", "ctl2", timeout=0)
        assert (resumed.resumed_from, resumed.progress) == (run.id, {"moved": ["vm1"]})
        assert slot.id not in [m["id"] for m in second.moves_in_flight()]
        with pytest.raises(StoreError, match="no longer holds"):
            first.renew_drain(run.id)
        assert first.draining_hosts()["hv1"]["owner"] == "ctl2"


def test_finish_of_an_unknown_drain_names_the_run(store):
    with pytest.raises(InvalidInput, match="run_id"):
        store.finish_drain("nope", "drained")


def test_move_slots_count_every_limit(store):
    granted = [store.start_move("vm%d" % i, "hv1", "hv%d" % (i + 2), LIMITS) for i in range(2)]
    assert all(slot.id for slot in granted)
    refused = store.start_move("vm9", "hv1", "hv5", LIMITS)
    assert refused.id is None and "2 out of hv1 (max_parallel_outbound 2)" in refused.refusal
    into = [store.start_move("x%d" % i, "hv%d" % (i + 6), "hv2", LIMITS) for i in range(2)]
    assert into[0].id and into[1].refusal == "2 into hv2 (max_parallel_inbound 2)"
    store.start_move("y", "hv8", "hv9", LIMITS)
    store.start_move("z", "hv10", "hv11", LIMITS)
    overall = store.start_move("w", "hv12", "hv13", LIMITS)
    assert overall.refusal == "5 moves in flight in the fleet (max_parallel 5)"
    assert len(store.moves_in_flight()) == 5
    assert store.finish_move(granted[0].id) is True and store.finish_move(granted[0].id) is False
    assert store.start_move("w", "hv12", "hv13", LIMITS).id


def test_no_move_onto_a_host_being_drained(store):
    run = store.begin_drain("hv2", "ops")
    assert store.start_move("vm1", "hv1", "hv2", LIMITS).refusal == "destination hv2 is being drained"
    store.finish_drain(run.id, "drained")
    assert store.start_move("vm1", "hv1", "hv2", LIMITS).id


def test_finishing_a_drain_gives_its_slots_back(store):
    run = store.begin_drain("hv1", "ops")
    store.start_move("vm1", "hv1", "hv2", LIMITS, run_id=run.id)
    other = store.start_move("vm7", "hv3", "hv4", LIMITS)
    store.finish_drain(run.id, "failed")
    assert [m["id"] for m in store.moves_in_flight()] == [other.id]


def test_expired_move_slots_hold_nothing(store):
    store.start_move("vm1", "hv1", "hv2", LIMITS, lease_seconds=10)
    store.clock = lambda real=store.clock: real() + 11
    assert store.moves_in_flight() == []


@pytest.mark.parametrize("limits, field", [
    (None, "limits"),
    ({"max_parallel": 5, "max_parallel_outbound": 2}, "limits.max_parallel_inbound"),
    (dict(LIMITS, max_parallel=0), "limits.max_parallel"),
    (dict(LIMITS, max_parallel=True), "limits.max_parallel"),
])
def test_bad_limits_name_the_field(store, limits, field):
    with pytest.raises(InvalidInput) as caught:
        store.start_move("vm1", "hv1", "hv2", limits)
    assert caught.value.field == field


def test_repr_and_errors_show_no_password(store_url, store):
    from ansible_collections.vmfleet.compute.plugins.module_utils.state.url import parse
    password = parse(store_url).password
    store.begin_drain("hv1", "ops")
    with pytest.raises(StoreBusy) as caught:
        store.begin_drain("hv1", "ops", timeout=0)
    if password:
        assert password not in repr(store) and password not in caught.value.message
        assert password not in repr(caught.value.to_result())


def test_a_live_claim_id_is_not_taken_twice(store):
    with store.host_section("hv1") as section:
        section.add({"id": "c1"})
    with pytest.raises(InvalidInput) as caught:
        with store.host_section("hv1") as section:
            section.add({"id": "c1"})
    assert caught.value.field == "claim.id"


def test_a_change_the_database_refuses_is_a_store_error(store):
    with store.host_section("hv1") as section:
        section.add({"id": "c1"})
    with pytest.raises(StoreError, match="refused a change.*nothing of this step was recorded"):
        with store.host_section("hv2") as section:
            section.add({"id": "c1"})  # claim ids are unique in the fleet
    assert store.claims("hv2") == []


def test_the_guests_of_a_host_are_remembered_and_replaced_by_the_next_read(store):
    assert store.remembered_guests("hv1") is None
    store.remember_guests("hv1", [{"name": "vm1", "domain_xml": "<domain/>"}, {"name": "vm2"}])
    store.remember_guests("hv2", [])
    first = store.remembered_guests("hv1")
    assert [g["name"] for g in first["guests"]] == ["vm1", "vm2"] and first["seen_at"].endswith("Z")
    store.remember_guests("hv1", [{"name": "vm2"}])
    assert store.remembered_guests("hv1")["guests"] == [{"name": "vm2"}]
    assert store.remembered_guests("hv2")["guests"] == []
    with pytest.raises(InvalidInput):
        store.remember_guests("hv1", {"name": "vm1"})
