# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A multi-host libvirt lab on one machine.

The lab is a small network of hosts, as a fleet is. Each lab host has its own
network namespace with its own address on the lab's network (a veth pair whose
other end is on the lab bridge, where the controller, this machine, has .1),
shaped with `tc` to the link rate the lab sets, and an sshd of its own with a
lab-generated host key that lets root in by the lab's client key only. Inside
that, its own mount namespace bind-mounts its own folders over /etc/libvirt,
/run/libvirt, /var/lib/libvirt, /var/log/libvirt and /var/cache/libvirt. Its
libvirtd, virtlogd, sshd and the QEMU guests it starts all live in both
namespaces. Each has its own host UUID (libvirt refuses to migrate to a daemon
with the source's UUID) and its own `default` storage pool holding a small
base image.

The controller reaches each host as a fleet's controller does:
qemu+ssh://root@ADDRESS/system. `lab up` writes an ssh client block for the
lab's addresses (the lab's key, the lab's known_hosts, strict host key
checking, batch mode) at the top of root's ~/.ssh/config; `lab down` removes
it. Hosts reach each other the same way for peer-to-peer migration, and the
migration data goes to the destination's own address.

With `--transport tls` the controller and the hosts' peer-to-peer migrations
use qemu+tls instead: the lab makes a CA of its own and, for each host, a
server and a client certificate in that host's own /etc/libvirt/pki (its
libvirtd.conf names them: ca_file, cert_file, key_file), and libvirtd listens
for TLS on the host's address. The controller's client certificate is in
$ROOT/pki, named by its URIs (vmfleet_libvirt_uri:
qemu+tls://ADDRESS/system?pkipath=$ROOT/pki), a path only the controller has,
as a laptop's or an AWX container's is: each host mounts an empty folder over
it. The hosts' libvirtd find their own client certificate where libvirt looks
when a URI names no pkipath (/etc/pki/CA/cacert.pem,
/etc/pki/libvirt/clientcert.pem, /etc/pki/libvirt/private/clientkey.pem):
each host mounts its own folder over /etc/pki in its mount namespace (the
machine's /etc/pki gets only the empty mount point), and its peers reach it at
its vmfleet_migration_uri, qemu+tls://ADDRESS/system. The same folder holds
QEMU's certificates, /etc/pki/qemu (ca-cert.pem, server-cert.pem and
server-key.pem for the host's address, client-cert.pem, client-key.pem), for
a migration whose data QEMU encrypts itself (native_tls). With ssh the hosts
have none. The lab's own management (pools, status) stays on ssh.

    lab up [--hosts N] [--link-rate RATE] [--transport ssh|tls]
                         start hv1..hvN (idempotent); write the inventory
    lab cert HOST [--for NAME]
                         re-issue HOST's TLS server certificate (for NAME: a
                         certificate that does not match, for fault tests)
                         and restart its daemons
    lab status           each host, its daemon and its guests
    lab down             destroy the lab's guests, stop its daemons, remove it
    lab inventory        print the inventory path

The capacity the hosts show is what libvirt reports, never a number the lab
declares. State lives under $VMFLEET_LAB_ROOT (default /var/lib/vmfleet-lab).

Several labs can run on one machine side by side (one per developer or test
run): $VMFLEET_LAB_INSTANCE (0 to 9, default 0) gives a lab its own subnet
(10.(100+N).0.0/24), bridge, namespace names (vmfleet-N-hvK), migration port
ranges and default root /var/lib/vmfleet-lab-N.
Needs root, ip/tc (iproute2), openssh-server, openssl (--transport tls) and
Debian's libvirt-daemon, libvirt-daemon-driver-qemu, libvirt-clients,
qemu-system-x86 and qemu-utils (`make deps` installs them).
"""

import argparse
import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab_pki  # noqa: E402  pylint: disable=wrong-import-position


def lab_instance():
    value = os.environ.get("VMFLEET_LAB_INSTANCE", "0")
    if not value.isdigit() or int(value) > 9:
        raise SystemExit("lab: VMFLEET_LAB_INSTANCE must be a number from 0 to 9, not %r" % value)
    return int(value)


INSTANCE = lab_instance()
ROOT = os.environ.get("VMFLEET_LAB_ROOT") or (
    "/var/lib/vmfleet-lab" + ("-%d" % INSTANCE if INSTANCE else ""))
# The lab's network: 10.(100+N).0.0/24 for instance N. The controller (this
# machine, on the lab bridge) has .1; host hvK has .(10+K).
SUBNET_PREFIX = "10.%d.0" % (100 + INSTANCE)
SUBNET_BITS = 24
CONTROLLER_ADDRESS = SUBNET_PREFIX + ".1"
# hvN's QEMU migration ports: MIGRATION_PORT_BASE + 100 * N, 64 of them. Each host
# has an address of its own now, but distinct ranges keep a port in a message
# naming one host only.
MIGRATION_PORT_BASE = 49152 + 1000 * INSTANCE
MIGRATION_PORTS = 64
# What `lab up` shapes each host's link to unless told otherwise: a datacentre
# link of 1 Gbit/s, which moves the lab's 128 MiB guests in about a second.
DEFAULT_LINK_RATE = "1gbit"
# Root's ssh client configuration, where `lab up` puts the block for its addresses.
SSH_CLIENT_CONFIG = os.path.expanduser("~root/.ssh/config")
SSHD = "/usr/sbin/sshd"
LAB_UUID_NAMESPACE = uuid.UUID("6f1b2a52-3c1d-4c0e-9a43-6d1f0c7a1ab0")
# One bridge for the whole lab, as the hosts of a fleet share a network segment:
# each host's veth is a port of it, and the controller's address is on it.
BRIDGE = "vmfleet%d" % INSTANCE
# Inside each host, its link is a port of the host's own bridge, which carries the
# host's address and its guests (libvirt network NETWORK forwards onto it), as a
# hypervisor's br0 does.
HOST_BRIDGE = "br0"
HOST_LINK = "eth0"
NETWORK = "vmfleet"
# A second storage tier whose folder differs per host (as mount points do in a
# real fleet), so moving a disk between hosts must re-point it at the base image.
FAST_POOL = "fast"
BASE_IMAGE = "vmfleet-tiny-base.qcow2"
BASE_IMAGE_MB = 64

# The namespace hides these system folders behind the host's own copies.
BIND_MOUNTS = (
    ("etc", "/etc/libvirt"),
    ("run", "/run/libvirt"),
    ("lib", "/var/lib/libvirt"),
    ("log", "/var/log/libvirt"),
    ("cache", "/var/cache/libvirt"),
)
REQUIRED_COMMANDS = ("ip", "tc", "libvirtd", "virtlogd", "virsh", "qemu-img", "unshare", "nsenter", "mount",
                     "sshd", "ssh", "ssh-keygen")
# How the controller, and each host for its peer-to-peer migrations, reach a host's libvirtd.
SSH, TLS = "ssh", "tls"
TRANSPORTS = (SSH, TLS)
DEFAULT_TRANSPORT = SSH
# libvirtd's TLS port; each host listens on its own address, in its own namespace.
TLS_PORT = 16514
# A host's own pki folder as the host sees it (under its /etc/libvirt): what its libvirtd.conf names.
HOST_PKI = "/etc/libvirt/pki"
# Where libvirt looks for root's client certificate when a URI names no pkipath (libvirt's TLS docs), under
# DEFAULT_PKI: each host's own copies of its HOST_PKI files, mounted there in its mount namespace.
DEFAULT_PKI = "/etc/pki"
DEFAULT_CLIENT_FILES = (
    ("CA/cacert.pem", lab_pki.CA_CERT),
    ("libvirt/clientcert.pem", os.path.basename(lab_pki.cert_path("", lab_pki.CLIENT))),
    ("libvirt/private/clientkey.pem", os.path.basename(lab_pki.key_path("", lab_pki.CLIENT))),
)
# QEMU's own x509 folder under DEFAULT_PKI (qemu.conf's default_tls_x509_cert_dir, which migrate_tls_x509_cert_dir
# defaults to), for native TLS of the migration data: the host's server certificate (a destination's QEMU shows
# it for the host's address), its client certificate (a source's QEMU shows it) and the lab CA, in QEMU's names.
QEMU_TLS_FILES = (
    ("qemu/ca-cert.pem", lab_pki.CA_CERT),
    ("qemu/server-cert.pem", os.path.basename(lab_pki.cert_path("", lab_pki.SERVER))),
    ("qemu/server-key.pem", os.path.basename(lab_pki.key_path("", lab_pki.SERVER))),
    ("qemu/client-cert.pem", os.path.basename(lab_pki.cert_path("", lab_pki.CLIENT))),
    ("qemu/client-key.pem", os.path.basename(lab_pki.key_path("", lab_pki.CLIENT))),
)


class LabError(Exception):
    pass


def host_names(count):
    return ["hv%d" % i for i in range(1, count + 1)]


def host_index(name):
    return int(name[2:])


def host_dir(name):
    return os.path.join(ROOT, name)


def in_chroot():
    """Whether the lab runs in a chroot: tools/fresh-check says so (VMFLEET_LAB_CHROOT=1), as a process
    in a chroot cannot always tell (reading /proc/1/root is refused in containers)."""
    return os.environ.get("VMFLEET_LAB_CHROOT") == "1"


def host_address(name):
    return "%s.%d" % (SUBNET_PREFIX, 10 + host_index(name))


def host_uri(name):
    """As a fleet's controller names a host: the ssh client block supplies key and known hosts.
    The lab's own management (pools, status) always uses it, whatever the transport."""
    return "qemu+ssh://root@%s/system" % host_address(name)


def transport_uri(name, transport):
    """The controller's URI for ``name`` (``vmfleet_libvirt_uri``) with ``transport``: with TLS, its client
    certificate is the one in ``pkipath``, a folder only the controller has."""
    if transport == TLS:
        return "qemu+tls://%s/system?pkipath=%s" % (host_address(name), client_pki_dir())
    return host_uri(name)


def peer_uri(name, transport):
    """Where the other hosts' libvirtd reach ``name``'s for a peer-to-peer migration
    (``vmfleet_migration_uri``); None when that is the controller's URI (ssh: the hosts have the lab's key
    and known hosts too). With TLS, no pkipath: each host's libvirtd uses the client certificate at libvirt's
    default paths, its own (DEFAULT_PKI)."""
    if transport == TLS:
        return "qemu+tls://%s/system" % host_address(name)
    return None


def ca_dir():
    """The lab's certificate authority: its key stays on the controller."""
    return os.path.join(ROOT, "pki-ca")


def client_pki_dir():
    """The controller's pkipath (the lab CA, its client certificate); hidden from the hosts."""
    return os.path.join(ROOT, "pki")


def host_pki_dir(name):
    """``name``'s pki folder as the controller sees it; HOST_PKI inside the host."""
    return os.path.join(host_dir(name), "etc", "pki")


def host_default_pki_dir(name):
    """``name``'s client certificate in libvirt's default layout, as the controller sees it; DEFAULT_PKI
    inside the host."""
    return os.path.join(host_dir(name), "etc-pki")


def pki_organisation():
    return "vmfleet lab %d" % INSTANCE


def netns_name(name):
    return "vmfleet-%d-%s" % (INSTANCE, name)


def veth_name(name):
    """The controller's end of a host's link, on the lab bridge (at most 15 characters)."""
    return "vf%d-%s" % (INSTANCE, name)


def ssh_dir():
    return os.path.join(ROOT, "ssh")


def client_key():
    return os.path.join(ssh_dir(), "id_ed25519")


def known_hosts_path():
    return os.path.join(ssh_dir(), "known_hosts")


_RATE_UNITS = {"bit": 1, "kbit": 10 ** 3, "mbit": 10 ** 6, "gbit": 10 ** 9}


def link_rate_bits(rate):
    """``1gbit``, ``200mbit``, ``500kbit`` (tc's units) -> bits per second; anything else is refused."""
    text = str(rate).strip().lower()
    for unit in sorted(_RATE_UNITS, key=len, reverse=True):
        number = text[:-len(unit)]
        if text.endswith(unit) and number.replace(".", "", 1).isdigit() and float(number) > 0:
            return int(float(number) * _RATE_UNITS[unit])
    raise LabError("--link-rate %r: give a positive number with kbit, mbit or gbit, such as 1gbit" % rate)


def tbf_arguments(rate):
    """tc tbf arguments for ``rate``: the bucket holds 10 ms of traffic (at least 64 KiB),
    so the shaping is smooth and still above the kernel's per-tick minimum."""
    bits = link_rate_bits(rate)
    burst = max(bits // 8 // 100, 64 * 1024)
    return ["tbf", "rate", "%dbit" % bits, "burst", str(burst), "latency", "50ms"]


def existing_hosts():
    if not os.path.isdir(ROOT):
        return []
    names = [n for n in os.listdir(ROOT) if n.startswith("hv") and n[2:].isdigit()]
    return sorted(names, key=host_index)


# --- processes -------------------------------------------------------------

def read_pid(path):
    try:
        with open(path) as handle:
            return int(handle.read().strip() or 0) or None
    except (OSError, ValueError):
        return None


def pid_alive(pid):
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except OSError as err:
        return err.errno == errno.EPERM
    return True


def pid_is(pid, program):
    """True when ``pid`` runs ``program``: a recycled pid is never killed."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            argv0 = handle.read().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return False
    return os.path.basename(argv0) == program or program in argv0


def stop_pid(pid, program, timeout=15):
    if not pid or not pid_alive(pid) or not pid_is(pid, program):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not pid_alive(pid) or not pid_is(pid, program):
            return True
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)
    return True


def port_open(address, port):
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((address, port)) == 0


def run(argv, check=True, **kwargs):
    result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, check=False, **kwargs)
    if check and result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        raise LabError("%s failed (rc=%d): %s" % (" ".join(argv), result.returncode, output))
    return result


def virsh(name, *args, check=True):
    return run(["virsh", "-q", "-c", host_uri(name)] + list(args), check=check)


# --- prerequisites ---------------------------------------------------------

def check_prerequisites():
    if os.geteuid() != 0:
        raise LabError("the lab needs root (it mounts folders and starts libvirtd)")
    missing = [c for c in REQUIRED_COMMANDS if shutil.which(c) is None
               and not os.path.exists(os.path.join("/usr/sbin", c))]
    if missing:
        raise LabError("missing commands: %s; run `make deps` (Debian packages libvirt-daemon "
                       "libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils)"
                       % ", ".join(missing))
    ensure_qemu_user()


def ensure_qemu_user():
    # The QEMU driver resolves its compiled-in default user before it reads
    # qemu.conf and refuses to load when that user does not exist.
    if run(["getent", "group", "libvirt-qemu"], check=False).returncode != 0:
        run(["groupadd", "--system", "libvirt-qemu"])
    if run(["getent", "passwd", "libvirt-qemu"], check=False).returncode != 0:
        run(["useradd", "--system", "--no-create-home", "--home-dir", "/var/lib/libvirt",
             "--shell", "/usr/sbin/nologin", "-g", "libvirt-qemu", "libvirt-qemu"])


def kvm_usable():
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
    except OSError:
        return False
    os.close(fd)
    return True


# --- one host --------------------------------------------------------------

def listen_settings(name, transport):
    """libvirtd.conf lines for how ``name`` is reached: over ssh, only its UNIX socket (virt-ssh-helper
    talks to it); over TLS, also its address, with the host's own certificates."""
    if transport != TLS:
        return ['listen_tls = 0', 'listen_tcp = 0']
    return [
        'listen_tls = 1',
        'listen_tcp = 0',
        'listen_addr = "%s"' % host_address(name),
        'tls_port = "%d"' % TLS_PORT,
        # the host's own files, not the machine's /etc/pki the hosts would share
        'ca_file = "%s"' % os.path.join(HOST_PKI, lab_pki.CA_CERT),
        'cert_file = "%s"' % lab_pki.cert_path(HOST_PKI, lab_pki.SERVER),
        'key_file = "%s"' % lab_pki.key_path(HOST_PKI, lab_pki.SERVER),
        # a client must show a certificate the lab's CA signed (libvirt's default, kept visible)
        'tls_no_verify_certificate = 0',
        # the certificate is the credential, as the lab's key is over ssh: no SASL on top
        'auth_tls = "none"',
    ]


def write_config(name, transport=DEFAULT_TRANSPORT):
    index = host_index(name)
    etc = os.path.join(host_dir(name), "etc")
    host_uuid = uuid.uuid5(LAB_UUID_NAMESPACE, name)
    libvirtd_conf = "\n".join([
        "# lab host %s: written by lab/lab" % name,
    ] + listen_settings(name, transport) + [
        'auth_unix_rw = "none"',
        # Migration refuses a destination whose host UUID equals the source's.
        'host_uuid = "%s"' % host_uuid,
        'log_outputs = "3:file:/var/log/libvirt/libvirtd.log"',
        "",
    ])
    migration_min = MIGRATION_PORT_BASE + 100 * index
    qemu_conf = "\n".join([
        "# lab host %s: written by lab/lab" % name,
        'user = "root"',
        'group = "root"',
        # Two destinations on one machine must never pick the same port.
        "migration_port_min = %d" % migration_min,
        "migration_port_max = %d" % (migration_min + MIGRATION_PORTS - 1),
        # A source's connection to a peer that went silent (its link cut) is given
        # up after 5 unanswered keepalives 5 s apart (libvirt's defaults, kept
        # visible here), which aborts the migration.
        "keepalive_interval = 5",
        "keepalive_count = 5",
    ] + ([
        # Inside a chroot (tools/fresh-check) libvirt cannot build a guest's private /dev:
        # QEMU then finds neither /dev/kvm nor a PTY. A booted machine keeps the default.
        "namespaces = []",
    ] if in_chroot() else []) + [
        "",
    ])
    os.makedirs(etc, exist_ok=True)
    with open(os.path.join(etc, "libvirtd.conf"), "w") as handle:
        handle.write(libvirtd_conf)
    with open(os.path.join(etc, "qemu.conf"), "w") as handle:
        handle.write(qemu_conf)


def running_transport(name):
    """The transport ``name``'s libvirtd was configured for when it was last started."""
    try:
        with open(os.path.join(host_dir(name), "etc", "libvirtd.conf")) as handle:
            return TLS if "listen_tls = 1\n" in handle.read() else SSH
    except OSError:
        return None


def ensure_pki(names):
    """The lab's CA, the controller's client certificate, and each host's server certificate (for its
    address) and client certificate (for its peer-to-peer migrations); made once, kept across `lab up`."""
    organisation = pki_organisation()
    lab_pki.ensure_ca(ca_dir(), organisation)
    if not lab_pki.has(client_pki_dir(), lab_pki.CLIENT):
        lab_pki.issue(client_pki_dir(), lab_pki.CLIENT, ca_dir=ca_dir(), organisation=organisation,
                      common_name="controller")
    for name in names:
        if not lab_pki.has(host_pki_dir(name), lab_pki.SERVER):
            issue_server_certificate(name)
        if not lab_pki.has(host_pki_dir(name), lab_pki.CLIENT):
            lab_pki.issue(host_pki_dir(name), lab_pki.CLIENT, ca_dir=ca_dir(), organisation=organisation,
                          common_name=name)
        install_default_pki(name)


def install_default_pki(name):
    """Copies of ``name``'s CA, client certificate and key where libvirt looks by default, and of its CA,
    server and client certificates where QEMU looks (QEMU_TLS_FILES), in the folder the host mounts at
    DEFAULT_PKI (copied each time, so they follow a re-issued certificate)."""
    for relative, flat in DEFAULT_CLIENT_FILES + QEMU_TLS_FILES:
        target = os.path.join(host_default_pki_dir(name), relative)
        os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
        shutil.copyfile(os.path.join(host_pki_dir(name), flat), target + ".tmp")
        os.chmod(target + ".tmp", 0o600)
        os.rename(target + ".tmp", target)


def issue_server_certificate(name, issued_for=None):
    """``name``'s server certificate, for its own address (and name), or for ``issued_for`` alone."""
    names = [issued_for] if issued_for else [host_address(name), name]
    lab_pki.issue(host_pki_dir(name), lab_pki.SERVER, ca_dir=ca_dir(), organisation=pki_organisation(),
                  common_name=names[0], names=names)


def host_running(name):
    root = host_dir(name)
    daemons = (("libvirtd.pid", "libvirtd"), ("sshd.pid", "sshd"))
    return all(pid_alive(read_pid(os.path.join(root, pid_file)))
               and pid_is(read_pid(os.path.join(root, pid_file)), program) for pid_file, program in daemons)


def link_exists(device, netns=None):
    argv = ["ip"] + (["-n", netns] if netns else []) + ["link", "show", device]
    return subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode == 0


def ensure_link(name, rate):
    """The host's network namespace, its link to the lab bridge, its bridge and address, shaped to ``rate``."""
    netns, veth = netns_name(name), veth_name(name)
    if netns not in run(["ip", "netns", "list"]).stdout.split():
        run(["ip", "netns", "add", netns])
    if not link_exists(veth):
        run(["ip", "link", "add", veth, "type", "veth", "peer", "name", HOST_LINK, "netns", netns])
    run(["ip", "link", "set", veth, "master", BRIDGE, "up"])
    inside = ["ip", "-n", netns]
    run(inside + ["link", "set", "lo", "up"])
    if not link_exists(HOST_BRIDGE, netns):
        run(inside + ["link", "add", HOST_BRIDGE, "type", "bridge"])
    run(inside + ["link", "set", HOST_LINK, "master", HOST_BRIDGE, "up"])
    run(inside + ["link", "set", HOST_BRIDGE, "up"])
    run(inside + ["addr", "replace", "%s/%d" % (host_address(name), SUBNET_BITS), "dev", HOST_BRIDGE])
    # A peer whose link is cut answers nothing, not even a reset. With Linux's default (15 retries,
    # about 15 minutes) a QEMU blocked sending migration data to it also blocks its monitor, and
    # with it libvirt's cancel of the migration, that long; 6 retries give up after about 25 s, as
    # clusters that must notice a dead peer tune it. Per namespace: the controller keeps its own.
    run(["ip", "netns", "exec", netns, "sysctl", "-q", "-w", "net.ipv4.tcp_retries2=6"])
    # Both directions: what the host sends leaves through its eth0, what it
    # receives leaves the lab bridge through the controller's end of the pair.
    run(["tc", "qdisc", "replace", "dev", veth, "root"] + tbf_arguments(rate))
    run(["tc", "-n", netns, "qdisc", "replace", "dev", HOST_LINK, "root"] + tbf_arguments(rate))


def ensure_client_key():
    os.makedirs(ssh_dir(), mode=0o700, exist_ok=True)
    if not os.path.exists(client_key()):
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "vmfleet-lab-%d controller" % INSTANCE,
             "-f", client_key()])


def ensure_host_key(name):
    sshd_dir = os.path.join(host_dir(name), "sshd")
    os.makedirs(sshd_dir, mode=0o700, exist_ok=True)
    key = os.path.join(sshd_dir, "ssh_host_ed25519_key")
    if not os.path.exists(key):
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "vmfleet-lab-%d %s" % (INSTANCE, name),
             "-f", key])
    with open(client_key() + ".pub") as handle:
        authorized = handle.read()
    with open(os.path.join(sshd_dir, "authorized_keys"), "w") as handle:
        handle.write(authorized)


def write_known_hosts(names):
    lines = []
    for name in names:
        with open(os.path.join(host_dir(name), "sshd", "ssh_host_ed25519_key.pub")) as handle:
            key_type, key = handle.read().split()[:2]
        lines.append("%s %s %s\n" % (host_address(name), key_type, key))
    with open(known_hosts_path() + ".tmp", "w") as handle:
        handle.writelines(lines)
    os.rename(known_hosts_path() + ".tmp", known_hosts_path())


def ssh_config_markers():
    return ("# vmfleet-lab-%d begin: written by lab/lab up, removed by lab/lab down" % INSTANCE,
            "# vmfleet-lab-%d end" % INSTANCE)


def ssh_client_block():
    begin, end = ssh_config_markers()
    return "\n".join([
        begin,
        "Host %s.*" % SUBNET_PREFIX,
        "    User root",
        "    IdentityFile %s" % client_key(),
        "    IdentitiesOnly yes",
        "    UserKnownHostsFile %s" % known_hosts_path(),
        "    StrictHostKeyChecking yes",
        # Never a prompt: a refused key or a changed host key is an error at once.
        "    BatchMode yes",
        # Generous: on a 2-core machine under load, a host's sshd was seen silent for over 15 s.
        "    ConnectTimeout 30",
        # A cut link ends the session in about a minute instead of TCP's many minutes.
        "    ServerAliveInterval 10",
        "    ServerAliveCountMax 6",
        end,
        "",
    ])


def without_block(text):
    begin, end = ssh_config_markers()
    lines, kept, inside = text.splitlines(keepends=True), [], False
    for line in lines:
        if line.rstrip("\n") == begin:
            inside = True
        elif inside and line.rstrip("\n") == end:
            inside = False
        elif not inside:
            kept.append(line)
    return "".join(kept)


def set_ssh_client_block(present):
    """Put the lab's block first in root's ssh config (ssh takes the first value it
    finds for an option) or take it out; the rest of the file is left as it was."""
    try:
        with open(SSH_CLIENT_CONFIG) as handle:
            text = handle.read()
    except FileNotFoundError:
        if not present:
            return
        text = ""
    text = without_block(text)
    if present:
        text = ssh_client_block() + text
    os.makedirs(os.path.dirname(SSH_CLIENT_CONFIG), mode=0o700, exist_ok=True)
    with open(SSH_CLIENT_CONFIG + ".vmfleet-lab-%d.tmp" % INSTANCE, "w") as handle:
        handle.write(text)
    os.chmod(handle.name, 0o600)
    os.rename(handle.name, SSH_CLIENT_CONFIG)


def write_sshd_config(name):
    sshd_dir = os.path.join(host_dir(name), "sshd")
    config = "\n".join([
        "# lab host %s: written by lab/lab" % name,
        "ListenAddress %s" % host_address(name),
        "HostKey %s" % os.path.join(sshd_dir, "ssh_host_ed25519_key"),
        "PidFile %s" % os.path.join(host_dir(name), "sshd.pid"),
        "AuthorizedKeysFile %s" % os.path.join(sshd_dir, "authorized_keys"),
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "PrintMotd no",
        # Parallel playbooks open many sessions at once; sshd's default (10) drops some.
        "MaxStartups 100:30:200",
        # Ansible's ssh connection copies modules over sftp.
        "Subsystem sftp internal-sftp",
        "",
    ])
    path = os.path.join(sshd_dir, "sshd_config")
    with open(path, "w") as handle:
        handle.write(config)
    return path


def start_host(name, transport=DEFAULT_TRANSPORT):
    root = host_dir(name)
    for sub, _target in BIND_MOUNTS:
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    os.makedirs(os.path.join(root, "lib", "images"), exist_ok=True)
    os.makedirs(os.path.join(root, "vmfleet"), exist_ok=True)   # the collection's state folder
    for _sub, target in BIND_MOUNTS:
        os.makedirs(target, exist_ok=True)
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)         # sshd's privilege separation folder
    write_config(name, transport)
    sshd_config = write_sshd_config(name)
    # A half-started host (libvirtd or sshd failed after others started) leaves
    # daemons behind: stop them, or the retry would start second ones.
    for pid_file, program in (("sshd.pid", "sshd"), ("libvirtd.pid", "libvirtd"), ("virtlogd.pid", "virtlogd")):
        stop_pid(read_pid(os.path.join(root, pid_file)), program)
    binds = [(os.path.join(root, sub), target) for sub, target in BIND_MOUNTS]
    hide = []
    if transport == TLS:
        # the host's own client certificate where libvirt looks when its peers' URIs name no pkipath
        os.makedirs(DEFAULT_PKI, exist_ok=True)
        binds.append((host_default_pki_dir(name), DEFAULT_PKI))
        # the controller's pkipath is not on a fleet's hosts: a migration that dialled the controller's URI
        # (vmfleet_libvirt_uri) from a host must fail here as it would there
        hide.append("mount -t tmpfs -o size=16k,mode=0700 vmfleet-controller-only %s" % client_pki_dir())
    mounts = " && ".join(["mount --bind %s %s" % bind for bind in binds] + hide)
    listen = " --listen" if transport == TLS else ""
    # libvirtd's and virtlogd's default pid files are in /run itself, outside
    # the bind mounts, where a second daemon could not take them. sshd starts in
    # the same namespaces, so a session sees the host's /run/libvirt.
    script = "%s && virtlogd -d -p %s && libvirtd -d%s -p %s -f /etc/libvirt/libvirtd.conf && %s -f %s" % (
        mounts, os.path.join(root, "virtlogd.pid"), listen, os.path.join(root, "libvirtd.pid"), SSHD, sshd_config)
    run(["ip", "netns", "exec", netns_name(name), "unshare", "-m", "--propagation", "private", "sh", "-c", script])
    deadline = time.time() + 30
    while time.time() < deadline:
        if (port_open(host_address(name), 22) and (transport != TLS or port_open(host_address(name), TLS_PORT))
                and virsh(name, "uri", check=False).returncode == 0):
            return
        time.sleep(0.3)
    raise LabError("%s: libvirtd did not answer at %s within 30 s: %s; see %s" % (
        name, host_uri(name), virsh(name, "uri", check=False).stderr.strip(),
        os.path.join(root, "log", "libvirtd.log")))


def ensure_base_image():
    """A small qcow2 with known content: enough to check that disks survive moves."""
    source = os.path.join(ROOT, "images", BASE_IMAGE)
    if os.path.exists(source):
        return source
    os.makedirs(os.path.dirname(source), exist_ok=True)
    raw = source + ".raw"
    with open(raw, "wb") as handle:
        pattern = b"vmfleet lab base image\n" * 45590  # about 1 MiB of recognisable data
        handle.write(pattern)
        handle.truncate(BASE_IMAGE_MB * 1024 * 1024)
    run(["qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", raw, source + ".tmp"])
    os.rename(source + ".tmp", source)
    os.unlink(raw)
    return source


def fast_pool_path(name):
    return "/var/lib/libvirt/fast-%s" % name


def ensure_pools(name, base_image):
    for pool, path in (("default", "/var/lib/libvirt/images"), (FAST_POOL, fast_pool_path(name))):
        if virsh(name, "pool-info", pool, check=False).returncode != 0:
            virsh(name, "pool-define-as", pool, "dir", "--target", path)
            virsh(name, "pool-build", pool)
        if "running" not in virsh(name, "pool-info", pool).stdout:
            virsh(name, "pool-start", pool)
        virsh(name, "pool-autostart", pool)
    target = os.path.join(host_dir(name), "lib", "images", BASE_IMAGE)
    if not os.path.exists(target):
        shutil.copyfile(base_image, target + ".tmp")
        os.rename(target + ".tmp", target)
    virsh(name, "pool-refresh", "default")


def ensure_bridge():
    if subprocess.run(["ip", "link", "show", BRIDGE], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL, check=False).returncode != 0:
        run(["ip", "link", "add", BRIDGE, "type", "bridge"])
    run(["ip", "link", "set", BRIDGE, "up"])
    run(["ip", "addr", "replace", "%s/%d" % (CONTROLLER_ADDRESS, SUBNET_BITS), "dev", BRIDGE])


def ensure_network(name):
    if virsh(name, "net-info", NETWORK, check=False).returncode != 0:
        xml = os.path.join(host_dir(name), "network-%s.xml" % NETWORK)
        with open(xml, "w") as handle:
            handle.write("<network><name>%s</name><forward mode='bridge'/><bridge name='%s'/></network>\n"
                         % (NETWORK, HOST_BRIDGE))
        virsh(name, "net-define", xml)
    if "Active:         yes" not in virsh(name, "net-info", NETWORK).stdout:
        virsh(name, "net-start", NETWORK)
    virsh(name, "net-autostart", NETWORK)


def stop_host(name):
    root = host_dir(name)
    if host_running(name):
        for guest in virsh(name, "list", "--all", "--name", check=False).stdout.split():
            virsh(name, "destroy", guest, check=False)
            virsh(name, "undefine", guest, "--nvram", "--managed-save", "--snapshots-metadata",
                  check=False)
    # QEMU processes outlive a stopped daemon: stop the ones this host started.
    qemu_run = os.path.join(root, "run", "qemu")
    if os.path.isdir(qemu_run):
        for entry in os.listdir(qemu_run):
            if entry.endswith(".pid"):
                stop_pid(read_pid(os.path.join(qemu_run, entry)), "qemu-system")
    stop_pid(read_pid(os.path.join(root, "sshd.pid")), "sshd")
    stop_pid(read_pid(os.path.join(root, "libvirtd.pid")), "libvirtd")
    stop_pid(read_pid(os.path.join(root, "virtlogd.pid")), "virtlogd")
    # Deleting the namespace deletes the host's end of the veth pair, and with it the pair.
    subprocess.run(["ip", "netns", "del", netns_name(name)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False)
    shutil.rmtree(root, ignore_errors=True)


# --- inventory -------------------------------------------------------------

def inventory_path():
    return os.path.join(ROOT, "inventory.yml")


# What `make demo` places and resizes on the lab (playbooks/site.yml reads these
# variables; a fleet's inventory sets its own, or none).
_PINNED = {"hw:cpu_policy": "dedicated", "hw:numa_nodes": "1"}
DEMO_INSTANCES = [
    {"name": "demo-db1", "flavor": {"name": "db.pinned", "vcpus": 1, "memory_mb": 128, "root_gb": 1,
                                    "extra_specs": _PINNED},
     "image": {"name": BASE_IMAGE}, "networks": [{"network": NETWORK}],
     "hints": {"group": {"name": "demo-db", "policy": "anti-affinity"}}},
    {"name": "demo-db2", "flavor": {"name": "db.pinned", "vcpus": 1, "memory_mb": 128, "root_gb": 1,
                                    "extra_specs": _PINNED},
     "image": {"name": BASE_IMAGE}, "networks": [{"network": NETWORK}],
     "hints": {"group": {"name": "demo-db", "policy": "anti-affinity"}}},
    {"name": "demo-web1", "flavor": {"name": "web.small", "vcpus": 1, "memory_mb": 128, "root_gb": 1,
                                     "extra_specs": {"vmfleet:disk_tier": "ssd"}},
     "image": {"name": BASE_IMAGE}, "networks": [{"network": NETWORK}]},
    {"name": "demo-web2", "flavor": {"name": "web.numa", "vcpus": 1, "memory_mb": 128, "root_gb": 1,
                                     "extra_specs": {"hw:numa_nodes": "1"}},
     "image": {"name": BASE_IMAGE}, "networks": [{"network": NETWORK}]},
]
# The demo then drains this host: its guests (pinned ones re-pinned) go live to the others.
DEMO_DRAIN_HOSTS = ["hv2"]

DEMO_RESIZES = [
    {"name": "demo-web1", "flavor": {"name": "web.medium", "vcpus": 2, "memory_mb": 192, "root_gb": 2,
                                     "extra_specs": {"vmfleet:disk_tier": "ssd"}}},
]


def write_inventory(names, virt_type, link_rate=DEFAULT_LINK_RATE, transport=DEFAULT_TRANSPORT):
    # JSON is YAML: no YAML library needed before the venv exists.
    hosts = {}
    for name in names:
        hosts[name] = {
            # the controller's URI for the host (and, without vmfleet_migration_uri, its peers')
            "vmfleet_libvirt_uri": transport_uri(name, transport),
            # live migration data goes to the host's own address, over its shaped link
            "vmfleet_migration_address": host_address(name),
            # the lab's own facts: where this host's files are seen from the controller
            # (the tests look at disks there), its network namespace, its link
            "vmfleet_lab_dir": host_dir(name),
            "vmfleet_lab_netns": netns_name(name),
            "vmfleet_lab_link": veth_name(name),
            "vmfleet_lab_virt_type": virt_type,
            "vmfleet_lab_base_image": "/var/lib/libvirt/images/" + BASE_IMAGE,
            "vmfleet_instance_pools": ["default", FAST_POOL],
            "vmfleet_disk_tiers": {"hdd": "default", "ssd": FAST_POOL},
        }
        if peer_uri(name, transport):
            # the peers' URI for migrations to the host: their own certificates, not the controller's pkipath
            hosts[name]["vmfleet_migration_uri"] = peer_uri(name, transport)
    inventory = {
        "all": {
            "children": {
                "hypervisors": {
                    "hosts": hosts,
                    "vars": {
                        "vmfleet_network": NETWORK,
                        # every host's link is shaped to this rate, both ways (tc tbf)
                        "vmfleet_lab_link_rate": link_rate,
                        "vmfleet_lab_link_bits_per_s": link_rate_bits(link_rate),
                        # how the controller and the hosts' migrations reach a host: ssh or tls
                        "vmfleet_lab_transport": transport,
                        # the fleet state store of the lab: a SQLite file beside its hosts, gone with them
                        "vmfleet_state_url": "sqlite://" + os.path.join(ROOT, "state.db"),
                        "vmfleet_instances": DEMO_INSTANCES,
                        "vmfleet_resizes": DEMO_RESIZES,
                        "vmfleet_drain_hosts": DEMO_DRAIN_HOSTS,
                        "vmfleet_drain_uncordon": True,
                        # the lab's guests have no OS to answer an ACPI shutdown: power off at once
                        "vmfleet_shutdown_timeout": 0,
                        # QEMU 7.2 under nested KVM here aborts with host-model and
                        # host-passthrough (MSR 0x10a); a named model works everywhere.
                        "vmfleet_cpu_mode": "custom",
                        "vmfleet_cpu_models": ["kvm64"],
                        # Fleet-wide modules run on the controller and reach each
                        # host through its qemu+ssh:// URI (the README's fleet).
                        "ansible_connection": "local",
                        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                    },
                }
            }
        }
    }
    with open(inventory_path() + ".tmp", "w") as handle:
        handle.write("# written by lab/lab up: the lab's hosts\n")
        json.dump(inventory, handle, indent=2)
        handle.write("\n")
    os.rename(inventory_path() + ".tmp", inventory_path())


def recorded(variable):
    """A group variable of the lab's inventory (vmfleet_lab_link_rate ...), or None when there is no lab."""
    try:
        with open(inventory_path()) as handle:
            inventory = json.loads(handle.read().split("\n", 1)[1])
    except (OSError, ValueError, IndexError):
        return None
    return inventory["all"]["children"]["hypervisors"]["vars"].get(variable)


def recorded_link_rate():
    """The link rate the lab's inventory records, or None when there is no lab."""
    return recorded("vmfleet_lab_link_rate")


# --- commands --------------------------------------------------------------

def cmd_up(args):
    check_prerequisites()
    # `lab up` on a running lab (after `lab crash`, say) keeps the rate it was started with
    args.link_rate = args.link_rate or recorded_link_rate() or DEFAULT_LINK_RATE
    link_rate_bits(args.link_rate)     # a bad rate is refused before anything changes
    args.transport = args.transport or recorded("vmfleet_lab_transport") or DEFAULT_TRANSPORT
    if args.transport == TLS and shutil.which("openssl") is None:
        raise LabError("--transport tls needs openssl (Debian package openssl); run `make deps`")
    names = host_names(args.hosts)
    for extra in [n for n in existing_hosts() if n not in names]:
        print("%s: not part of a %d-host lab, stopping it" % (extra, args.hosts))
        stop_host(extra)
    base_image = ensure_base_image()
    virt_type = "kvm" if kvm_usable() else "qemu"
    ensure_bridge()
    ensure_client_key()
    for name in names:
        ensure_host_key(name)
    write_known_hosts(names)
    set_ssh_client_block(True)
    if args.transport == TLS:
        ensure_pki(names)
    for name in names:
        ensure_link(name, args.link_rate)
        uri = transport_uri(name, args.transport)
        if host_running(name) and running_transport(name) == args.transport:
            print("%s: already running at %s" % (name, uri))
        else:
            # a host switching transport restarts its daemons; its guests' QEMU processes run on
            start_host(name, args.transport)
            print("%s: started at %s" % (name, uri))
        ensure_pools(name, base_image)
        ensure_network(name)
        if args.transport == TLS:
            check_tls(name)
    if args.transport == TLS:
        for name, peer in zip(names, names[1:] + names[:1]):
            if peer != name:
                check_peer_tls(name, peer)
    write_inventory(names, virt_type, args.link_rate, args.transport)
    print("guests run under %s; inventory: %s" % (
        "KVM" if virt_type == "kvm" else "TCG (no usable /dev/kvm)", inventory_path()))
    return 0


def check_tls(name):
    """The controller reaches ``name`` over qemu+tls, as the inventory will say."""
    answer = run(["virsh", "-q", "-c", transport_uri(name, TLS), "uri"], check=False)
    if answer.returncode != 0:
        raise LabError("%s: libvirtd does not answer at %s: %s; see %s" % (
            name, transport_uri(name, TLS), answer.stderr.strip(),
            os.path.join(host_dir(name), "log", "libvirtd.log")))


def check_peer_tls(name, peer):
    """``name`` reaches ``peer`` at its migration URI, from inside its own namespaces, with the client
    certificate it finds at libvirt's default paths, as its libvirtd does for a peer-to-peer migration."""
    pid = read_pid(os.path.join(host_dir(name), "libvirtd.pid"))
    # -r: the daemon's own root as well (a chroot's, under tools/fresh-check): entering a mount
    # namespace alone starts from that namespace's /, the machine's
    answer = run(["nsenter", "-t", str(pid), "-n", "-m", "-r", "virsh", "-q", "-c", peer_uri(peer, TLS), "uri"],
                 check=False)
    if answer.returncode != 0:
        raise LabError("%s: does not reach its peer %s at %s: %s; its client certificate is in %s" % (
            name, peer, peer_uri(peer, TLS), answer.stderr.strip(), host_default_pki_dir(name)))


def cmd_cert(args):
    """Re-issue one host's TLS server certificate, for its own address or (a fault test) for another
    name, and restart its daemons so libvirtd shows it; its guests run on."""
    name = args.host
    if name not in existing_hosts():
        raise LabError("%s: no such lab host (hosts: %s)" % (name, ", ".join(existing_hosts()) or "none"))
    if running_transport(name) != TLS:
        raise LabError("%s: the lab runs with --transport %s; certificates are for --transport tls"
                       % (name, running_transport(name)))
    issue_server_certificate(name, args.issued_for)
    install_default_pki(name)
    start_host(name, TLS)
    print("%s: server certificate issued for %s; libvirtd restarted" % (
        name, args.issued_for or "%s and %s" % (host_address(name), name)))
    return 0


def cmd_status(_args):
    names = existing_hosts()
    if not names:
        print("no lab under %s (run: lab up)" % ROOT)
        return 1
    worst = 0
    for name in names:
        pid = read_pid(os.path.join(host_dir(name), "libvirtd.pid"))
        uri = transport_uri(name, running_transport(name) or DEFAULT_TRANSPORT)
        if not host_running(name):
            print("%-5s %-40s daemon DOWN" % (name, uri))
            worst = 1
            continue
        print("%-5s %-40s libvirtd pid %d" % (name, uri, pid))
        listing = virsh(name, "list", "--all", check=False).stdout.strip()
        for line in listing.splitlines():
            print("        " + line.strip())
        if not listing:
            print("        (no guests)")
    return worst


def cmd_down(_args):
    names = existing_hosts()
    for name in names:
        stop_host(name)
        print("%s: stopped and removed" % name)
    if os.path.isdir(ROOT):
        shutil.rmtree(ROOT, ignore_errors=True)
    subprocess.run(["ip", "link", "del", BRIDGE], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False)
    set_ssh_client_block(False)
    if not names:
        print("no lab under %s" % ROOT)
    return 0


def cmd_crash(args):
    """Kill one host's libvirtd (SIGKILL), as a daemon crash or a host going away
    would; its guests' QEMU processes keep running. `lab up` starts it again."""
    name = args.host
    pid = read_pid(os.path.join(host_dir(name), "libvirtd.pid"))
    if not host_running(name):
        print("%s: libvirtd is not running" % name)
        return 1
    os.kill(pid, signal.SIGKILL)
    deadline = time.time() + 10
    while pid_alive(pid) and time.time() < deadline:
        time.sleep(0.05)
    print("%s: libvirtd (pid %d) killed" % (name, pid))
    return 0


def cmd_inventory(_args):
    print(inventory_path())
    return 0 if os.path.exists(inventory_path()) else 1


def main(argv=None):
    parser = argparse.ArgumentParser(prog="lab", description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    crash = sub.add_parser("crash", help="kill one host's libvirtd (fault tests); `up` restarts it")
    crash.add_argument("host", help="host name, such as hv2")
    crash.set_defaults(func=cmd_crash)
    up = sub.add_parser("up", help="start the lab's hosts (idempotent)")
    up.add_argument("--hosts", type=int, default=3, choices=range(1, 10), metavar="N",
                    help="number of hosts, 1 to 9 (default 3)")
    up.add_argument("--link-rate", metavar="RATE",
                    help="each host's link, both ways, in tc's units: 1gbit, 200mbit (default: the running "
                         "lab's rate, else %s)" % DEFAULT_LINK_RATE)
    up.add_argument("--transport", choices=TRANSPORTS,
                    help="how the controller and the hosts' peer-to-peer migrations reach a host: qemu+ssh, or "
                         "qemu+tls with a lab CA (default: the running lab's transport, else %s)" % DEFAULT_TRANSPORT)
    up.set_defaults(func=cmd_up)
    cert = sub.add_parser("cert", help="re-issue a host's TLS server certificate and restart its daemons")
    cert.add_argument("host", help="host name, such as hv2")
    cert.add_argument("--for", dest="issued_for", metavar="NAME",
                      help="the address or name it is issued for (default: the host's own); another host's "
                           "makes a certificate that does not match")
    cert.set_defaults(func=cmd_cert)
    sub.add_parser("status", help="show hosts, daemons and guests").set_defaults(func=cmd_status)
    sub.add_parser("down", help="stop and remove the lab").set_defaults(func=cmd_down)
    sub.add_parser("inventory", help="print the inventory path").set_defaults(func=cmd_inventory)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (LabError, lab_pki.PkiError) as err:
        print("lab: %s" % err, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
