# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's certificate authority and the certificates it issues, made with openssl.

Files are named as libvirt looks for them in a ``pkipath`` folder (cacert.pem,
servercert.pem, serverkey.pem, clientcert.pem, clientkey.pem), so one folder
can be a host's whole pki. The extensions are the ones libvirt checks
(virnettlscontext.c): a CA with CA:TRUE and keyCertSign; a server certificate
for TLS WWW server use whose subjectAltName holds the name or address the
client connects to; a client certificate for TLS WWW client use.
Standard library only, like lab.py.
"""

import ipaddress
import os
import subprocess
import uuid

CA_CERT = "cacert.pem"
CA_KEY = "cakey.pem"
SERVER = "server"
CLIENT = "client"
# what a certificate of each kind may be used for (openssl's extendedKeyUsage names)
_PURPOSES = {SERVER: "serverAuth", CLIENT: "clientAuth"}
VALID_DAYS = 3650


class PkiError(Exception):
    pass


def cert_path(directory, kind):
    return os.path.join(directory, "%scert.pem" % kind)


def key_path(directory, kind):
    return os.path.join(directory, "%skey.pem" % kind)


def subject_alt_name(name):
    """``IP:10.0.0.1`` for an address, ``DNS:hv1`` for a host name: gnutls matches an address only
    against IP entries."""
    try:
        return "IP:%s" % ipaddress.ip_address(name)
    except ValueError:
        return "DNS:%s" % name


def _openssl(*args):
    result = subprocess.run(["openssl"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, check=False)
    if result.returncode != 0:
        raise PkiError("openssl %s failed (rc=%d): %s" % (args[0], result.returncode, result.stderr.strip()))
    return result.stdout


def _new_key(path):
    _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path + ".tmp")
    os.chmod(path + ".tmp", 0o600)
    os.rename(path + ".tmp", path)


def _config(path, organisation, common_name, extensions):
    """An openssl config with the subject and one ``[ext]`` section, so nothing comes from the machine's
    openssl.cnf."""
    with open(path, "w") as handle:
        handle.write("[req]\nprompt = no\ndistinguished_name = dn\n[dn]\nO = %s\nCN = %s\n[ext]\n%s\n" % (
            organisation, common_name, "\n".join(extensions)))


def ensure_ca(directory, organisation):
    """The CA in ``directory`` (made when missing); returns the CA certificate's path."""
    cert, key = os.path.join(directory, CA_CERT), os.path.join(directory, CA_KEY)
    if os.path.exists(cert) and os.path.exists(key):
        return cert
    os.makedirs(directory, mode=0o700, exist_ok=True)
    _new_key(key)
    config = os.path.join(directory, "ca.cnf")
    _config(config, organisation, "%s CA" % organisation, [
        "basicConstraints = critical, CA:TRUE",
        "keyUsage = critical, keyCertSign, cRLSign",
        "subjectKeyIdentifier = hash",
    ])
    _openssl("req", "-new", "-x509", "-config", config, "-extensions", "ext", "-key", key,
             "-days", str(VALID_DAYS), "-out", cert + ".tmp")
    os.rename(cert + ".tmp", cert)
    return cert


def issue(directory, kind, *, ca_dir, organisation, common_name, names=()):
    """A ``kind`` (SERVER or CLIENT) key and certificate in ``directory``, signed by the CA in ``ca_dir``,
    with ``names`` (addresses or host names) as its subjectAltName; the CA's certificate is copied beside
    them as cacert.pem. Replaces what was there."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    key, cert = key_path(directory, kind), cert_path(directory, kind)
    _new_key(key)
    extensions = [
        "basicConstraints = critical, CA:FALSE",
        "keyUsage = critical, digitalSignature, keyEncipherment",
        "extendedKeyUsage = %s" % _PURPOSES[kind],
    ]
    if names:
        extensions.append("subjectAltName = %s" % ", ".join(subject_alt_name(n) for n in names))
    config = os.path.join(directory, "%s.cnf" % kind)
    _config(config, organisation, common_name, extensions)
    request = os.path.join(directory, "%s.csr" % kind)
    _openssl("req", "-new", "-config", config, "-key", key, "-out", request)
    _openssl("x509", "-req", "-in", request, "-CA", os.path.join(ca_dir, CA_CERT),
             "-CAkey", os.path.join(ca_dir, CA_KEY), "-set_serial", "0x%s" % uuid.uuid4().hex,
             "-days", str(VALID_DAYS), "-extfile", config, "-extensions", "ext", "-out", cert + ".tmp")
    os.rename(cert + ".tmp", cert)
    os.unlink(request)
    with open(os.path.join(ca_dir, CA_CERT)) as source, open(os.path.join(directory, CA_CERT), "w") as target:
        target.write(source.read())
    return cert


def has(directory, kind):
    return os.path.exists(cert_path(directory, kind)) and os.path.exists(key_path(directory, kind))
