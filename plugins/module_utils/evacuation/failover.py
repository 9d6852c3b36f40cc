# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether the fleet still tolerates a host failure once a failed host is evacuated.

Admission control (``host_failures_to_tolerate: 1``) keeps room for exactly
this: the guests of a failed host. An evacuation consumes that room, so, as
vSphere HA restarts the VMs of a failed host whatever its admission control
says, and Masakari evacuates without asking Nova's scheduler for more than
room, an evacuation is never refused by admission control (plan.py places
with the scheduler alone, and its claims do not re-check the fleet). What the
operator needs to know afterwards is what vSphere calls "insufficient
failover resources": that, with the failed host gone and its guests placed,
some other host could no longer be drained onto the rest, so a second failure
would leave guests with nowhere to go.

That is asked of the one planner admission control and the drain use
(planning/admission.py): each remaining host's evacuation is planned over the
others; the hosts whose plan fails are named with the planner's reason. The
answer is given whatever ``host_failures_to_tolerate`` is; the module warns
only when it is 1 (the operator asked for that room to be kept).
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.planning.admission import OPTION, AdmissionControl
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import SchedulerConfig, build_config


def failover_capacity(hosts, config=None, placements=()):
    """``{status, host_failures_to_tolerate, undrainable, error}`` of the fleet ``hosts`` (facts, the failed host
    left out) once ``placements`` are made (scheduler Placements over these facts, not consumed: the plan, in
    check mode; none when the facts were read after the guests were defined). ``status``: FAILOVER_OK when
    every host can still be drained onto the others, FAILOVER_LOST when some cannot (``undrainable``:
    ``[{host, reason}]``), FAILOVER_UNKNOWN when the planner could not tell (``error``): the evacuation it
    follows is done either way, so this never raises."""
    config = config if isinstance(config, SchedulerConfig) else build_config(config)
    answer = {"host_failures_to_tolerate": config[OPTION], "undrainable": [], "error": None}
    try:
        control = AdmissionControl(hosts, config)
        for placement in placements:
            control.accept(placement)
    except VmfleetError as exc:
        return dict(answer, status=states.FAILOVER_UNKNOWN, error=exc.message)
    answer["undrainable"] = [{"host": host, "reason": reason} for host, reason in sorted(control.undrainable.items())]
    return dict(answer, status=states.FAILOVER_LOST if answer["undrainable"] else states.FAILOVER_OK)


def warning(source, capacity):
    """The warning of an evacuation of ``source`` after which the fleet lost the failover capacity that
    admission control keeps, or None (capacity kept, unknown, or admission control off)."""
    if not capacity["host_failures_to_tolerate"]:
        return None
    if capacity["status"] == states.FAILOVER_UNKNOWN:
        return "after evacuating %s, whether the fleet tolerates another host failure is not known: %s" % (
            source, capacity["error"])
    if capacity["status"] != states.FAILOVER_LOST:
        return None
    return "insufficient failover capacity: after evacuating %s the fleet no longer tolerates another host " \
           "failure (%s=%d): %s" % (source, OPTION, capacity["host_failures_to_tolerate"], "; ".join(
               "%s could not be drained onto the others: %s" % (item["host"], item["reason"])
               for item in capacity["undrainable"]))
