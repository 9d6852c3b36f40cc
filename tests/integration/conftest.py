# -*- coding: utf-8 -*-
"""Integration tests start from an empty lab: `make demo` (and the main playbook
test, which runs last) leaves its demo-* instances on the lab's hosts and its
drained host cordoned, and the tests below count CPUs and RAM on hosts they
expect to be free and enabled."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lab_tools import INVENTORY, delete_instance, inventory_hosts, state_store, virsh  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="session", autouse=True)
def empty_lab():
    if not os.path.exists(INVENTORY):
        return
    with state_store() as store:
        for host in inventory_hosts():
            for name in virsh(host, "list", "--all", "--name").stdout.split():
                if name.startswith("demo-"):
                    delete_instance(name)
            # the demo drains a host and leaves it cordoned, as a drain does
            store.remove_cordon(host)
