# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A failed copy's pool asked for its free space (libvirt's test driver: every pool has 100 GiB free)."""

from __future__ import annotations

import pytest

libvirt = pytest.importorskip("libvirt")

# pylint: disable=wrong-import-position
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.storage import pool_space
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.libvirt_test_fleet import node_uri, pool

GIB = 1024 ** 3


@pytest.fixture
def conn(tmp_path):
    opened = libvirt_client.open_connection(node_uri(tmp_path, "hv2", pools=[pool("fast"), pool("slow", "/slow")]))
    yield opened
    opened.close()


def test_a_copy_bigger_than_the_free_space_names_the_pool_the_host_and_both_sizes(conn):
    assert pool_space.shortfall(conn, ["fast"], "hv2", 150 * GIB) == (
        "pool 'fast' on hv2 has 102400 MiB free; the copy needs 153600 MiB: free space there (or give the host a "
        "bigger pool) and run again")
    assert "pool 'fast', pool 'slow' on hv2 have 204800 MiB free together" in pool_space.shortfall(
        conn, ["slow", "fast", "fast"], "hv2", 250 * GIB)


def test_room_enough_or_a_pool_that_cannot_be_asked_says_nothing(conn):
    assert pool_space.shortfall(conn, ["fast"], "hv2", 100 * GIB) is None
    assert pool_space.shortfall(conn, ["missing"], "hv2", 150 * GIB) is None
    assert pool_space.shortfall(conn, ["fast"], "hv2", 0) is None


def test_a_connection_of_a_driver_without_keepalive_is_alive_and_not_lost(conn):
    assert libvirt_client.lost(conn) is None and not libvirt_client.hung(conn)
