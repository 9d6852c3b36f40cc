# -*- coding: utf-8 -*-
"""Several controllers at once, as real processes on one store (SQLite file or PostgreSQL database)."""

import multiprocessing
import threading
import time
import uuid

from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store
from ansible_collections.vmfleet.compute.plugins.module_utils.state.errors import StoreBusy

# fork: the children inherit the collection on sys.path, as ansible-playbook runs would have it
CONTEXT = multiprocessing.get_context("fork")
HOST_CPUS = (2, 3)  # the host's CPUs a guest may pin
MOVE_SECONDS = 0.25


def free_cpu(claims):
    """The capacity check a claim makes (the scheduler's, reduced to one question): a CPU no claim pins."""
    pinned = set(claim["cpu"] for claim in claims)
    free = [cpu for cpu in HOST_CPUS if cpu not in pinned]
    return free[0] if free else None


def claimant(url, start, results):
    with open_store(url, lock_timeout=60) as store:
        start.wait()
        with store.host_section("hv1") as section:
            cpu = free_cpu(section.claims)
            # what a real claim does here (read libvirt, render the XML) takes time: the race stays open
            time.sleep(0.2)
            if cpu is None:
                results.put(("claim_failed", None))
                return
            section.add({"id": str(uuid.uuid4()), "instance": "vm", "cpu": cpu})
        results.put(("claimed", cpu))


def run_processes(target, arguments):
    """Run ``target(*args, start, results)`` for each args of ``arguments`` in its own process, all started at
    once (a barrier); returns what each put in ``results``."""
    start = CONTEXT.Barrier(len(arguments))
    results = CONTEXT.Queue()
    processes = [CONTEXT.Process(target=target, args=tuple(args) + (start, results)) for args in arguments]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(30)
        assert process.exitcode == 0
    return outcomes


def test_claimants_never_pass_the_hosts_capacity_nor_pin_a_cpu_twice(store_url):
    outcomes = run_processes(claimant, [(store_url,)] * 4)
    claimed = sorted(cpu for result, cpu in outcomes if result == "claimed")
    assert claimed == list(HOST_CPUS)  # exactly the capacity, each CPU once
    assert sorted(result for result, _cpu in outcomes).count("claim_failed") == 2
    with open_store(store_url) as store:
        assert sorted(claim["cpu"] for claim in store.claims("hv1")) == list(HOST_CPUS)


def drain_taker(url, start, results):
    with open_store(url) as store:
        start.wait()
        try:
            results.put(("drain", store.begin_drain("hv1", "ctl", timeout=0).id))
        except StoreBusy as busy:
            results.put(("busy", busy.message))


def test_one_drain_per_host_across_controllers(store_url):
    outcomes = run_processes(drain_taker, [(store_url,)] * 3)
    assert sorted(kind for kind, _ in outcomes) == ["busy", "busy", "drain"]
    run_id = [value for kind, value in outcomes if kind == "drain"][0]
    assert all(run_id in value for kind, value in outcomes if kind == "busy")


def drain(url, host, destinations, limits, start, results):
    """A drain of ``host``: 4 worker threads move 6 guests, each waiting for a fleet-wide slot."""
    with open_store(url, lock_timeout=60) as store:
        start.wait()
        run = store.begin_drain(host, "drain of %s" % host)
        guests = ["%s-vm%d" % (host, i) for i in range(6)]
        intervals, refusals = [], []
        lock = threading.Lock()

        def worker(index):
            while True:
                with lock:
                    if not guests:
                        return
                    guest = guests.pop()
                destination = destinations[index % len(destinations)]
                while True:
                    slot = store.start_move(guest, host, destination, limits, run_id=run.id)
                    if slot.id:
                        break
                    with lock:
                        refusals.append(slot.refusal)
                    time.sleep(0.02)
                began = time.time()
                time.sleep(MOVE_SECONDS)  # the migration
                ended = time.time()
                store.finish_move(slot.id)
                with lock:
                    intervals.append((began, ended))

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        store.finish_drain(run.id, "drained")
        results.put((intervals, refusals))


def most_at_once(intervals):
    events = sorted([(began, 1) for began, _ in intervals] + [(ended, -1) for _, ended in intervals])
    peak = current = 0
    for _when, change in events:
        current += change
        peak = max(peak, current)
    return peak


def test_two_drains_share_the_overall_limit(store_url):
    # each drain alone may run 4 moves (outbound 4), both together must stay within 5 overall
    limits = {"max_parallel": 5, "max_parallel_outbound": 4, "max_parallel_inbound": 8}
    outcomes = run_processes(drain, [(store_url, "hv1", ["hv3", "hv4"], limits),
                                     (store_url, "hv2", ["hv4", "hv5"], limits)])
    intervals = [interval for moved, _ in outcomes for interval in moved]
    refusals = [refusal for _, refused in outcomes for refusal in refused]
    assert len(intervals) == 12
    assert most_at_once(intervals) <= 5
    # the overall limit really was what held the drains back (each alone would have run 4)
    assert any("moves in flight in the fleet (max_parallel 5)" in refusal for refusal in refusals)
    with open_store(store_url) as store:
        assert store.moves_in_flight() == [] and store.draining_hosts() == {}
