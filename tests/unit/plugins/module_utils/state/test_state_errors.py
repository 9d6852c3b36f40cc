# -*- coding: utf-8 -*-
"""A store that cannot be opened (or goes away) fails saying where and what to check, without the password;
psycopg is needed only for PostgreSQL."""

import os
import subprocess
import sys

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store
from ansible_collections.vmfleet.compute.plugins.module_utils.state.errors import (
    MissingDependency, StoreUnreachable)
from ansible_collections.vmfleet.compute.plugins.module_utils.state.url import parse

from .conftest import free_port, start_lab_postgres


def assert_no_password(error, password):
    assert password not in error.message
    assert password not in str(error)
    assert password not in repr(error.to_result())


def test_unreachable_postgresql_names_host_port_database_and_what_to_check(lab_postgres):
    port = free_port()  # nothing listens there
    url = "postgresql://fleet:Secret-pw-42@127.0.0.1:%d/fleetdb?connect_timeout=3" % port
    with pytest.raises(StoreUnreachable) as caught:
        open_store(url)
    message = caught.value.message
    assert "host 127.0.0.1, port %d, database fleetdb, user fleet" % port in message
    assert "Check that PostgreSQL runs on 127.0.0.1" in message and "pg_hba.conf" in message
    assert "nothing was changed" in message
    assert caught.value.details["port"] == port
    assert_no_password(caught.value, "Secret-pw-42")


def test_wrong_password_is_not_shown(lab_postgres):
    right = parse(lab_postgres.url)
    wrong = "Wr0ng-pw-%s" % right.password[:4]
    url = "postgresql://%s:%s@127.0.0.1:%d/%s" % (right.user, wrong, right.port, right.database)
    with pytest.raises(StoreUnreachable) as caught:
        open_store(url)
    assert "password authentication failed" in caught.value.message
    assert_no_password(caught.value, wrong)


def test_missing_database_is_named(lab_postgres):
    url = lab_postgres.url.rsplit("/", 1)[0] + "/no_such_db"
    with pytest.raises(StoreUnreachable) as caught:
        open_store(url)
    assert "database no_such_db" in caught.value.message and "does not exist" in caught.value.message
    assert_no_password(caught.value, parse(lab_postgres.url).password)


def test_server_stopped_under_an_open_store_then_started_again(tmp_path):
    cluster = start_lab_postgres()
    try:
        url = cluster.new_database()
        store = open_store(url)
        store.set_cordon("hv1", {"host": "hv1", "reason": "before"})
        cluster.stop()
        with pytest.raises(StoreUnreachable) as caught:
            store.set_cordon("hv2", {"host": "hv2"})
        assert "lost the fleet state store" in caught.value.message
        assert "nothing of this step was recorded" in caught.value.message
        assert_no_password(caught.value, parse(url).password)
        cluster.start()
        with open_store(url) as again:
            assert list(again.cordons()) == ["hv1"]
    finally:
        cluster.remove()


def test_sqlite_folder_that_cannot_be_created(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreUnreachable) as caught:
        open_store("sqlite://%s/state.db" % blocker)
    assert str(blocker) in caught.value.message and "can be created and written" in caught.value.message


def test_sqlite_file_that_is_not_a_database(tmp_path):
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not SQLite " * 100)
    with pytest.raises(StoreUnreachable, match="not a readable SQLite database"):
        open_store("sqlite://%s" % path)


def test_new_sqlite_store_is_private(tmp_path):
    open_store("sqlite://%s" % (tmp_path / "sub" / "state.db")).close()
    assert oct(os.stat(tmp_path / "sub").st_mode & 0o777) == "0o700"
    assert oct(os.stat(tmp_path / "sub" / "state.db").st_mode & 0o777) == "0o600"


def test_postgresql_without_psycopg_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # what `import psycopg` meets where it is not installed
    with pytest.raises(MissingDependency) as caught:
        open_store("postgresql://fleet@127.0.0.1:1/fleet")
    assert "psycopg" in caught.value.message and "pip install" in caught.value.message


def test_sqlite_store_never_imports_psycopg(tmp_path):
    code = ("import sys, tests.conftest\n"
            "from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store\n"
            "open_store(sys.argv[1]).set_cordon('hv1', {})\n"
            "assert 'psycopg' not in sys.modules, 'psycopg was imported'\n")
    root = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "..")
    result = subprocess.run([sys.executable, "-c", code, "sqlite://%s" % (tmp_path / "s.db")], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert result.returncode == 0, result.stdout
