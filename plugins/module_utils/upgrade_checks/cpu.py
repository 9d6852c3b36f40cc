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

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import HostUnreachable
from ansible_collections.vmfleet.compute.plugins.module_utils.upgrade_checks.common import (
    FAILURE, SUCCESS, WARNING, guests, host_rows, names)

_ADVICE = ("give the guests a CPU model every host offers (libvirt baselineCPU over the fleet, "
           "cpu mode custom), or cold-migrate them")


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
    compare = options.get("cpu_comparison")
    if compare is None:  # the library's callers without a libvirt edge: the facts decide
        return host_rows("cpu_compatibility", hosts, lambda host: _facts_row(host, hosts))
    with compare(hosts) as comparison:
        return host_rows("cpu_compatibility", hosts, lambda host: _libvirt_row(comparison, hosts, host))


def _movers(host):
    return [g for g in guests(host) if g.get("state") in states.LIVE_GUEST_STATES]


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


def _libvirt_row(comparison, hosts, host):
    """The verdict for ``host`` from the other hosts' libvirt where it answers, from the facts elsewhere."""
    others = [h for h in hosts if h["name"] != host["name"]]
    try:
        source = comparison.source_queries(host, _movers(host))
    except HostUnreachable as exc:
        comparison.drop(host["name"], exc)
        source = None
    if source is None:
        return _facts_row(host, hosts, comparison.notes([host]))
    host_query, guest_queries = source
    notes, host_refused, guest_refused, asked = [], [], dict((g, []) for g in guest_queries), []
    for other in others:
        try:
            pair = comparison.pair(other, host_query, guest_queries, notes)
        except HostUnreachable as exc:
            comparison.drop(other["name"], exc)
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
            ", ".join(asked), comparison.offered_model(host_query) or "(none offered)",
            " and the CPUs of its %d running guests" % len(guest_queries) if guest_queries else "")
    else:
        compared = _facts_compared(host)
    advice = _advice(comparison) if any(guest_refused.values()) else _ADVICE
    notes = comparison.notes([host] + others) + [n for i, n in enumerate(notes) if n not in notes[:i]]
    return _verdict(host, others, host_refused, guest_refused, compared, notes, advice)


def _advice(comparison):
    """The advice, with libvirt's baseline CPU of the whole fleet when every host answers."""
    baseline = comparison.baseline()
    if baseline is None:
        return _ADVICE
    return ("give the guests a CPU every host runs (libvirt's baseline of the fleet: cpu mode custom, model %s "
            "with %d features), or cold-migrate them" % baseline)
