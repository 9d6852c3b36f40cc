# -*- coding: utf-8 -*-
"""Pinned CPUs are never shared with floating guests on the lab (issue 14, defect 2).

The lab hosts have 2 CPUs and no CPU sets, so every pin takes a CPU out of the
floating pool. After builds, a resize, live migrations and drains mixing pinned
and floating guests, libvirt itself is asked (``virsh vcpupin``, ``emulatorpin``,
``dumpxml`` live and ``--inactive``) whether any host CPU is both pinned to a
dedicated vCPU and in a floating guest's CPU set.
"""

import json
import os
import re

import pytest

from lab_tools import delete_instance, inventory_hosts, run_playbook, state_store, virsh

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.host.resource_tracker import floating_cpus, owned_cpus
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.domain_xml import parse_domain
from ansible_collections.vmfleet.compute.plugins.module_utils.state import cordon as host_cordon

FLOAT = {"name": "pi.float", "vcpus": 1, "memory_mb": 128, "root_gb": 1}
PINNED = {"name": "pi.pinned", "vcpus": 1, "memory_mb": 128, "root_gb": 1,
          "extra_specs": {"hw:cpu_policy": "dedicated"}}
NO_SETS = {"cpu_shared_set": None}   # the lab hosts' setting: every CPU may be pinned or float
REPORT = "/tmp/vmfleet-pinning-isolation-%d.json" % os.getpid()
NAMES = ["pi-web1", "pi-web2", "pi-web3", "pi-db1", "pi-db2", "pi-db3"]


def hosts():
    return sorted(inventory_hosts())


def cpu_list(text):
    cpus = set()
    for part in text.strip().split(","):
        low, _dash, high = part.partition("-")
        cpus.update(range(int(low), int(high or low) + 1))
    return cpus


def live_affinity(host, name):
    """``({vcpu: CPUs}, emulator CPUs)`` of a running guest, as libvirt applies them."""
    vcpus = dict((int(m.group(1)), cpu_list(m.group(2)))
                 for m in re.finditer(r"^\s*(\d+)\s+([\d,\-]+)\s*$", virsh(host, "vcpupin", name).stdout, re.M))
    emulator = re.search(r"\*:\s*([\d,\-]+)", virsh(host, "emulatorpin", name).stdout)
    return vcpus, cpu_list(emulator.group(1)) if emulator else set()


def sharing(host):
    """``(pinned CPUs {cpu: guest}, [(floating guest, where, CPUs)])`` of ``host``: every place a floating
    guest may run, from libvirt's live affinity and from both XMLs."""
    host_cpus = list(range(int(re.search(r"CPU\(s\):\s+(\d+)", virsh(host, "nodeinfo").stdout).group(1))))
    pinned, floating = {}, []
    for name in virsh(host, "list", "--all", "--name").stdout.split():
        running = virsh(host, "domstate", name).stdout.strip() == "running"
        views = {"persistent XML": parse_domain(virsh(host, "dumpxml", "--inactive", name).stdout)}
        if running:
            views["live XML"] = parse_domain(virsh(host, "dumpxml", name).stdout)
        for view, guest in views.items():
            vcpu_cpus, emulator_cpus = owned_cpus(guest, NO_SETS)
            for cpu in list(vcpu_cpus.values()) + emulator_cpus:
                pinned[cpu] = name
            floating.append((name, view, set(floating_cpus(guest, host_cpus, NO_SETS))))
        if running:
            vcpu_cpus, emulator_cpus = owned_cpus(views["live XML"], NO_SETS)
            vcpus, emulator = live_affinity(host, name)
            floating.extend((name, "vcpupin %d" % vcpu, cpus) for vcpu, cpus in vcpus.items() if vcpu not in vcpu_cpus)
            if not emulator_cpus:
                floating.append((name, "emulatorpin", emulator - set(vcpu_cpus.values())))
    return pinned, [entry for entry in floating if entry[2]]


def assert_never_shared():
    for host in hosts():
        pinned, floating = sharing(host)
        for name, where, cpus in floating:
            shared = sorted(cpu for cpu in cpus if cpu in pinned)
            assert not shared, "%s: CPUs %s pinned to %s are in %s's %s (%s)" % (
                host, shared, [pinned[c] for c in shared], name, where, sorted(cpus))


def place(name, flavor, host):
    return run_playbook("place_instance.yml", {"instance_name": name, "instance_flavor": flavor,
                                               "target_host": host, "instance_state": "running"})


def drain(host):
    run = run_playbook("drain.yml", {"drain_host": host, "report_file": REPORT}, timeout=900)
    with open(REPORT) as handle:
        return run, json.load(handle)


def cordon(host):
    with state_store() as store:
        host_cordon.set_state(store, states.CORDONED, host, "test_pinning_isolation", "pytest")


@pytest.fixture()
def clean_lab():
    for name in NAMES:
        delete_instance(name)
    yield
    for name in NAMES:
        delete_instance(name)
    with state_store() as store:
        for host in hosts():
            store.remove_cordon(host)
    if os.path.exists(REPORT):
        os.remove(REPORT)


def cpus_of(host, name):
    vcpus, emulator = live_affinity(host, name)
    return set().union(*vcpus.values()) | emulator


def test_builds_resizes_and_live_migrations_never_share_a_pinned_cpu(clean_lab):
    first, second, third = hosts()[:3]
    for name in ("pi-web1", "pi-web2"):
        built = place(name, FLOAT, third)
        assert built.returncode == 0, built.stdout
    assert cpus_of(third, "pi-web1") == {0, 1}   # a floating guest alone floats over both CPUs
    assert_never_shared()
    # a pin on the host takes its CPU out of both floating guests, live and persistently
    built = place("pi-db1", PINNED, third)
    assert built.returncode == 0, built.stdout
    pin = json.loads(re.search(r"PINNED (\[.*\])", built.stdout).group(1))
    assert len(pin) == 1
    for name in ("pi-web1", "pi-web2"):
        assert cpus_of(third, name) == {0, 1} - set(pin), name
    assert_never_shared()
    # a second pin there would leave the floating guests no CPU: the claim refuses the live migration
    built = place("pi-db2", PINNED, second)
    assert built.returncode == 0, built.stdout
    moved = run_playbook("live_migrate_instance.yml", {"instance_name": "pi-db2", "target_host": third})
    assert moved.returncode != 0, moved.stdout
    assert "floating guest pi-web" in moved.stdout and "the pin would leave it no CPU" in moved.stdout, moved.stdout
    assert virsh(second, "domstate", "pi-db2").stdout.strip() == "running"
    assert_never_shared()
    # a floating guest resized to a pinned flavor on the host of a pinned guest: the pins of both stay apart
    built = place("pi-web3", FLOAT, second)
    assert built.returncode == 0, built.stdout
    resized = run_playbook("resize_instance.yml", {"instance_name": "pi-web3", "instance_flavor":
                                                   dict(PINNED, name="pi.pinned2"), "target_host": first})
    assert resized.returncode == 0, resized.stdout
    assert_never_shared()
    # a floating guest live-migrated onto a host with a pin floats only on the CPU left there
    moved = run_playbook("live_migrate_instance.yml", {"instance_name": "pi-web1", "target_host": second})
    assert moved.returncode == 0, moved.stdout
    assert_never_shared()


def test_drains_putting_pinned_and_floating_guests_on_one_host_never_share_a_cpu(clean_lab):
    # the scenario: with hv1 cordoned, hv2 and hv3 drained in turn onto one 2-CPU host that has
    # two floating guests; the first pin takes a CPU from both, the second would leave them none
    first, second, third = hosts()[:3]
    for name, flavor, host in (("pi-web1", FLOAT, third), ("pi-web2", FLOAT, third), ("pi-db1", PINNED, second),
                               ("pi-db2", PINNED, first)):
        built = place(name, flavor, host)
        assert built.returncode == 0, built.stdout
    cordon(first)
    run, report = drain(second)
    assert run.returncode == 0, run.stdout
    assert virsh(third, "domstate", "pi-db1").stdout.strip() == "running"
    assert_never_shared()
    with state_store() as store:
        store.remove_cordon(first)
    cordon(second)
    run, report = drain(first)
    assert run.returncode != 0, run.stdout
    assert "the pin would leave it no CPU" in json.dumps(report), report
    assert virsh(first, "domstate", "pi-db2").stdout.strip() == "running"   # refused: it stays where it ran
    assert_never_shared()
