# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CPU compatibility for live migration: libvirt's own comparison, else the hosts' CPU facts.

With the option ``libvirt_compare`` (the upgrade_check module's default; off for a bare
``run_checks``) each host is reached through the ``uri`` of its facts, and the connection must
reach the host the facts describe (same host UUID): the destination's libvirt then compares,
for each other host, the source's host-model CPU (from its domain capabilities: what guests
started there with host-model get) and the live CPU of each running guest of the source
(cpu_compatibility). A guest whose XML cannot be read counts as a host-model guest.

Without it, or for a pair of hosts one of which cannot be reached (the details say which and
why), the facts are compared: the collection's guests use the host CPU model of the host they
started on, so a guest running on A needs B to have A's arch, vendor and every CPU feature A's
capabilities list. This is libvirt's ``compareCPU`` of A's host CPU on B, reduced to what the
facts carry.
"""

from __future__ import annotations

import collections
import xml.etree.ElementTree as ET

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import HostUnreachable, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import cpu_compatibility
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.xml_values import parse_xml
from ansible_collections.vmfleet.compute.plugins.module_utils.upgrade_checks.common import (
    FAILURE, SUCCESS, WARNING, guests, host_rows, names)

_LIVE_STATES = ("running", "paused", "blocked")
_ADVICE = ("give the guests a CPU model every host offers (libvirt baselineCPU over the fleet, "
           "cpu mode custom), or cold-migrate them")
_MISSING_FEATURES = "does not provide required features: "


def incompatibility(source_cpu, destination_cpu):
    """Why a guest using ``source_cpu`` cannot run on ``destination_cpu``; None when it can."""
    source_cpu, destination_cpu = source_cpu or {}, destination_cpu or {}
    for key in ("arch", "vendor"):
        if source_cpu.get(key) and destination_cpu.get(key) and source_cpu[key] != destination_cpu[key]:
            return "%s %s, not %s" % (key, destination_cpu[key], source_cpu[key])
    missing = sorted(set(source_cpu.get("features") or ()) - set(destination_cpu.get("features") or ()))
    if missing:
        return "lacks %s" % names(missing, 6)
    return None


def check_cpu_compatibility(hosts, options):
    if not options.get("libvirt_compare") or len(hosts) < 2:
        return host_rows("cpu_compatibility", hosts, lambda host: _facts_row(host, hosts))
    fleet = _LibvirtFleet(hosts)
    try:
        return host_rows("cpu_compatibility", hosts, fleet.row)
    finally:
        fleet.close()


def _movers(host):
    return [g for g in guests(host) if g.get("state") in _LIVE_STATES]


def _facts_row(host, hosts, notes=()):
    others = [h for h in hosts if h["name"] != host["name"]]
    refused = [(other["name"], why) for other in others for why in [incompatibility(host.get("cpu"), other.get("cpu"))]
               if why]
    return _verdict(host, others, refused, dict((g["name"], refused) for g in _movers(host)), _facts_compared(host),
                    notes)


def _facts_compared(host):
    cpu = host.get("cpu") or {}
    return "%s CPU, %d features" % (cpu.get("model"), len(cpu.get("features") or ()))


def _verdict(host, others, host_refused, guest_refused, compared, notes=(), advice=_ADVICE):
    """``(result, details)`` from the refusals: ``[(dest, why)]`` for host-model guests, and per running guest."""
    result, details = _judge(host, others, host_refused, guest_refused, compared, advice)
    return result, details + "".join("; " + note for note in notes)


def _judge(host, others, host_refused, guest_refused, compared, advice):
    blocked = collections.OrderedDict()
    for guest, refused in guest_refused.items():
        if refused:
            blocked.setdefault(tuple(refused), []).append(guest)
    if not blocked:
        if not host_refused:
            return SUCCESS, "guests of %s can live-migrate to every other host (%s)" % (host["name"], compared)
        if not guest_refused:
            return SUCCESS, "no running guest; guests started here could not live-migrate to %s" % _listed(host_refused)
        return SUCCESS, ("running guests %s can live-migrate to every other host; guests started here with its "
                         "host-model CPU could not live-migrate to %s" % (names(guest_refused), _listed(host_refused)))
    texts, nowhere = [], False
    for refused, movers in blocked.items():
        if len(refused) == len(others):
            nowhere = True
            texts.append("running guests %s can live-migrate to no other host: %s" % (names(movers), _listed(refused)))
        else:
            texts.append("running guests %s cannot live-migrate to %s" % (names(movers), _listed(refused)))
    return (FAILURE if nowhere else WARNING), "%s; %s" % (". ".join(texts), advice)


def _listed(refused):
    return "; ".join("%s (%s)" % (name, why) for name, why in refused)


def _short_reason(reason):
    """libvirt's "... does not provide required features: a, b, c" as ``lacks a, b, c``; others as they are."""
    if _MISSING_FEATURES in reason:
        return "lacks %s" % names(reason.split(_MISSING_FEATURES, 1)[1].split(", "), 6)
    return reason


class _LibvirtFleet(object):
    """The hosts' connections, each opened once and checked to reach the host of its facts."""

    def __init__(self, hosts):
        self.hosts = hosts
        self.conns = {}
        self.unusable = collections.OrderedDict()  # host name -> why libvirt is not used for it
        self.answers = {}  # (dest, CpuQuery) -> reason or None
        self._advice = None

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

    def row(self, host):
        others = [h for h in self.hosts if h["name"] != host["name"]]
        try:
            source = self._source_queries(host)
        except HostUnreachable as exc:
            self.drop(host["name"], exc)
            source = None
        if source is None:
            return _facts_row(host, self.hosts, self._notes([host]))
        host_query, guest_queries = source
        notes, host_refused, guest_refused, asked = [], [], dict((g, []) for g in guest_queries), []
        for other in others:
            try:
                pair = self._pair(other, host_query, guest_queries, notes)
            except HostUnreachable as exc:
                self.drop(other["name"], exc)
                pair = None
            if pair is None:  # the facts decide for this pair
                why = incompatibility(host.get("cpu"), other.get("cpu"))
                pair = (why, dict((g, why) for g in guest_queries))
            else:
                asked.append(other["name"])
            if pair[0]:
                host_refused.append((other["name"], pair[0]))
            for guest, why in pair[1].items():
                if why:
                    guest_refused[guest].append((other["name"], why))
        if asked:
            compared = "libvirt on %s accepts its host-model CPU %s%s" % (
                ", ".join(asked), _model(host_query.cpu_xml) or "(none offered)",
                " and the CPUs of its %d running guests" % len(guest_queries) if guest_queries else "")
        else:
            compared = _facts_compared(host)
        advice = self.advice() if any(guest_refused.values()) else _ADVICE
        notes = self._notes([host] + others) + [n for i, n in enumerate(notes) if n not in notes[:i]]
        return _verdict(host, others, host_refused, guest_refused, compared, notes, advice)

    def advice(self):
        """The advice, with libvirt's baseline CPU of the whole fleet when every host answers."""
        if self._advice is None:
            self._advice = _ADVICE
            conns = [self.connection(h) for h in self.hosts]
            if all(conns):
                try:
                    cpu = ET.fromstring(cpu_compatibility.baseline(conns))
                    self._advice = ("give the guests a CPU every host runs (libvirt's baseline of the fleet: cpu "
                                    "mode custom, model %s with %d features), or cold-migrate them" % (
                                        cpu.findtext("model"), len(cpu.findall("feature"))))
                except (VmfleetError, ET.ParseError):
                    pass  # the general advice then
        return self._advice

    def _source_queries(self, host):
        """``(host-model query, {running guest: query or None})`` read from the source, or None."""
        conn = self.connection(host)
        if conn is None:
            return None
        libvirt = libvirt_client.libvirt
        try:
            host_query = cpu_compatibility.host_cpu_query(conn.getDomainCapabilities(None, None, None, None, 0))
            queries = collections.OrderedDict()
            for guest in _movers(host):
                xml = _live_xml(libvirt, conn, guest)
                queries[guest["name"]] = None if xml is None else cpu_compatibility.guest_cpu_query(
                    xml, host_query.cpu_xml)
        except libvirt.libvirtError as exc:
            raise libvirt_client.unreachable(host["name"], host.get("uri"), exc)
        return host_query, queries

    def _pair(self, other, host_query, guest_queries, notes):
        """``(why host-model guests cannot go to other, {guest: why})`` from other's libvirt, or None."""
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

    def _notes(self, hosts):
        return ["facts compared for %s (libvirt not used: %s)" % (h["name"], self.unusable[h["name"]])
                for h in hosts if h["name"] in self.unusable]


def _live_xml(libvirt, conn, guest):
    """The running guest's live XML; None when it is gone (it moved or stopped meanwhile)."""
    try:
        domain = conn.lookupByUUIDString(guest["uuid"]) if guest.get("uuid") else conn.lookupByName(guest["name"])
        return domain.XMLDesc(0)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return None
        raise


def _model(cpu_xml):
    """The model a ``<cpu>`` XML names, or None."""
    if not cpu_xml:
        return None
    try:
        return (ET.fromstring(cpu_xml).findtext("model") or "").strip() or None
    except ET.ParseError:
        return None
