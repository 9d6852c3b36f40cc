# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight flags a host that came back after an evacuation with stale copies of its guests."""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.upgrade_checks import runner
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.upgrade_checks.facts import (
    guest, host, rows_of)


def evacuation(name, destination, status="completed", cleaned_at=None, source="hv2"):
    return {"id": "e-" + name, "guest": name, "source": source, "destination": destination, "kind": "evacuation",
            "status": status, "cleaned_at": cleaned_at}


def checked(hosts):
    rows, _rc = runner.run_checks(hosts, checks=["evacuated"])
    return dict((r["host"], r) for r in rows_of(rows, "evacuated"))


def test_a_returned_host_with_copies_of_evacuated_guests_fails_naming_where_they_run():
    journal = [evacuation("vm-a", "hv1"), evacuation("vm-b", "hv3"), evacuation("vm-gone", "hv1"),
               evacuation("vm-clean", "hv1", cleaned_at="2026-12-01T10:00:00Z"),
               evacuation("vm-failed", "hv1", status="error")]
    returned = host("hv2", guests=[guest(n) for n in ("vm-a", "vm-b", "vm-clean", "vm-failed", "vm-local")],
                    maintenance={"journal": journal})
    rows = checked([returned, host("hv1", guests=[guest("vm-a")], maintenance={"journal": [journal[0]]})])
    assert rows["hv2"]["result"] == "Failure"
    assert "vm-a (now on hv1), vm-b (now on hv3);" in rows["hv2"]["details"]
    assert "evacuate state=cleaned" in rows["hv2"]["details"]
    for name in ("vm-gone", "vm-clean", "vm-failed", "vm-local"):
        assert name not in rows["hv2"]["details"]
    assert rows["hv1"]["result"] == "Success"  # the destination's copy is the guest


def test_a_host_without_store_or_evacuation_passes():
    assert checked([host("hv1", guests=[guest("vm-a")])])["hv1"]["result"] == "Success"
