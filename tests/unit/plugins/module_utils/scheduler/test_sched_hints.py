# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scheduler hints are checked before any host is looked at: an unknown key or a value of the wrong shape is
refused with the field and what is allowed, never ignored."""

from __future__ import annotations

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import (
    KNOWN_HINTS, build_request_spec, build_request_specs)
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import schedule
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.scheduler.host_factory import (
    make_host, make_request)

BAD_HINTS = [
    # (hints, field, words of the message)
    ({"different_hosts": ["db1"]}, "hints.different_hosts", "unknown scheduler hint 'different_hosts'"),
    ({"query": "[\">=\", \"$free_ram_mb\", 1024]"}, "hints.query", "unknown scheduler hint 'query'"),
    ({"build_near_host_ip": "10.0.0.1"}, "hints.build_near_host_ip", "known hints: availability_zone, group"),
    ({"same_host": "db1"}, "hints.same_host", "a list of names"),
    ({"different_host": [1]}, "hints.different_host", "a list of names"),
    ({"retry_exclude": "hv1"}, "hints.retry_exclude", "a list of names"),
    ({"group": "db"}, "hints.group", "a dict with name, policy, members"),
    ({"group": {"name": "db", "policy": "anti-affinity", "rules": {}}}, "hints.group.rules", "unknown key 'rules'"),
    ({"group": {"name": "db", "policy": "anti-affinity", "members": "db2"}}, "hints.group.members",
     "a list of names"),
    ({"group": {"name": ["db"], "policy": "anti-affinity"}}, "hints.group.name", "a name"),
    ({"availability_zone": ["az1"]}, "hints.availability_zone", "a name"),
    ({"force_host": "hv1", "force": "yes"}, "hints.force", "true or false"),
]


@pytest.mark.parametrize("hints, field, words", BAD_HINTS, ids=[c[1] for c in BAD_HINTS])
def test_bad_hints_are_refused_naming_the_hint(hints, field, words):
    with pytest.raises(InvalidInput) as caught:
        build_request_spec(make_request(hints=hints))
    assert caught.value.field == field
    assert words in caught.value.message
    assert "allowed" in caught.value.message


def test_an_unknown_hint_lists_every_known_one():
    with pytest.raises(InvalidInput) as caught:
        build_request_spec(make_request(hints={"same_host": ["a"], "sameHost": ["b"]}))
    assert caught.value.allowed == ", ".join(KNOWN_HINTS)
    for known in KNOWN_HINTS:
        assert known in caught.value.message


def test_every_known_hint_is_read():
    spec = build_request_spec(make_request(hints={
        "availability_zone": "az1", "group": {"name": "g", "policy": "affinity", "members": ["a"]},
        "same_host": ["x"], "different_host": ("y",), "force_host": "hv1", "force": False, "retry_exclude": []}))
    assert (spec.availability_zone, spec.group["members"], spec.same_host, spec.different_host) == (
        "az1", ["a"], ("x",), ("y",))
    assert (spec.force_host, spec.force, spec.retry_exclude) == ("hv1", False, ())


def test_what_the_schedule_modules_argspec_fills_in_is_accepted():
    # the module's suboptions give every hint, unset ones as None, [] or false
    hints = {"availability_zone": None, "group": None, "same_host": [], "different_host": [], "force_host": None,
             "force": False, "retry_exclude": []}
    spec = build_request_spec(make_request(hints=hints))
    assert spec.group is None and spec.same_host == () and spec.availability_zone is None


def test_a_batch_names_the_request_with_the_bad_hint_and_places_nothing():
    requests = [make_request("ok"), make_request("typo", hints={"anti_affinity": ["ok"]})]
    with pytest.raises(InvalidInput) as caught:
        build_request_specs(requests)
    assert caught.value.message.startswith("requests[1] (typo): invalid hints.anti_affinity=")
    with pytest.raises(InvalidInput):
        schedule([make_host("hv1")], requests)
