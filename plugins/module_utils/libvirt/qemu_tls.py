# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which of QEMU's x509 files a host lacks for a natively encrypted migration (``VIR_MIGRATE_TLS``).

QEMU reads them from qemu.conf's ``migrate_tls_x509_cert_dir`` (default ``default_tls_x509_cert_dir``,
/etc/pki/qemu): the destination's QEMU is the TLS server, the source's the client. libvirt's errors when
files are missing do not say which host lacks them, and not always that a file is missing at all:
"unable to execute QEMU command 'object-add': Unable to access credentials /etc/pki/qemu/ca-cert.pem"
reads the same from either host, and a source without its client certificate fails later, in the disk
mirror ("Cannot read from TLS channel"). After such a failure the folder is listed on each host, through
libvirt itself (a transient ``dir`` storage pool on it, which reads and changes nothing), to name the host
and the files.
"""

from __future__ import annotations

import uuid
from xml.sax.saxutils import escape

from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client

DEFAULT_DIR = "/etc/pki/qemu"
CA = "ca-cert.pem"
SOURCE_FILES = (CA, "client-cert.pem", "client-key.pem")
DESTINATION_FILES = (CA, "server-cert.pem", "server-key.pem")
# what libvirt's and QEMU's errors of a natively encrypted migration that could not set up TLS contain
FAILURE_WORDS = ("credentials", "TLS")
SETTING = "native_tls needs QEMU's x509 certificates on both hosts (migrate_tls_x509_cert_dir, default %s)" % (
    DEFAULT_DIR)


def may_lack_files(error):
    """Whether libvirt's ``error`` text may come from missing certificates (a migration failed on the network
    keeps its own words)."""
    return any(word in error for word in FAILURE_WORDS)


def files_in(conn, directory=DEFAULT_DIR):
    """The names of the files in ``directory`` on the host of ``conn``; None when it is not there.
    libvirt.libvirtError when the host cannot be asked."""
    libvirt = libvirt_client.libvirt
    xml = "<pool type='dir'><name>vmfleet-tls-probe-%s</name><target><path>%s</path></target></pool>" % (
        uuid.uuid4().hex[:12], escape(directory))
    try:
        pool = conn.storagePoolCreateXML(xml, 0)  # transient: gone when destroyed
    except libvirt.libvirtError as exc:
        if "No such file or directory" in str(exc) or exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_POOL:
            return None
        raise
    try:
        return sorted(pool.listVolumes())
    finally:
        pool.destroy()


def missing(present, needed):
    """The files of ``needed`` that ``present`` (a list of names, or None: no folder) lacks."""
    return list(needed) if present is None else [name for name in needed if name not in present]


def describe(lacking, directory=DEFAULT_DIR):
    """``{host: (role, [files])}`` -> "hv1 (the destination) lacks /etc/pki/qemu/server-key.pem; ...", or None
    when no host lacks anything."""
    parts = ["%s (the %s) lacks %s" % (host, role, ", ".join("%s/%s" % (directory, name) for name in files))
             for host, (role, files) in sorted(lacking.items()) if files]
    return "; ".join(parts) or None


def hint(source, destination):
    """What the two hosts lack, as one sentence for the migration's error, or None when both have every file
    (or a host cannot be asked: the migration's own error then says enough). ``source`` and ``destination``:
    ``(host name, connection)``."""
    libvirt = libvirt_client.libvirt
    lacking = {}
    for (name, conn), role, needed in ((source, "source", SOURCE_FILES), (destination, "destination",
                                                                          DESTINATION_FILES)):
        try:
            lacking[name] = (role, missing(files_in(conn), needed))
        except libvirt.libvirtError:
            continue
    found = describe(lacking)
    return "%s: %s" % (SETTING, found) if found else None
