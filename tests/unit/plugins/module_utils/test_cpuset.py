# -*- coding: utf-8 -*-
import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.cpuset import format_cpuset, parse_cpuset
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput


@pytest.mark.parametrize("text, expected", [
    ("4-12,^8,15", [4, 5, 6, 7, 9, 10, 11, 12, 15]),   # Nova's documented example
    ("^8,4-12", [4, 5, 6, 7, 9, 10, 11, 12]),           # exclusions apply wherever they stand
    ("0-3,^1-2", [0, 3]),
    ("0, 2 ,4", [0, 2, 4]),
    ("7", [7]),
    ("", []),
    (None, []),
    (5, [5]),
    ([3, "0-1"], [0, 1, 3]),
])
def test_parse_cpuset(text, expected):
    assert parse_cpuset(text) == expected


@pytest.mark.parametrize("text", ["a-b", "3-1", "1,x", "-1", "1--2", True])
def test_parse_cpuset_rejects_with_the_field_named(text):
    with pytest.raises(InvalidInput) as err:
        parse_cpuset(text, field="cpu_dedicated_set")
    assert "cpu_dedicated_set" in str(err.value)
    assert err.value.field == "cpu_dedicated_set"


@pytest.mark.parametrize("ids, text", [
    ([0, 1, 2, 5], "0-2,5"),
    ([5, 1, 2, 3, 3], "1-3,5"),
    ([], ""),
    ([9], "9"),
])
def test_format_cpuset(ids, text):
    assert format_cpuset(ids) == text


def test_round_trip():
    ids = [0, 1, 2, 3, 8, 10, 11, 31]
    assert parse_cpuset(format_cpuset(ids)) == ids
