# -*- coding: utf-8 -*-
"""Helpers for the integration tests that drive the lab from Python: run
`ansible-playbook` (in the foreground or the background), call `virsh` on a lab
host, and find where a lab host's files are seen from the controller."""

import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# the lab's inventory: `make integration` names it; otherwise that of the lab under
# VMFLEET_LAB_ROOT or of lab instance VMFLEET_LAB_INSTANCE (lab/lab's own defaults)
_INSTANCE = int(os.environ.get("VMFLEET_LAB_INSTANCE", "0") or 0)
LAB_ROOT = os.environ.get("VMFLEET_LAB_ROOT") or ("/var/lib/vmfleet-lab" + ("-%d" % _INSTANCE if _INSTANCE else ""))
INVENTORY = os.environ.get("VMFLEET_INVENTORY") or os.path.join(LAB_ROOT, "inventory.yml")
BIN = os.path.dirname(sys.executable)
LAB = os.path.join(ROOT, "lab", "lab")


def ansible_env(state_url=None):
    """The environment of an ansible-playbook run on the lab: the collection from this checkout, and the
    lab's fleet state store (``state_url``: another one) for every module that is given none."""
    env = dict(os.environ)
    env["ANSIBLE_COLLECTIONS_PATH"] = os.path.join(ROOT, ".build", "collections")
    env["ANSIBLE_CONFIG"] = os.path.join(ROOT, "ansible.cfg")
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["VMFLEET_STATE_URL"] = state_url or lab_state_url()
    return env


def lab_state_url():
    """The lab's fleet state store, as its inventory names it."""
    with open(INVENTORY) as handle:
        inventory = json.loads(handle.read().split("\n", 1)[1])
    return inventory["all"]["children"]["hypervisors"]["vars"]["vmfleet_state_url"]


def state_store(state_url=None):
    """The lab's fleet state store (or ``state_url``), opened as the modules open it; close it after use."""
    from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store
    return open_store(state_url or lab_state_url())


def playbook_argv(playbook, extra_vars):
    return [os.path.join(BIN, "ansible-playbook"), "-i", INVENTORY, os.path.join(HERE, "playbooks", playbook),
            "-e", json.dumps(extra_vars)]


def run_playbook(playbook, extra_vars, timeout=600):
    return subprocess.run(playbook_argv(playbook, extra_vars), cwd=HERE, env=ansible_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          timeout=timeout, check=False)


def start_playbook(playbook, extra_vars):
    return subprocess.Popen(playbook_argv(playbook, extra_vars), cwd=HERE, env=ansible_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)


def _hypervisors():
    with open(INVENTORY) as handle:
        return json.loads(handle.read().split("\n", 1)[1])["all"]["children"]["hypervisors"]


def inventory_hosts():
    return _hypervisors()["hosts"]


def lab_transport():
    """How the controller and the hosts' migrations reach the lab's hosts now: "ssh" or "tls"."""
    return _hypervisors()["vars"].get("vmfleet_lab_transport", "ssh")


def virsh(host, *args):
    uri = inventory_hosts()[host]["vmfleet_libvirt_uri"]
    return subprocess.run(["virsh", "-c", uri] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)


# Guest RAM the benchmark writes starts here: SeaBIOS keeps to the first MiB and
# the last few hundred KiB below the top of RAM.
RAM_DATA_GPA = 16 * 1024 * 1024
MIB = 1024 * 1024


def ram_address(host, name, guest_physical):
    """Where guest-physical address ``guest_physical`` of ``name`` is in its QEMU process (HMP gpa2hva)."""
    answer = virsh(host, "qemu-monitor-command", name, "--hmp", "gpa2hva %#x" % guest_physical).stdout
    match = re.search(r"is (0x[0-9a-f]+)", answer)
    if not match:
        raise RuntimeError("QEMU did not say where %s's RAM is: %s" % (name, answer.strip()))
    return int(match.group(1), 16)


def wait_for_firmware(host, name, timeout=30, settled_s=1.0):
    """Wait until ``name``'s firmware has finished its POST: SeaBIOS runs its init code from high RAM (inside
    what fill_ram writes) in protected mode, and a guest whose code is overwritten there stops with a KVM
    emulation failure (paused, reason unknown). Once booted it idles in real mode (CR0's PE bit clear); the
    POST dips into real mode only briefly (option ROMs), so real mode must hold for ``settled_s``."""
    deadline, real_since, answer = time.time() + timeout, None, ""
    while time.time() < deadline:
        answer = virsh(host, "qemu-monitor-command", name, "--hmp", "info registers").stdout
        match = re.search(r"CR0=([0-9a-f]+)", answer)
        if match and not int(match.group(1), 16) & 1:
            real_since = real_since or time.time()
            if time.time() - real_since >= settled_s:
                return
        else:
            real_since = None
        time.sleep(0.1)
    raise RuntimeError("%s's firmware on %s was still in its POST after %d s: %s" % (name, host, timeout, answer))


def ram_pattern(name):
    return ("vmfleet bench RAM of %s\n" % name).encode()


def fill_ram(host, name, ram_mib):
    """Write ``ram_mib`` MiB of a non-zero pattern into the running guest's RAM, through its QEMU process.

    The lab's guests have no OS (they sit in firmware): QEMU's monitor tells where the guest's RAM is in
    the QEMU process (``gpa2hva``), and the pattern goes through /proc/PID/mem there, from 16 MiB of
    guest-physical memory up, clear of the firmware. Never zero pages, which a migration sends as a flag."""
    wait_for_firmware(host, name)
    first = ram_address(host, name, RAM_DATA_GPA)
    last = ram_address(host, name, RAM_DATA_GPA + ram_mib * MIB - 1)
    if last - first != ram_mib * MIB - 1:
        raise RuntimeError("%s's RAM from %d MiB on is not one block in QEMU: %d MiB is too much"
                           % (name, RAM_DATA_GPA // MIB, ram_mib))
    pid_file = os.path.join(inventory_hosts()[host]["vmfleet_lab_dir"], "run", "qemu", name + ".pid")
    with open(pid_file) as handle:
        pid = int(handle.read().strip())
    pattern = ram_pattern(name)
    chunk = (pattern * (MIB // len(pattern) + 1))[:MIB]
    with open("/proc/%d/mem" % pid, "r+b", buffering=0) as memory:
        memory.seek(first)
        for _mib in range(ram_mib):
            memory.write(chunk)


def ram_holds_pattern(host, name):
    """The guest's RAM on ``host`` starts with what fill_ram wrote (HMP xp reads guest-physical memory)."""
    pattern = ram_pattern(name)[:16]
    answer = virsh(host, "qemu-monitor-command", name, "--hmp", "xp /16xb %#x" % RAM_DATA_GPA).stdout
    seen = bytes(int(b, 16) for b in re.findall(r"0x([0-9a-f]{2})\b", answer.split(":", 1)[-1]))
    return seen == pattern


def host_path(host, path_in_host):
    """Where `path_in_host` (under /var/lib/libvirt in the host's namespace) is on the controller."""
    relative = os.path.relpath(path_in_host, "/var/lib/libvirt")
    return os.path.join(inventory_hosts()[host]["vmfleet_lab_dir"], "lib", relative)


def lab(*args):
    return subprocess.run([LAB] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)


def virsh_quote(word):
    """``word`` as one argument of a virsh command string (virsh splits its commands itself, as a shell
    would: test_bad_input's guest named ``bi<x&y'z">`` was left on the lab by an unquoted destroy)."""
    return re.sub(r"([^A-Za-z0-9_./-])", r"\\\1", word)


def delete_instance(name):
    """Destroy, undefine and delete the volumes of ``name`` wherever it is. Each virsh call is an ssh
    session to the host, so each host gets two: virsh runs every command of a list, also after one
    fails (the guest is on one host at most)."""
    for host in inventory_hosts():
        quoted = virsh_quote(name)
        listing = virsh(host, "destroy %s; undefine %s; vol-list default; vol-list fast" % (quoted, quoted)).stdout
        paths = [parts[1] for parts in (line.split() for line in listing.splitlines())
                 if len(parts) == 2 and parts[0].startswith(name + ".")]
        if paths:
            virsh(host, "; ".join("vol-delete %s" % virsh_quote(path) for path in paths))


def remove_demo_leftovers():
    """Delete the demo-* instances `make demo`'s playbook leaves on the lab and uncordon the host it drained,
    as the tests expect free, enabled hosts (conftest, before the suite; the main playbook's test, after it)."""
    if not os.path.exists(INVENTORY):
        return
    with state_store() as store:
        for host in inventory_hosts():
            for name in virsh(host, "list", "--all", "--name").stdout.split():
                if name.startswith("demo-"):
                    delete_instance(name)
            # the demo drains a host and leaves it cordoned, as a drain does
            store.remove_cordon(host)
