# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CPU compatibility for live migration, from the hosts' CPU in their facts.

A guest may live-migrate from A to B only when B's CPU offers what the guest
sees; the collection's guests use the host CPU model of the host they
started on (host-model), so a guest running on A needs B to have A's arch,
vendor and every CPU feature A's capabilities list. This is libvirt's
``compareCPU`` of A's host CPU on B, reduced to what the facts carry.
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.upgrade_checks.common import (
    FAILURE, SUCCESS, WARNING, guests, host_rows, names)

_LIVE_STATES = ("running", "paused", "blocked")


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
    def per_host(host):
        movers = [g["name"] for g in guests(host) if g.get("state") in _LIVE_STATES]
        others = [h for h in hosts if h["name"] != host["name"]]
        refused = []
        for other in others:
            why = incompatibility(host.get("cpu"), other.get("cpu"))
            if why:
                refused.append("%s (%s)" % (other["name"], why))
        if not refused:
            return SUCCESS, "guests of %s can live-migrate to every other host (%s CPU, %d features)" % (
                host["name"], (host.get("cpu") or {}).get("model"), len((host.get("cpu") or {}).get("features") or ()))
        if not movers:
            return SUCCESS, "no running guest; guests started here could not live-migrate to %s" % "; ".join(refused)
        advice = ("give the guests a CPU model every host offers (libvirt baselineCPU over the fleet, "
                  "cpu mode custom), or cold-migrate them")
        if len(refused) == len(others):
            return FAILURE, "running guests %s can live-migrate to no other host: %s; %s" % (
                names(movers), "; ".join(refused), advice)
        return WARNING, "running guests %s cannot live-migrate to %s; %s" % (names(movers), "; ".join(refused), advice)
    return host_rows("cpu_compatibility", hosts, per_host)
