# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drain benchmark on the lab: playbooks/drain_host.yml against a hand-written
shell loop of ``virsh migrate`` with the same parallelism.

Both start from the same state: N tiny guests (128 MiB RAM, a qcow2 overlay
holding --disk-mib MiB of written data over the lab's base image) running on
the first lab host. Both move them to the other hosts by block migration,
two at a time (KubeVirt's outbound default, the drain's default):

- reference: what an operator writes by hand; for each guest, pre-create the
  overlay on the destination (``virsh vol-create-as --backing-vol``, which
  ``--copy-storage-inc`` needs), then ``virsh migrate --live --p2p
  --persistent --undefinesource --copy-storage-inc``; destinations alternate;
  ``xargs -P 2``. No scheduling, no pinning, no checks, no report.
- ours: ``ansible-playbook playbooks/drain_host.yml`` (facts of every host,
  plan, claims, CPU check, progress journal, verification, report).

Prints the wall time of each, the ratio (target at most 1.2), and the
downtime per guest as libvirt measured it (``domjobinfo --completed`` on the
destination for the loop; the drain report for ours).

    .venv/bin/python bench/drain_vs_virsh.py [--guests 8] [--disk-mib 64] [--parallel 2] [--rounds 3]

Migration times on a small shared machine vary by 15% from run to run, in both; so each round runs the
loop then the playbook, and the ratio is the median of the rounds' ratios. Exit status 1 when it is
above the target.

Needs the lab (``make lab``); leaves it as it found it, but for the bench's guests.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, ".build", "collections"))
from lab_tools import (INVENTORY, ansible_env, delete_instance, host_path, inventory_hosts, run_playbook,  # noqa: E402
                       state_store, virsh)

FLAVOR = {"name": "bench.tiny", "vcpus": 1, "memory_mb": 128, "root_gb": 1}
PREFIX = "bench-"


def build(names, source, disk_mib):
    built = run_playbook("place_instances.yml", {"instances": [
        {"name": n, "flavor": FLAVOR, "host": source, "state": "present"} for n in names]})
    if built.returncode != 0:
        sys.exit("could not build the bench guests:\n" + built.stdout)
    for name in names:
        path = host_path(source, "/var/lib/libvirt/images/%s.disk.qcow2" % name)
        spec = "json:" + json.dumps({"driver": "qcow2", "file": {"driver": "file", "filename": path},
                                     "backing": None})
        subprocess.run(["qemu-io", "-c", "write -P 0x5a 0 %dM" % disk_mib, spec], check=True,
                       stdout=subprocess.DEVNULL)
        if virsh(source, "start", name).returncode != 0:
            sys.exit("could not start %s" % name)


def clean(names, hosts):
    for name in names:
        delete_instance(name)
    with state_store() as store:
        for host in hosts:
            store.remove_cordon(host)


def virsh_loop(names, source, dests, parallel):
    """The reference: a shell loop an operator would write. Returns (seconds, {guest: downtime ms})."""
    hosts = inventory_hosts()
    src_uri = hosts[source]["vmfleet_libvirt_uri"]
    lines = []
    for index, name in enumerate(names):
        dest = dests[index % len(dests)]
        lines.append("%s %s" % (name, hosts[dest]["vmfleet_libvirt_uri"]))
    script = r"""
move() {
  name=$1; dest=$2
  cap=$(virsh -c %(src)s vol-info --pool default --bytes $name.disk.qcow2 | awk '/Capacity/ {print $2}')
  virsh -c $dest vol-create-as default $name.disk.qcow2 ${cap} --format qcow2 \
      --backing-vol /var/lib/libvirt/images/vmfleet-tiny-base.qcow2 --backing-vol-format qcow2 >/dev/null &&
  virsh -c %(src)s migrate --live --p2p --persistent --undefinesource --copy-storage-inc \
      $name $dest --migrateuri tcp://127.0.0.1 &&
  virsh -c %(src)s vol-delete --pool default $name.disk.qcow2 >/dev/null
}
export -f move
printf '%%s\n' "$@" | xargs -P %(parallel)d -L 1 bash -c 'move $0 $1'
""" % {"src": src_uri, "parallel": parallel}
    started = time.monotonic()
    done = subprocess.run(["bash", "-c", script, "bench"] + lines, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        sys.exit("the virsh loop failed:\n" + done.stdout)
    downtime = {}
    for index, name in enumerate(names):
        dest = dests[index % len(dests)]
        info = virsh(dest, "domjobinfo", "--completed", name).stdout
        match = re.search(r"Total downtime:\s+(\d+)\s+ms", info)
        downtime[name] = int(match.group(1)) if match else None
    return seconds, downtime


def drain_playbook(source, parallel):
    """Ours: the drain playbook. Returns (seconds, {guest: downtime ms}, report).

    The report is read from the fleet state store, where the drain keeps it anyway: asking the playbook
    for a copy (drain_host_report_file) would time a copy task the loop has no counterpart for."""
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", INVENTORY,
            os.path.join(ROOT, "playbooks", "drain_host.yml"), "-e", json.dumps({
                "drain_host": source, "drain_host_max_parallel_outbound": parallel})]
    started = time.monotonic()
    done = subprocess.run(argv, cwd=ROOT, env=ansible_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        sys.exit("the drain playbook failed:\n" + done.stdout)
    with state_store() as store:  # the report the drain keeps with its run in the fleet state store
        report = store.last_drain(source)["report"]
    return seconds, dict((g["guest"], g["downtime_ms"]) for g in report["guests"]), report


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--guests", type=int, default=8)
    parser.add_argument("--disk-mib", type=int, default=64, help="data written into each guest's overlay")
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3,
                        help="loop-then-playbook rounds; the ratio is the median of the rounds' ratios")
    args = parser.parse_args()
    hosts = inventory_hosts()
    source, dests = sorted(hosts)[0], sorted(hosts)[1:]
    names = ["%s%d" % (PREFIX, i) for i in range(args.guests)]
    rounds = []
    clean(names, hosts)
    try:
        for _round in range(args.rounds):
            build(names, source, args.disk_mib)
            loop_s, loop_downtime = virsh_loop(names, source, dests, args.parallel)
            clean(names, hosts)
            build(names, source, args.disk_mib)
            ours_s, ours_downtime, report = drain_playbook(source, args.parallel)
            clean(names, hosts)
            rounds.append((loop_s, ours_s, report["summary"]["duration_s"], loop_downtime, ours_downtime))
    finally:
        clean(names, hosts)
    print("drain of %d guests (128 MiB RAM, %d MiB written disk data each) off %s, %d at a time, %d rounds"
          % (args.guests, args.disk_mib, source, args.parallel, args.rounds))
    print("%-6s %10s %10s %14s %7s" % ("round", "loop s", "playbook s", "module alone s", "ratio"))
    for index, (loop_s, ours_s, module_s, _l, _o) in enumerate(rounds, 1):
        print("%-6d %10.1f %10.1f %14.1f %7.2f" % (index, loop_s, ours_s, module_s, ours_s / loop_s))
    ratio = statistics.median(ours_s / loop_s for loop_s, ours_s, _m, _l, _o in rounds)
    print("ratio playbook / loop, median of %d rounds: %.2f   (target <= 1.2)" % (len(rounds), ratio))
    print("downtime per guest, ms (median of the rounds):")
    print("  %-10s %8s %8s" % ("guest", "loop", "drain"))
    for name in names:
        loop_ms = [r[3].get(name) for r in rounds if r[3].get(name) is not None]
        ours_ms = [r[4].get(name) for r in rounds if r[4].get(name) is not None]
        print("  %-10s %8s %8s" % (name, statistics.median(loop_ms) if loop_ms else None,
                                   statistics.median(ours_ms) if ours_ms else None))
    return 0 if ratio <= 1.2 else 1


if __name__ == "__main__":
    sys.exit(main())
