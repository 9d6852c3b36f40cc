# -*- coding: utf-8 -*-
"""Helpers for the integration tests that drive the lab from Python: run
`ansible-playbook` (in the foreground or the background), call `virsh` on a lab
host, and find where a lab host's files are seen from the controller."""

import json
import os
import subprocess
import sys

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


def inventory_hosts():
    with open(INVENTORY) as handle:
        return json.loads(handle.read().split("\n", 1)[1])["all"]["children"]["hypervisors"]["hosts"]


def virsh(host, *args):
    uri = inventory_hosts()[host]["vmfleet_libvirt_uri"]
    return subprocess.run(["virsh", "-c", uri] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)


def host_path(host, path_in_host):
    """Where `path_in_host` (under /var/lib/libvirt in the host's namespace) is on the controller."""
    relative = os.path.relpath(path_in_host, "/var/lib/libvirt")
    return os.path.join(inventory_hosts()[host]["vmfleet_lab_dir"], "lib", relative)


def lab(*args):
    return subprocess.run([LAB] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)


def delete_instance(name):
    """Destroy, undefine and delete the volumes of ``name`` wherever it is. Each virsh call is an ssh
    session to the host, so each host gets two: virsh runs every command of a list, also after one
    fails (the guest is on one host at most)."""
    for host in inventory_hosts():
        listing = virsh(host, "destroy %s; undefine %s; vol-list default; vol-list fast" % (name, name)).stdout
        paths = [parts[1] for parts in (line.split() for line in listing.splitlines())
                 if len(parts) == 2 and parts[0].startswith(name + ".")]
        if paths:
            virsh(host, "; ".join("vol-delete %s" % path for path in paths))
