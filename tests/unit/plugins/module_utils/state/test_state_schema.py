# -*- coding: utf-8 -*-
"""The store's schema: created once, upgraded step by step, a newer one refused untouched."""

import sqlite3

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store, schema
from ansible_collections.vmfleet.compute.plugins.module_utils.state.errors import SchemaTooNew

EXTRA_STEP = ("CREATE TABLE added_later (id TEXT PRIMARY KEY, seen {epoch})",)


def raw_execute(store_url, backend, statement):
    """Run ``statement`` on the store's database behind the store's back (as another version would)."""
    if backend == "sqlite":
        conn = sqlite3.connect(store_url[len("sqlite://"):])
        with conn:
            rows = conn.execute(statement).fetchall() if statement.startswith("SELECT") else conn.execute(statement)
        result = rows if statement.startswith("SELECT") else None
        conn.close()
        return result
    import psycopg  # pylint: disable=import-outside-toplevel
    with psycopg.connect(store_url, autocommit=True) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchall() if statement.startswith("SELECT") else None


def test_version_is_recorded(store_url, backend):
    open_store(store_url).close()
    assert raw_execute(store_url, backend, "SELECT value FROM schema_meta WHERE key = 'schema_version'") == [
        (str(schema.VERSION),)]


def test_a_newer_schema_is_refused_and_left_alone(store_url, backend):
    with open_store(store_url) as store:
        store.set_cordon("hv1", {"host": "hv1"})
    newer = schema.VERSION + 1
    raw_execute(store_url, backend, "UPDATE schema_meta SET value = '%d' WHERE key = 'schema_version'" % newer)
    with pytest.raises(SchemaTooNew) as caught:
        open_store(store_url)
    message = caught.value.message
    assert "schema version %d, newer than the %d this collection knows" % (newer, schema.VERSION) in message
    assert "upgrade the vmfleet.compute collection" in message and "nothing was changed" in message
    assert raw_execute(store_url, backend, "SELECT value FROM schema_meta") == [(str(newer),)]
    assert raw_execute(store_url, backend, "SELECT host FROM cordons") == [("hv1",)]


def test_an_older_store_is_upgraded_keeping_its_data(store_url, backend, monkeypatch):
    with open_store(store_url) as store:
        store.set_cordon("hv1", {"host": "hv1"})
    monkeypatch.setattr(schema, "STEPS", schema.STEPS + (EXTRA_STEP,))
    monkeypatch.setattr(schema, "VERSION", schema.VERSION + 1)
    with open_store(store_url) as store:
        assert store.schema_version == schema.VERSION
        assert store.cordon("hv1") == {"host": "hv1"}
    assert raw_execute(store_url, backend, "SELECT count(*) FROM added_later") == [(0,)]
    assert raw_execute(store_url, backend, "SELECT value FROM schema_meta") == [(str(schema.VERSION),)]


def test_statements_use_each_dialects_types():
    assert "DOUBLE PRECISION" in " ".join(schema.statements("postgresql", EXTRA_STEP))
    assert "REAL" in " ".join(schema.statements("sqlite", EXTRA_STEP))
