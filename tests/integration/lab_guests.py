# -*- coding: utf-8 -*-
"""What the fault tests assert about lab guests: where each runs (libvirt on every
host), a pattern written into a guest's disk and read back, and that nothing of a
move stays behind (claims, volumes, journal records in flight)."""

import contextlib
import json
import os
import signal
import subprocess
import time

from lab_tools import host_path, inventory_hosts, run_playbook, state_store, virsh

PATTERN = 0x5a


def hosts():
    return sorted(inventory_hosts())


def where(name):
    """{host: state} of every lab host that has the guest defined."""
    found = {}
    for host in hosts():
        state = virsh(host, "domstate", name)
        if state.returncode == 0:
            found[host] = state.stdout.strip()
    return found


def overlay(host, name):
    return host_path(host, "/var/lib/libvirt/images/%s.disk.qcow2" % name)


def qemu_io(path, command, shared=False):
    spec = "json:" + json.dumps({"driver": "qcow2", "file": {"driver": "file", "filename": path}, "backing": None})
    # -U -r: read the image of a running guest without taking its lock
    return subprocess.run(["qemu-io"] + (["-U", "-r"] if shared else []) + ["-c", command, spec],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)


def write_pattern(host, name, mib, path=None):
    """Put ``mib`` MiB of guest data into the (shut off) guest's overlay (at ``path``: another pool's)."""
    written = qemu_io(path or overlay(host, name), "write -P 0x%x 0 %dM" % (PATTERN, mib))
    assert written.returncode == 0 and "wrote" in written.stdout, written.stdout


def has_pattern(host, name, mib, path=None):
    read = qemu_io(path or overlay(host, name), "read -P 0x%x 0 %dM" % (PATTERN, mib), shared=True)
    return read.returncode == 0 and "read %d/" % (mib * 1048576) in read.stdout


def place(instances):
    built = run_playbook("place_instances.yml", {"instances": instances})
    assert built.returncode == 0, built.stdout


def journal(host=None):
    """The moves out of or into ``host`` (every move without it) in the lab's fleet state store."""
    with state_store() as store:
        return store.migrations(host)


def in_flight(name):
    """The guest's journal records still ``migrating``."""
    return [r for r in journal() if r.get("guest") == name and r.get("status") == "migrating"]


def claims_for(name):
    """{host: claims} of the claims held for the guest."""
    with state_store() as store:
        found = dict((host, [c for c in store.claims(host) if c.get("instance") == name]) for host in hosts())
    return dict((host, claims) for host, claims in found.items() if claims)


def volumes_of(host, name):
    """The volumes named after the guest in the host's pools."""
    found = []
    for pool in ("default", "fast"):
        for line in virsh(host, "vol-list", pool).stdout.splitlines():
            parts = line.split()
            if parts and parts[0].startswith(name + "."):
                found.append("%s/%s" % (pool, parts[0]))
    return found


def assert_settled(name, host, state, mib, path=None):
    """The guest runs (or is shut off) on ``host`` only, its disk (the overlay at ``path``, default the
    default pool's) holds the pattern, and no claim, volume on another host or journal record in flight is
    left of any move."""
    assert where(name) == {host: state}, where(name)
    if mib:
        assert has_pattern(host, name, mib, path), "the pattern of %s is gone on %s" % (name, host)
    assert not claims_for(name), claims_for(name)
    for other in hosts():
        if other != host:
            assert not volumes_of(other, name), (other, volumes_of(other, name))
    assert not in_flight(name), in_flight(name)


def daemon_pid(host):
    with open(os.path.join(inventory_hosts()[host]["vmfleet_lab_dir"], "libvirtd.pid")) as handle:
        return int(handle.read().strip())


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("%s did not happen within %d s" % (what, timeout))


def migrating_record(name):
    """The guest's journal record in flight once its destination volumes are prepared (a block migration has
    started copying), or None."""
    for record in in_flight(name):
        if record.get("prepared_volumes"):
            return record
    return None


def stop_daemon(host):
    os.kill(daemon_pid(host), signal.SIGSTOP)


def continue_daemon(host):
    os.kill(daemon_pid(host), signal.SIGCONT)


def descendants(pid):
    """The ids of every process below ``pid`` (ansible's workers start sessions of their own, so a kill of the
    playbook's process group misses the module; their parent links still lead to it)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(pid):
    """SIGKILL ``pid`` and every process under it (the module with it)."""
    tree = [pid] + descendants(pid)
    for member in tree:
        try:
            os.kill(member, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return tree


FAST = "fast"  # the lab's pool of disk tier ssd (lab/lab.py)


@contextlib.contextmanager
def small_fast_pool(host, mib):
    """The host's ``fast`` pool on a tmpfs of ``mib`` MiB of its own (mounted in the host's namespace, as the
    upgrade_check target does), so a copy into it fills it up; the pool as it was afterwards."""
    path = "/var/lib/libvirt/fast-%s" % host
    enter = ["nsenter", "-t", str(daemon_pid(host)), "-m", "-r"]
    subprocess.run(enter + ["mount", "-t", "tmpfs", "-o", "size=%dm" % mib, "mf-small", path], check=True)
    try:
        assert virsh(host, "pool-refresh", FAST).returncode == 0
        yield
    finally:
        subprocess.run(enter + ["umount", path], check=False)
        virsh(host, "pool-refresh", FAST)


def fast_overlay(host, name):
    return host_path(host, "/var/lib/libvirt/fast-%s/%s.disk.qcow2" % (host, name))
