# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hosts an operation may touch, as their facts describe them, with one
libvirt connection per host opened when first needed and closed at the end.

Operations (instances, resize, migration) get a ``Fleet`` built from the
``hosts`` option (hypervisor_info results) and the fleet state store: each
host's name, URI and settings come from there, what it is doing beyond
libvirt (cordon, claims, journal, drains) from the store, so a module needs
no other inventory and no local file.
An item may also be a host's *entry*: its connection and settings as
hypervisor_info takes them (what the ``inventory_host`` filter builds from
the inventory). The fleet reads those hosts' facts itself when it is built,
so a play that only drains need not read every host first.

A host given with a state folder of an earlier version (``state_dir``) has
that folder imported into the store once (state/import_folders.py).
"""

from __future__ import annotations

import os
import threading
import time

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.host.facts import gather_host_facts
from ansible_collections.vmfleet.compute.plugins.module_utils.host.hosts_option import parse_hosts
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import guest as libvirt_guest
from ansible_collections.vmfleet.compute.plugins.module_utils.state import import_folders
from ansible_collections.vmfleet.compute.plugins.module_utils.state import maintenance as maintenance_record


class FleetHost(object):
    """One host: ``name``, ``uri``, ``config``, the facts it came from and the fleet's state store."""

    def __init__(self, facts, store, read=True):
        self.facts = facts
        self.name = facts["name"]
        self.uri = facts.get("uri")
        self.config = facts.get("config") or {}
        self.store = store
        self.read = read  # False: a host's entry whose facts could not be read yet (unreachable)

    @property
    def legacy_state_dir(self):
        """The state folder of an earlier version the host was given with, to import; None."""
        return (self.facts.get("maintenance") or {}).get("state_dir")

    def as_claim_target(self):
        return {"name": self.name, "uri": self.uri, "config": self.config, "store": self.store}

    def pool_for(self, extra_specs):
        """The pool a flavor's disks go to here: its tier's pool, else the first instance pool."""
        tier = (extra_specs or {}).get("vmfleet:disk_tier")
        if tier:
            pools = self.config.get("disk_tiers") or {}
            if tier not in pools:
                raise InvalidInput("flavor.extra_specs.vmfleet:disk_tier", tier,
                                   "a tier of host %s: %s" % (self.name, ", ".join(sorted(pools)) or "none"))
            return pools[tier]
        return (self.config.get("instance_pools") or ["default"])[0]


class Fleet(object):
    """Hosts by name, their connections, and the fleet state store. Use as a context manager.

    ``store``: the fleet state store (state.open_store), open for the fleet's life; the caller closes it."""

    def __init__(self, hosts, store):
        self.store = store
        self.hosts = {}
        entries = []
        for facts in parse_hosts(hosts):
            self.hosts[facts["name"]] = FleetHost(facts, store, read="numa" in facts)
            if "numa" not in facts:
                entries.append(facts["name"])
        if not self.hosts:
            raise InvalidInput("hosts", hosts, "a non-empty list of host facts (hypervisor_info results)")
        self._connections = {}
        self._lock = threading.Lock()  # a drain's migrations share the connections from several threads
        self.unreachable = set()  # hosts refresh() could not read
        self._read_at = {}  # host name -> when refresh() last read it (monotonic)
        self._import_state_folders()
        self.refresh(entries)

    def _import_state_folders(self):
        """Import the state folder of an earlier version each host was given with, once (the store remembers)."""
        for host in self.hosts.values():
            folder = host.legacy_state_dir
            if folder and os.path.isabs(folder) and os.path.isdir(folder):
                import_folders.import_folder(self.store, host.name, os.path.normpath(folder))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def host(self, name, field="host"):
        if name not in self.hosts:
            raise InvalidInput(field, name, "one of the given hosts: %s" % ", ".join(sorted(self.hosts)))
        return self.hosts[name]

    def names(self):
        return sorted(self.hosts)

    def reachable(self):
        """The hosts' names but those the last refresh() could not read."""
        return [name for name in self.names() if name not in self.unreachable]

    def conn(self, name):
        """The open connection to host ``name`` (HostUnreachable when it cannot be opened)."""
        with self._lock:
            known = self._connections.get(name)
            if known is not None and libvirt_client.lost(known) and not libvirt_client.hung(known):
                del self._connections[name]  # its daemon went away (restarted?): open a new one
            if name not in self._connections:
                host = self.host(name)
                self._connections[name] = libvirt_client.open_connection(host.uri, host.name)
            return self._connections[name]

    def forget(self, name):
        """Drop the connection to ``name`` (its daemon restarted: the next conn() opens a new one)."""
        with self._lock:
            conn = self._connections.pop(name, None)
        if conn is not None:
            try:
                conn.close()
            except Exception:  # pylint: disable=broad-except
                pass

    def refresh(self, names=None):
        """Gather the facts of ``names`` (default: every host) again from libvirt and the state store, so a
        long operation schedules from what is there now, not from when the play started. A host that cannot
        be reached keeps its old facts, disabled, so nothing is placed there (and one never read is left out
        of facts_list())."""
        names = self.names() if names is None else list(names)
        for name in names:
            self.host(name)  # each a host of the fleet, before anything is read
        in_store = maintenance_record.read_states(self.store, names)
        for name in names:
            host = self.host(name)
            try:
                facts = gather_host_facts(self.conn(name), name, host.uri, host.config, maintenance=in_store[name],
                                          remember=self.store)
                self.unreachable.discard(name)
                self._read_at[name] = time.monotonic()
                read = True
            except (VmfleetError, libvirt_client.libvirt.libvirtError) as exc:
                self.forget(name)
                self.unreachable.add(name)
                facts = dict(host.facts, config=dict(host.config, enabled=False, disabled_reason="unreachable: %s" % (
                    getattr(exc, "message", None) or exc)))
                read = host.read
            self.hosts[name] = FleetHost(facts, self.store, read)

    def stale(self, seconds):
        """The hosts whose facts this fleet has not read itself in the last ``seconds`` (the caller's facts
        are stale by this measure: they may be from the start of the play)."""
        now = time.monotonic()
        return [name for name in self.names() if now - self._read_at.get(name, -float("inf")) > seconds]

    def facts_list(self):
        """The facts the scheduler places with: every host read at least once."""
        return [host.facts for host in self.hosts.values() if host.read]

    def find_domains(self, name, hosts=None):
        """``[(host name, domain)]`` for every host (of ``hosts``, default all) where a guest ``name`` is defined."""
        found = []
        for host_name in hosts or self.names():
            try:
                domain = libvirt_guest.find(self.conn(host_name), name)
            except libvirt_client.libvirt.libvirtError as exc:
                raise libvirt_client.unreachable(host_name, self.host(host_name).uri, exc)
            if domain is not None:
                found.append((host_name, domain))
        return found

    def close(self):
        for conn in self._connections.values():
            try:
                conn.close()
            except Exception:  # pylint: disable=broad-except
                pass  # closing a connection whose daemon died: nothing to release
        self._connections = {}
