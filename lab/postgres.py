# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A PostgreSQL cluster of the lab's own, in a folder: the fleet state store's server for tests and benchmarks.

    postgres start [--dir D] [--port P]   initdb once, start it, create the user's database; prints its URL
    postgres stop [--dir D]               stop it (the folder stays: start again keeps the data)
    postgres status [--dir D]             running or not, and its URL
    postgres url [--dir D]                print its URL (with the password: it is a lab)

It never touches a system cluster: its own data folder (D/data), its own
port on 127.0.0.1 (default 16599, beside the lab hosts' 16600 + N), its own
socket folder (D/run) and log (D/postgresql.log). Local socket connections
are trusted; TCP connections need the password (scram-sha-256), which is
generated once and kept in D/password (0600), so the tests exercise a real
password. Uses Debian's postgresql binaries (/usr/lib/postgresql/N/bin,
installed by tools/install-deps.sh). PostgreSQL refuses to run as root: as
root the cluster runs as the `postgres` user the Debian package creates.
"""

import argparse
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import time

ROOT = os.environ.get("VMFLEET_LAB_ROOT", "/var/lib/vmfleet-lab")
DEFAULT_PORT = 16599
DEFAULT_USER = "vmfleet"
DEFAULT_DATABASE = "vmfleet"
SYSTEM_USER = "postgres"
START_TIMEOUT = 60


class PostgresError(Exception):
    pass


def bin_dir():
    """The newest installed PostgreSQL's bin folder (VMFLEET_PG_BINDIR overrides); PostgresError when none."""
    wanted = os.environ.get("VMFLEET_PG_BINDIR")
    candidates = [wanted] if wanted else sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit()
        else 0)
    for folder in reversed(candidates):
        if os.access(os.path.join(folder, "initdb"), os.X_OK) and os.access(os.path.join(folder, "pg_ctl"), os.X_OK):
            return folder
    raise PostgresError("no PostgreSQL server binaries (initdb, pg_ctl) in %s: install Debian's postgresql "
                        "(tools/install-deps.sh) or set VMFLEET_PG_BINDIR" % (wanted or "/usr/lib/postgresql/*/bin"))


class Cluster(object):
    """The cluster kept in folder ``folder``."""

    def __init__(self, folder, port=DEFAULT_PORT, user=DEFAULT_USER, database=DEFAULT_DATABASE):
        self.folder = os.path.abspath(folder)
        self.port, self.user, self.database = port, user, database
        self.data = os.path.join(self.folder, "data")
        self.run_dir = os.path.join(self.folder, "run")
        self.log = os.path.join(self.folder, "postgresql.log")
        self.settings = os.path.join(self.folder, "cluster.txt")

    # the port, user and database of an existing cluster are the ones it was created with
    def load(self):
        if os.path.exists(self.settings):
            with open(self.settings) as handle:
                port, self.user, self.database = handle.read().split()
            self.port = int(port)
        return self

    def password(self):
        with open(os.path.join(self.folder, "password")) as handle:
            return handle.read().strip()

    def url(self):
        return "postgresql://%s:%s@127.0.0.1:%d/%s" % (self.user, self.password(), self.port, self.database)

    def _as_owner(self, argv, **kwargs):
        """Run ``argv`` as the cluster's owner: this user, or the postgres user when we are root."""
        program = os.path.basename(argv[0])
        if os.geteuid() == 0:
            argv = ["runuser", "-u", SYSTEM_USER, "--"] + argv
        # in the cluster's folder: the postgres user may not enter the caller's (a checkout under /root)
        kwargs.setdefault("cwd", self.folder)
        result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False,
                                **kwargs)
        if result.returncode != 0:
            said = (result.stdout + result.stderr).strip()[-2000:]
            raise PostgresError("%s failed (exit %d): %s" % (program, result.returncode, said))
        return result.stdout

    def _chown(self, path):
        if os.geteuid() == 0:
            owner = pwd.getpwnam(SYSTEM_USER)
            os.chown(path, owner.pw_uid, owner.pw_gid)

    def initialized(self):
        return os.path.exists(os.path.join(self.data, "PG_VERSION"))

    def running(self):
        pid_file = os.path.join(self.data, "postmaster.pid")
        try:
            with open(pid_file) as handle:
                pid = int(handle.readline())
            os.kill(pid, 0)
            return True
        except (OSError, ValueError):
            return False

    def init(self, binaries):
        if os.geteuid() == 0:
            try:
                pwd.getpwnam(SYSTEM_USER)
            except KeyError:
                raise PostgresError("PostgreSQL will not run as root and there is no %s user: install Debian's "
                                    "postgresql package (tools/install-deps.sh)" % SYSTEM_USER)
        os.makedirs(self.folder, exist_ok=True)
        os.chmod(self.folder, 0o755)  # the postgres user must reach its data folder
        self._chown(self.folder)
        for folder in (self.run_dir,):
            os.makedirs(folder, exist_ok=True)
            self._chown(folder)
        password_file = os.path.join(self.folder, "password")
        if not os.path.exists(password_file):
            with open(os.open(password_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as handle:
                handle.write(secrets.token_urlsafe(18) + "\n")
            self._chown(password_file)
        self._as_owner([os.path.join(binaries, "initdb"), "-D", self.data, "-U", self.user, "--pwfile",
                        password_file, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                        "--locale=C", "--no-sync"])
        with open(self.settings, "w") as handle:
            handle.write("%d %s %s\n" % (self.port, self.user, self.database))

    def start(self):
        binaries = bin_dir()
        if not self.initialized():
            self.init(binaries)
        self.load()
        if not self.running():
            if _port_taken(self.port):
                raise PostgresError("port %d on 127.0.0.1 is taken by another program: start with --port" % self.port)
            options = "-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s" % (
                self.port, self.run_dir)
            self._as_owner([os.path.join(binaries, "pg_ctl"), "-D", self.data, "-l", self.log, "-w", "-t",
                            str(START_TIMEOUT), "-o", options, "start"])
        self._create_database(binaries)
        return self.url()

    def _create_database(self, binaries):
        psql = [os.path.join(binaries, "psql"), "-h", self.run_dir, "-p", str(self.port), "-U", self.user,
                "-d", "postgres", "-tAc"]
        exists = self._as_owner(psql + ["SELECT 1 FROM pg_database WHERE datname = '%s'" % self.database])
        if exists.strip() != "1":
            self._as_owner([os.path.join(binaries, "createdb"), "-h", self.run_dir, "-p", str(self.port),
                            "-U", self.user, self.database])

    def stop(self):
        if self.initialized() and self.running():
            self._as_owner([os.path.join(bin_dir(), "pg_ctl"), "-D", self.data, "-m", "fast", "-w", "stop"])

    def remove(self):
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def _port_taken(port):
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_until_stopped(cluster, timeout=30):
    deadline = time.monotonic() + timeout
    while cluster.running() and time.monotonic() < deadline:
        time.sleep(0.2)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="postgres", description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("command", choices=("start", "stop", "status", "url", "remove"))
    parser.add_argument("--dir", default=os.path.join(ROOT, "postgres"), help="the cluster's folder")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="its port on 127.0.0.1 (a new cluster)")
    args = parser.parse_args(argv)
    cluster = Cluster(args.dir, port=args.port).load()
    try:
        if args.command == "start":
            print(cluster.start())
        elif args.command == "stop":
            cluster.stop()
        elif args.command == "remove":
            cluster.remove()
        elif args.command == "url":
            print(cluster.url())
        else:
            state = "running" if cluster.running() else ("stopped" if cluster.initialized() else "not created")
            print("%s: %s%s" % (cluster.folder, state, " at %s" % cluster.url() if cluster.initialized() else ""))
    except (PostgresError, OSError) as exc:
        print("postgres: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
