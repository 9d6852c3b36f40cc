# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Why a qemu+tls host's certificate failed verification.

libvirt's error for every refused server certificate is the same ("Failed to verify peer's
certificate"); the reason (issued for another name, signed by another CA, expired) goes only to its log.
When libvirt refuses, the certificate is checked again here, with the same CA file libvirt used and
Python's ssl module, to say which.
"""

from __future__ import annotations

import os
import socket
import ssl
from urllib.parse import parse_qs, urlsplit

TLS_PORT = 16514
# libvirt's CA file for a privileged client without ?pkipath=, and a user's (virnettlscontext.c)
_SYSTEM_CA = "/etc/pki/CA/cacert.pem"
_USER_CA = "~/.pki/libvirt/cacert.pem"
PROBE_TIMEOUT_S = 5


def is_tls(uri):
    """True for a URI whose transport is TLS: qemu+tls://, or qemu:// with a host (libvirt's default)."""
    parts = urlsplit(uri or "")
    transport = parts.scheme.partition("+")[2]
    return transport == "tls" or (not transport and bool(parts.hostname))


def ca_file(uri):
    """The CA certificates libvirt checks the host's certificate against for ``uri``."""
    pkipath = parse_qs(urlsplit(uri).query).get("pkipath")
    if pkipath:
        return os.path.join(pkipath[0], "cacert.pem")
    return _SYSTEM_CA if os.geteuid() == 0 else os.path.expanduser(_USER_CA)


def verification_failure(uri, timeout=PROBE_TIMEOUT_S):
    """Why the certificate the host of ``uri`` shows fails verification (OpenSSL's words, such as
    "IP address mismatch, certificate is not valid for '10.0.0.5'"), or None when it passes here or
    cannot be read (the host does not answer, no CA file)."""
    parts = urlsplit(uri)
    context = ssl.create_default_context()
    try:
        context.load_verify_locations(cafile=ca_file(uri))
    except (OSError, ssl.SSLError):
        return None
    try:
        with socket.create_connection((parts.hostname, parts.port or TLS_PORT), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=parts.hostname):
                return None
    except ssl.SSLCertVerificationError as exc:
        return exc.verify_message
    except (OSError, ValueError):
        return None
