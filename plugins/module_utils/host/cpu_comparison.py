# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Asking the fleet's own libvirt daemons whether a CPU can run on another host.

The upgrade preflight is pure over host facts; where it may ask libvirt (the
upgrade_check module's ``libvirt_compare``), the module hands it a
``FleetCpuComparison`` over the same facts. Each host is reached through the
``uri`` of its facts, once, and the connection must reach the host the facts
describe (same host UUID). A host that cannot be used is remembered with the
reason, so the check compares facts for it instead and says why.
"""

from __future__ import annotations

import collections
import xml.etree.ElementTree as ET

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import HostUnreachable, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import cpu_compatibility
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import guest as libvirt_guest
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.xml_values import parse_xml

_MISSING_FEATURES = "does not provide required features: "


class FleetCpuComparison(object):
    """The hosts' connections, each opened once and checked to reach the host of its facts, and the
    answers of their libvirt, each question asked once. Use as a context manager."""

    def __init__(self, hosts):
        self.hosts = hosts
        self.conns = {}
        self.unusable = collections.OrderedDict()  # host name -> why libvirt is not used for it
        self.answers = {}  # (dest, CpuQuery) -> reason or None
        self._baseline = False  # not asked yet; then the baseline CPU's (model, feature count) or None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def connection(self, host):
        name = host["name"]
        if name not in self.conns and name not in self.unusable:
            if not host.get("uri"):
                self.unusable[name] = "its facts carry no uri"
                return None
            try:
                self.conns[name] = self._open(host)
            except HostUnreachable as exc:
                self.drop(name, exc)
        return self.conns.get(name)

    def _open(self, host):
        conn = libvirt_client.open_connection(host["uri"], host["name"])
        try:
            found = (parse_xml(conn.getCapabilities(), "capabilities XML").findtext("host/uuid") or "").strip()
        except libvirt_client.libvirt.libvirtError as exc:
            self._close(conn)
            raise libvirt_client.unreachable(host["name"], host["uri"], exc)
        if host.get("host_uuid") and found != host["host_uuid"]:
            self._close(conn)
            raise HostUnreachable(host["name"], host["uri"], "it reaches host UUID %s, the facts are of %s" % (
                found, host["host_uuid"]), "gather the facts through a URI this check can reach")
        return conn

    def drop(self, name, exc):
        """Stop using libvirt for host ``name``: HostUnreachable ``exc`` says why."""
        self.unusable[name] = exc.details.get("reason") or exc.message
        self._close(self.conns.pop(name, None))

    def close(self):
        for conn in self.conns.values():
            self._close(conn)
        self.conns = {}

    @staticmethod
    def _close(conn):
        try:
            if conn is not None:
                conn.close()
        except Exception:  # pylint: disable=broad-except
            pass  # a broken connection: nothing to give back

    def baseline(self):
        """libvirt's baseline CPU of the whole fleet as ``(model, feature count)``; None unless every host answers."""
        if self._baseline is False:
            self._baseline = None
            conns = [self.connection(h) for h in self.hosts]
            if all(conns):
                try:
                    cpu = ET.fromstring(cpu_compatibility.baseline(conns))
                    self._baseline = (cpu.findtext("model"), len(cpu.findall("feature")))
                except (VmfleetError, ET.ParseError):
                    pass  # no baseline: the caller gives its general advice
        return self._baseline

    def source_queries(self, host, guests):
        """``(host-model query, {running guest name: query or None})`` read from the source host's libvirt for
        ``guests`` (its running guests' facts); None when libvirt is not used for it. Raises HostUnreachable."""
        conn = self.connection(host)
        if conn is None:
            return None
        libvirt = libvirt_client.libvirt
        try:
            host_query = cpu_compatibility.host_cpu_query(conn.getDomainCapabilities(None, None, None, None, 0))
            queries = collections.OrderedDict()
            for guest in guests:
                xml = _live_xml(conn, guest)
                queries[guest["name"]] = None if xml is None else cpu_compatibility.guest_cpu_query(
                    xml, host_query.cpu_xml)
        except libvirt.libvirtError as exc:
            raise libvirt_client.unreachable(host["name"], host.get("uri"), exc)
        return host_query, queries

    def pair(self, other, host_query, guest_queries, notes):
        """``(why host-model guests cannot go to other, {guest: why})`` from other's libvirt, or None when libvirt
        is not used for ``other``. Raises HostUnreachable."""
        conn = self.connection(other)
        if conn is None:
            return None
        host_why = None if host_query.reason else self._ask(conn, other["name"], host_query, notes)
        return host_why, dict((guest, host_why if query is None else self._ask(conn, other["name"], query, notes))
                              for guest, query in guest_queries.items())

    def _ask(self, conn, dest, query, notes):
        key = (dest, query)
        if key not in self.answers:  # guests of one flavor share one CPU: ask once per host
            why = cpu_compatibility.run_query(conn, query, dest, notes)
            self.answers[key] = _short_reason(why) if why else None
        return self.answers[key]

    @staticmethod
    def offered_model(host_query):
        """The CPU model a host-model query offers, or None."""
        return cpu_model(host_query.cpu_xml)

    def notes(self, hosts):
        """Why libvirt was not used, for those of ``hosts`` where it was not."""
        return ["facts compared for %s (libvirt not used: %s)" % (h["name"], self.unusable[h["name"]])
                for h in hosts if h["name"] in self.unusable]


def cpu_model(cpu_xml):
    """The model a ``<cpu>`` XML names, or None."""
    if not cpu_xml:
        return None
    try:
        return (ET.fromstring(cpu_xml).findtext("model") or "").strip() or None
    except ET.ParseError:
        return None


def _short_reason(reason):
    """libvirt's "... does not provide required features: a, b, c" as ``lacks a, b, c (+N more)``."""
    if _MISSING_FEATURES in reason:
        features = reason.split(_MISSING_FEATURES, 1)[1].split(", ")
        shown = ", ".join(features[:6]) + (" (+%d more)" % (len(features) - 6) if len(features) > 6 else "")
        return "lacks %s" % shown
    return reason


def _live_xml(conn, guest):
    """The running guest's live XML; None when it is gone (it moved or stopped meanwhile)."""
    domain = libvirt_guest.find(conn, guest["name"], guest.get("uuid"))
    return None if domain is None else domain.XMLDesc(0)
