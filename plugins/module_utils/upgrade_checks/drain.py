# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""N+1: could each host be drained onto the others right now?

Each host is asked of the drain's own planner (planning/evacuation.py) over the
facts, with the scheduler configuration given and seed 0, so a Success here
means the drain's plan places every guest: same requests (the flavor, image and
hints the collection recorded), same order (constrained and large guests
first), same refusals, and IoOpsFilter counting only the migrations and builds
already in flight, not the drain's own planned moves. Hosts that are disabled
(cordoned) take nothing (ComputeFilter).

Failure: a guest fits nowhere else, or the drain cannot move it at all (host
devices, a resize waiting for confirm or revert, a stale copy on another host,
a flavor that is not a valid request). Warning: the only guests the drain
refuses were created outside the collection: they must be moved by hand.
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.planning.evacuation import plan_evacuation
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import build_config
from ansible_collections.vmfleet.compute.plugins.module_utils.upgrade_checks.common import (
    FAILURE, SUCCESS, WARNING, guests, host_rows, names)


def check_n_plus_one(hosts, options):
    config = build_config(options.get("scheduler_config"))

    def per_host(host):
        own = guests(host)
        if not own:
            return SUCCESS, "no guests: nothing to drain"
        if len(hosts) < 2:
            return FAILURE, "%d guests and no other host to drain them to: add a host before the upgrade" % len(own)
        plan = plan_evacuation(hosts, host["name"], scheduler_config=config, seed=0)
        placed = ", ".join("%s->%s" % (move.name, move.destination) for move in plan.placed)
        if plan.drainable:
            return SUCCESS, "all %d guests fit on the other hosts: %s" % (len(own), placed)
        blocked = [move for move in plan.refused if not move.fits_nowhere]
        unfit = [move for move in plan.refused if move.fits_nowhere]
        if all(move.by_hand for move in plan.refused):
            return WARNING, ("%d of %d guests fit on the other hosts (%s), but the drain does not move guests "
                             "created outside the collection: move %s by hand (virsh migrate) or adopt them" % (
                                 len(plan.placed), len(own), placed or "none",
                                 names(move.name for move in plan.refused)))
        parts = [move.named_refusal() for move in blocked]
        if unfit:
            parts.append("%d of %d guests fit nowhere else: %s. Free capacity on the other hosts (or uncordon "
                         "one), add a host, or shut down / move these guests first" % (
                             len(unfit), len(own), " | ".join(move.refusal for move in unfit)))
        return FAILURE, "%s cannot be drained: %s" % (host["name"], "; ".join(parts))
    return host_rows("n_plus_one", hosts, per_host)
