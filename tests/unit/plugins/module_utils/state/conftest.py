# -*- coding: utf-8 -*-
"""Stores to test on: a SQLite file in tmp_path, and a database of a real PostgreSQL server that
lab/postgres starts once per session in a folder of its own (and stops at the end)."""

import os
import socket
import subprocess
import tempfile
import uuid

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store
from ansible_collections.vmfleet.compute.plugins.module_utils.state import url as state_url

LAB_POSTGRES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "..", "lab", "postgres")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LabPostgres(object):
    """A cluster run by lab/postgres in ``folder``."""

    def __init__(self, folder, port):
        self.folder, self.port = folder, port

    def command(self, *args):
        result = subprocess.run([LAB_POSTGRES] + list(args) + ["--dir", self.folder, "--port", str(self.port)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError("lab/postgres %s failed: %s" % (" ".join(args), result.stderr))
        return result.stdout.strip()

    def start(self):
        self.url = self.command("start")
        return self.url

    def stop(self):
        self.command("stop")

    def remove(self):
        """Stop the server and remove its folder."""
        self.command("remove")

    def new_database(self):
        """The URL of a new, empty database of this cluster."""
        import psycopg  # pylint: disable=import-outside-toplevel
        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url, autocommit=True) as admin:
            admin.execute("CREATE DATABASE %s" % name)
        return self.url.rsplit("/", 1)[0] + "/" + name


def start_lab_postgres():
    """A started LabPostgres in a new folder; skips (saying why) when the server binaries are missing, fails
    when psycopg is (requirements.txt has it: the venv is out of date)."""
    try:
        import psycopg  # noqa: F401 pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        pytest.fail("psycopg is not installed, though requirements.txt has it: run make venv (or pip install "
                    "-r requirements.txt)")
    if not _server_binaries():
        pytest.skip("no PostgreSQL server binaries (Debian postgresql; make deps installs it)")
    # not under pytest's tmp folder: the server runs as the postgres user, which must reach its folder
    cluster = LabPostgres(tempfile.mkdtemp(prefix="vmfleet-state-pg-"), free_port())
    cluster.start()
    return cluster


def _server_binaries():
    return any(os.path.exists(os.path.join("/usr/lib/postgresql", version, "bin", "initdb"))
               for version in (os.listdir("/usr/lib/postgresql") if os.path.isdir("/usr/lib/postgresql") else ())) \
        or bool(os.environ.get("VMFLEET_PG_BINDIR"))


@pytest.fixture(scope="session")
def lab_postgres():
    cluster = start_lab_postgres()
    yield cluster
    cluster.remove()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """The URL of a new, empty store of each backend."""
    if request.param == "sqlite":
        return "sqlite://%s" % (tmp_path / "state.db")
    return request.getfixturevalue("lab_postgres").new_database()


@pytest.fixture
def store(store_url):
    opened = open_store(store_url)
    yield opened
    opened.close()


@pytest.fixture
def backend(store_url):
    return state_url.parse(store_url).backend
