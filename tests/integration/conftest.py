# -*- coding: utf-8 -*-
"""Integration tests start from an empty lab: `make demo` (and the main playbook
test) leaves its demo-* instances on the lab's hosts and its drained host
cordoned, and the tests count CPUs and RAM on hosts they expect to be free and
enabled."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lab_tools import remove_demo_leftovers  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="session", autouse=True)
def empty_lab():
    remove_demo_leftovers()
