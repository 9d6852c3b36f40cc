# -*- coding: utf-8 -*-
"""The lab tool's pure parts: names, addresses, ports and UUIDs that make each host distinct."""

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


def test_hosts_get_distinct_addresses_and_uris_of_a_fleet(lab):
    names = lab.host_names(9)
    uris = [lab.host_uri(n) for n in names]
    assert len(set(uris)) == 9
    # the README's fleet shape: qemu+ssh as root to the host's own address
    assert uris[0] == "qemu+ssh://root@%s/system" % lab.host_address("hv1")
    addresses = [lab.host_address(n) for n in names]
    assert len(set(addresses)) == 9 and lab.CONTROLLER_ADDRESS not in addresses
    assert all(a.startswith(lab.SUBNET_PREFIX + ".") for a in addresses)
    assert all(len(lab.veth_name(n)) <= 15 for n in names)   # the kernel's limit on a link name


@pytest.mark.parametrize("rate, bits", [("1gbit", 10 ** 9), ("200mbit", 2 * 10 ** 8), ("1.5gbit", 15 * 10 ** 8),
                                        ("500kbit", 5 * 10 ** 5), ("8bit", 8)])
def test_link_rates_in_tc_units(lab, rate, bits):
    assert lab.link_rate_bits(rate) == bits
    arguments = lab.tbf_arguments(rate)
    assert arguments[:3] == ["tbf", "rate", "%dbit" % bits]
    # the bucket holds 10 ms of traffic, never less than 64 KiB
    assert int(arguments[arguments.index("burst") + 1]) == max(bits // 800, 65536)


@pytest.mark.parametrize("rate", ["1gb", "fast", "0mbit", "-1gbit", "gbit", ""])
def test_a_bad_link_rate_is_refused_naming_the_option(lab, rate):
    with pytest.raises(lab.LabError, match="--link-rate .*kbit, mbit or gbit"):
        lab.link_rate_bits(rate)


def test_the_ssh_block_goes_first_and_leaves_the_rest(lab, tmp_path, monkeypatch):
    config = tmp_path / "config"
    config.write_text("Host *\n    User someone\n")
    monkeypatch.setattr(lab, "SSH_CLIENT_CONFIG", str(config))
    lab.set_ssh_client_block(True)
    lab.set_ssh_client_block(True)
    text = config.read_text()
    assert text.count("Host %s.*" % lab.SUBNET_PREFIX) == 1
    # ssh takes the first value it reads for an option: the lab's block must come before Host *
    assert text.index("Host %s.*" % lab.SUBNET_PREFIX) < text.index("Host *")
    assert "StrictHostKeyChecking yes" in text and "BatchMode yes" in text
    lab.set_ssh_client_block(False)
    assert config.read_text() == "Host *\n    User someone\n"


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
    lab.write_inventory(["hv1", "hv2"], "qemu", "200mbit")
    inventory = yaml.safe_load((tmp_path / "inventory.yml").read_text())
    hosts = inventory["all"]["children"]["hypervisors"]["hosts"]
    assert sorted(hosts) == ["hv1", "hv2"]
    assert hosts["hv2"]["vmfleet_libvirt_uri"] == "qemu+ssh://root@%s/system" % lab.host_address("hv2")
    assert hosts["hv2"]["vmfleet_migration_address"] == lab.host_address("hv2")
    assert hosts["hv1"]["vmfleet_lab_virt_type"] == "qemu"
    assert hosts["hv1"]["vmfleet_lab_dir"].startswith(str(tmp_path))
    group = inventory["all"]["children"]["hypervisors"]["vars"]
    assert group["vmfleet_state_url"] == "sqlite://%s/state.db" % tmp_path
    assert group["vmfleet_lab_link_bits_per_s"] == 2 * 10 ** 8


def load_instance(number, monkeypatch):
    monkeypatch.setenv("VMFLEET_LAB_INSTANCE", str(number))
    monkeypatch.delenv("VMFLEET_LAB_ROOT", raising=False)
    spec = importlib.util.spec_from_file_location("vmfleet_lab_%s" % number, LAB)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lab_instances_share_no_address_bridge_namespace_or_folder(monkeypatch, tmp_path):
    labs = [load_instance(n, monkeypatch) for n in range(10)]
    assert labs[0].ROOT == "/var/lib/vmfleet-lab" and labs[3].ROOT == "/var/lib/vmfleet-lab-3"
    assert len({lab.ROOT for lab in labs}) == len({lab.BRIDGE for lab in labs}) == 10
    assert len({lab.SUBNET_PREFIX for lab in labs}) == len({lab.ssh_config_markers() for lab in labs}) == 10
    addresses, namespaces, links, migration = set(), set(), set(), []
    for number, lab in enumerate(labs):
        monkeypatch.setattr(lab, "ROOT", str(tmp_path / str(number)))
        for name in lab.host_names(9):
            addresses.add(lab.host_address(name))
            namespaces.add(lab.netns_name(name))
            links.add(lab.veth_name(name))
            lab.write_config(name)
            conf = (tmp_path / str(number) / name / "etc" / "qemu.conf").read_text()
            low = int(conf.split("migration_port_min = ")[1].split()[0])
            migration.append((low, int(conf.split("migration_port_max = ")[1].split()[0])))
    assert len(addresses) == len(namespaces) == len(links) == 90
    migration.sort()
    assert all(high < next_low for (_low, high), (next_low, _h) in zip(migration, migration[1:]))
    assert migration[-1][1] <= 65535


def test_a_bad_lab_instance_is_refused(monkeypatch):
    with pytest.raises(SystemExit, match="VMFLEET_LAB_INSTANCE must be a number from 0 to 9"):
        load_instance("x", monkeypatch)


def test_lab_up_on_a_running_lab_keeps_its_link_rate(lab, tmp_path, monkeypatch):
    monkeypatch.setattr(lab, "ROOT", str(tmp_path))
    assert lab.recorded_link_rate() is None
    lab.write_inventory(["hv1"], "kvm", "300mbit")
    assert lab.recorded_link_rate() == "300mbit"
