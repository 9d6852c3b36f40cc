# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drain benchmark on the lab: playbooks/drain_host.yml against a hand-written
shell loop of ``virsh migrate`` with the same parallelism.

Both start from the same state: N tiny guests running on the first lab host,
each with real data the benchmark wrote: --ram-mib MiB of its 128 MiB of RAM
and a qcow2 overlay holding --disk-mib MiB over the lab's base image. Both move
them to the other hosts by block migration over the lab's shaped links, two at
a time (KubeVirt's outbound default, the drain's default):

- reference: what an operator writes by hand; for each guest, pre-create the
  overlay on the destination (``virsh vol-create-as --backing-vol``, which
  ``--copy-storage-inc`` needs), then ``virsh migrate --live --p2p
  --persistent --undefinesource --copy-storage-inc``; destinations alternate;
  ``xargs -P 2``. No scheduling, no pinning, no checks, no report.
- ours: ``ansible-playbook playbooks/drain_host.yml`` (facts of every host,
  plan, claims, CPU check, progress journal, verification, report).

The guests have no OS (they sit in firmware), so the RAM data is written from
outside: QEMU's monitor tells where the guest's RAM is in the QEMU process
(``gpa2hva``), and the benchmark writes a pattern (never zero pages, which
QEMU would send as a flag only) through /proc/PID/mem at that place, from
16 MiB of guest-physical memory up, clear of the firmware.

Prints, per round: the bytes that left the source host over its link (its
veth's counter, so every byte on the wire: RAM, disks, protocol), the link's
limit for them (bytes / the lab's link rate; every migration leaves through the
source's one link), the virsh loop's and the playbook's wall time, the ratio
playbook / loop (target at most 1.2) and the efficiency limit / playbook. Then
the downtime per guest as libvirt measured it (``domjobinfo --completed`` on
the destination for the loop; the drain report for ours).

    .venv/bin/python bench/drain_vs_virsh.py [--guests 8] [--ram-mib 96] [--disk-mib 64] [--parallel 2] [--rounds 3]

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
from lab_tools import (INVENTORY, ansible_env, delete_instance, fill_ram, host_path, inventory_hosts,  # noqa: E402
                       ram_holds_pattern, run_playbook, state_store, virsh)

FLAVOR = {"name": "bench.tiny", "vcpus": 1, "memory_mb": 128, "root_gb": 1}
PREFIX = "bench-"


def link_sent_bytes(host):
    """Bytes ``host`` has sent over its lab link: what the controller's end of its veth pair received."""
    link = inventory_hosts()[host]["vmfleet_lab_link"]
    with open("/sys/class/net/%s/statistics/rx_bytes" % link) as handle:
        return int(handle.read())


def build(names, source, disk_mib, ram_mib):
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
        fill_ram(source, name, ram_mib)


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
        lines.append("%s %s %s" % (name, hosts[dest]["vmfleet_libvirt_uri"], hosts[dest]["vmfleet_migration_address"]))
    script = r"""
move() {
  name=$1; dest=$2; address=$3
  cap=$(virsh -c %(src)s vol-info --pool default --bytes $name.disk.qcow2 | awk '/Capacity/ {print $2}')
  virsh -c $dest vol-create-as default $name.disk.qcow2 ${cap} --format qcow2 \
      --backing-vol /var/lib/libvirt/images/vmfleet-tiny-base.qcow2 --backing-vol-format qcow2 >/dev/null &&
  virsh -c %(src)s migrate --live --p2p --persistent --undefinesource --copy-storage-inc \
      $name $dest --migrateuri tcp://$address &&
  virsh -c %(src)s vol-delete --pool default $name.disk.qcow2 >/dev/null
}
export -f move
printf '%%s\n' "$@" | xargs -P %(parallel)d -L 1 bash -c 'move $0 $1 $2'
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


def data_arrived(names, hosts):
    """Each guest's RAM data is where it now runs (one guest checked per host is enough to catch a
    migration that did not carry RAM; all are checked, as it is cheap)."""
    missing = []
    for name in names:
        where = [h for h in hosts if name in virsh(h, "list", "--name").stdout.split()]
        if not where or not ram_holds_pattern(where[0], name):
            missing.append(name)
    if missing:
        sys.exit("the RAM data written into %s did not arrive on the destination" % ", ".join(missing))


def timed(move, names, source, hosts):
    """Run ``move()`` and return (its result, bytes the source sent over its link meanwhile)."""
    before = link_sent_bytes(source)
    result = move()
    sent = link_sent_bytes(source) - before
    data_arrived(names, hosts)
    return result, sent


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--guests", type=int, default=8)
    parser.add_argument("--ram-mib", type=int, default=96, help="data written into each guest's RAM (of 128 MiB)")
    parser.add_argument("--disk-mib", type=int, default=64, help="data written into each guest's overlay")
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3,
                        help="loop-then-playbook rounds; the ratio is the median of the rounds' ratios")
    args = parser.parse_args()
    hosts = inventory_hosts()
    source, dests = sorted(hosts)[0], sorted(hosts)[1:]
    with open(INVENTORY) as handle:
        group = json.loads(handle.read().split("\n", 1)[1])["all"]["children"]["hypervisors"]["vars"]
    link_bytes_per_s = group["vmfleet_lab_link_bits_per_s"] / 8.0
    names = ["%s%d" % (PREFIX, i) for i in range(args.guests)]
    rounds = []
    clean(names, hosts)
    try:
        for _round in range(args.rounds):
            build(names, source, args.disk_mib, args.ram_mib)
            (loop_s, loop_downtime), loop_bytes = timed(
                lambda: virsh_loop(names, source, dests, args.parallel), names, source, hosts)
            clean(names, hosts)
            build(names, source, args.disk_mib, args.ram_mib)
            (ours_s, ours_downtime, report), ours_bytes = timed(
                lambda: drain_playbook(source, args.parallel), names, source, hosts)
            clean(names, hosts)
            rounds.append({"loop_s": loop_s, "ours_s": ours_s, "module_s": report["summary"]["duration_s"],
                           "report": report,
                           "loop_bytes": loop_bytes, "ours_bytes": ours_bytes,
                           "loop_downtime": loop_downtime, "ours_downtime": ours_downtime})
    finally:
        clean(names, hosts)
    print("drain of %d guests (128 MiB RAM with %d MiB written, %d MiB written disk data each) off %s, "
          "%d at a time, %d rounds, links shaped to %s (%.0f MB/s)"
          % (args.guests, args.ram_mib, args.disk_mib, source, args.parallel, args.rounds,
             group["vmfleet_lab_link_rate"], link_bytes_per_s / 1e6))
    print("%-5s %9s %9s %7s %11s %10s %8s %15s %15s" % (
        "round", "moved MB", "limit s", "loop s", "playbook s", "module s", "pb/loop", "limit/playbook",
        "limit/loop"))
    for index, row in enumerate(rounds, 1):
        # the playbook's own bytes: the loop's differ only by a few ssh and libvirt exchanges
        limit_s = row["ours_bytes"] / link_bytes_per_s
        print("%-5d %9.0f %9.1f %7.1f %11.1f %10.1f %8.2f %15.2f %15.2f" % (
            index, row["ours_bytes"] / 1e6, limit_s, row["loop_s"], row["ours_s"], row["module_s"],
            row["ours_s"] / row["loop_s"], limit_s / row["ours_s"],
            (row["loop_bytes"] / link_bytes_per_s) / row["loop_s"]))
    ratio = statistics.median(row["ours_s"] / row["loop_s"] for row in rounds)
    efficiency = statistics.median(row["ours_bytes"] / link_bytes_per_s / row["ours_s"] for row in rounds)
    print("bytes moved by the loop: %s MB" % ", ".join("%.0f" % (row["loop_bytes"] / 1e6) for row in rounds))
    # where the playbook's time goes: the module's migrations one by one, against the link
    for index, row in enumerate(rounds, 1):
        durations = sorted(g["duration_s"] for g in row["report"]["guests"] if g.get("duration_s") is not None)
        print("round %d: drain module %.1f s of the playbook's %.1f s; one guest's migration %.1f-%.1f s "
              "(median %.1f s) for %.0f MB, which the link alone carries in %.1f s"
              % (index, row["module_s"], row["ours_s"], durations[0], durations[-1], statistics.median(durations),
                 row["ours_bytes"] / len(durations) / 1e6, row["ours_bytes"] / len(durations) / link_bytes_per_s))
    print("ratio playbook / loop, median of %d rounds: %.2f   (target <= 1.2)" % (len(rounds), ratio))
    print("efficiency limit / playbook, median of %d rounds: %.2f" % (len(rounds), efficiency))
    print("downtime per guest, ms (median of the rounds):")
    print("  %-10s %8s %8s" % ("guest", "loop", "drain"))
    for name in names:
        loop_ms = [r["loop_downtime"].get(name) for r in rounds if r["loop_downtime"].get(name) is not None]
        ours_ms = [r["ours_downtime"].get(name) for r in rounds if r["ours_downtime"].get(name) is not None]
        print("  %-10s %8s %8s" % (name, statistics.median(loop_ms) if loop_ms else None,
                                   statistics.median(ours_ms) if ours_ms else None))
    return 0 if ratio <= 1.2 else 1


if __name__ == "__main__":
    sys.exit(main())
