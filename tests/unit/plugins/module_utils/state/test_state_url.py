# -*- coding: utf-8 -*-
"""The state store's URL: forms accepted, defaults, and errors that name the field and never the password."""

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.state import url as state_url


def test_postgresql_url_parts_and_redaction():
    parsed = state_url.parse("postgresql://fleet:s3cr%40t@db.example.org:6432/vmfleet?sslmode=require")
    assert (parsed.backend, parsed.user, parsed.password, parsed.host, parsed.port, parsed.database) == (
        "postgresql", "fleet", "s3cr@t", "db.example.org", 6432, "vmfleet")
    assert parsed.parameters == {"sslmode": "require"}
    assert str(parsed) == "postgresql://fleet:****@db.example.org:6432/vmfleet?sslmode=require"
    assert "s3cr" not in repr(parsed)


def test_postgres_scheme_default_port_and_no_password():
    parsed = state_url.parse("postgres://fleet@db/vmfleet")
    assert (parsed.port, parsed.password) == (5432, None)
    assert parsed.redacted() == "postgresql://fleet@db:5432/vmfleet"


def test_ipv6_host_is_bracketed_again():
    assert state_url.parse("postgresql://u@[::1]:5433/d").redacted() == "postgresql://u@[::1]:5433/d"


@pytest.mark.parametrize("text, path", [
    ("sqlite:///var/lib/vmfleet/state.db", "/var/lib/vmfleet/state.db"),
    ("/srv/fleet//state.db", "/srv/fleet/state.db"),
    ("sqlite://localhost/tmp/a%20b.db", "/tmp/a b.db"),
])
def test_sqlite_forms(text, path):
    parsed = state_url.parse(text)
    assert (parsed.backend, parsed.path) == ("sqlite", path)


@pytest.mark.parametrize("text, reason", [
    ("state.db", "relative path"),
    ("sqlite://state.db", "file on this machine"),
    ("sqlite:state.db", "absolute"),
    ("sqlite:///var/lib/", "names a folder"),
    ("mysql://u@h/d", "unknown scheme"),
    ("postgresql://u@/d", "no host"),
    ("postgresql://h/d", "no user"),
    ("postgresql://u@h", "no database"),
    ("postgresql://u@h:99999/d", "Port out of range"),
    ("postgresql://u@h/d?sslmod=require", "unknown parameter 'sslmod'"),
    ("postgresql://u@h/d?connect_timeout=soon", "connect_timeout"),
    ("", "allowed"),
])
def test_bad_urls_name_the_field_and_what_is_allowed(text, reason):
    with pytest.raises(InvalidInput) as caught:
        state_url.parse(text)
    assert caught.value.field == "state_url"
    assert reason in caught.value.message
    assert "postgresql://USER" in caught.value.message  # what is allowed


def test_password_of_a_bad_url_is_masked_in_the_error():
    with pytest.raises(InvalidInput) as caught:
        state_url.parse("postgresql://fleet:hunter2@db:70000/vmfleet")
    assert "hunter2" not in caught.value.message
    assert "hunter2" not in repr(caught.value.to_result())
    assert "fleet:****@db" in caught.value.message


def test_resolve_prefers_the_option_then_the_environment_then_the_default():
    env = {"VMFLEET_STATE_URL": "postgresql://a@b/c", "XDG_STATE_HOME": "/home/op/.state"}
    assert state_url.resolve("sqlite:///x.db", env, uid=1000).path == "/x.db"
    assert state_url.resolve(None, env, uid=1000).host == "b"
    assert state_url.resolve("", {}, uid=0).path == "/var/lib/vmfleet/state.db"
    assert state_url.resolve(None, {"XDG_STATE_HOME": "/home/op/.state"}, uid=1000).path == \
        "/home/op/.state/vmfleet/state.db"


def test_default_for_a_user_without_xdg_state_home(monkeypatch):
    monkeypatch.setenv("HOME", "/home/op")
    assert state_url.default_sqlite_path(uid=1000, environ={}) == "/home/op/.local/state/vmfleet/state.db"


def test_a_bad_environment_value_names_the_variable():
    with pytest.raises(InvalidInput) as caught:
        state_url.resolve(None, {"VMFLEET_STATE_URL": "state.db"})
    assert caught.value.field == "VMFLEET_STATE_URL"
