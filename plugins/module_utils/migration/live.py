# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live migration of one running guest, peer-to-peer between libvirt daemons.

Before anything moves: the destination is the scheduler's (or the user's,
still checked by the scheduler), the guest has no host devices, libvirt on
the destination accepts the guest's CPU (cpu_compatibility.py), and the
destination claims the resources under its lock (claims.py) with the
destination XML: the source's migratable XML re-pinned onto CPUs and cells
free there (migration_xml.py). Local disks are prepared for a block
migration (migration_storage.py).

While it runs: the source libvirt drives the migration (``migrateToURI3``
with ``VIR_MIGRATE_PEER2PEER``) in a thread; this thread looks at the job
every half second, applies Nova's downtime ladder and timeouts
(migration_policy.py), and writes the progress into the migration journal,
where ``migration_info`` shows it while the task runs (``async``).

After: success means the guest runs on the destination and is gone from
the source (its local disks are deleted there); the claim is dropped and the
journal record completed with the duration, downtime and data moved. After
a failure the guest runs on the source (resumed or started when needed),
nothing stays defined or claimed on the destination, the prepared volumes
are deleted, and the error says what happened and what, if anything, could
not be cleaned up. Two exceptions, both said in the error: a guest paused
before the move stays paused; and a source copy that may be behind the
destination's (a post-copy switched over, a copy runs there, or libvirt kept
the source paused because it could not ask the destination) is not resumed,
as the guest would run twice: the next operation resumes it once the
destination is known not to run it.
"""

from __future__ import annotations

import threading
import time

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.instances import claims
from ansible_collections.vmfleet.compute.plugins.module_utils.instances import move_destination
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.model import domain_xml
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import cpu_compatibility
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import guest as libvirt_guest
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import migration_xml
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import qemu_tls
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.guest import state_name
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import policy as migration_policy
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import storage as migration_storage
from ansible_collections.vmfleet.compute.plugins.module_utils.state import journal as migration_journal
from ansible_collections.vmfleet.compute.plugins.module_utils.state import run_owner
from ansible_collections.vmfleet.compute.plugins.module_utils.state.errors import StoreError
from ansible_collections.vmfleet.compute.plugins.module_utils.storage import pool_space
from ansible_collections.vmfleet.compute.plugins.module_utils.storage import volumes as storage_volumes

POLL_SECONDS = 0.5
JOURNAL_EVERY_SECONDS = 2.0
# how long a cancel waits for the run that started the migration to record its end before it settles it itself
CANCEL_WAIT_SECONDS = 60
CANCELLED = "cancelled: its job was aborted (live_migrate state=cancelled, a drain cancelled, or virsh domjobabort)"


class MigrationFailed(VmfleetError):
    """A live migration that started and failed; ``details`` say where the guest is now."""


def live_migrate(fleet, located, *, destination=None, settings=None, scheduler_config=None, max_attempts=3,
                 block_migration=migration_storage.AUTO, seed=None, excluded=(), check_mode=False,
                 on_progress=None):
    """Live-migrate the instance at ``located`` (an InstanceLocation); returns the result dict.

    A destination that cannot take the guest before anything moved (its claim
    is refused, its libvirt rejects the CPU) is replaced by the scheduler's
    next choice, up to ``max_attempts``. A migration that started and failed
    is not retried here (the drain retries elsewhere): MigrationFailed.
    """
    settings = migration_policy.normalize(settings)
    located.require_managed(fleet)
    if located.pending:
        raise VmfleetError("%s has a resize waiting for confirm or revert on %s: confirm or revert it first"
                           % (located.name, located.host), instance=located.name, host=located.host)
    state = state_name(located.domain)
    if state not in states.LIVE_GUEST_STATES:
        raise InvalidInput("name", located.name, "a running or paused guest", reason="%s is %s on %s: move it "
                           "with vmfleet.compute.resize (a cold migration)" % (located.name, state, located.host))
    move_destination.check_host_devices(located, fleet)
    instance = move_destination.instance_from(located, located.metadata["flavor"], scheduler_config)
    excluded, attempts = list(excluded), []
    while True:
        try:
            placement = move_destination.plan_destination(fleet, located, instance, False, destination, excluded,
                                                          seed, same_host_option=None, destination_field="destination")
        except VmfleetError as exc:
            # the hosts tried already refused for reasons of their own: say those, not only "already tried"
            raise move_destination.no_host_left(exc, attempts, "%s cannot be live-migrated" % located.name,
                                                instance=located.name, host=located.host, running=True)
        dest = fleet.host(placement["host"])
        try:
            missing = move_destination.references_missing(fleet.conn(dest.name), instance, dest.name,
                                                          must_be_active=True)
            if missing:
                raise _Refused(missing)
            if check_mode:
                return {"changed": True, "host": located.host, "source": located.host, "destination": dest.name,
                        "placement": placement, "attempts": list(attempts),
                        "actions": ["live-migrate %s from %s to %s" % (located.name, located.host, dest.name)]}
            result = _attempt(fleet, located, instance, dest, settings, block_migration, on_progress)
        except _Refused as refused:
            attempts.append({"host": dest.name, "result": refused.message})
            excluded.append(dest.name)
            if destination or len(attempts) >= max_attempts:
                raise VmfleetError("%s cannot be live-migrated%s: %s" % (
                    located.name, " to %s" % destination if destination else "",
                    "; ".join("%s: %s" % (a["host"], a["result"]) for a in attempts)),
                    instance=located.name, host=located.host, attempts=attempts, running=True)
            continue
        result["attempts"] = attempts + [{"host": dest.name, "result": "migrated"}]
        return result


class _Refused(VmfleetError):
    """The destination cannot take the guest; nothing has moved or stayed there."""


def _attempt(fleet, located, instance, dest, settings, block_migration, on_progress):
    source = fleet.host(located.host)
    src_conn, dst_conn = fleet.conn(source.name), fleet.conn(dest.name)
    libvirt = libvirt_client.libvirt
    query = cpu_compatibility.guest_cpu_query(located.xml)
    if query.reason:  # a host-passthrough guest: compared by the source host's own CPU, read only then
        query = cpu_compatibility.guest_cpu_query(located.xml, _source_cpu(src_conn))
    why = cpu_compatibility.run_query(dst_conn, query, dest.name)
    if why:
        raise _Refused("the guest's CPU cannot run there: %s" % why)
    storage = migration_storage.plan(fleet, located, instance, dest, block_migration)
    source_xml = located.domain.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE)
    disk_paths = dict((d["target"], d["dest_path"]) for d in storage["disks"] if d["dest_path"] != d["source_path"])
    layout = [{"target": d["target"], "path": d["dest_path"], "format": d["format"] or "qcow2"}
              for d in storage["disks"]]

    def render(placement, facts):
        rendered = domain_xml(instance, facts, placement, layout, states.VM_ACTIVE)
        return migration_xml.destination_xml(source_xml, rendered, disk_paths)

    try:
        claim = claims.claim(dst_conn, dest.as_claim_target(), instance.spec(), render, instance.scheduler_config,
                             fleet=fleet, moves_from=source.name)
    except claims.ClaimFailed as failure:
        raise _Refused(failure.message)
    # an incremental block migration sends what the source's overlays hold
    disk_bytes = sum(d["allocation_bytes"] for d in storage["disks"]) if storage["mode"] == migration_storage.BLOCK else 0
    was_paused = state_name(located.domain) == "paused"
    record = migration_journal.new_record(located.name, source.name, dest.name, "live", claim_id=claim.id,
                                          uuid=located.guest["uuid"], power_state=state_name(located.domain),
                                          source_disks=[d["source_path"] for d in storage["disks"]],
                                          disk_bytes=disk_bytes, storage=storage["mode"], prepared_volumes=[],
                                          progress=None, peer_uri=peer_uri(dest),
                                          native_tls=settings["native_tls"])
    migration_journal.write(fleet.store, record)
    actions = ["claimed on %s" % dest.name]
    run = _Run(located.domain, record["peer_uri"], record, fleet.store, on_progress)
    try:
        actions.extend(migration_storage.prepare(fleet, instance, dest, storage, record["prepared_volumes"]))
        migration_journal.write(fleet.store, record)
        data = migration_policy.data_gb(located.guest["memory_mb"] * 1024 * 1024, disk_bytes)
        run.migrate(_params(claim.domain_xml, dest, settings, storage),
                    _flags(settings, storage), migration_policy.Monitor(settings, data))
    except Exception as exc:  # pylint: disable=broad-except
        # which daemon went away, read before recover() opens new connections
        gone = _daemons_gone({source.name: src_conn, dest.name: dst_conn}, source.name)
        where = recover(fleet, record, was_paused=was_paused and not run.paused_by_us)
        reason = "; ".join(gone) + " (libvirt: %s)" % _reason(exc) if gone else _reason(exc)
        # libvirt's words for missing certificates name neither the host nor, at times, the file
        lacking = qemu_tls.hint((source.name, src_conn), (dest.name, dst_conn)) if (
            settings["native_tls"] and not gone and qemu_tls.may_lack_files(reason)) else None
        reason = "%s (libvirt: %s)" % (lacking, reason) if lacking else reason
        full = None if gone or not disk_bytes else pool_space.shortfall(
            dst_conn, [v["pool"] for v in record["prepared_volumes"]], dest.name, disk_bytes)
        reason = "%s (libvirt: %s)" % (full, reason) if full else reason
        aborted = run.aborted or (CANCELLED if _aborted_job(exc) or _cancel_requested(fleet.store, record) else None)
        message = "live migration of %s from %s to %s failed%s: %s. %s" % (
            located.name, source.name, dest.name, " (%s)" % aborted if aborted else "", reason, where["msg"])
        migration_journal.update(fleet.store, record, status=states.ERROR, error=message,
                                 cleaned_up=not where["leftovers"], leftovers=where["leftovers"],
                                 source_unconfirmed=where["running"] is None)
        raise MigrationFailed(message, instance=located.name, host=where["host"], running=where["running"],
                              leftovers=where["leftovers"], migration=record, progress=run.last)
    result = finish(fleet, record, run, actions)
    result["placement"] = claim.placement
    return result


def peer_uri(dest):
    """The URI the source's libvirtd dials to reach ``dest``'s: the controller's URI for it (``dest.uri``) may
    name files only the controller has (a TLS ``pkipath``), so a host may give its peers another."""
    return dest.config.get("live_migration_uri") or dest.uri


def _aborted_job(exc):
    """True when libvirt ended the migration because its job was aborted (virDomainAbortJob)."""
    libvirt = libvirt_client.libvirt
    return isinstance(exc, libvirt.libvirtError) and exc.get_error_code() == libvirt.VIR_ERR_OPERATION_ABORTED


def _cancel_requested(store, record):
    """True when a cancel of this migration was recorded (abort_job) before its job ended."""
    try:
        return store.migration_cancel_requested(record["id"]) is not None
    except StoreError:
        return False


def _daemons_gone(conns, source_name):
    """"the libvirt daemon on HOST (the source) went away ..." for each connection whose daemon is gone."""
    gone = []
    for name, conn in conns.items():
        why = libvirt_client.lost(conn)
        if why:
            gone.append("the libvirt daemon on %s (the %s) %s" % (
                name, "source" if name == source_name else "destination", why))
    return gone


def _answering(fleet, name):
    """``(connection, None)``, or ``(None, why)`` when the daemon on host ``name`` cannot be asked now."""
    try:
        conn = fleet.conn(name)
    except VmfleetError as exc:
        return None, "the libvirt daemon on %s cannot be reached (%s)" % (name, exc.details.get("reason") or exc.message)
    why = libvirt_client.lost(conn)
    if why:
        return None, "the libvirt daemon on %s %s" % (name, why)
    return conn, None


def _find(conn, guest_uuid):
    """The guest on ``conn``; (None, why) when the daemon stops answering while asked."""
    try:
        return libvirt_guest.find(conn, uuid=guest_uuid), None
    except libvirt_client.libvirt.libvirtError as exc:
        return None, libvirt_client.lost(conn) or _reason(exc)


def _source_cpu(conn):
    """The source's host-model CPU, which a host-passthrough guest is compared by; None when unknown."""
    try:
        return cpu_compatibility.host_cpu_query(conn.getDomainCapabilities(None, None, None, None, 0)).cpu_xml
    except (VmfleetError, libvirt_client.libvirt.libvirtError):
        return None


def _params(dest_xml, dest, settings, storage):
    libvirt = libvirt_client.libvirt
    params = {libvirt.VIR_MIGRATE_PARAM_DEST_XML: dest_xml, libvirt.VIR_MIGRATE_PARAM_PERSIST_XML: dest_xml}
    address = dest.config.get("live_migration_inbound_addr")
    if address:
        params[libvirt.VIR_MIGRATE_PARAM_URI] = "tcp://%s" % address
    if settings["bandwidth"]:
        params[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] = settings["bandwidth"]
    if settings["parallel_connections"] > 1:
        params[libvirt.VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS] = settings["parallel_connections"]
    if storage["mode"] == migration_storage.BLOCK:
        params[libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS] = [d["target"] for d in storage["disks"]]
    return params


def _flags(settings, storage):
    libvirt = libvirt_client.libvirt
    flags = (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER | libvirt.VIR_MIGRATE_PERSIST_DEST
             | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE | libvirt.VIR_MIGRATE_ABORT_ON_ERROR)
    if storage["mode"] == migration_storage.BLOCK:
        flags |= libvirt.VIR_MIGRATE_NON_SHARED_INC
    if settings["permit_auto_converge"]:
        flags |= libvirt.VIR_MIGRATE_AUTO_CONVERGE
    if settings["permit_post_copy"]:
        flags |= libvirt.VIR_MIGRATE_POSTCOPY
    if settings["compression"]:
        flags |= libvirt.VIR_MIGRATE_COMPRESSED
    if settings["parallel_connections"] > 1:
        flags |= libvirt.VIR_MIGRATE_PARALLEL
    if settings["native_tls"]:
        flags |= libvirt.VIR_MIGRATE_TLS
    return flags


class _Run(object):
    """One migrateToURI3 call and the monitor that watches it."""

    def __init__(self, domain, dest_uri, record, store, on_progress):
        self.domain, self.dest_uri = domain, dest_uri
        self.record, self.store, self.on_progress = record, store, on_progress
        self.last, self.aborted, self.paused_by_us, self.post_copy = None, None, False, False
        self.notes = []  # what the run did that the result should say (a refused post-copy)
        self.elapsed = 0.0

    def migrate(self, params, flags, monitor):
        outcome = {}

        def call():
            try:
                self.domain.migrateToURI3(self.dest_uri, params, flags)
            except Exception as exc:  # pylint: disable=broad-except
                outcome["error"] = exc

        thread = threading.Thread(target=call, name="migrate-%s" % self.record["guest"])
        thread.daemon = True
        started = time.monotonic()
        thread.start()
        journaled = 0.0
        while True:
            thread.join(POLL_SECONDS)
            self.elapsed = time.monotonic() - started
            if not thread.is_alive():
                break
            sample = self._sample()
            if sample is None:
                continue  # no job yet (the destination is being prepared) or already over
            remaining = sample["data_remaining"] if sample["data_total"] else None
            for action, value in monitor.observe(self.elapsed, remaining):
                self._apply(action, value)
            if self.on_progress:
                self.on_progress(self.record["guest"], sample)
            if self.elapsed - journaled >= JOURNAL_EVERY_SECONDS:
                journaled = self.elapsed
                self._journal_progress(sample)
        if "error" in outcome:
            raise outcome["error"]

    def _journal_progress(self, sample):
        """Progress is for people watching: a store that does not answer must not stop a migration libvirt is
        running (its end is recorded, or settled by the next run)."""
        try:
            migration_journal.update(self.store, self.record, progress=sample)
        except StoreError as exc:
            note = "progress not journaled: %s" % exc.message
            if note not in self.notes:
                self.notes.append(note)

    def _sample(self):
        libvirt = libvirt_client.libvirt
        try:
            stats = self.domain.jobStats(0)
        except libvirt.libvirtError:
            return None
        if stats.get("type", libvirt.VIR_DOMAIN_JOB_NONE) == libvirt.VIR_DOMAIN_JOB_NONE:
            return None
        self.last = progress(stats, self.elapsed)
        return self.last

    def _apply(self, action, value):
        libvirt = libvirt_client.libvirt
        try:
            if action == "downtime":
                self.domain.migrateSetMaxDowntime(value, 0)
            elif action == migration_policy.ABORT:
                self.aborted = "aborted: %s" % value
                self.domain.abortJob()
            elif action == "post_copy":
                try:
                    self.domain.migrateStartPostCopy(0)
                    self.post_copy = True
                except libvirt.libvirtError as exc:
                    # e.g. the disks are still being mirrored (post-copy moves memory only): force_complete
                    # still has to complete it, so pause, as when post-copy is not permitted
                    self.notes.append("post-copy refused by libvirt (%s): paused to complete" % _reason(exc))
                    self._apply("pause", value)
            elif action == "pause":
                self.paused_by_us = True
                self.domain.suspend()
        except libvirt.libvirtError:
            pass  # the job ended between the look and the action; the migration call tells how


def _reason(exc):
    if isinstance(exc, VmfleetError):
        return exc.message
    if isinstance(exc, libvirt_client.libvirt.libvirtError):
        return storage_volumes.message(exc)
    return "%s: %s" % (type(exc).__name__, exc)


def progress(stats, elapsed=None):
    """The figures a person follows, from libvirt's job statistics."""
    page = stats.get("memory_page_size") or 4096
    return {
        "elapsed_s": round(elapsed if elapsed is not None else stats.get("time_elapsed", 0) / 1000.0, 1),
        "data_total": stats.get("data_total"),
        "data_processed": stats.get("data_processed"),
        "data_remaining": stats.get("data_remaining"),
        "memory_remaining": stats.get("memory_remaining"),
        "disk_total": stats.get("disk_total"),
        "disk_processed": stats.get("disk_processed"),
        "dirty_rate_bytes": (stats.get("memory_dirty_rate") or 0) * page,
        "iteration": stats.get("memory_iteration"),
        "downtime_ms": stats.get("downtime"),
        "bandwidth_bytes": stats.get("memory_bps"),
    }


# --- after --------------------------------------------------------------------------------------

def finish(fleet, record, run=None, actions=None):
    """Record a migration libvirt reported done (``record``: its journal record): check that the guest runs on
    the destination, delete the source's local disks, drop the claim, complete the journal record.
    ``run`` is the _Run that watched it (None when an interrupted run is settled later)."""
    name, source_name, dest_name = record["guest"], record["source"], record["destination"]
    actions = actions if actions is not None else []
    src_conn, dst_conn = fleet.conn(source_name), fleet.conn(dest_name)
    moved = libvirt_guest.find(dst_conn, uuid=record["uuid"])
    if moved is None or not moved.isActive():
        raise VmfleetError("libvirt reported the migration of %s done, but it does not run on %s" % (
            name, dest_name), instance=name, host=dest_name)
    if run is not None:
        actions.extend(run.notes)
    if run is not None and run.paused_by_us and state_name(moved) == "paused":
        moved.resume()  # paused to force completion; it ran before
        actions.append("resumed on %s (paused to complete)" % dest_name)
    stale = libvirt_guest.find(src_conn, uuid=record["uuid"])
    if stale is not None and not stale.isActive():
        stale.undefine()  # VIR_MIGRATE_UNDEFINE_SOURCE failed late: the source copy must not start again
    left = []
    if record.get("storage") == migration_storage.BLOCK:
        for path in record.get("source_disks") or ():
            try:
                storage_volumes.delete_at(src_conn, path)
            except VmfleetError as exc:
                left.append(exc.message)
        actions.append("deleted the source's disks on %s" % source_name)
    if record.get("claim_id"):
        # kept, spent, for admission checks on facts read before the move (claims.py)
        claims.spend(fleet.host(dest_name).as_claim_target(), record["claim_id"])
    last = run.last if run is not None else None
    completed = _completed_stats(moved) or last or {}
    duration = round(run.elapsed, 2) if run is not None else completed.get("elapsed_s")
    data = completed.get("data_processed")
    if record.get("storage") == migration_storage.BLOCK and not completed.get("disk_processed"):
        # the destination's statistics count memory only; the disks were mirrored before: as the source saw it
        # when a look caught the mirror, else what the source's overlays held (what an incremental copy sends)
        data = (data or 0) + max((last or {}).get("disk_total") or 0, record.get("disk_bytes") or 0)
    migration_journal.update(
        fleet.store, record, status=states.COMPLETED, data_bytes=data,
        downtime_ms=completed.get("downtime_ms"), duration_s=duration, progress=None, leftovers=left)
    actions.append("running on %s" % dest_name)
    return {"changed": True, "host": dest_name, "source": source_name, "destination": dest_name,
            "migration": record, "actions": actions, "duration_s": duration,
            "downtime_ms": record["downtime_ms"], "data_bytes": record["data_bytes"],
            "storage": record.get("storage"), "post_copy": bool(run and run.post_copy),
            "forced": bool(run and (run.paused_by_us or run.post_copy)), "leftovers": left}


def settle(fleet, record, wait_timeout=600):
    """Bring a journal record left ``migrating`` by a run that died (a killed playbook) in line with where the
    guest is: wait for libvirt's job to end, then finish it (the guest runs on the destination) or recover
    (it stays on the source). Returns a line saying what was found."""
    libvirt = libvirt_client.libvirt
    source = fleet.conn(record["source"])
    deadline = time.monotonic() + wait_timeout
    while time.monotonic() < deadline:
        domain = libvirt_guest.find(source, uuid=record["uuid"])
        try:
            busy = domain is not None and domain.jobInfo()[0] != libvirt.VIR_DOMAIN_JOB_NONE
        except libvirt.libvirtError:
            busy = False
        if not busy:
            break
        time.sleep(1)
    else:
        raise VmfleetError("the migration of %s from %s (journal %s) is still running after %d s: wait for it, or "
                           "abort it (virsh domjobabort %s), then run again" % (
                               record["guest"], record["source"], record["id"], wait_timeout, record["guest"]),
                           instance=record["guest"], host=record["source"])
    try:
        moved = libvirt_guest.find(fleet.conn(record["destination"]), uuid=record["uuid"])
    except (VmfleetError, libvirt.libvirtError):
        moved = None
    if libvirt_guest.find(source, uuid=record["uuid"]) is None and moved is not None and moved.isActive():
        finish(fleet, record)
        return "%s: the interrupted migration to %s had completed; recorded" % (record["guest"], record["destination"])
    where = recover(fleet, record, was_paused=record.get("power_state") == "paused")
    message = "interrupted (the run that started it ended without recording the outcome). %s" % where["msg"]
    migration_journal.update(fleet.store, record, status=states.ERROR, error=message,
                             cleaned_up=not where["leftovers"], leftovers=where["leftovers"],
                             source_unconfirmed=where["running"] is None)
    return "%s: %s" % (record["guest"], message)


def confirm_source(fleet, record):
    """A failed migration whose source daemon had gone away: once it answers, the guest must be on it with
    its power state from before (libvirt cancels the migration when its daemon restarts, and may leave the
    guest paused). VmfleetError while the source still cannot be asked."""
    conn, down = _answering(fleet, record["source"])
    domain = None
    if conn is not None:
        domain, down = _find(conn, record["uuid"])
    if down:
        raise VmfleetError(down, host=record["source"])
    name, source = record["guest"], record["source"]
    if domain is None:
        line = "%s: not on %s any more (%s)" % (name, source, recover(fleet, record)["msg"])
    else:
        state, reason = _state_and_reason(domain)
        if reason == "migrating" or reason in _DESTINATION_AHEAD:
            # libvirt kept it paused for the migration: whether it may run here depends on the destination
            where = recover(fleet, record, was_paused=record.get("power_state") == "paused")
            migration_journal.update(fleet.store, record, cleaned_up=not where["leftovers"],
                                     leftovers=where["leftovers"])
            line = "%s: %s" % (name, where["msg"])
        elif state == "paused" and record.get("power_state") != "paused":
            domain.resume()
            line = "%s: resumed on %s, as it ran before the migration %s" % (name, source, record["id"][:8])
        elif state not in states.LIVE_GUEST_STATES and record.get("power_state") in states.LIVE_GUEST_STATES:
            domain.create()
            line = "%s: started again on %s, as it ran before the migration %s" % (name, source, record["id"][:8])
        else:
            line = "%s: %s on %s, as before the migration %s" % (name, state, source, record["id"][:8])
    migration_journal.update(fleet.store, record, source_unconfirmed=False)
    return line


def _completed_stats(domain):
    """The destination's statistics of the finished migration (libvirt keeps them on both sides)."""
    libvirt = libvirt_client.libvirt
    try:
        stats = domain.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
    except libvirt.libvirtError:
        return None
    if not stats or stats.get("type", 0) == libvirt.VIR_DOMAIN_JOB_NONE:
        return None
    return progress(stats)


def recover(fleet, record, was_paused=False):
    """After a failed migration (``record``: its journal record): the guest must run on its source and
    nothing stay on the destination.

    Returns ``{host, running, leftovers, msg}``; ``running`` is None when the
    source's daemon cannot be asked (its QEMU keeps the guest; libvirt resumes
    it when the daemon is back, and the next operation on the guest settles
    the record). The destination copy is only removed while it does not run
    there (a post-copy migration that failed after the switch, or one that
    completed as the source's daemon died, has the only running copy there).
    Only what is really left is reported: a copy libvirt removed itself is not.
    The source's copy is resumed only after libvirt's job ended, and only when
    the guest cannot run on the destination (source_step); its state is read
    again afterwards, and a guest left paused is said to be, with libvirt's
    reason.
    """
    libvirt = libvirt_client.libvirt
    name, guest_uuid = record["guest"], record["uuid"]
    source_name, dest_name = record["source"], record["destination"]
    dest = fleet.host(dest_name)
    leftovers = []
    src_conn, source_down = _answering(fleet, source_name)
    source_domain = None
    if src_conn is not None:
        source_domain, source_down = _find(src_conn, guest_uuid)
    dst_conn, dest_down = _answering(fleet, dest_name)
    dest_domain = None
    if dst_conn is not None:
        dest_domain, dest_down = _find(dst_conn, guest_uuid)
        dst_conn = None if dest_down else dst_conn
    dest_runs = dest_domain is not None and _is_running(dest_domain)
    if source_domain is None and dest_runs:
        return {"host": dest_name, "running": True, "leftovers": [],
                "msg": "%s runs on %s: the migration completed despite the error" % (name, dest_name)}
    if source_domain is None and not source_down:
        return {"host": None, "running": False, "leftovers": [],
                "msg": "%s is defined on neither %s nor %s any more: look for it with virsh list --all" % (
                    name, source_name, dest_name)}
    source_paused, step = None, None
    if source_domain is not None:
        # libvirt's own end of the failed job (its Confirm phase resumes the guest, or keeps it paused) comes
        # first: a resume issued before it would be undone by it
        _wait_for_job_end(source_domain)
        state, reason = _state_and_reason(source_domain)
        source_paused = reason if state == states.GUEST_PAUSED else None
        step = source_step(state, reason, was_paused=was_paused, dest_runs=dest_runs,
                           dest_checked=dst_conn is not None)
        if step == HOLD:
            return _held(record, state, reason, dest_runs=dest_runs, dest_down=None if dst_conn else dest_down)
    if dst_conn is None:
        leftovers.append("%s could not be checked (%s): once it answers, any operation on %s removes what is left "
                         "there (a guest %s, volumes %s)" % (
                             dest_name, dest_down, name, name,
                             ", ".join(v["volume"] for v in record.get("prepared_volumes") or ()) or "none"))
    else:
        if dest_domain is not None:
            leftovers.extend(_remove_copy(dest_domain, name, dest_name))
        leftovers.extend(migration_storage.delete_volumes(dst_conn, record.get("prepared_volumes") or (), dest_name))
    if record.get("claim_id"):
        try:
            claims.drop(dest.as_claim_target(), record["claim_id"])
        except VmfleetError as exc:
            leftovers.append(exc.message)
    left = "; left behind: " + "; ".join(leftovers) if leftovers else ", and nothing is left on %s" % dest_name
    if source_domain is None:
        return {"host": source_name, "running": None, "leftovers": leftovers,
                "msg": "%s stays on its source %s, in its QEMU process, which outlives the daemon (%s)%s. libvirt "
                       "resumes the guest there once its daemon is back; the next operation on %s then checks "
                       "it" % (name, source_name, source_down, left, name)}
    running = True
    try:
        if step == RESUME:
            source_domain.resume()
        elif step == START:
            source_domain.create()
    except libvirt.libvirtError as exc:
        running = False
        leftovers.append("%s could not be %s on %s: %s" % (
            name, "resumed" if step == RESUME else "started", source_name, storage_volumes.message(exc)))
    state, reason = _state_and_reason(source_domain)
    running = running and state in states.LIVE_GUEST_STATES
    return {"host": source_name, "running": running, "leftovers": leftovers,
            "msg": "%s is %s on its source %s%s%s" % (
                name, state, source_name, _why_paused(name, step, state, reason, source_paused), left)}


# what recover does with the source's copy of the guest (source_step)
RESUME, START, KEEP, HOLD = "resume", "start", "keep", "hold"
# a source paused for one of these reasons may not hold the guest's newest state: the destination has it
# (post-copy switched the guest over there)
_DESTINATION_AHEAD = ("post-copy", "post-copy failed")
JOB_END_WAIT_SECONDS = 60


def source_step(state, reason, was_paused=False, dest_runs=False, dest_checked=True):
    """What a failed migration's recovery does with the source's copy in libvirt's ``state`` (paused for
    ``reason``): RESUME, START, KEEP it as it is, or HOLD it paused, untouched with the destination's copy,
    because the guest may run (or have run) on the destination: a post-copy that switched over, a copy that
    runs there, or libvirt kept it paused for a migration whose destination could not be asked. Resuming it
    then could run the guest twice, on disks both write."""
    if state not in states.LIVE_GUEST_STATES:
        return START
    if state != states.GUEST_PAUSED:
        return KEEP
    if reason in _DESTINATION_AHEAD or dest_runs or (reason == "migrating" and not dest_checked):
        return HOLD
    return KEEP if was_paused else RESUME


def _state_and_reason(domain):
    """libvirt's state of ``domain`` and, when paused, why (states.PAUSED_REASONS); None for other states."""
    code, reason = domain.state()
    state = states.guest_state_name(code)
    return state, states.paused_reason_name(reason) if state == states.GUEST_PAUSED else None


def _wait_for_job_end(domain, timeout=JOB_END_WAIT_SECONDS):
    """Wait (up to ``timeout`` s) until libvirt has no job on ``domain`` any more."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if domain.jobInfo()[0] == libvirt_client.libvirt.VIR_DOMAIN_JOB_NONE:
                return
        except libvirt_client.libvirt.libvirtError:
            return  # gone, or its daemon: what follows finds out
        time.sleep(POLL_SECONDS)


def _why_paused(name, step, state, reason, paused_before):
    """``(why)`` after "NAME is paused on its source HOST" when recovery leaves it paused; "" otherwise."""
    if state != states.GUEST_PAUSED:
        return ""
    if step == RESUME:
        return " although it was resumed (libvirt: paused, %s; it was paused, %s, after the migration): virsh " \
               "domstate --reason %s tells why; virsh resume %s runs it" % (reason, paused_before, name, name)
    return " as before the migration (libvirt: paused, %s): virsh resume %s runs it, when that is " \
           "wanted" % (reason, name)


def _held(record, state, reason, dest_runs=False, dest_down=None):
    """recover's result for a source copy it must not resume (source_step HOLD): nothing is changed."""
    name, source_name, dest_name = record["guest"], record["source"], record["destination"]
    if dest_runs:
        why, then = "its copy on %s runs" % dest_name, "See virsh domstate --reason %s on both hosts: the copy " \
            "on %s is the one that runs; destroy the paused one on %s" % (name, dest_name, source_name)
    elif reason in _DESTINATION_AHEAD:
        why = "the migration had switched it over to %s (post-copy), which holds its newest memory" % dest_name
        then = "See virsh domstate --reason %s on both hosts; a failed post-copy resumes with virsh migrate " \
            "--postcopy --postcopy-resume" % name
    else:
        why = "libvirt could not tell whether %s started it (%s)" % (dest_name, dest_down)
        then = "Once %s answers, the next operation on %s resumes it on %s if %s does not run it" % (
            dest_name, name, source_name, dest_name)
    return {"host": source_name, "running": False,
            "leftovers": ["%s's copy on %s and its claim are kept until it is known where %s runs" % (
                name, dest_name, name)],
            "msg": "%s is %s on its source %s (libvirt: %s, %s), and is not resumed there: %s, and resuming it on "
                   "%s could run it twice. %s" % (name, state, source_name, state, reason, why, source_name, then)}


def _is_running(domain):
    """True when the copy runs (not a paused incoming migration); a copy libvirt just removed does not."""
    try:
        return domain.isActive() and state_name(domain) == "running"
    except libvirt_client.libvirt.libvirtError:
        return False


def _remove_copy(domain, name, host_name):
    """Destroy and undefine the destination's copy; what could not be removed (a copy libvirt removed
    itself meanwhile is not a leftover)."""
    libvirt = libvirt_client.libvirt
    try:
        if domain.isActive():
            domain.destroy()
        if domain.isPersistent():
            domain.undefine()
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
            return ["guest %s on %s (%s)" % (name, host_name, storage_volumes.message(exc))]
    return []


def clean_leftovers(fleet, record):
    """Remove what a failed live migration left on a destination that did not answer then (its prepared
    volumes, its claim, and a copy of the guest that does not run there while the source holds it), once that
    host answers. True when the record is clean."""
    dest = record.get("destination")
    if dest not in fleet.hosts or dest in fleet.unreachable or not record.get("uuid"):
        return False
    dst_conn, down = _answering(fleet, dest)
    if down:
        return False
    copy, down = _find(dst_conn, record["uuid"])
    if down or (copy is not None and _is_running(copy)):
        return False  # the guest runs there (it may have moved later): neither it nor its disks are leftovers
    src_conn, source_down = _answering(fleet, record["source"])
    source_copy = _find(src_conn, record["uuid"])[0] if src_conn is not None else None
    if copy is not None and (source_down or source_copy is None):
        return False
    if copy is not None or (source_copy is not None and _state_and_reason(source_copy)[1] == "migrating"):
        # the copy a daemon that stopped answering kept (an incoming migration it had not torn down yet), or a
        # source libvirt kept paused while the destination could not be asked, goes as after any failed
        # migration, while the source holds the guest
        left = recover(fleet, record, was_paused=record.get("power_state") == "paused")["leftovers"]
    else:
        if libvirt_guest.find(dst_conn, record["guest"]) is not None:
            return False  # a guest of that name built there since (another uuid) owns volumes of these names
        left = migration_storage.delete_volumes(dst_conn, record.get("prepared_volumes") or (), dest)
        if record.get("claim_id"):
            claims.drop(fleet.host(dest).as_claim_target(), record["claim_id"])
    migration_journal.update(fleet.store, record, cleaned_up=not left, leftovers=left)
    return not left


# --- cancel ---------------------------------------------------------------------------------------

def abort_job(fleet, name, source_name, by=None):
    """Abort the running job of guest ``name`` on its source (libvirt's virDomainAbortJob); True when one was
    aborted. The run that started the migration sees it fail and puts the guest back on its source.

    The cancel is recorded first, for each of the guest's live migrations in flight from that source, so that
    run says it was cancelled whatever words libvirt gives it (over a tunnel it can be the tunnel's EOF)."""
    libvirt = libvirt_client.libvirt
    by = run_owner.describe(by)
    try:
        for record in migration_journal.read(fleet.store, guest=name, statuses=states.IN_FLIGHT_STATUSES):
            if record.get("kind") == states.LIVE and record.get("source") == source_name:
                fleet.store.request_migration_cancel(record["id"], by)
    except StoreError:
        pass  # the job is aborted anyway; its run then tells it by libvirt's error alone
    try:
        domain = libvirt_guest.find(fleet.conn(source_name), name)
        if domain is None:
            return False
        domain.abortJob()
    except (VmfleetError, libvirt.libvirtError):
        return False  # no job any more (it ended between the look and the abort), or the host is gone
    return True


def cancel(fleet, name, wait_timeout=CANCEL_WAIT_SECONDS, check_mode=False):
    """Cancel the live migration of guest ``name`` in flight (KubeVirt's migration cancel): abort its job on
    the source, wait for the run that started it to record the end, and settle it here when that run is gone.
    Returns the result dict; where the guest runs is ``host``."""
    records = [r for r in migration_journal.read(fleet.store, guest=name, statuses=states.IN_FLIGHT_STATUSES)
               if r.get("kind") == states.LIVE]
    if not records:
        return {"changed": False, "host": None, "actions": ["no live migration of %s in flight" % name]}
    record = records[-1]
    source = record["source"]
    if check_mode:
        return {"changed": True, "host": source, "source": source, "destination": record["destination"],
                "migration": record, "actions": ["abort the migration of %s from %s to %s" % (
                    name, source, record["destination"])]}
    aborted = abort_job(fleet, name, source, "live_migrate state=cancelled")
    actions = ["aborted the migration job of %s on %s" % (name, source) if aborted
               else "no migration job of %s was running on %s" % (name, source)]
    deadline = time.monotonic() + wait_timeout
    while time.monotonic() < deadline and not run_owner.gone(record.get("owner")):
        current = migration_journal.load(fleet.store, record["id"]) or record
        if current.get("status") != states.MIGRATING:
            break
        time.sleep(1)
    else:  # its run is gone (killed, or silent for wait_timeout): settle it here, as the next operation would
        current = migration_journal.load(fleet.store, record["id"]) or record
        if current.get("status") == states.MIGRATING:
            actions.append(settle(fleet, current, wait_timeout=wait_timeout))
            current = migration_journal.load(fleet.store, record["id"]) or current
    moved = current.get("status") == states.COMPLETED
    host = current["destination"] if moved else source
    actions.append("%s runs on %s%s" % (name, host, " (the migration had completed)" if moved else ""))
    return {"changed": True, "host": host, "source": source, "destination": current["destination"],
            "migration": current, "actions": actions}
