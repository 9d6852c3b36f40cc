# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""qemu+tls on the networked lab (`lab up --transport tls`): the controller reaches each host, and each
host its peers for live migration, over TLS with the lab's CA; the controller with its certificate (the
pkipath of each host's vmfleet_libvirt_uri, a folder the hosts do not have), the hosts with their own at
libvirt's default paths (each host's vmfleet_migration_uri names no pkipath); a server certificate issued
for another address, and a client certificate of another CA, are clear errors that move nothing.

The suite's lab runs with ssh: this module switches it to tls for its tests and back to ssh after
(each host's daemons restart, its guests run on), so `make test` runs these too. A lab already up with
tls is used as it is."""

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from lab_guests import hosts, place, where
from lab_tools import (INVENTORY, ROOT, fill_ram, inventory_hosts, lab, lab_transport, ram_holds_pattern, run_playbook,
                       virsh)
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


def migrate(name, destination):
    return run_playbook("live_migrate_instance.yml", {"instance_name": name, "target_host": destination})


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


def test_a_live_migration_over_tls_moves_the_guest_and_its_memory(fleet_cleanup):  # pylint: disable=redefined-outer-name
    first, second = hosts()[:2]
    name = "tls-move"
    fleet_cleanup.append(name)
    place([{"name": name, "flavor": SMALL, "host": first}])
    fill_ram(first, name, 16)
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
