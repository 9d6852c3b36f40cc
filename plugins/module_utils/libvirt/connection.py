# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Opening a libvirt connection, with failures that say which host and what to check.

The ``libvirt`` binding is imported under a guard: modules check
``HAS_LIBVIRT`` and report ``missing_required_lib('libvirt-python')`` with
``LIBVIRT_IMPORT_ERROR`` instead of crashing at import time.
"""

from __future__ import annotations

import contextlib
import threading
import traceback

from ansible.module_utils.basic import env_fallback

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import HostUnreachable
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import tls_peer

try:
    import libvirt
except ImportError:
    libvirt = None
    HAS_LIBVIRT = False
    LIBVIRT_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_LIBVIRT = True
    LIBVIRT_IMPORT_ERROR = None

    def _quiet(_ctx, _err):
        """libvirt prints every error to stderr by default; we report them ourselves."""

    libvirt.registerErrorHandler(_quiet, None)

DEFAULT_URI = "qemu:///system"

# libvirt keepalive on every connection the collection opens: a peer that stops answering (a daemon stopped,
# a host frozen, a cable pulled) closes the connection after KEEPALIVE_INTERVAL * (KEEPALIVE_COUNT + 1) seconds
# (libvirt's rule), and every call waiting on it then fails, instead of waiting for ever.
KEEPALIVE_INTERVAL = 5
KEEPALIVE_COUNT = 3
KEEPALIVE_BOUND_SECONDS = KEEPALIVE_INTERVAL * (KEEPALIVE_COUNT + 1)

# Module options of the ``vmfleet.compute.libvirt_connection`` doc fragment.
CONNECTION_ARGSPEC = dict(
    uri=dict(type="str", default=DEFAULT_URI, fallback=(env_fallback, ["LIBVIRT_DEFAULT_URI"])),
)

# (words in libvirt's message, what to check), first match wins.
_HINTS = (
    (("unable to parse uri", "no connection driver", "invalid uri", "unsupported uri"),
     "Check the URI's syntax and scheme, e.g. qemu:///system, qemu+ssh://user@host/system, "
     "qemu+tcp://host:16509/system, qemu+tls://host/system"),
    # ssh's own words, which libvirt passes on inside "Cannot recv data: ...": before the general
    # ones below, which would send a person to look at libvirtd for what ssh refused.
    (("host key verification failed", "remote host identification has changed"),
     "The SSH host key that host showed is not the one known_hosts holds for its address: if the host "
     "was reinstalled, replace its entry (ssh-keygen -R ADDRESS, then check the new key); if not, "
     "something else answers at that address"),
    (("permission denied (publickey",),
     "The SSH server refused every key offered for that user: check that the user's public key is in its "
     "authorized_keys on that host, and which key the controller offers (IdentityFile in ~/.ssh/config, "
     "or ?keyfile= in the URI)"),
    # TLS (qemu+tls://): libvirt says only "Failed to verify peer's certificate" for every refused server
    # certificate; unreachable() adds why (tls_peer), in OpenSSL's words, which these match first.
    (("mismatch, certificate is not valid for", "owner does not match the hostname"),
     "The TLS certificate that host showed does not match the host: it was not issued for the name or "
     "address in the URI. Re-issue the host's server certificate (cert_file in its libvirtd.conf) with that "
     "name or address in its subjectAltName, or put the name it was issued for in the URI; if neither, "
     "something else answers at that address"),
    (("failed to verify peer's certificate",),
     "The TLS certificate that host showed is not signed by a CA this client trusts (cacert.pem in the "
     "URI's ?pkipath=, else /etc/pki/CA/cacert.pem), or has expired: check which CA signed it"),
    (("unable to read tls confirmation",),
     "That host's libvirtd closed the TLS connection: it did not accept this client's certificate "
     "(clientcert.pem in the URI's ?pkipath=, else /etc/pki/libvirt/clientcert.pem), which must be signed "
     "by a CA the host trusts (ca_file in its libvirtd.conf) and, where it sets tls_allowed_dn_list, carry "
     "a listed name; the host's libvirtd log says which"),
    (("our own certificate", "cannot read ca certificate", "cannot read certificate", "cannot read private key"),
     "This client's own TLS files are missing or do not go together: the URI's ?pkipath= folder (else "
     "/etc/pki) needs cacert.pem, clientcert.pem and clientkey.pem, the client certificate signed by that CA"),
    (("permission denied", "access denied", "authentication", "not authorized", "polkit", "auth"),
     "Check the user the connection runs as, its authentication (SASL, TLS certificates, SSH keys), "
     "polkit rules, and the permissions of the libvirt socket (group libvirt)"),
    (("name or service not known", "unable to resolve", "temporary failure in name resolution"),
     "Check the host name in the URI: it does not resolve"),
    (("connection refused", "no such file or directory", "cannot recv data", "connection reset",
      "failed to connect socket"),
     "Check that libvirtd (or virtqemud) runs on that host, and for remote URIs that it listens "
     "there (listen_tcp / listen_tls in libvirtd.conf, started with --listen or socket units) "
     "on the port in the URI (16509 tcp, 16514 tls) and that no firewall blocks it"),
    (("no route to host", "timed out", "network is unreachable"),
     "Check the network path to that host and any firewall between"),
)
_DEFAULT_HINT = "Check the URI, that the libvirt daemon runs on that host, and the credentials used"


def or_none(lookup, missing, *args):
    """``lookup(*args)``, or None when libvirt answers that the object does not exist (error code
    ``missing``, such as VIR_ERR_NO_DOMAIN); every other libvirt error is raised as it is, for the
    caller to say which host and object."""
    try:
        return lookup(*args)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == missing:
            return None
        raise


def open_connection(uri, host_name=None):
    """Open a read-write libvirt connection to ``uri``.

    Raises HostUnreachable(host, uri, reason, hint) when libvirt refuses;
    ``host_name`` (the fleet name) is what the message calls the host.
    """
    if libvirt is None:
        raise HostUnreachable(host_name or uri, uri, "the libvirt Python binding is not installed",
                              "Install libvirt-python on the machine that runs the module")
    _EventLoop.start()
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError as exc:
        raise unreachable(host_name or uri, uri, exc)
    if conn is None:  # old bindings returned None instead of raising
        raise HostUnreachable(host_name or uri, uri, "libvirt returned no connection", _DEFAULT_HINT)
    _keep_alive(conn)
    return conn


def _keep_alive(conn):
    """Ask the peer for keepalive answers, and remember why the connection closed; drivers without a peer
    (test:///) have none to ask, and need none."""
    try:
        conn.setKeepAlive(KEEPALIVE_INTERVAL, KEEPALIVE_COUNT)
        conn.registerCloseCallback(_remember_close, None)
    except libvirt.libvirtError:
        pass


def _remember_close(conn, reason, _opaque):
    conn.vmfleet_close_reason = reason


def hung(conn):
    """True when ``conn`` closed because its daemon stopped answering: opening a new connection would hang
    the same way (the handshake has no keepalive yet), so callers report the host instead."""
    return getattr(conn, "vmfleet_close_reason", None) == libvirt.VIR_CONNECT_CLOSE_REASON_KEEPALIVE


def lost(conn):
    """Why the daemon behind ``conn`` is gone, in words that fit "the libvirt daemon on HOST ...", or None
    while the connection is alive (or closed by us)."""
    reason = getattr(conn, "vmfleet_close_reason", None)
    if reason is None:
        try:
            if conn.isAlive():
                return None
        except libvirt.libvirtError:
            pass
        reason = libvirt.VIR_CONNECT_CLOSE_REASON_ERROR
    if reason == libvirt.VIR_CONNECT_CLOSE_REASON_KEEPALIVE:
        return "stopped answering (no keepalive answer within %d s)" % KEEPALIVE_BOUND_SECONDS
    if reason == libvirt.VIR_CONNECT_CLOSE_REASON_CLIENT:
        return None
    return "went away (the connection broke: the daemon stopped, was killed or restarted, or its host went down)"


class _EventLoop(object):
    """libvirt's default event loop, run in a daemon thread: a client sends keepalive probes and notices
    unanswered ones only while an event loop runs. Registered once per process, before the first connection
    (libvirt requires it before any connection is opened)."""

    _lock = threading.Lock()
    _thread = None

    @classmethod
    def start(cls):
        with cls._lock:
            if cls._thread is not None:
                return
            libvirt.virEventRegisterDefaultImpl()
            cls._thread = threading.Thread(target=cls._run, name="libvirt-event-loop")
            cls._thread.daemon = True
            cls._thread.start()

    @staticmethod
    def _run():
        while True:
            libvirt.virEventRunDefaultImpl()


def unreachable(host_name, uri, exc):
    """A HostUnreachable for a libvirtError, with the hint that fits its message."""
    reason = (exc.get_error_message() if hasattr(exc, "get_error_message") else None) or str(exc)
    if "failed to verify peer's certificate" in reason.lower() and tls_peer.is_tls(uri):
        why = tls_peer.verification_failure(uri)
        reason = "%s (%s)" % (reason.rstrip("."), why.rstrip(".")) if why else reason
    return HostUnreachable(host_name, uri, reason.rstrip("."), hint_for(reason))


def hint_for(reason):
    """What a person should check, given libvirt's error message."""
    lowered = (reason or "").lower()
    for words, hint in _HINTS:
        if any(word in lowered for word in words):
            return hint + "."
    return _DEFAULT_HINT + "."


@contextlib.contextmanager
def connection(uri, host_name=None):
    """``with connection(uri, name) as conn:`` opens, yields, and always closes."""
    conn = open_connection(uri, host_name)
    try:
        yield conn
    finally:
        try:
            conn.close()
        except Exception:  # pylint: disable=broad-except
            pass  # closing a broken connection must not hide the real error
