# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host's state folder (``vmfleet_state_dir``): its lock and its JSON records.

The collection keeps no database: what a host is doing lives in libvirt (the
guests and their metadata) and in this folder (cordon, claims in flight,
migration journal). Every writer of the folder takes the host's lock, an
exclusive ``flock`` on ``<state_dir>/lock``, so two playbooks acting on one
host at the same time see each other's claims. Records are written
atomically (a temporary file, fsync, ``os.replace``): a reader sees the old
record or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import tempfile
import time

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError

LOCK_FILE = "lock"
DEFAULT_LOCK_TIMEOUT = 120


def require(state_dir, host=None):
    """``state_dir``, or InvalidInput saying where it comes from."""
    if not state_dir:
        raise InvalidInput("state_dir", state_dir,
                           "the host's state folder (inventory vmfleet_state_dir; hypervisor_info option state_dir)",
                           reason="host %s has no state folder" % host if host else None)
    return state_dir


def ensure(state_dir):
    try:
        os.makedirs(state_dir, mode=0o755, exist_ok=True)
    except OSError as exc:
        raise VmfleetError("cannot create the state folder %s: %s" % (state_dir, exc), path=state_dir)


@contextlib.contextmanager
def host_lock(state_dir, timeout=DEFAULT_LOCK_TIMEOUT, host=None, lock_file=LOCK_FILE):
    """Hold the host's exclusive lock for the ``with`` block.

    Waits up to ``timeout`` seconds (another playbook's claim or move holds it
    for seconds, not minutes), then fails naming the lock file. The lock is a
    ``flock``: the kernel drops it when the holder dies, so a killed playbook
    never leaves the host locked. ``lock_file`` names another lock of the
    folder (a drain holds its own for its whole run, not the claims' lock).
    """
    require(state_dir, host)
    ensure(state_dir)
    path = os.path.join(state_dir, lock_file)
    handle = open(path, "a+")
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise VmfleetError("cannot lock %s: %s" % (path, exc), path=path)
                if time.monotonic() >= deadline:
                    raise VmfleetError(
                        "host %s is locked by another operation (%s) for more than %d s: wait for it to "
                        "finish, then run again" % (host or state_dir, path, timeout), path=path, host=host)
                time.sleep(0.1)
        yield path
    finally:
        handle.close()  # closing the descriptor releases the flock


def read_json(path, what, default=None):
    """The JSON document at ``path``; ``default`` when the file does not exist.

    A file that exists but cannot be read is an error, never "empty": a broken
    cordon or claim record must not silently free a host.
    """
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return default
    except (OSError, ValueError) as exc:
        raise VmfleetError("%s %s cannot be read (%s): fix or remove it, then run again" % (what, path, exc),
                           path=path)


def write_json(path, data, what):
    """Write ``data`` as JSON at ``path`` atomically (folder created when missing)."""
    folder = os.path.dirname(path)
    ensure(folder)
    try:
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + "-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise VmfleetError("cannot write the %s %s: %s" % (what, path, exc), path=path)


def remove(path, what):
    """Remove ``path``; False when it was not there."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise VmfleetError("cannot remove the %s %s: %s" % (what, path, exc), path=path)
    return True
