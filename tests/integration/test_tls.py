# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""qemu+tls on the networked lab (`lab up --transport tls`): the controller reaches each host, and each
host its peers for live migration, over TLS with the lab's CA; the controller with its certificate (the
pkipath of each host's vmfleet_libvirt_uri, a folder the hosts do not have), the hosts with their own at
libvirt's default paths (each host's vmfleet_migration_uri names no pkipath); a server certificate issued
for another address, and a client certificate of another CA, are clear errors that move nothing. With
native_tls QEMU encrypts the migration data itself, with its own certificates (/etc/pki/qemu on each host); a
host without them is a clear error naming it and the files, the guest running on its source.

The suite's lab runs with ssh: this module switches it to tls for its tests and back to ssh after
(each host's daemons restart, its guests run on), so `make test` runs these too. A lab already up with
tls is used as it is."""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from lab_guests import assert_settled, hosts, place, where
from lab_tools import (INVENTORY, ROOT, fill_ram, inventory_hosts, lab, lab_transport, ram_holds_pattern, run_playbook,
                       start_playbook, virsh)
from test_drain import fleet_cleanup  # noqa: F401  pylint: disable=unused-import
from test_network_faults import read_host

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import HostUnreachable
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.connection import open_connection

sys.path.insert(0, os.path.join(ROOT, "lab"))
import lab_pki  # noqa: E402  pylint: disable=wrong-import-position,import-error

SMALL = {"name": "tls.small", "vcpus": 1, "memory_mb": 128, "root_gb": 1}


def lab_up(transport):
    started = lab("up", "--hosts", str(len(inventory_hosts())), "--transport", transport)
    assert started.returncode == 0, started.stdout


@pytest.fixture(scope="module", autouse=True)
def tls_lab():
    if not os.path.exists(INVENTORY):
        pytest.skip("no lab at %s: these tests run on the lab (lab/lab up)" % INVENTORY)
    before = lab_transport()
    try:
        if before != "tls":
            lab_up("tls")
        assert all(h["vmfleet_libvirt_uri"].startswith("qemu+tls://") for h in inventory_hosts().values())
        yield
    finally:
        if before != "tls":
            lab_up(before)


def address(host):
    return inventory_hosts()[host]["vmfleet_migration_address"]


def migrate(name, destination, **extra):
    return run_playbook("live_migrate_instance.yml", dict({"instance_name": name, "target_host": destination},
                                                          **extra))


# where libvirt looks for root's client certificate and the CA when a URI names no pkipath
DEFAULT_CLIENT_CERT = "/etc/pki/libvirt/clientcert.pem"
DEFAULT_CA_CERT = "/etc/pki/CA/cacert.pem"


def on_host(host, *command, network=False):
    """``command`` run in ``host``'s mount namespace (and network namespace): as its libvirtd sees files."""
    with open(os.path.join(inventory_hosts()[host]["vmfleet_lab_dir"], "libvirtd.pid")) as handle:
        pid = handle.read().strip()
    return subprocess.run(["nsenter", "-t", pid, "-m", "-r"] + (["-n"] if network else []) + list(command),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)


def client_certificate_seen_by(host):
    """The subject of the client certificate ``host``'s libvirtd finds at libvirt's default path, in its own
    mount namespace: what it shows a peer it migrates to (the peers' URIs name no pkipath)."""
    return on_host(host, "openssl", "x509", "-noout", "-subject", "-in", DEFAULT_CLIENT_CERT).stdout.strip()


def test_the_peers_uris_name_no_pkipath_and_the_controllers_do():
    for host in hosts():
        settings = inventory_hosts()[host]
        assert settings["vmfleet_migration_uri"] == "qemu+tls://%s/system" % address(host)
        assert "?pkipath=" in settings["vmfleet_libvirt_uri"]


def test_each_host_migrates_with_its_own_client_certificate():
    """Its own, at libvirt's default path in its own mount namespace: not another host's, not the
    controller's, and signed by the lab's CA, which it finds there too."""
    for host in hosts():
        assert client_certificate_seen_by(host).endswith("CN = %s" % host)
        verified = on_host(host, "openssl", "verify", "-CAfile", DEFAULT_CA_CERT, DEFAULT_CLIENT_CERT)
        assert verified.returncode == 0, verified.stdout


def test_the_hosts_do_not_have_the_controllers_certificate():
    """As on a fleet, the controller's pkipath is not on the hosts: a host that dialled a peer at the
    controller's URI for it fails, so a migration that works used the peer's migration URI."""
    first, second = hosts()[:2]
    pkipath = inventory_hosts()[first]["vmfleet_libvirt_uri"].split("pkipath=", 1)[1]
    assert on_host(first, "ls", "-A", pkipath).stdout.strip() == ""
    dialled = on_host(first, "virsh", "-q", "-c", inventory_hosts()[second]["vmfleet_libvirt_uri"], "uri",
                      network=True)
    assert dialled.returncode != 0 and "Cannot read CA certificate" in dialled.stdout, dialled.stdout
    dialled = on_host(first, "virsh", "-q", "-c", inventory_hosts()[second]["vmfleet_migration_uri"], "uri",
                      network=True)
    assert dialled.returncode == 0, dialled.stdout


def running_on_first(fleet_cleanup, name, ram_mib=16):  # pylint: disable=redefined-outer-name
    """A small guest ``name`` running on the first lab host (removed after the test), ``ram_mib`` MiB of its RAM
    holding a pattern; returns (the first host, the second)."""
    first, second = hosts()[:2]
    fleet_cleanup.append(name)
    place([{"name": name, "flavor": SMALL, "host": first}])
    if ram_mib:
        fill_ram(first, name, ram_mib)
    return first, second


def test_a_live_migration_over_tls_moves_the_guest_and_its_memory(fleet_cleanup):  # pylint: disable=redefined-outer-name
    name = "tls-move"
    first, second = running_on_first(fleet_cleanup, name)
    moved = migrate(name, second)
    print(moved.stdout)
    assert moved.returncode == 0, moved.stdout
    assert "RUNS ON %s" % second in moved.stdout
    # defined and running on the destination only: one QEMU, with the RAM it had
    assert where(name) == {second: "running"}
    assert ram_holds_pattern(second, name)


@contextlib.contextmanager
def mismatched(host):
    """``host`` showing a server certificate the lab's CA issued for another host's address."""
    other = [h for h in hosts() if h != host][0]
    reissued = lab("cert", host, "--for", address(other))
    assert reissued.returncode == 0, reissued.stdout
    try:
        yield host
    finally:
        restored = lab("cert", host)
        assert restored.returncode == 0, restored.stdout


@pytest.fixture
def mismatched_host():
    """The last lab host, with a certificate that does not match it."""
    with mismatched(hosts()[-1]) as host:
        yield host


def test_a_server_certificate_that_does_not_match_is_a_clear_error(mismatched_host):  # pylint: disable=redefined-outer-name
    result = read_host(mismatched_host)
    print(result.stdout)
    assert result.returncode != 0
    assert "host %s (%s)" % (mismatched_host, inventory_hosts()[mismatched_host]["vmfleet_libvirt_uri"]) in result.stdout
    assert "certificate is not valid for '%s'" % address(mismatched_host) in result.stdout
    assert "does not match the host" in result.stdout and "subjectAltName" in result.stdout


def test_a_migration_to_a_host_whose_certificate_does_not_match_moves_nothing(fleet_cleanup):  # pylint: disable=redefined-outer-name
    first, last = hosts()[0], hosts()[-1]
    name = "tls-mismatch"
    fleet_cleanup.append(name)
    place([{"name": name, "flavor": SMALL, "host": first}])
    with mismatched(last):
        # through the collection: the controller checks the destination's certificate first
        moved = migrate(name, last)
        print(moved.stdout)
        assert moved.returncode != 0
        assert "host %s (" % last in moved.stdout and "does not match the host" in moved.stdout
        assert where(name) == {first: "running"}
        # peer to peer: the source's libvirtd checks its peer's certificate as the controller does
        p2p = virsh(first, "migrate", "--live", "--p2p", "--persistent", "--undefinesource", "--copy-storage-inc",
                    name, inventory_hosts()[last]["vmfleet_migration_uri"])
        print(p2p.stdout)
        assert p2p.returncode != 0 and "Failed to verify peer's certificate" in p2p.stdout, p2p.stdout
        assert where(name) == {first: "running"}


@pytest.fixture
def foreign_client_pki():
    """A pkipath with a client certificate of another CA. Its cacert.pem holds that CA and the lab's, so the
    client's own checks pass and the host is the one that refuses it."""
    folder = tempfile.mkdtemp(prefix="vmfleet-foreign-pki-")
    try:
        other_ca = os.path.join(folder, "ca")
        lab_pki.ensure_ca(other_ca, "not the lab")
        client = os.path.join(folder, "client")
        lab_pki.issue(client, lab_pki.CLIENT, ca_dir=other_ca, organisation="not the lab", common_name="stranger")
        lab_ca = os.path.join(os.path.dirname(INVENTORY), "pki", lab_pki.CA_CERT)
        with open(os.path.join(client, lab_pki.CA_CERT), "a") as bundle, open(lab_ca) as lab_cert:
            bundle.write(lab_cert.read())
        yield client
    finally:
        shutil.rmtree(folder)


def test_a_client_certificate_the_host_does_not_trust_is_a_clear_error(foreign_client_pki):  # pylint: disable=redefined-outer-name
    host = hosts()[0]
    uri = "qemu+tls://%s/system?pkipath=%s" % (address(host), foreign_client_pki)
    # as every module opens a host's connection
    with pytest.raises(HostUnreachable) as refused:
        open_connection(uri, host)
    print(refused.value)
    assert str(refused.value).startswith("host %s (%s): " % (host, uri))
    assert "did not accept this client's certificate" in str(refused.value)


# QEMU's x509 folder (qemu.conf's default_tls_x509_cert_dir): the lab gives each tls host its own
QEMU_PKI = "/etc/pki/qemu"


def qemu_pki_dir(host):
    """``host``'s QEMU_PKI as the controller sees it (the folder the host mounts over /etc/pki)."""
    return os.path.join(inventory_hosts()[host]["vmfleet_lab_dir"], "etc-pki", "qemu")


def monitor(host, name, command):
    """QEMU's answer to a QMP ``command`` for ``name`` on ``host``; None when it does not answer (the guest
    has just left)."""
    answer = virsh(host, "qemu-monitor-command", name, json.dumps({"execute": command}))
    return json.loads(answer.stdout)["return"] if answer.returncode == 0 else None


def migrate_watching_parameters(name, source, destination, **extra):
    """A live_migrate playbook of ``name`` at 2 MiB/s (fill_ram's 16 MiB take ~8 s) and the source's QEMU
    migration parameters (query-migrate-parameters) read while it sends the RAM (query-migrate: active):
    libvirt sets them after the disk mirror started. Returns (the playbook's run, its output, the parameters
    or None when no look caught the RAM being sent)."""
    run = start_playbook("live_migrate_instance.yml", dict(
        {"instance_name": name, "target_host": destination, "migrate_bandwidth": 2}, **extra))
    seen = None
    try:
        deadline = time.monotonic() + 120
        while run.poll() is None and time.monotonic() < deadline and seen is None:
            if (monitor(source, name, "query-migrate") or {}).get("status") == "active":
                seen = monitor(source, name, "query-migrate-parameters")
            time.sleep(0.3)
        output = run.communicate(timeout=300)[0]
    finally:
        if run.poll() is None:
            run.kill()
    print(output)
    return run, output, seen


def test_the_hosts_have_qemus_certificates_for_their_own_address():
    for host in hosts():
        present = on_host(host, "ls", QEMU_PKI).stdout.split()
        assert sorted(present) == ["ca-cert.pem", "client-cert.pem", "client-key.pem", "server-cert.pem",
                                   "server-key.pem"]
        verified = on_host(host, "openssl", "verify", "-CAfile", QEMU_PKI + "/ca-cert.pem",
                           "-verify_ip", address(host), QEMU_PKI + "/server-cert.pem")
        assert verified.returncode == 0, verified.stdout


def test_a_live_migration_with_native_tls_encrypts_its_data_and_moves_the_memory(fleet_cleanup):  # pylint: disable=redefined-outer-name
    name = "tls-native"
    first, second = running_on_first(fleet_cleanup, name)
    run, output, seen = migrate_watching_parameters(name, first, second, migrate_native_tls=True)
    assert run.returncode == 0, output
    assert "RUNS ON %s" % second in output and "NATIVE TLS True" in output
    # while the data moved, QEMU had TLS credentials for it (libvirt's object from /etc/pki/qemu) and checked
    # the destination's certificate against the address it sends to; without native_tls both are empty
    assert seen is not None, "no look caught the source's QEMU sending the RAM"
    assert seen["tls-creds"].startswith("objlibvirt_migrate_tls") and seen["tls-hostname"] == address(second)
    assert where(name) == {second: "running"}
    assert ram_holds_pattern(second, name)


def test_a_plain_migration_gives_qemu_no_tls_credentials(fleet_cleanup):  # pylint: disable=redefined-outer-name
    """What the test above tells from: the parameters of a migration without native_tls, read the same way."""
    name = "tls-plain"
    first, second = running_on_first(fleet_cleanup, name)
    run, output, seen = migrate_watching_parameters(name, first, second)
    assert run.returncode == 0, output
    assert "NATIVE TLS False" in output
    assert seen is not None and seen["tls-creds"] == "" and seen["max-bandwidth"] == 2 * 1024 * 1024


@contextlib.contextmanager
def without_qemu_files(host, *names):
    """``host`` without the files ``names`` of its QEMU_PKI (all of it, folder too, when none is named)."""
    folder = qemu_pki_dir(host)
    aside = tempfile.mkdtemp(prefix="vmfleet-qemu-pki-")
    moved = names or os.listdir(folder)
    try:
        for file_name in moved:
            shutil.move(os.path.join(folder, file_name), os.path.join(aside, file_name))
        if not names:
            os.rmdir(folder)
        yield
    finally:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        for file_name in moved:
            shutil.move(os.path.join(aside, file_name), os.path.join(folder, file_name))
        os.rmdir(aside)


def test_native_tls_without_qemus_certificates_is_a_clear_error_that_moves_nothing(fleet_cleanup):  # pylint: disable=redefined-outer-name
    name = "tls-nocert"
    first, second = running_on_first(fleet_cleanup, name)
    with without_qemu_files(second):
        moved = migrate(name, second, migrate_native_tls=True)
    print(moved.stdout)
    assert moved.returncode != 0
    assert ("native_tls needs QEMU's x509 certificates on both hosts (migrate_tls_x509_cert_dir, default "
            "/etc/pki/qemu): %s (the destination) lacks /etc/pki/qemu/ca-cert.pem, /etc/pki/qemu/server-cert.pem, "
            "/etc/pki/qemu/server-key.pem (libvirt: " % second) in moved.stdout
    assert "(the source)" not in moved.stdout
    assert "%s is running on its source %s, and nothing is left on %s" % (name, first, second) in moved.stdout
    assert_settled(name, first, "running", 0)
    assert ram_holds_pattern(first, name)


def test_a_source_without_its_qemu_client_certificate_is_named(fleet_cleanup):  # pylint: disable=redefined-outer-name
    """libvirt's own words name no file here: the source's QEMU connects without a client certificate and the
    destination hangs up on the disk mirror ("Cannot read from TLS channel")."""
    name = "tls-noclient"
    first, second = running_on_first(fleet_cleanup, name, ram_mib=0)
    with without_qemu_files(first, "client-cert.pem"):
        moved = migrate(name, second, migrate_native_tls=True)
    print(moved.stdout)
    assert moved.returncode != 0
    assert "%s (the source) lacks /etc/pki/qemu/client-cert.pem (libvirt: " % first in moved.stdout
    assert "(the destination)" not in moved.stdout
    assert_settled(name, first, "running", 0)
