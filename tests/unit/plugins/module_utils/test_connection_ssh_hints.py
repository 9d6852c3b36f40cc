# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a person is told when ssh (under qemu+ssh://) refuses: the words are libvirt's, as it passed
ssh's on the networked lab (tests/integration/test_network_faults.py sees them for real)."""

from __future__ import annotations

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client


@pytest.mark.parametrize("reason, hint, not_hint", [
    # a refused key: about keys, not about libvirtd listening (which "Cannot recv data" alone suggests)
    ("Cannot recv data: root@10.101.0.13: Permission denied (publickey).: Connection reset by peer",
     "authorized_keys", "listen_tcp"),
    ("Cannot recv data: Host key verification failed.: Connection reset by peer", "known_hosts", "listen_tcp"),
    ("Cannot recv data: @@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@", "ssh-keygen -R", "listen_tcp"),
    # without ssh's words, what it was before
    ("Cannot recv data: Connection reset by peer", "listen_tcp", "known_hosts"),
    ("authentication failed: Failed to start SASL negotiation", "SASL", "authorized_keys"),
])
def test_ssh_refusals_get_an_ssh_hint(reason, hint, not_hint):
    said = libvirt_client.hint_for(reason)
    assert hint in said and not_hint not in said
