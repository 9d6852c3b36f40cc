# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults a network brings, on the networked lab (each host its own address, sshd and shaped link):
a destination's link cut during a live migration, an SSH key the host refuses, and a host key that
is not the one known_hosts holds. Each must leave the guests where they were and say what is wrong."""

import contextlib
import os
import shutil
import subprocess
import time

import pytest

from lab_tools import BIN, INVENTORY, ansible_env, fill_ram, inventory_hosts, lab_transport, ram_holds_pattern, virsh
from test_drain import (SHARED, drain, drain_until_migrating, fleet_cleanup, hosts, journal, place,  # noqa: F401  pylint: disable=unused-import
                        report_of, where)


@pytest.fixture
def ssh_lab():
    """The tests of ssh's own faults (keys, known_hosts) need the lab on ssh; on a tls lab
    (lab up --transport tls) test_tls.py tests the certificates' faults instead."""
    if lab_transport() != "ssh":
        pytest.skip("the lab runs with --transport %s (vmfleet_lab_transport): this tests ssh's keys and "
                    "known_hosts, which the controller and the hosts do not use then" % lab_transport())


def set_link(host, state):
    settings = inventory_hosts()[host]
    subprocess.run(["ip", "-n", settings["vmfleet_lab_netns"], "link", "set", "dev", "eth0", state], check=True)


def read_host(host):
    """hypervisor_info on ``host`` from the controller, through the host's vmfleet_libvirt_uri."""
    uri = inventory_hosts()[host]["vmfleet_libvirt_uri"]
    return subprocess.run([os.path.join(BIN, "ansible"), "-i", INVENTORY, host, "-m", "vmfleet.compute.hypervisor_info",
                           "-a", "uri=%s name=%s gather_guests=false" % (uri, host)],
                          env=ansible_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=120, check=False)


def test_a_destination_link_cut_during_a_migration_leaves_the_guest_on_its_source(fleet_cleanup):  # pylint: disable=redefined-outer-name
    first, name = hosts()[0], "nf-cut"
    fleet_cleanup.append(name)
    place([{"name": name, "flavor": SHARED, "host": first, "state": "present"}])
    assert virsh(first, "start", name).returncode == 0
    # 96 MiB of RAM data at 4 MiB/s: the RAM phase takes ~24 s, time to cut the destination's link
    # (the disk has no data of its own: its mirror is done at once)
    fill_ram(first, name, 96)
    # a guest stopped before the move (its firmware overwritten mid-POST) stays paused after it, rightly
    assert virsh(first, "domstate", "--reason", name).stdout.strip() == "running (booted)"
    proc, victim = drain_until_migrating(first, name, bandwidth=4, max_attempts=1)
    try:
        set_link(victim, "down")
        cut_at = time.time()
        try:
            output = proc.communicate(timeout=300)[0]
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail("the drain was still running 300 s after %s's link was cut; the source's job: %s"
                        % (victim, virsh(first, "domjobinfo", name).stdout))
        noticed_s = time.time() - cut_at
    finally:
        set_link(victim, "up")
        if proc.poll() is None:
            proc.kill()
    print(output)
    print("the drain ended %.1f s after the link was cut, rc %s" % (noticed_s, proc.returncode))
    assert proc.returncode == 2, output
    attempt = report_of()["guests"][0]["attempts"][0]
    assert attempt["host"] == victim, attempt
    assert "running on its source %s" % first in attempt["result"], attempt
    assert where(name) == {first: "running"}
    assert ram_holds_pattern(first, name)
    # libvirt on the destination gives up the incoming half once the source's connection is gone
    deadline = time.time() + 90
    while time.time() < deadline and virsh(victim, "dominfo", name).returncode == 0:
        time.sleep(1)
    assert virsh(victim, "dominfo", name).returncode != 0, "%s still has %s" % (victim, name)
    # with the link back, the next drain settles what the failed move left in the journal (the
    # preflight of later tests fails on such an entry, as it should) and moves the guest
    again = drain(first)
    assert again.returncode == 0, again.stdout
    assert not [r for r in journal(first) if r["guest"] == name and r["status"] == "error" and not r.get("cleaned_up")]


@pytest.fixture
def refusing_host():
    """The last lab host, with the lab's key no longer in root's authorized_keys there."""
    host = hosts()[-1]
    authorized = os.path.join(inventory_hosts()[host]["vmfleet_lab_dir"], "sshd", "authorized_keys")
    shutil.move(authorized, authorized + ".off")
    try:
        yield host
    finally:
        shutil.move(authorized + ".off", authorized)


@contextlib.contextmanager
def impostor(host):
    """``host`` with another host's key where known_hosts keeps its own, as if something else answered there."""
    other = [h for h in hosts() if h != host][0]
    known_hosts = os.path.join(os.path.dirname(inventory_hosts()[host]["vmfleet_lab_dir"]), "ssh", "known_hosts")
    shutil.copyfile(known_hosts, known_hosts + ".saved")
    with open(known_hosts) as handle:
        lines = dict(line.split(" ", 1) for line in handle if line.strip())
    address = inventory_hosts()[host]["vmfleet_migration_address"]
    lines[address] = lines[inventory_hosts()[other]["vmfleet_migration_address"]]
    with open(known_hosts, "w") as handle:
        handle.writelines("%s %s" % item for item in lines.items())
    try:
        yield host
    finally:
        shutil.move(known_hosts + ".saved", known_hosts)


@pytest.fixture
def impostor_host():
    """The last lab host, an impostor to the controller."""
    with impostor(hosts()[-1]) as host:
        yield host


@pytest.mark.parametrize("fault, ssh_says, hint", [
    ("refusing_host", "root@{address}: Permission denied (publickey)", "authorized_keys"),
    ("impostor_host", "Host key verification failed", "known_hosts"),
])
@pytest.mark.usefixtures("ssh_lab")
def test_what_ssh_refuses_is_a_clear_error_naming_host_and_user(request, fault, ssh_says, hint):
    host = request.getfixturevalue(fault)
    result = read_host(host)
    print(result.stdout)
    assert result.returncode != 0
    address = inventory_hosts()[host]["vmfleet_migration_address"]
    assert "host %s (qemu+ssh://root@%s/system)" % (host, address) in result.stdout
    assert ssh_says.format(address=address) in result.stdout
    # the hint is about ssh's keys, not about libvirtd listening
    assert hint in result.stdout and "libvirtd" not in result.stdout


@pytest.mark.usefixtures("ssh_lab")
def test_a_migration_to_a_host_whose_key_does_not_match_moves_nothing(fleet_cleanup):  # pylint: disable=redefined-outer-name
    """The source's libvirtd reaches its peer over ssh too, and checks the peer's host key as the controller does."""
    first, last = hosts()[0], hosts()[-1]
    name = "nf-key"
    fleet_cleanup.append(name)
    place([{"name": name, "flavor": SHARED, "host": first, "state": "present"}])
    assert virsh(first, "start", name).returncode == 0
    with impostor(last):
        moved = subprocess.run(
            ["virsh", "-c", inventory_hosts()[first]["vmfleet_libvirt_uri"], "migrate", "--live", "--p2p",
             "--persistent", "--undefinesource", "--copy-storage-inc", name,
             inventory_hosts()[last]["vmfleet_libvirt_uri"]],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=120, check=False)
    print(moved.stdout)
    assert moved.returncode != 0 and "Host key verification failed" in moved.stdout, moved.stdout
    assert where(name) == {first: "running"}
