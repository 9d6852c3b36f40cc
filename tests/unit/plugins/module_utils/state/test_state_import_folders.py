# -*- coding: utf-8 -*-
"""Importing the state folders of earlier versions (their files as earlier versions wrote them), once."""

import datetime
import fcntl
import json
import os
import subprocess
import sys

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store
from ansible_collections.vmfleet.compute.plugins.module_utils.state.errors import StoreBusy
from ansible_collections.vmfleet.compute.plugins.module_utils.state.import_folders import import_folders

TOOL = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "..", "tools", "import_state_folders.py")


def write(folder, name, data):
    path = os.path.join(str(folder), name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(data if isinstance(data, str) else json.dumps(data))


def in_minutes(minutes):
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def move(status, finished_at=None):
    return {"id": "m1", "guest": "vm1", "source": "hv1", "destination": "hv2", "kind": "live", "status": status,
            "started_at": "2026-11-30T10:00:00Z", "finished_at": finished_at}


@pytest.fixture
def folders(tmp_path):
    """hv1 cordoned and drained, with claims and a move to hv2; hv2 holding its own (older) copy of the move."""
    hv1, hv2 = tmp_path / "hv1", tmp_path / "hv2"
    write(hv1, "cordon.json", {"host": "hv1", "reason": "kernel", "by": "ops", "at": "2026-11-30T09:00:00Z"})
    write(hv1, "claims.json", {"claims": [
        {"id": "live", "instance": "vm9", "host": "hv1", "created_at": "2026-11-30T10:00:00Z",
         "expires_at": in_minutes(10), "domain_xml": "<domain/>"},
        {"id": "expired", "instance": "vm8", "host": "hv1", "expires_at": in_minutes(-1)},
        {"id": "broken"}]})
    write(hv1, "journal/m1.json", move("completed", "2026-11-30T10:01:00Z"))
    write(hv1, "journal/m2.json", "{not json")
    write(hv1, "drain-report.json", {"host": "hv1", "result": "drained", "guests": []})
    write(hv1, "lock", "")
    write(hv2, "journal/m1.json", move("migrating"))
    return {"hv1": str(hv1), "hv2": str(hv2)}


def test_everything_recorded_is_imported_once(store, folders):
    result = import_folders(store, folders)
    assert result["hv1"]["counts"] == {"cordon": 1, "claims": 1, "migrations": 1, "drain_report": 1,
                                       "unreadable": ["m2.json"]}
    assert store.cordon("hv1")["reason"] == "kernel"
    [claim] = store.claims("hv1")
    assert (claim["id"], claim["domain_xml"], claim["created_at"]) == ("live", "<domain/>", "2026-11-30T10:00:00Z")
    assert store.migration("m1")["status"] == "completed"  # hv2's older copy did not win
    last = store.last_drain("hv1")
    assert (last["result"], last["report"]["result"]) == ("drained", "drained")
    assert store.draining_hosts() == {}
    again = import_folders(store, folders)
    assert again["hv1"]["imported"] is False and "imported already" in again["hv1"]["reason"]
    assert len(store.claims("hv1")) == 1


def test_the_copy_further_along_wins_whatever_the_order(store, folders):
    import_folders(store, {"hv2": folders["hv2"]})
    assert store.migration("m1")["status"] == "migrating"
    import_folders(store, {"hv1": folders["hv1"]})
    assert store.migration("m1")["status"] == "completed"


def test_dry_run_changes_nothing(store, folders):
    result = import_folders(store, folders, dry_run=True)
    assert result["hv1"]["counts"]["claims"] == 1 and result["hv1"]["dry_run"] is True
    assert store.cordons() == {} and store.migrations() == []
    assert import_folders(store, folders)["hv1"]["imported"] is True


def test_a_cordon_in_the_store_stays(store, folders):
    store.set_cordon("hv1", {"host": "hv1", "reason": "newer"})
    assert import_folders(store, folders)["hv1"]["counts"]["cordon"] == 0
    assert store.cordon("hv1")["reason"] == "newer"


def test_a_folder_in_use_is_refused(store, folders):
    with open(os.path.join(folders["hv1"], "lock"), "a+") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        with pytest.raises(StoreBusy, match="is in use"):
            import_folders(store, {"hv1": folders["hv1"]})
    assert store.cordons() == {}


def test_an_unreadable_cordon_stops_the_import(store, folders):
    write(folders["hv1"], "cordon.json", "{")
    with pytest.raises(VmfleetError, match="cordon.json cannot be read"):
        import_folders(store, {"hv1": folders["hv1"]})


@pytest.mark.parametrize("folder, reason", [("relative/dir", "relative"), ("/no/such/folder", "no such folder"),
                                            ("", "allowed")])
def test_bad_folders_name_the_host(store, folder, reason):
    with pytest.raises(InvalidInput) as caught:
        import_folders(store, {"hv1": folder})
    assert caught.value.field == "state_dirs.hv1" and reason in caught.value.message


def run_tool(*args):
    return subprocess.run([sys.executable, TOOL] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=60, check=False)


def test_as_a_command(tmp_path, folders):
    url = "sqlite://%s" % (tmp_path / "state.db")
    done = run_tool("--url", url, "hv1=%s" % folders["hv1"])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["hv1"]["imported"] is True
    with open_store(url) as store:
        assert store.cordon("hv1")["reason"] == "kernel"
    refused = run_tool("--url", url, "hv1")
    assert refused.returncode == 1 and "HOST=FOLDER" in refused.stderr
