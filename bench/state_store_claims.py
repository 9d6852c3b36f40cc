# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Claim + release round trips per second on the fleet state store, 1, 4 and 16 clients at once.

Each client is its own process with its own store connection (as separate
ansible-playbook runs or AWX jobs would be), and all claim on the same host:
the worst case, every claim waits for the host's exclusive section. A round
trip is: open the host's claim section, read the live claims and the cordon,
add a claim, commit; then drop the claim. The capacity check a real claim
makes (libvirt reads, the scheduler's filters) is left out: this measures
what the store adds.

Reference measured in the same run: the same round trip on a state folder
(flock on the folder's lock, read claims.json, write it atomically with
fsync, as the state folders of earlier versions did). Beside it, for scale, the cost of one live
migration taken from the README's drain figures (not measured here): a drain
of 8 guests, 2 at a time, took the drain module 12.2-12.8 s, about 3.1 s per
migration.

PostgreSQL: a cluster lab/postgres starts in a temporary folder (and
removes), or --pg-url for one of yours.

    .venv/bin/python bench/state_store_claims.py [--seconds 2] [--clients 1,4,16] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# tests/conftest.py makes the collection importable as ansible_collections.vmfleet.compute
sys.path.insert(0, os.path.join(ROOT, "tests"))
import conftest  # noqa: E402,F401  pylint: disable=unused-import

from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store  # noqa: E402

LAB_POSTGRES = os.path.join(ROOT, "lab", "postgres")
# README, "drain of 8 guests ... 2 at a time": the drain module alone took 12.2-12.8 s: 12.5 s / 8 * 2
LIVE_MIGRATION_SECONDS = 3.1
CONTEXT = multiprocessing.get_context("fork")


def store_client(url, seconds, start, results):
    with open_store(url, lock_timeout=60) as store:
        start.wait()
        done, deadline = 0, time.monotonic() + seconds
        while time.monotonic() < deadline:
            claim_id = str(uuid.uuid4())
            with store.host_section("hv1") as section:
                section.add({"id": claim_id, "instance": "bench", "domain_xml": "<domain/>"})
            store.drop_claim("hv1", claim_id)
            done += 1
    results.put(done)


def folder_client(folder, seconds, start, results):
    """The reference: a state folder's claim and release (flock, read, atomic rewrite with fsync)."""
    start.wait()
    done, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        claim_id = str(uuid.uuid4())
        _folder_update(folder, lambda claims: claims + [{"id": claim_id, "domain_xml": "<domain/>"}])
        _folder_update(folder, lambda claims: [c for c in claims if c["id"] != claim_id])
        done += 1
    results.put(done)


def _folder_update(folder, change):
    with open(os.path.join(folder, "lock"), "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        path = os.path.join(folder, "claims.json")
        try:
            with open(path) as handle:
                claims = json.load(handle)["claims"]
        except FileNotFoundError:
            claims = []
        tmp = path + ".tmp"
        with open(tmp, "w") as handle:
            json.dump({"claims": change(claims)}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)


def rate(client, target, clients, seconds):
    start = CONTEXT.Barrier(clients)
    results = CONTEXT.Queue()
    processes = [CONTEXT.Process(target=client, args=(target, seconds, start, results)) for _client in range(clients)]
    for process in processes:
        process.start()
    total = sum(results.get(timeout=seconds + 120) for _process in processes)
    for process in processes:
        process.join()
    return total / seconds


def start_postgres(folder):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return subprocess.run([LAB_POSTGRES, "start", "--dir", folder, "--port", str(port)], check=True,
                          stdout=subprocess.PIPE, text=True).stdout.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="how long each cell runs")
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--pg-url", help="a PostgreSQL database to use instead of a lab/postgres cluster")
    args = parser.parse_args()
    counts = [int(n) for n in args.clients.split(",")]
    work = tempfile.mkdtemp(prefix="vmfleet-bench-state-")
    os.chmod(work, 0o755)  # the lab cluster runs as the postgres user
    pg_folder = os.path.join(work, "postgres")
    try:
        pg_url = args.pg_url or start_postgres(pg_folder)
        targets = [("state folder (reference)", folder_client, os.path.join(work, "folder")),
                   ("sqlite", store_client, "sqlite://%s" % os.path.join(work, "state.db")),
                   ("postgresql", store_client, pg_url)]
        os.makedirs(targets[0][2])
        for _name, _client, url in targets[1:]:
            open_store(url).close()  # the schema is created before the clock runs
        rows = []
        reference = {}
        for name, client, target in targets:
            for clients in counts:
                per_second = rate(client, target, clients, args.seconds)
                reference.setdefault(clients, per_second)
                rows.append((name, clients, per_second, per_second / reference[clients]))
        print("claim + release round trips, all clients on one host, %.1f s per cell, %d CPUs" % (
            args.seconds, os.cpu_count()))
        header = ("backend", "clients", "round trips/s", "ms each", "x reference", "per live migration")
        print("%-26s %7s %14s %9s %12s %19s" % header)
        for name, clients, per_second, ratio in rows:
            print("%-26s %7d %14.0f %9.2f %12.2f %19.0f" % (
                name, clients, per_second, 1000.0 * clients / per_second if per_second else float("inf"), ratio,
                per_second * LIVE_MIGRATION_SECONDS))
        print("x reference: against the state folder with the same number of clients, measured in this run.")
        print("per live migration: round trips in the time of one live migration, %.1f s, a constant from the "
              "README's drain figures (not measured here)." % LIVE_MIGRATION_SECONDS)
    finally:
        if not args.pg_url and os.path.isdir(pg_folder):
            subprocess.run([LAB_POSTGRES, "remove", "--dir", pg_folder], stdout=subprocess.DEVNULL, check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
