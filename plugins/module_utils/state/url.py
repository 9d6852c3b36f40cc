# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state store's URL: which backend, where, and the same without its password.

Accepted forms (the module option ``state_url``, inventory ``vmfleet_state_url``,
or the environment variable ``VMFLEET_STATE_URL``, in that order):

- ``sqlite:///absolute/path/state.db`` or a bare absolute path: a SQLite file on
  the machine that runs the module. A relative path is refused: it would land
  under whatever folder the playbook was started from, a different store each time.
- ``postgresql://user[:password]@host[:port]/database[?sslmode=...&connect_timeout=N]``
  (``postgres://`` too): a PostgreSQL database every controller reaches.

Without any of them the store is the default SQLite file: for root
``/var/lib/vmfleet/state.db``; for another user ``$XDG_STATE_HOME/vmfleet/state.db``
(``~/.local/state/vmfleet/state.db`` when XDG_STATE_HOME is not set).
"""

from __future__ import annotations

import os
import urllib.parse

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput

ENV_VAR = "VMFLEET_STATE_URL"
SQLITE, POSTGRESQL = "sqlite", "postgresql"
ROOT_DEFAULT_PATH = "/var/lib/vmfleet/state.db"
DEFAULT_PG_PORT = 5432
# query parameters passed on to libpq; anything else is a typo we should not silently ignore
PG_PARAMETERS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "application_name")
ALLOWED = ("sqlite:///ABSOLUTE/PATH.db, an absolute path, or "
           "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=...&connect_timeout=N]")
MASK = "****"


class StateUrl(object):
    """A parsed store URL. ``str()`` and ``repr()`` never show the password."""

    def __init__(self, backend, path=None, user=None, password=None, host=None, port=None, database=None,
                 parameters=None):
        self.backend = backend
        self.path = path
        self.user, self.password = user, password
        self.host, self.port, self.database = host, port, database
        self.parameters = dict(parameters or {})

    def redacted(self):
        """The URL as it may appear in a result, an error or a log line."""
        if self.backend == SQLITE:
            return "sqlite://" + self.path
        auth = urllib.parse.quote(self.user or "", safe="")
        if self.password is not None:
            auth += ":" + MASK
        query = "?" + urllib.parse.urlencode(sorted(self.parameters.items())) if self.parameters else ""
        return "postgresql://%s@%s:%d/%s%s" % (auth, _host_text(self.host), self.port, self.database, query)

    def __str__(self):
        return self.redacted()

    def __repr__(self):
        return "StateUrl(%s)" % self.redacted()


def _host_text(host):
    return "[%s]" % host if ":" in host else host


def default_sqlite_path(uid=None, environ=None):
    """Where the default SQLite store lives for this user (see the module docstring)."""
    uid = os.geteuid() if uid is None else uid
    environ = os.environ if environ is None else environ
    if uid == 0:
        return ROOT_DEFAULT_PATH
    base = environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "vmfleet", "state.db")


def resolve(url=None, environ=None, uid=None):
    """The StateUrl to use: ``url`` when given, else ``VMFLEET_STATE_URL``, else the default SQLite file."""
    environ = os.environ if environ is None else environ
    if url is not None and str(url).strip():
        return parse(url)
    if environ.get(ENV_VAR, "").strip():
        return parse(environ[ENV_VAR], field=ENV_VAR)
    return StateUrl(SQLITE, path=default_sqlite_path(uid, environ))


def parse(url, field="state_url"):
    """Parse ``url``; InvalidInput naming ``field`` (with the password masked) when it is not allowed."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput(field, url, ALLOWED)
    text = url.strip()
    if text.startswith("/"):
        return StateUrl(SQLITE, path=os.path.normpath(text))
    scheme, sep, _rest = text.partition(":")
    scheme = scheme.lower()
    if not sep:
        raise InvalidInput(field, text, ALLOWED, reason="a relative path would be a different store in each "
                                                        "working folder; give an absolute path or a URL")
    if scheme == SQLITE:
        return _parse_sqlite(text, field)
    if scheme in ("postgresql", "postgres"):
        return _parse_postgresql(text, field)
    raise InvalidInput(field, _masked(text), ALLOWED, reason="unknown scheme %r" % scheme)


def _parse_sqlite(text, field):
    parts = urllib.parse.urlsplit(text)
    if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
        raise InvalidInput(field, text, ALLOWED, reason="a SQLite store is a file on this machine: "
                                                        "sqlite:///absolute/path.db")
    path = urllib.parse.unquote(parts.path)
    if not path.startswith("/"):
        raise InvalidInput(field, text, ALLOWED, reason="the SQLite path must be absolute (three slashes)")
    if path.endswith("/"):
        raise InvalidInput(field, text, ALLOWED, reason="the SQLite path names a folder, not a file")
    return StateUrl(SQLITE, path=os.path.normpath(path))


def _parse_postgresql(text, field):
    masked = _masked(text)
    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(field, masked, ALLOWED, reason=str(exc))
    if not parts.hostname:
        raise InvalidInput(field, masked, ALLOWED, reason="no host")
    if not parts.username:
        raise InvalidInput(field, masked, ALLOWED, reason="no user (postgresql://USER@HOST/DATABASE)")
    database = urllib.parse.unquote(parts.path.lstrip("/"))
    if not database or "/" in database:
        raise InvalidInput(field, masked, ALLOWED, reason="no database name after the host")
    if parts.fragment:
        raise InvalidInput(field, masked, ALLOWED, reason="a fragment (#...) means nothing here")
    parameters = {}
    for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
        if key not in PG_PARAMETERS:
            raise InvalidInput(field, masked, ALLOWED, reason="unknown parameter %r (known: %s)" % (
                key, ", ".join(PG_PARAMETERS)))
        parameters[key] = value
    if "connect_timeout" in parameters and not parameters["connect_timeout"].isdigit():
        raise InvalidInput(field, masked, ALLOWED, reason="connect_timeout must be a whole number of seconds")
    password = urllib.parse.unquote(parts.password) if parts.password is not None else None
    return StateUrl(POSTGRESQL, user=urllib.parse.unquote(parts.username), password=password,
                    host=parts.hostname, port=port or DEFAULT_PG_PORT, database=database, parameters=parameters)


def _masked(text):
    """``text`` with the password part of ``scheme://user:password@host`` replaced, for error messages about
    a URL that did not even parse."""
    scheme, sep, rest = text.partition("://")
    if not sep or "@" not in rest:
        return text
    auth, _at, tail = rest.rpartition("@")
    if ":" in auth:
        auth = auth.split(":", 1)[0] + ":" + MASK
    return "%s://%s@%s" % (scheme, auth, tail)
