# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The instance name rule (instances/names.py): what it refuses, with the field and the rule, and what it keeps."""

from __future__ import annotations

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.names import (
    MAX_NAME_BYTES, NAME_RULE, check_instance_name)

ACCEPTED = [
    "db1", "web-01", "a", "x" * MAX_NAME_BYTES, "é" * (MAX_NAME_BYTES // 2),
    # XML specials: the domain template escapes them
    "a<b&c'd\"e", "name with spaces", "under_score.dot", "trailing-dash-", "12345", "Ünïcödé-名前",
]

REFUSED = [
    # (name, words of the reason)
    ("", "needs a name"),
    ("/", "'/'"),
    ("a/b", "'/'"),
    ("..", "starting with '.'"),
    (".", "starting with '.'"),
    (".hidden", "starting with '.'"),
    ("../dump", "'/'"),
    ("-rf", "starting with '-'"),
    ("x" * 300, "300 bytes long, more than %d" % MAX_NAME_BYTES),
    ("x" * (MAX_NAME_BYTES + 1), "more than %d" % MAX_NAME_BYTES),
    ("é" * (MAX_NAME_BYTES // 2 + 1), "%d bytes long" % (MAX_NAME_BYTES + 2)),
    ("line\nbreak", "control character '\\n' at position 4"),
    ("tab\there", "control character '\\t'"),
    ("nul\x00", "control character '\\x00'"),
    ("del\x7f", "control character '\\x7f'"),
    ("esc\x1b[31m", "control character '\\x1b'"),
    ("sep\u2028arator", "control character '\\u2028'"),
    (" db1", "white space"),
    ("db1 ", "white space"),
]


@pytest.mark.parametrize("name", ACCEPTED)
def test_names_libvirt_and_the_disk_files_take_are_accepted(name):
    assert check_instance_name(name) == name


@pytest.mark.parametrize("name, reason", REFUSED, ids=[repr(n[:12]) for n, _r in REFUSED])
def test_refused_names_say_the_field_the_broken_rule_and_the_rule(name, reason):
    with pytest.raises(InvalidInput) as caught:
        check_instance_name(name, field="requests[2].name")
    assert caught.value.field == "requests[2].name"
    assert caught.value.message.startswith("invalid requests[2].name=")
    assert reason in caught.value.message
    assert caught.value.allowed == NAME_RULE and NAME_RULE in caught.value.message


@pytest.mark.parametrize("value", [None, 7, ["db1"]])
def test_a_name_that_is_not_text_is_refused(value):
    with pytest.raises(InvalidInput) as caught:
        check_instance_name(value)
    assert caught.value.field == "name"


def test_a_long_name_is_shown_once_and_shortened():
    with pytest.raises(InvalidInput) as caught:
        check_instance_name("v" * 300)
    message = caught.value.message
    assert "(300 characters)" in message
    # the "File name too long" error printed the whole name 4 times
    assert "v" * 41 not in message
