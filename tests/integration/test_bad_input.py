# -*- coding: utf-8 -*-
"""Bad input through ansible-playbook on the lab: every task fails with an error naming the field and what is
allowed, and nothing changed on any host (guests and their power state, volumes of every pool, networks) nor
in the fleet state store (claims, journal, cordons). A name with XML specials still builds and is found."""

import json
import os
import xml.etree.ElementTree as ET

from lab_tools import delete_instance, inventory_hosts, run_playbook, state_store, virsh

METADATA = "https://vmfleet.dev/xmlns/compute/instance/1"
FLAVOR = {"name": "bi.small", "vcpus": 1, "memory_mb": 128, "root_gb": 1}
EXISTING = "bi-existing"
BAD_NAMES = ["/", "..", "../dump", "x" * 300, "ctl\x01name", "new\nline", "-rf", ".hidden"]


def lab_contents():
    """Every host's guests with their state, the volumes of each pool, the networks; the store's records."""
    seen = {}
    for host in sorted(inventory_hosts()):
        guests = virsh(host, "list", "--all", "--name").stdout.split()
        pools = virsh(host, "pool-list", "--all", "--name").stdout.split()
        seen[host] = {
            "guests": dict((name, virsh(host, "domstate", name).stdout.strip()) for name in guests),
            "volumes": dict((pool, sorted(line.split()[0] for line in virsh(host, "vol-list", pool).stdout
                                          .splitlines()[2:] if line.strip())) for pool in pools),
            "networks": virsh(host, "net-list", "--all", "--name").stdout.split(),
        }
    with state_store() as store:
        seen["store"] = {"claims": dict((host, store.claims(host)) for host in sorted(inventory_hosts())),
                         "journal": store.migrations(), "cordons": store.cordons()}
    return seen


def message(result):
    assert result.get("failed"), result
    return result["msg"]


def test_bad_input_is_refused_and_changes_nothing(tmp_path):
    hosts = sorted(inventory_hosts())
    existing_host, other_host = hosts[0], hosts[1]
    for name in (EXISTING, "bi-nonet", "bi-hint"):
        delete_instance(name)
    try:
        built = run_playbook("place_instance.yml", {"instance_name": EXISTING, "instance_flavor": FLAVOR,
                                                    "target_host": existing_host, "instance_state": "running"})
        assert built.returncode == 0, built.stdout
        before = lab_contents()
        assert before[existing_host]["guests"][EXISTING] == "running"

        out = str(tmp_path / "results.json")
        run = run_playbook("bad_input.yml", {"bad_names": BAD_NAMES, "bad_existing": EXISTING,
                                             "bad_existing_host": existing_host, "bad_other_host": other_host,
                                             "bad_out": out})
        assert run.returncode == 0, run.stdout
        with open(out) as handle:
            results = json.load(handle)
        print(json.dumps(results, indent=1)[:20000])

        for key, field in (("instance_names", "name"), ("schedule_names", "requests[0].name"),
                           ("resize_names", "name"), ("migrate_names", "name")):
            assert len(results[key]) == len(BAD_NAMES)
            for result in results[key]:
                text = message(result)
                assert text.startswith("invalid %s=" % field), (key, text)
                assert "allowed: 1 to 128 bytes (UTF-8), no '/'" in text, (key, text)
                # a long name is shown once, shortened
                assert "x" * 41 not in text
        assert "'/' separates folders" in message(results["instance_names"][2])
        assert "300 bytes long, more than 128" in message(results["instance_names"][3])
        assert "control character '\\x01' at position 3" in message(results["instance_names"][4])

        # the scheduler's NetworkFilter reads each host's networks and bridges from its facts
        network = message(results["network"])
        assert network.startswith("No valid host was found for bi-nonet: "), network
        for host in hosts:
            assert "%s: NetworkFilter: network 'nosuch' is not defined here (networks: vmfleet)" % host in network

        bridge = message(results["bridge"])
        for host in hosts:
            assert "%s: NetworkFilter: no bridge 'nosuchbr0' here" % host in bridge, bridge
        schedule_hint = message(results["schedule_hint"])
        assert "requests.hints.different_hosts" in schedule_hint and "different_host" in schedule_hint, schedule_hint

        hint = message(results["hint"])
        assert hint.startswith("invalid hints.different_hosts=['%s']: unknown scheduler hint 'different_hosts' "
                               "(known hints: availability_zone, group, same_host, different_host, force_host, force, "
                               "retry_exclude)" % EXISTING), hint

        for key, field in (("placement", "placement.host"), ("force_host", "hints.force_host")):
            text = message(results[key])
            assert text.startswith("invalid %s=%r: instance %s exists on %s already and this module does not move "
                                   "it: move it with vmfleet.compute.live_migrate (destination: %s)"
                                   % (field, other_host, EXISTING, existing_host, other_host)), text
            assert "nothing was changed" in text
            assert results[key]["field"] == field

        state = [message(result) for result in results["state"]]
        assert state[0].startswith("invalid state_dir='vmfleet-state': a relative path"), state[0]
        assert state[1].startswith("invalid state_dir='/nonexistent/vmfleet-state': no such folder"), state[1]
        # state_url is a no_log option (it may hold a password): Ansible masks its value wherever it appears
        for text, reason in zip(state[2:6], ("a relative path would be a different store in each working folder",
                                             "unknown scheme 'mysql'", "a SQLite store is a file on this machine",
                                             "no database name after the host")):
            assert text.startswith("invalid state_url="), text
            assert reason in text and "allowed: sqlite:///ABSOLUTE/PATH.db" in text, text
        assert state[6].startswith("cannot open the fleet state store "), state[6]
        assert "Permission denied" in state[6] or "No such file" in state[6] or "denied" in state[6], state[6]

        assert lab_contents() == before
        assert not os.path.exists(os.path.join(os.path.dirname(os.path.abspath(__file__)), "vmfleet-state"))
    finally:
        for name in (EXISTING, "bi-nonet", "bi-hint"):
            delete_instance(name)


def test_a_name_with_xml_specials_builds_and_is_found_by_it():
    name = "bi<x&y'z\">"
    host = sorted(inventory_hosts())[1]
    delete_instance(name)
    try:
        built = run_playbook("place_instance.yml", {"instance_name": name, "instance_flavor": FLAVOR,
                                                    "target_host": host, "instance_state": "running"})
        assert built.returncode == 0, built.stdout
        assert "PLACED %s ON %s" % (name, host) in built.stdout
        assert virsh(host, "domstate", name).stdout.strip() == "running"
        domain = ET.fromstring(virsh(host, "dumpxml", name).stdout)
        # escaped in the XML, the same name once read back (the metadata's JSON holds it too)
        assert domain.findtext("name") == name
        assert json.loads(domain.find("metadata/{%s}instance/{%s}request" % (METADATA, METADATA)).text)["name"] == name
        assert "%s.disk.qcow2" % name in virsh(host, "vol-list", "default").stdout
    finally:
        delete_instance(name)
