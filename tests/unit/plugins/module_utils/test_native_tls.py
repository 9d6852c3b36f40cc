# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""native_tls (Nova's live_migration_with_native_tls): the setting, libvirt's VIR_MIGRATE_TLS flag, and the
sentence that names the host and the QEMU certificate files it lacks."""

from __future__ import annotations

import libvirt
import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import qemu_tls
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import policy
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import storage as migration_storage
from ansible_collections.vmfleet.compute.plugins.module_utils.migration.live import _flags

SHARED = {"mode": migration_storage.SHARED, "disks": []}


def test_native_tls_is_off_by_default_as_novas():
    assert policy.normalize({})["native_tls"] is False
    assert policy.ARGSPEC["native_tls"] == {"type": "bool", "default": False}


def test_native_tls_is_a_flag_that_must_be_a_boolean():
    assert policy.normalize({"native_tls": True})["native_tls"] is True
    with pytest.raises(InvalidInput) as caught:
        policy.normalize({"native_tls": "yes"})
    assert caught.value.field == "migration.native_tls"
    assert "true or false" in caught.value.message


def test_native_tls_adds_libvirts_tls_flag_and_nothing_else():
    plain = _flags(policy.normalize({}), SHARED)
    encrypted = _flags(policy.normalize({"native_tls": True}), SHARED)
    assert not plain & libvirt.VIR_MIGRATE_TLS
    assert encrypted == plain | libvirt.VIR_MIGRATE_TLS


def test_native_tls_keeps_a_block_migrations_flags():
    block = {"mode": migration_storage.BLOCK, "disks": []}
    flags = _flags(policy.normalize({"native_tls": True}), block)
    assert flags & libvirt.VIR_MIGRATE_TLS and flags & libvirt.VIR_MIGRATE_NON_SHARED_INC


@pytest.mark.parametrize("error,lack", [
    # libvirt 9.0 / QEMU 7.2 on the lab: a host without the folder or a file, and a source without its
    # client certificate (the destination hangs up on the disk mirror)
    ("internal error: unable to execute QEMU command 'object-add': Unable to access credentials "
     "/etc/pki/qemu/ca-cert.pem: No such file or directory", True),
    ("internal error: unable to execute QEMU command 'blockdev-add': Failed to read option reply: Cannot read "
     "from TLS channel: Software caused connection abort", True),
    ("operation failed: migration out job: unexpectedly failed", False),
    ("Cannot recv data: Connection reset by peer", False),
])
def test_only_errors_that_may_come_from_certificates_are_looked_into(error, lack):
    assert qemu_tls.may_lack_files(error) is lack


def test_missing_files_for_each_role():
    assert qemu_tls.missing(None, qemu_tls.SOURCE_FILES) == ["ca-cert.pem", "client-cert.pem", "client-key.pem"]
    present = ["ca-cert.pem", "client-cert.pem", "client-key.pem", "server-cert.pem"]
    assert qemu_tls.missing(present, qemu_tls.SOURCE_FILES) == []
    assert qemu_tls.missing(present, qemu_tls.DESTINATION_FILES) == ["server-key.pem"]


def test_the_sentence_names_each_host_its_role_and_the_files():
    said = qemu_tls.describe({"hv2": ("destination", ["server-key.pem"]), "hv1": ("source", []),
                              "hv3": ("source", ["ca-cert.pem", "client-key.pem"])})
    assert said == ("hv2 (the destination) lacks /etc/pki/qemu/server-key.pem; hv3 (the source) lacks "
                    "/etc/pki/qemu/ca-cert.pem, /etc/pki/qemu/client-key.pem")
    assert qemu_tls.describe({"hv1": ("source", []), "hv2": ("destination", [])}) is None


def pools(conn):
    return sorted(conn.listAllStoragePools(0), key=lambda pool: pool.name())


def test_the_folder_is_listed_through_a_pool_that_does_not_stay():
    """On libvirt's test driver (its pools hold no files): the listing asks libvirt, and the transient pool
    it lists through is gone after, so a host's pools look as before."""
    conn = libvirt.open("test:///default")
    before = [pool.name() for pool in pools(conn)]
    assert qemu_tls.files_in(conn) == []
    assert [pool.name() for pool in pools(conn)] == before
    hint = qemu_tls.hint(("hv1", conn), ("hv2", conn))
    assert hint.startswith("native_tls needs QEMU's x509 certificates on both hosts (migrate_tls_x509_cert_dir, "
                           "default /etc/pki/qemu): ")
    assert "hv1 (the source) lacks /etc/pki/qemu/ca-cert.pem, /etc/pki/qemu/client-cert.pem" in hint
    assert "hv2 (the destination) lacks /etc/pki/qemu/ca-cert.pem, /etc/pki/qemu/server-cert.pem" in hint
    assert [pool.name() for pool in pools(conn)] == before


def test_a_host_that_cannot_be_asked_is_left_out():
    conn = libvirt.open("test:///default")
    gone = libvirt.open("test:///default")
    gone.close()
    hint = qemu_tls.hint(("hv1", gone), ("hv2", conn))
    assert "hv1" not in hint and "hv2 (the destination)" in hint
