# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The URI a source host's libvirtd dials for a peer-to-peer live migration: the destination's own
``live_migration_uri`` when its inventory gives one, never the controller's pkipath."""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.host.fleet import FleetHost
from ansible_collections.vmfleet.compute.plugins.module_utils.host.settings import normalize_host_config
from ansible_collections.vmfleet.compute.plugins.module_utils.migration.live import peer_uri

CONTROLLER_URI = "qemu+tls://10.0.1.12/system?pkipath=/home/op/.pki/libvirt"


def destination(**settings):
    return FleetHost({"name": "hv2", "uri": CONTROLLER_URI, "config": normalize_host_config(settings)}, store=None)


def test_a_host_with_a_migration_uri_is_dialled_there():
    assert peer_uri(destination(live_migration_uri="qemu+tls://10.0.1.12/system")) == "qemu+tls://10.0.1.12/system"


def test_a_host_without_one_is_dialled_at_its_own_uri():
    assert peer_uri(destination()) == CONTROLLER_URI


def test_facts_without_the_setting_dial_the_host_uri():
    """Facts gathered before the setting existed have no key for it."""
    assert peer_uri(FleetHost({"name": "hv2", "uri": CONTROLLER_URI, "config": {}}, store=None)) == CONTROLLER_URI
