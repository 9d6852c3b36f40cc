# -*- coding: utf-8 -*-
"""A resize whose destination daemon dies part-way (while the disk is copied)
leaves the guest defined and running on its source, and the result says so; a
resize whose run is killed part-way is settled by the next operation on the
guest: running on its source as before, nothing left behind."""

import os
import time

from lab_guests import (assert_settled, claims_for, fast_overlay, in_flight, journal, kill_tree, place,
                        small_fast_pool, volumes_of, wait_for, where, write_pattern)
from lab_tools import (delete_instance, host_path, inventory_hosts, lab, run_playbook, start_playbook, state_store,
                       virsh)

FLAVOR = {"name": "rf.small", "vcpus": 1, "memory_mb": 128, "root_gb": 1}
BIGGER = {"name": "rf.big", "vcpus": 1, "memory_mb": 160, "root_gb": 2}


def test_destination_daemon_dies_during_the_disk_copy():
    source, dest = sorted(inventory_hosts())[:2]
    name = "rf-db"
    delete_instance(name)
    try:
        built = run_playbook("place_instance.yml", {"instance_name": name, "instance_flavor": FLAVOR,
                                                    "target_host": source, "instance_state": "present"})
        assert built.returncode == 0, built.stdout
        # 600 MiB of guest data in the overlay: the copy takes seconds, long enough to kill the daemon
        overlay = host_path(source, "/var/lib/libvirt/images/%s.disk.qcow2" % name)
        written = os.system("qemu-io -c 'write -P 0x5a 0 600M' 'json:{\"driver\":\"qcow2\",\"file\":{\"driver\":"
                            "\"file\",\"filename\":\"%s\"},\"backing\":null}' >/dev/null" % overlay)
        assert written == 0
        assert virsh(source, "start", name).returncode == 0

        run = start_playbook("resize_instance.yml", {"instance_name": name, "instance_flavor": BIGGER,
                                                     "target_host": dest})
        copy = host_path(dest, "/var/lib/libvirt/images/%s.disk.qcow2" % name)
        deadline = time.time() + 120
        while not os.path.exists(copy) and time.time() < deadline and run.poll() is None:
            time.sleep(0.05)
        assert os.path.exists(copy), "the copy to %s never started:\n%s" % (dest, run.communicate()[0])
        crashed = lab("crash", dest)
        output = run.communicate(timeout=600)[0]
        print(output)
        assert crashed.returncode == 0, crashed.stdout
        assert run.returncode == 2, output
        assert "failed while copying the disks to %s" % dest in output, output
        assert "%s is defined on its source %s and running again" % (name, source) in output, output
        assert "running" in virsh(source, "domstate", name).stdout
    finally:
        lab("up", "--hosts", str(len(inventory_hosts())))
    try:
        # the destination, back up, holds no guest; the partial copy is reported or gone
        assert virsh(dest, "dominfo", name).returncode != 0
        assert "vmfleet:flavor" in virsh(source, "dumpxml", name).stdout
    finally:
        delete_instance(name)
        # what an operator does after cleaning the destination: the journal's failed
        # record no longer has anything behind it
        with state_store() as store:
            for record in store.migrations(source):
                if record.get("guest") == name:
                    store.record_migration(dict(record, cleaned_up=True))


def test_a_killed_resize_is_settled_by_the_next_operation_with_the_guest_running_as_before():
    source, dest = sorted(inventory_hosts())[:2]
    name = "rf-kill"
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    delete_instance(name)
    try:
        place([{"name": name, "flavor": FLAVOR, "host": source, "state": "present"}])
        write_pattern(source, name, 500)  # the copy takes seconds: time to kill the run mid-copy
        assert virsh(source, "start", name).returncode == 0
        run = start_playbook("resize_instance.yml", {"instance_name": name, "instance_flavor": BIGGER,
                                                     "target_host": dest})
        # killed as soon as the copy has begun: 500 MiB take seconds to copy, even on an idle machine
        wait_for(lambda: volumes_of(dest, name) or run.poll() is not None, 120, "the copy to %s" % dest)
        kill_tree(run.pid)
        run.communicate()
        # what the killed run left: the guest shut off on its source, a partial copy, a claim, a record in flight
        assert where(name) == {source: "shut off"}, where(name)
        assert in_flight(name) and claims_for(name) and volumes_of(dest, name)
        # any operation on the guest settles it first: here the instance module, which changes nothing else
        present = run_playbook("place_instance.yml", {"instance_name": name, "instance_flavor": FLAVOR,
                                                      "instance_state": "present"})
        assert present.returncode == 0, present.stdout
        assert_settled(name, source, "running", 500)
        record = [r for r in journal(source) if r["guest"] == name][-1]
        assert record["status"] == "error" and record["cleaned_up"], record
        assert "%s is running on its source %s, as before, and nothing is left on %s" % (
            name, source, dest) in record["error"], record
        # and the resize, run again, finishes as if nothing had happened
        again = run_playbook("resize_instance.yml", {"instance_name": name, "instance_flavor": BIGGER,
                                                     "target_host": dest})
        assert again.returncode == 0, again.stdout
        confirmed = run_playbook("resize_instance.yml", {"instance_name": name, "resize_state": "confirmed"})
        assert confirmed.returncode == 0, confirmed.stdout
        assert_settled(name, dest, "running", 500)
        assert [r["status"] for r in journal(source) if r["guest"] == name and r["started_at"] >= since] == [
            "error", "confirmed"]
    finally:
        delete_instance(name)


def test_a_destination_pool_that_fills_up_during_the_copy_names_the_pool_and_the_space():
    source, dest = sorted(inventory_hosts())[:2]
    name = "rf-full"
    fast = dict(FLAVOR, name="rf.fast", extra_specs={"vmfleet:disk_tier": "ssd"})
    delete_instance(name)
    try:
        place([{"name": name, "flavor": fast, "host": source, "state": "present"}])
        write_pattern(source, name, 160, fast_overlay(source, name))
        assert virsh(source, "start", name).returncode == 0
        with small_fast_pool(dest, 128):  # the base image and 160 MiB of overlay do not fit
            run = run_playbook("resize_instance.yml", {"instance_name": name, "target_host": dest,
                                                       "instance_flavor": dict(BIGGER, name="rf.fast.big",
                                                                               extra_specs=fast["extra_specs"])})
            print(run.stdout)
            assert run.returncode == 2, run.stdout
            assert "failed while copying the disks to %s: pool 'fast' on %s has" % (dest, dest) in run.stdout
            assert "the copy needs 16" in run.stdout, run.stdout
            assert "%s is defined on its source %s and running again" % (name, source) in run.stdout, run.stdout
            assert not volumes_of(dest, name)
        assert_settled(name, source, "running", 160, fast_overlay(source, name))
    finally:
        delete_instance(name)
