# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet state store: what a host is doing beyond libvirt, shared by every controller.

It holds what the state folders of earlier versions held, as
``folder file -> store operations (who uses them)``:

- ``cordon.json`` -> :meth:`cordon`, :meth:`set_cordon`, :meth:`remove_cordon`,
  :meth:`cordons` (host_maintenance, host facts, the scheduler, the preflight);
- ``claims.json`` and ``lock`` -> :meth:`host_section` (the claim's exclusive
  section: its claims and cordon, add, drop, spend), :meth:`claims`, :meth:`drop_claim`,
  :meth:`spend_claim`
  (claims: instance, resize, live_migrate);
- ``journal/<id>.json``, one copy per host -> :meth:`record_migration`,
  :meth:`migration`, :meth:`migrations`: one row that the source and the
  destination read (live_migration, resize, the drain, migration_info, the preflight);
- ``drain.lock`` -> :meth:`begin_drain`, :meth:`renew_drain`, :meth:`finish_drain`,
  fleet-wide and a lease; :meth:`draining_hosts` (host_drain, the scheduler);
- ``drain-report.json`` -> the report of :meth:`finish_drain`, :meth:`last_drain`
  (host_maintenance);
- new: :meth:`start_move` / :meth:`finish_move`, the drain limits counted over
  every drain of the fleet (host_drain);
- new: :meth:`remember_guests` / :meth:`remembered_guests`, the guests a host had
  when its facts were last read (host facts; evacuate reads them when the host is down).

Libvirt stays the only truth for guests and their metadata: the rows here are
operations on guests (a claim's domain XML is what is about to be defined, as
the claims record held it), and the last copy of what each host's libvirt
listed, read only when that host cannot be asked.

Locks are database locks held for one transaction: a host's claim section is
a row lock on the host (PostgreSQL) or the database's write lock (SQLite,
``BEGIN IMMEDIATE``); fleet-wide decisions (a drain lock, a move slot) take
the fleet lock (an advisory transaction lock, or again ``BEGIN IMMEDIATE``).
A claim under admission control re-checks the whole fleet, so its section
is fleet-wide (``host_section(fleet_wide=True)``): the claims lock (an advisory
transaction lock of its own, then the host's row lock; in SQLite the write
lock already is fleet-wide), so two such claims on two hosts decide one after
the other, and each sees the other's claim (``ClaimSection.elsewhere``).
A drain's lock outlives a transaction, so it is a lease its run renews: a
killed run's lease runs out and the next run takes over, as a ``flock`` dies
with its process. Leases and expiries compare the controllers' clocks: keep
them in sync (NTP), as Nova does.

One store object serves one thread at a time; its methods take an internal
lock, so the threads of one drain may share it.
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import json
import threading
import time
import uuid

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.state.errors import StoreBusy, StoreError

DEFAULT_LOCK_TIMEOUT = 120
DEFAULT_CLAIM_TTL = 900
# a drain renews its lease with each progress save; a run silent this long is taken for dead
DEFAULT_DRAIN_LEASE = 300
# a move slot lasts as long as a live migration may (migration_policy's completion timeouts stay under it)
DEFAULT_MOVE_LEASE = 3600
LIMIT_KEYS = ("max_parallel", "max_parallel_outbound", "max_parallel_inbound")
# the drain run result the store writes itself (a run that ended without finish_drain); host_drain names the others
INTERRUPTED = "interrupted"
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# transaction kinds a backend implements (FLEET_CLAIM: a host's claim section serialized fleet-wide)
READ, WRITE, FLEET, HOST, FLEET_CLAIM = "read", "write", "fleet", "host", "fleet claim"

DrainRun = collections.namedtuple("DrainRun", "id host owner started_at resumed_from progress")
MoveSlot = collections.namedtuple("MoveSlot", "id refusal")


def _dump(value):
    return json.dumps(value, sort_keys=True)


def _load(text):
    return json.loads(text) if text is not None else None


class ClaimSection(object):
    """A host's exclusive section for one claim: the claims still alive there and its cordon, read under the
    lock; what is added or dropped is committed when the ``with`` block ends (rolled back if it raises).
    ``claims``: those still in flight (their guest not defined yet); ``spent``: those whose guest is defined,
    kept until they expire (FleetStateStore.spend_claim). ``elsewhere``: in a fleet-wide section,
    ``{host: [claims alive there, oldest first]}`` of the other hosts, spent ones too (``spent``: their
    guest is defined, and facts read before that do not list it); None otherwise (another host's claims may
    change under a host's own section)."""

    def __init__(self, store, cursor, host, fleet_wide=False):
        self._store, self._cursor, self.host = store, cursor, host
        now = store.clock()
        cursor.execute("DELETE FROM claims WHERE host = ? AND expires <= ?", (host, now))
        cursor.execute("SELECT record FROM claims WHERE host = ? ORDER BY created_at, id", (host,))
        alive = [_load(row[0]) for row in cursor.fetchall()]
        self.claims = [claim for claim in alive if not claim.get("spent")]
        self.spent = [claim for claim in alive if claim.get("spent")]
        self.elsewhere = None
        if fleet_wide:
            self.elsewhere = {}
            cursor.execute("SELECT host, record FROM claims WHERE host <> ? AND expires > ? "
                           "ORDER BY created_at, id", (host, now))
            for other, record in cursor.fetchall():
                self.elsewhere.setdefault(other, []).append(_load(record))
        cursor.execute("SELECT record FROM cordons WHERE host = ?", (host,))
        row = cursor.fetchone()
        self.cordon = _load(row[0]) if row else None

    def add(self, record, ttl=DEFAULT_CLAIM_TTL):
        """Record a claim (a dict with ``id``; ``instance`` and ``domain_xml`` as claims.py keeps them);
        its ``host`` and ``expires_at`` (now + ``ttl`` seconds) are set here, and ``created_at`` unless it
        has one. Returns the stored record."""
        if not isinstance(record, dict) or not record.get("id"):
            raise InvalidInput("claim", record, "a dict with an id")
        if any(claim.get("id") == record["id"] for claim in self.claims):
            raise InvalidInput("claim.id", record["id"], "an id no live claim of %s has" % self.host)
        now = self._store.clock()
        stored = dict(record, host=self.host, created_at=record.get("created_at") or _time_text(now),
                      expires_at=_time_text(now + ttl))
        self._cursor.execute(
            "INSERT INTO claims (id, host, instance, created_at, expires, record) VALUES (?, ?, ?, ?, ?, ?)",
            (stored["id"], self.host, stored.get("instance"), stored["created_at"], now + ttl, _dump(stored)))
        self.claims.append(stored)
        return stored

    def drop(self, claim_id):
        """Forget a claim of this host (its operation gave up); False when there was none."""
        self._cursor.execute("DELETE FROM claims WHERE host = ? AND id = ?", (self.host, claim_id))
        self.claims = [c for c in self.claims if c.get("id") != claim_id]
        self.spent = [c for c in self.spent if c.get("id") != claim_id]
        return self._cursor.rowcount > 0

    def spend(self, claim_id):
        """Mark a claim of this host spent (its guest is defined: libvirt counts it now); False when there was
        none. See :meth:`FleetStateStore.spend_claim`."""
        self.spent.extend(dict(c, spent=True) for c in self.claims if c.get("id") == claim_id)
        self.claims = [c for c in self.claims if c.get("id") != claim_id]
        return _spend(self._cursor, self.host, claim_id)


_JOURNAL = "SELECT record FROM migrations"
# a journal record is a host's when the host is its source or its destination
_BY_HOST = "(source = ? OR destination = ?)"


def _latest(cursor, query, args, newest):
    """The ``newest`` latest records ``query`` (a _JOURNAL query with its ``args``) selects, oldest first."""
    cursor.execute(query + " ORDER BY started_at DESC, id DESC LIMIT ?", tuple(args) + (int(newest),))
    return [_load(row[0]) for row in reversed(cursor.fetchall())]


def _spend(cursor, host, claim_id):
    cursor.execute("SELECT record FROM claims WHERE host = ? AND id = ?", (host, claim_id))
    row = cursor.fetchone()
    if row is None:
        return False
    cursor.execute("UPDATE claims SET record = ? WHERE host = ? AND id = ?",
                   (_dump(dict(_load(row[0]), spent=True)), host, claim_id))
    return True


def _time_text(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime(_TIME_FORMAT)


class FleetStateStore(object):
    """The store's operations; a backend (sqlite.py, postgresql.py) opens the database and implements
    :meth:`_transaction`. SQL here uses ``?`` placeholders and SQL both dialects run."""

    backend = None

    def __init__(self, url, lock_timeout=DEFAULT_LOCK_TIMEOUT, clock=time.time):
        self.url = url
        self.lock_timeout = lock_timeout
        self.clock = clock
        self._lock = threading.RLock()

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, self.url.redacted())

    def _transaction(self, kind, host=None, timeout=None):
        """A context manager: one transaction of ``kind`` (READ, WRITE, FLEET, HOST: see the module
        docstring) yielding a cursor; commits on exit, rolls back on an exception; StoreBusy when its lock is
        not granted within ``timeout`` seconds."""
        raise NotImplementedError

    def close(self):
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()

    @contextlib.contextmanager
    def _run(self, kind, host=None, timeout=None):
        with self._lock:
            with self._transaction(kind, host, self.lock_timeout if timeout is None else timeout) as cursor:
                yield cursor

    # -- cordons ---------------------------------------------------------------------------------------

    def _record(self, query, key):
        """The one JSON record ``query`` selects by ``key``, or None."""
        with self._run(READ) as cursor:
            cursor.execute(query, (key,))
            row = cursor.fetchone()
        return _load(row[0]) if row else None

    def cordon(self, host):
        """The host's cordon record ``{host, reason, by, at}``, or None when it is not cordoned."""
        return self._record("SELECT record FROM cordons WHERE host = ?", host)

    def cordons(self):
        """``{host: cordon record}`` of every cordoned host."""
        with self._run(READ) as cursor:
            cursor.execute("SELECT host, record FROM cordons ORDER BY host")
            return dict((host, _load(record)) for host, record in cursor.fetchall())

    def set_cordon(self, host, record):
        """Cordon ``host`` with ``record`` unless it is cordoned already; returns ``(changed, record in
        force)``: an existing cordon is kept as it is (its reason, author and time are those in force)."""
        if not isinstance(record, dict):
            raise InvalidInput("cordon", record, "a dict {host, reason, by, at}")
        with self._run(WRITE) as cursor:
            cursor.execute(
                "INSERT INTO cordons (host, reason, by_whom, at, record) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (host) DO NOTHING",
                (host, record.get("reason"), record.get("by"), record.get("at"), _dump(record)))
            changed = cursor.rowcount > 0
            cursor.execute("SELECT record FROM cordons WHERE host = ?", (host,))
            return changed, _load(cursor.fetchone()[0])

    def remove_cordon(self, host):
        """Uncordon ``host``; returns the record removed, or None when it was not cordoned."""
        with self._run(WRITE) as cursor:
            cursor.execute("SELECT record FROM cordons WHERE host = ?", (host,))
            row = cursor.fetchone()
            cursor.execute("DELETE FROM cordons WHERE host = ?", (host,))
        return _load(row[0]) if row else None

    # -- claims ----------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def host_section(self, host, timeout=None, fleet_wide=False):
        """The host's exclusive section for one claim (a ClaimSection), held until the ``with`` block ends.

        Another controller's section on the same host waits; after ``timeout`` seconds (default: the
        store's lock_timeout) it fails with StoreBusy naming the host. ``fleet_wide``: every other fleet-wide
        section waits too, whatever its host, and the section lists the claims of the other hosts (a claim
        under admission control: module docstring)."""
        with self._run(FLEET_CLAIM if fleet_wide else HOST, host=host, timeout=timeout) as cursor:
            yield ClaimSection(self, cursor, host, fleet_wide)

    def claims(self, host):
        """The host's claims in flight (not expired, not spent), oldest first."""
        with self._run(READ) as cursor:
            cursor.execute("SELECT record FROM claims WHERE host = ? AND expires > ? ORDER BY created_at, id",
                           (host, self.clock()))
            return [claim for claim in (_load(row[0]) for row in cursor.fetchall()) if not claim.get("spent")]

    def spend_claim(self, host, claim_id):
        """The claim's guest is defined: the claim no longer counts on its host (libvirt lists the guest), but
        is kept, marked ``spent``, until it expires, so that a claim under admission control elsewhere counts
        the guest when its caller's facts of this host were read before it was defined (ClaimSection.elsewhere).
        False when there was no such claim."""
        with self._run(WRITE) as cursor:
            return _spend(cursor, host, claim_id)

    def drop_claim(self, host, claim_id):
        """Forget a claim (its guest is defined, or the operation gave up); False when there was none."""
        with self._run(WRITE) as cursor:
            cursor.execute("DELETE FROM claims WHERE host = ? AND id = ?", (host, claim_id))
            return cursor.rowcount > 0

    # -- migration journal -----------------------------------------------------------------------------

    def record_migration(self, record):
        """Write a journal record (migration_journal.py's fields; any others are kept), new or changed."""
        if not isinstance(record, dict) or not record.get("id"):
            raise InvalidInput("migration", record, "a journal record: a dict with an id")
        values = (record.get("guest"), record.get("source"), record.get("destination"), record.get("kind"),
                  record.get("status"), record.get("started_at"), record.get("finished_at"), _dump(record))
        with self._run(WRITE) as cursor:
            cursor.execute(
                "INSERT INTO migrations (id, guest, source, destination, kind, status, started_at, finished_at, "
                "record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET guest = excluded.guest, "
                "source = excluded.source, destination = excluded.destination, kind = excluded.kind, "
                "status = excluded.status, started_at = excluded.started_at, "
                "finished_at = excluded.finished_at, record = excluded.record", (record["id"],) + values)
        return record

    def migration(self, migration_id):
        """One journal record, or None."""
        return self._record("SELECT record FROM migrations WHERE id = ?", migration_id)

    def migrations(self, host=None, *, guest=None, statuses=None, kinds=None, newest=None):
        """The journal, oldest first; with ``host``, the moves out of or into it; with ``guest``, that guest's;
        with ``statuses`` (``kinds``), only records in one of them; with ``newest``, only the latest so many."""
        where, args = [], []
        if host is not None:
            where.append(_BY_HOST)
            args.extend((host, host))
        if guest is not None:
            where.append("guest = ?")
            args.append(guest)
        for column, values in (("status", statuses), ("kind", kinds)):
            if values is not None:
                values = list(values)
                if not values:
                    return []
                where.append("%s IN (%s)" % (column, ", ".join("?" for _value in values)))
                args.extend(values)
        query = _JOURNAL + (" WHERE " + " AND ".join(where) if where else "")
        with self._run(READ) as cursor:
            if newest is None:
                cursor.execute(query + " ORDER BY started_at, id", tuple(args))
                return [_load(row[0]) for row in cursor.fetchall()]
            return _latest(cursor, query, args, newest)

    def latest_migrations(self, hosts, newest):
        """``{host: its latest ``newest`` moves, oldest first}`` for each of ``hosts``, read in one transaction
        (a fleet's refresh: one round trip per host to a remote database, not three)."""
        with self._run(READ) as cursor:
            return dict((host, _latest(cursor, _JOURNAL + " WHERE " + _BY_HOST, (host, host), newest))
                        for host in hosts)

    # -- drains ----------------------------------------------------------------------------------------

    def begin_drain(self, host, owner, lease_seconds=DEFAULT_DRAIN_LEASE, timeout=None, poll=0.5, holder_gone=None):
        """Take the fleet-wide drain lock of ``host`` and start a run; returns a DrainRun.

        Waits while another run holds a live lease, up to ``timeout`` seconds (default: the store's
        lock_timeout), then StoreBusy naming that run; ``holder_gone(owner)`` may say that the holder is known to
        be dead (a process of this machine that no longer exists), so its lease need not run out. A run that
        ended without :meth:`finish_drain`
        (killed) is marked interrupted; its saved progress comes back in ``progress`` and its id in
        ``resumed_from``, so the new run goes on from there."""
        deadline = time.monotonic() + (self.lock_timeout if timeout is None else timeout)
        while True:
            holder, run = self._try_begin_drain(host, owner, lease_seconds, holder_gone)
            if run is not None:
                return run
            if time.monotonic() >= deadline:
                raise StoreBusy("host %s is being drained by %s (run %s, lease until %s): wait for that drain to "
                                "finish, then run again" % (host, holder["owner"], holder["run_id"],
                                                            _time_text(holder["lease_expires"])),
                                store=self.url.redacted(), host=host, drain_run=holder["run_id"])
            time.sleep(poll)

    def _try_begin_drain(self, host, owner, lease_seconds, holder_gone=None):
        with self._run(FLEET) as cursor:
            now = self.clock()
            cursor.execute("SELECT run_id, owner, lease_expires FROM drain_locks WHERE host = ?", (host,))
            row = cursor.fetchone()
            if row and row[2] > now and not (holder_gone and holder_gone(row[1])):
                return {"run_id": row[0], "owner": row[1], "lease_expires": row[2]}, None
            cursor.execute("SELECT id, progress FROM drain_runs WHERE host = ? AND finished_at IS NULL "
                           "ORDER BY started_at DESC, id", (host,))
            unfinished = cursor.fetchall()
            resumed_from, progress = (unfinished[0][0], _load(unfinished[0][1])) if unfinished else (None, None)
            cursor.execute("UPDATE drain_runs SET finished_at = ?, result = ? WHERE host = ? AND finished_at IS NULL",
                           (_time_text(now), INTERRUPTED, host))
            cursor.execute("DELETE FROM moves WHERE run_id IN (SELECT id FROM drain_runs WHERE host = ? AND "
                           "result = ?)", (host, INTERRUPTED))
            run = DrainRun(str(uuid.uuid4()), host, owner, _time_text(now), resumed_from, progress)
            cursor.execute("INSERT INTO drain_runs (id, host, owner, started_at, progress) VALUES (?, ?, ?, ?, ?)",
                           (run.id, host, owner, run.started_at, _dump(progress)))
            cursor.execute("DELETE FROM drain_locks WHERE host = ?", (host,))
            cursor.execute("INSERT INTO drain_locks (host, run_id, owner, lease_expires) VALUES (?, ?, ?, ?)",
                           (host, run.id, owner, now + lease_seconds))
            return None, run

    def renew_drain(self, run_id, progress=None, lease_seconds=DEFAULT_DRAIN_LEASE):
        """Extend the run's lease (and its move slots'), saving ``progress`` (JSON) when given. StoreError when
        the run no longer holds the lock (its lease ran out and another run took the host over)."""
        with self._run(WRITE) as cursor:
            now = self.clock()
            cursor.execute("UPDATE drain_locks SET lease_expires = ? WHERE run_id = ? AND lease_expires > ?",
                           (now + lease_seconds, run_id, now))
            if cursor.rowcount == 0:
                raise StoreError("drain run %s no longer holds its host's drain lock (its lease of %d s ran out "
                                 "or another run took over): stop, and run the drain again" % (run_id, lease_seconds),
                                 store=self.url.redacted(), drain_run=run_id)
            cursor.execute("UPDATE moves SET expires = ? WHERE run_id = ? AND expires < ?",
                           (now + DEFAULT_MOVE_LEASE, run_id, now + DEFAULT_MOVE_LEASE))
            if progress is not None:
                cursor.execute("UPDATE drain_runs SET progress = ? WHERE id = ?", (_dump(progress), run_id))

    def finish_drain(self, run_id, result, report=None):
        """End the run: record its result and report, release its lock and its move slots."""
        with self._run(WRITE) as cursor:
            cursor.execute("UPDATE drain_runs SET finished_at = ?, result = ?, report = ? WHERE id = ?",
                           (_time_text(self.clock()), result, _dump(report), run_id))
            if cursor.rowcount == 0:
                raise InvalidInput("run_id", run_id, "the id of a drain run begun in this store")
            cursor.execute("DELETE FROM drain_locks WHERE run_id = ?", (run_id,))
            cursor.execute("DELETE FROM moves WHERE run_id = ?", (run_id,))

    def request_drain_cancel(self, host, by=None):
        """Ask the drain run that holds ``host``'s drain lock to stop; it looks between moves (drain.py) and
        aborts its migrations. The request names that run, so a later run never takes it for its own. Returns
        the run's id, or None when no drain holds the host."""
        with self._run(WRITE) as cursor:
            now = self.clock()
            cursor.execute("SELECT run_id FROM drain_locks WHERE host = ? AND lease_expires > ?", (host, now))
            row = cursor.fetchone()
            if row is None:
                return None
            request = {"cancel_requested": {"run_id": row[0], "by": by, "at": _time_text(now)}}
            cursor.execute("UPDATE drain_runs SET progress = ? WHERE id = ?", (_dump(request), row[0]))
            return row[0]

    def drain_cancel_requested(self, run_id):
        """``{run_id, by, at}`` of a request to stop drain run ``run_id``, or None."""
        with self._run(READ) as cursor:
            cursor.execute("SELECT progress FROM drain_runs WHERE id = ?", (run_id,))
            row = cursor.fetchone()
        request = ((_load(row[0]) if row else None) or {}).get("cancel_requested")
        return request if request and request.get("run_id") == run_id else None

    def request_migration_cancel(self, migration_id, by=None):
        """Record that live migration ``migration_id`` (a journal record's id) is being cancelled, before its job
        is aborted: the run that started it then reports a cancel whatever error libvirt gives it."""
        with self._run(WRITE) as cursor:
            cursor.execute("DELETE FROM migration_cancels WHERE migration_id = ?", (migration_id,))
            cursor.execute("INSERT INTO migration_cancels (migration_id, by_whom, at) VALUES (?, ?, ?)",
                           (migration_id, by, _time_text(self.clock())))

    def migration_cancel_requested(self, migration_id):
        """``{by, at}`` of a request to cancel live migration ``migration_id``, or None."""
        with self._run(READ) as cursor:
            cursor.execute("SELECT by_whom, at FROM migration_cancels WHERE migration_id = ?", (migration_id,))
            row = cursor.fetchone()
        return {"by": row[0], "at": row[1]} if row else None

    def draining_hosts(self):
        """``{host: {run_id, owner, lease_expires_at}}`` of the hosts a live drain run holds."""
        with self._run(READ) as cursor:
            cursor.execute("SELECT host, run_id, owner, lease_expires FROM drain_locks WHERE lease_expires > ? "
                           "ORDER BY host", (self.clock(),))
            return dict((host, {"run_id": run_id, "owner": owner, "lease_expires_at": _time_text(expires)})
                        for host, run_id, owner, expires in cursor.fetchall())

    def is_draining(self, host):
        return host in self.draining_hosts()

    def last_drain(self, host):
        """The host's latest drain run ``{id, host, owner, started_at, finished_at, result, progress, report}``,
        or None."""
        with self._run(READ) as cursor:
            cursor.execute("SELECT id, host, owner, started_at, finished_at, result, progress, report "
                           "FROM drain_runs WHERE host = ? ORDER BY started_at DESC, id LIMIT 1", (host,))
            row = cursor.fetchone()
        if row is None:
            return None
        keys = ("id", "host", "owner", "started_at", "finished_at", "result")
        return dict(zip(keys, row[:6]), progress=_load(row[6]), report=_load(row[7]))

    # -- moves in flight -------------------------------------------------------------------------------

    def start_move(self, guest, source, destination, limits, run_id=None, lease_seconds=DEFAULT_MOVE_LEASE):
        """Take a move slot when the fleet-wide limits allow it; returns a MoveSlot.

        ``limits``: ``{max_parallel, max_parallel_outbound, max_parallel_inbound}`` (host_drain's), counted
        over every move in flight in the fleet, whichever drain or controller started it. The slot is
        refused (``refusal`` says why, ``id`` is None) while a limit is reached or while ``destination``
        is being drained; the caller waits for a slot to end and asks again."""
        limits = _limits(limits)
        with self._run(FLEET) as cursor:
            now = self.clock()
            cursor.execute("DELETE FROM moves WHERE expires <= ?", (now,))
            # a drain's slots end with its lease: a killed drain (its lease not renewed) holds none for long
            cursor.execute("DELETE FROM moves WHERE run_id IS NOT NULL AND run_id NOT IN "
                           "(SELECT run_id FROM drain_locks WHERE lease_expires > ?)", (now,))
            cursor.execute("SELECT run_id FROM drain_locks WHERE host = ? AND lease_expires > ?", (destination, now))
            if cursor.fetchone():
                return MoveSlot(None, "destination %s is being drained" % destination)
            cursor.execute("SELECT source, destination FROM moves")
            moves = cursor.fetchall()
            counts = (("max_parallel", len(moves), "moves in flight in the fleet"),
                      ("max_parallel_outbound", sum(1 for m in moves if m[0] == source), "out of %s" % source),
                      ("max_parallel_inbound", sum(1 for m in moves if m[1] == destination),
                       "into %s" % destination))
            for key, count, what in counts:
                if count >= limits[key]:
                    return MoveSlot(None, "%d %s (%s %d)" % (count, what, key, limits[key]))
            slot = MoveSlot(str(uuid.uuid4()), None)
            cursor.execute("INSERT INTO moves (id, run_id, guest, source, destination, started_at, expires) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (slot.id, run_id, guest, source, destination, _time_text(now), now + lease_seconds))
            return slot

    def finish_move(self, move_id):
        """Give the slot back (the move ended, however it ended); False when it was not held."""
        with self._run(WRITE) as cursor:
            cursor.execute("DELETE FROM moves WHERE id = ?", (move_id,))
            return cursor.rowcount > 0

    def moves_in_flight(self):
        """``[{id, run_id, guest, source, destination, started_at}]`` of the slots held now."""
        with self._run(READ) as cursor:
            cursor.execute("SELECT id, run_id, guest, source, destination, started_at FROM moves WHERE expires > ? "
                           "ORDER BY started_at, id", (self.clock(),))
            keys = ("id", "run_id", "guest", "source", "destination", "started_at")
            return [dict(zip(keys, row)) for row in cursor.fetchall()]

    # -- the guests a host had when last read (host facts -> evacuate) ----------------------------------

    def remember_guests(self, host, guests):
        """Keep ``guests`` (a list of JSON-able dicts: what host/facts.py read of each guest) as the guests
        ``host`` has now, replacing what was kept before, so they can be rebuilt elsewhere when the host goes
        down and cannot be asked (evacuate)."""
        if not isinstance(guests, list):
            raise InvalidInput("guests", guests, "a list of guest records")
        with self._run(WRITE) as cursor:
            cursor.execute(
                "INSERT INTO remembered_guests (host, seen_at, guests) VALUES (?, ?, ?) ON CONFLICT (host) "
                "DO UPDATE SET seen_at = excluded.seen_at, guests = excluded.guests",
                (host, _time_text(self.clock()), _dump(guests)))

    def remembered_guests(self, host):
        """``{host, seen_at, guests}``: the guests ``host`` had when its facts were last read, and when that
        was; None when they were never read."""
        with self._run(READ) as cursor:
            cursor.execute("SELECT seen_at, guests FROM remembered_guests WHERE host = ?", (host,))
            row = cursor.fetchone()
        return {"host": host, "seen_at": row[0], "guests": _load(row[1])} if row else None

    # -- imports of state folders (import_folders.py) --------------------------------------------------

    def folder_imported(self, host, folder):
        """When the state folder ``folder`` of ``host`` was imported, or None."""
        with self._run(READ) as cursor:
            cursor.execute("SELECT imported_at FROM folder_imports WHERE host = ? AND folder = ?", (host, folder))
            row = cursor.fetchone()
        return row[0] if row else None

    def mark_folder_imported(self, host, folder, counts):
        with self._run(WRITE) as cursor:
            cursor.execute("INSERT INTO folder_imports (host, folder, imported_at, counts) VALUES (?, ?, ?, ?)",
                           (host, folder, _time_text(self.clock()), _dump(counts)))


def _limits(limits):
    if not isinstance(limits, dict):
        raise InvalidInput("limits", limits, "a dict with %s" % ", ".join(LIMIT_KEYS))
    out = {}
    for key in LIMIT_KEYS:
        value = limits.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidInput("limits.%s" % key, value, "a whole number of 1 or more")
        out[key] = value
    return out
