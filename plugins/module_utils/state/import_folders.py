# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Import the state folders of the collection's earlier versions into the fleet state store, once.

A folder (``vmfleet_state_dir`` of a host) holds ``cordon.json``,
``claims.json``, ``journal/<id>.json`` and ``drain-report.json``
(state_folder.py and its readers); its ``lock`` and ``drain.lock`` are
``flock`` files. Each folder is imported once: the store remembers it
(``folder_imports``) and a second import of it does nothing. What is
imported:

- the cordon, unless the store already has one for the host (the one in force stays);
- the claims that have not expired, with the time they had left;
- every journal record; a move is in the journals of its source and of its
  destination, and the copy further along wins (migrating < finished < a final
  status, then the later ``finished_at``, then the later progress), as
  migration_list merges them; unreadable files are listed, not imported;
- the last drain report, as a finished drain run, when the store has no drain of the host yet.

A folder whose ``lock`` or ``drain.lock`` is held (a playbook of the old
version is claiming or draining there right now) is refused: import it
when that has finished. Nothing is deleted from the folders.

As a command: ``python -m ansible_collections.vmfleet.compute.plugins.module_utils.state.import_folders
[--url URL] [--dry-run] HOST=FOLDER ...`` (docs/state-store.md).
"""

from __future__ import annotations

import argparse
import datetime
import errno
import fcntl
import json
import os
import sys

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.state.errors import StoreBusy

CORDON_FILE, CLAIMS_FILE, JOURNAL_DIR, REPORT_FILE = "cordon.json", "claims.json", "journal", "drain-report.json"
LOCK_FILES = ("lock", "drain.lock")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# how far along a journal copy is (migration_journal's statuses): the copy further along wins the merge
_STAGE = {"migrating": 0, "finished": 1}
_FINAL_STAGE = 2


def import_folders(store, folders, dry_run=False):
    """Import ``{host: state folder}`` into ``store``; returns ``{host: what was (or, dry_run, would be)
    imported}``. InvalidInput naming ``state_dirs.<host>`` for a folder that is not one."""
    checked = dict((host, _folder(host, folder)) for host, folder in sorted((folders or {}).items()))
    if not checked:
        raise InvalidInput("state_dirs", folders, "{host name: its state folder}, at least one")
    return dict((host, import_folder(store, host, folder, dry_run)) for host, folder in checked.items())


def _folder(host, folder):
    field = "state_dirs.%s" % host
    if not isinstance(folder, str) or not folder.strip():
        raise InvalidInput(field, folder, "the absolute path of the host's state folder")
    path = os.path.normpath(os.path.expanduser(folder.strip()))
    if not os.path.isabs(path):
        raise InvalidInput(field, folder, "the absolute path of the host's state folder",
                           reason="a relative path depends on the folder the command runs in")
    if not os.path.isdir(path):
        raise InvalidInput(field, folder, "an existing state folder", reason="no such folder")
    return path


def import_folder(store, host, folder, dry_run=False):
    """Import one host's folder (see the module docstring); returns what it held and what was imported."""
    done = store.folder_imported(host, folder)
    if done:
        return {"folder": folder, "imported": False, "reason": "imported already on %s" % done}
    _refuse_when_locked(host, folder)
    found = {"cordon": _read(os.path.join(folder, CORDON_FILE)),
             "claims": _live_claims(_read(os.path.join(folder, CLAIMS_FILE)), store.clock()),
             "journal": _journal(folder),
             "report": _read(os.path.join(folder, REPORT_FILE))}
    counts = {"cordon": 0, "claims": 0, "migrations": 0, "drain_report": 0,
              "unreadable": [name for name, record in found["journal"] if record is None]}
    records = [record for _name, record in found["journal"] if record is not None]
    if dry_run:
        counts.update(cordon=int(isinstance(found["cordon"], dict)), claims=len(found["claims"]),
                      migrations=len(records), drain_report=int(isinstance(found["report"], dict)))
        return {"folder": folder, "imported": False, "dry_run": True, "counts": counts}
    if isinstance(found["cordon"], dict):
        counts["cordon"] = int(store.set_cordon(host, found["cordon"])[0])
    if found["claims"]:
        with store.host_section(host) as section:
            known = set(c.get("id") for c in section.claims)
            for claim, seconds_left in found["claims"]:
                if claim["id"] not in known:
                    section.add(claim, ttl=seconds_left)
                    counts["claims"] += 1
    for record in records:
        current = store.migration(record["id"])
        if current is None or _rank(record) > _rank(current):
            store.record_migration(record)
            counts["migrations"] += 1
    if isinstance(found["report"], dict) and store.last_drain(host) is None:
        run = store.begin_drain(host, "import of %s" % folder, timeout=0)
        store.finish_drain(run.id, found["report"].get("result"), found["report"])
        counts["drain_report"] = 1
    store.mark_folder_imported(host, folder, counts)
    return {"folder": folder, "imported": True, "counts": counts}


def _refuse_when_locked(host, folder):
    for name in LOCK_FILES:
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            continue
        with open(path, "a+") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise VmfleetError("cannot check the lock %s: %s" % (path, exc), path=path)
                raise StoreBusy("the state folder %s of %s is in use (%s is held by a running claim or drain of "
                                "the earlier version): import it when that has finished" % (folder, host, path),
                                host=host, path=path)


def _read(path):
    """The JSON document at ``path``; None when it is missing. Unreadable: VmfleetError (never "empty": a
    broken cordon must not silently uncordon the host)."""
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise VmfleetError("%s cannot be read (%s): fix or remove it, then import again" % (path, exc), path=path)


def _live_claims(data, now):
    """``[(claim, seconds it has left)]`` of the claims record's unexpired claims."""
    claims = data.get("claims") if isinstance(data, dict) else None
    alive = []
    for claim in claims or ():
        try:
            expires = datetime.datetime.strptime(claim["expires_at"], _TIME_FORMAT).replace(
                tzinfo=datetime.timezone.utc).timestamp()
        except (KeyError, TypeError, ValueError):
            continue  # an unreadable entry held nothing in the earlier version either
        if expires > now and claim.get("id"):
            alive.append((claim, expires - now))
    return alive


def _journal(folder):
    """``[(file name, record or None when unreadable)]`` of the folder's journal."""
    path = os.path.join(folder, JOURNAL_DIR)
    if not os.path.isdir(path):
        return []
    entries = []
    for name in sorted(os.listdir(path)):
        if name.endswith(".json"):
            try:
                record = _read(os.path.join(path, name))
            except VmfleetError:
                record = None
            entries.append((name, record if isinstance(record, dict) and record.get("id") else None))
    return entries


def _rank(record):
    progress = record.get("progress") if isinstance(record.get("progress"), dict) else {}
    return (_STAGE.get(record.get("status"), _FINAL_STAGE), str(record.get("finished_at") or ""),
            str(progress.get("updated_at") or ""))


def main(argv=None):
    # imported here: the store's package imports this module's siblings, never the other way round
    from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store
    parser = argparse.ArgumentParser(description="Import vmfleet state folders into the fleet state store once.")
    parser.add_argument("--url", help="the store's URL (default: VMFLEET_STATE_URL, else the default SQLite file)")
    parser.add_argument("--dry-run", action="store_true", help="count what would be imported, change nothing")
    parser.add_argument("folders", nargs="+", metavar="HOST=FOLDER")
    args = parser.parse_args(argv)
    try:
        folders = {}
        for item in args.folders:
            host, sep, folder = item.partition("=")
            if not sep or not host:
                raise InvalidInput("folders", item, "HOST=FOLDER")
            folders[host] = folder
        with open_store(args.url) as store:
            print(json.dumps(import_folders(store, folders, args.dry_run), indent=2, sort_keys=True))
    except VmfleetError as exc:
        print("import_folders: %s" % exc.message, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
