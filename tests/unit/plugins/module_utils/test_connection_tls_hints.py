# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a person is told when TLS (under qemu+tls://) refuses. libvirt's words are the ones it said on the
lab (tests/integration/test_tls.py sees them for real); why a server certificate failed is found by
checking it again against a real TLS server on the loopback, with certificates the lab's CA code makes."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import ssl
import threading

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import tls_peer

LAB_PKI = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "lab", "lab_pki.py")


@pytest.mark.parametrize("reason, hint, not_hint", [
    ("authentication failed: Failed to verify peer's certificate (IP address mismatch, certificate is not "
     "valid for '10.103.0.13')", "does not match the host", "not signed by a CA"),
    ("authentication failed: Failed to verify peer's certificate (unable to get local issuer certificate)",
     "not signed by a CA this client trusts", "does not match"),
    ("Unable to read TLS confirmation: Input/output error", "did not accept this client's certificate",
     "listen_tcp"),
    ("Our own certificate /x/clientcert.pem failed validation against /x/cacert.pem: The certificate hasn't got "
     "a known issuer.", "clientkey.pem", "listen_tcp"),
    ("Cannot read CA certificate '/nowhere/cacert.pem': No such file or directory", "?pkipath=", "listen_tcp"),
])
def test_tls_refusals_get_a_tls_hint(reason, hint, not_hint):
    said = libvirt_client.hint_for(reason)
    assert hint in said and not_hint not in said


@pytest.mark.parametrize("uri, tls", [
    ("qemu+tls://hv1/system?pkipath=/p", True), ("qemu://hv1/system", True), ("qemu:///system", False),
    ("qemu+ssh://root@hv1/system", False), ("qemu+tcp://hv1/system", False),
])
def test_which_uris_are_tls(uri, tls):
    assert tls_peer.is_tls(uri) is tls


def test_the_ca_file_is_the_pkipath_one():
    assert tls_peer.ca_file("qemu+tls://hv1/system?pkipath=/srv/pki") == "/srv/pki/cacert.pem"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (make deps)")
    spec = importlib.util.spec_from_file_location("vmfleet_lab_pki", LAB_PKI)
    lab_pki = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lab_pki)
    root = tmp_path_factory.mktemp("pki")

    def issue(folder, ca, names):
        lab_pki.ensure_ca(str(root / ca), ca)
        lab_pki.issue(str(root / folder), lab_pki.SERVER, ca_dir=str(root / ca), organisation=ca,
                      common_name=names[0], names=names)
        return str(root / folder)

    return {"right": issue("right", "lab", ["127.0.0.1"]), "other-name": issue("other-name", "lab", ["127.0.0.2"]),
            "other-ca": issue("other-ca", "stranger", ["127.0.0.1"]), "client": str(root / "right")}


@pytest.fixture
def tls_server():
    """A TLS server on the loopback showing the certificate in a given folder; yields a function that
    starts it and returns its port."""
    listeners = []

    def start(folder):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(os.path.join(folder, "servercert.pem"), os.path.join(folder, "serverkey.pem"))
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(10)
        listeners.append(listener)

        def serve():
            try:
                conn = listener.accept()[0]
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (OSError, ssl.SSLError):
                pass  # the client gave up on our certificate: what the tests want

        threading.Thread(target=serve, daemon=True).start()
        return listener.getsockname()[1]

    yield start
    for listener in listeners:
        listener.close()


@pytest.mark.parametrize("shown, why", [
    ("right", None),
    ("other-name", "IP address mismatch, certificate is not valid for '127.0.0.1'"),
    ("other-ca", "unable to get local issuer certificate"),
])
def test_why_a_server_certificate_fails_is_found(pki, tls_server, shown, why):
    port = tls_server(pki[shown])
    uri = "qemu+tls://127.0.0.1:%d/system?pkipath=%s" % (port, pki["client"])
    said = tls_peer.verification_failure(uri)
    assert said == why if why is None else why in said


def test_a_host_that_does_not_answer_gives_no_reason(pki):
    with socket.create_server(("127.0.0.1", 0)) as unused:
        port = unused.getsockname()[1]
    assert tls_peer.verification_failure("qemu+tls://127.0.0.1:%d/system?pkipath=%s" % (port, pki["client"])) is None


def test_the_reason_and_its_hint_reach_the_error(pki, tls_server):
    port = tls_server(pki["other-name"])
    uri = "qemu+tls://127.0.0.1:%d/system?pkipath=%s" % (port, pki["client"])
    error = libvirt_client.unreachable("hv3", uri, Exception("authentication failed: Failed to verify peer's "
                                                             "certificate"))
    assert str(error).startswith("host hv3 (%s): authentication failed: Failed to verify peer's certificate "
                                 "(IP address mismatch, certificate is not valid for '127.0.0.1')" % uri)
    assert "does not match the host" in str(error)
