# -*- coding: utf-8 -*-
"""The lab tool's pure parts: names, ports and UUIDs that make each host distinct."""

import importlib.util
import os

import pytest

LAB = os.path.join(os.path.dirname(__file__), "..", "..", "..", "lab", "lab.py")


@pytest.fixture(scope="module")
def lab():
    spec = importlib.util.spec_from_file_location("vmfleet_lab", LAB)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hosts_get_distinct_ports_and_uris(lab):
    names = lab.host_names(9)
    uris = [lab.host_uri(n) for n in names]
    assert len(set(uris)) == 9
    assert uris[0] == "qemu+tcp://127.0.0.1:16601/system"


def test_migration_port_ranges_never_overlap(lab, tmp_path, monkeypatch):
    monkeypatch.setattr(lab, "ROOT", str(tmp_path))
    ranges = []
    for name in lab.host_names(9):
        lab.write_config(name)
        conf = (tmp_path / name / "etc" / "qemu.conf").read_text()
        low = int(conf.split("migration_port_min = ")[1].split()[0])
        high = int(conf.split("migration_port_max = ")[1].split()[0])
        ranges.append((low, high))
    ranges.sort()
    for (_l1, h1), (l2, _h2) in zip(ranges, ranges[1:]):
        assert h1 < l2


def test_host_uuids_are_distinct_and_stable(lab, tmp_path, monkeypatch):
    # libvirt refuses to migrate to a daemon whose host UUID equals the source's.
    monkeypatch.setattr(lab, "ROOT", str(tmp_path))
    seen = set()
    for name in lab.host_names(4):
        lab.write_config(name)
        conf = (tmp_path / name / "etc" / "libvirtd.conf").read_text()
        seen.add(conf.split('host_uuid = "')[1].split('"')[0])
    assert len(seen) == 4
    lab.write_config("hv1")
    assert (tmp_path / "hv1" / "etc" / "libvirtd.conf").read_text().count("host_uuid") == 1


def test_inventory_is_yaml_with_the_hypervisors_group(lab, tmp_path, monkeypatch):
    yaml = pytest.importorskip("yaml")
    monkeypatch.setattr(lab, "ROOT", str(tmp_path))
    lab.write_inventory(["hv1", "hv2"], "qemu")
    inventory = yaml.safe_load((tmp_path / "inventory.yml").read_text())
    hosts = inventory["all"]["children"]["hypervisors"]["hosts"]
    assert sorted(hosts) == ["hv1", "hv2"]
    assert hosts["hv2"]["vmfleet_libvirt_uri"] == "qemu+tcp://127.0.0.1:16602/system"
    assert hosts["hv1"]["vmfleet_lab_virt_type"] == "qemu"
    assert hosts["hv1"]["vmfleet_lab_dir"].startswith(str(tmp_path))
    assert inventory["all"]["children"]["hypervisors"]["vars"]["vmfleet_state_url"] == "sqlite://%s/state.db" % tmp_path


def load_instance(number, monkeypatch):
    monkeypatch.setenv("VMFLEET_LAB_INSTANCE", str(number))
    monkeypatch.delenv("VMFLEET_LAB_ROOT", raising=False)
    spec = importlib.util.spec_from_file_location("vmfleet_lab_%s" % number, LAB)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lab_instances_share_no_port_bridge_or_folder(monkeypatch, tmp_path):
    labs = [load_instance(n, monkeypatch) for n in range(10)]
    assert labs[0].ROOT == "/var/lib/vmfleet-lab" and labs[3].ROOT == "/var/lib/vmfleet-lab-3"
    assert len({lab.ROOT for lab in labs}) == len({lab.BRIDGE for lab in labs}) == 10
    ports, migration = set(), []
    for number, lab in enumerate(labs):
        monkeypatch.setattr(lab, "ROOT", str(tmp_path / str(number)))
        for name in lab.host_names(9):
            ports.add(lab.TCP_PORT_BASE + lab.host_index(name))
            lab.write_config(name)
            conf = (tmp_path / str(number) / name / "etc" / "qemu.conf").read_text()
            low = int(conf.split("migration_port_min = ")[1].split()[0])
            migration.append((low, int(conf.split("migration_port_max = ")[1].split()[0])))
    assert len(ports) == 90
    migration.sort()
    assert all(high < next_low for (_low, high), (next_low, _h) in zip(migration, migration[1:]))
    assert migration[-1][1] <= 65535


def test_a_bad_lab_instance_is_refused(monkeypatch):
    with pytest.raises(SystemExit, match="VMFLEET_LAB_INSTANCE must be a number from 0 to 9"):
        load_instance("x", monkeypatch)
