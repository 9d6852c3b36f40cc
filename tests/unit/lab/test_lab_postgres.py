# -*- coding: utf-8 -*-
"""lab/postgres's pure parts (the state store's tests start a real cluster with it)."""

import importlib.util
import os

import pytest

TOOL = os.path.join(os.path.dirname(__file__), "..", "..", "..", "lab", "postgres.py")


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("vmfleet_lab_postgres", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_missing_server_binaries_say_what_to_install(tool, tmp_path, monkeypatch):
    monkeypatch.setenv("VMFLEET_PG_BINDIR", str(tmp_path))
    with pytest.raises(tool.PostgresError) as caught:
        tool.bin_dir()
    assert str(tmp_path) in str(caught.value) and "tools/install-deps.sh" in str(caught.value)


def test_an_existing_cluster_keeps_its_port_user_and_database(tool, tmp_path):
    (tmp_path / "cluster.txt").write_text("17001 fleet fleetdb\n")
    (tmp_path / "password").write_text("pw\n")
    cluster = tool.Cluster(str(tmp_path), port=16599).load()
    assert cluster.url() == "postgresql://fleet:pw@127.0.0.1:17001/fleetdb"
    assert not cluster.running()
