# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One guest of a failed host defined again on its destination, as Nova's evacuate rebuilds it.

The destination claims it under its lock in the fleet state store (the
scheduler's filters and NUMA fit again, with what libvirt says now), then:

- ``shared``: the guest is defined with the same disks (the same paths, which the
  destination sees) and a placement of the destination's own CPUs and cells;
- ``rebuild``: a new root overlay on the base image cached on the destination (and
  blank ephemeral and swap disks), as a build makes them: the data of the old
  disks is lost.

It is started when it ran when last seen. Each attempt is one record of kind
``evacuation`` in the migration journal (``how``, ``data_lost``); a refused claim
is retried on another host, up to ``max_attempts``. A failure removes what the
attempt defined or created on the destination.
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.evacuation import plan as evacuation_plan
from ansible_collections.vmfleet.compute.plugins.module_utils.instances import claims
from ansible_collections.vmfleet.compute.plugins.module_utils.instances import lifecycle
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.model import domain_xml
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import guest as guest_power
from ansible_collections.vmfleet.compute.plugins.module_utils.state import journal as migration_journal


def run(fleet, source, evacuee, *, scheduler_config=None, max_attempts=3, seed=None):
    """Define ``evacuee`` (a placed plan.Evacuee) on its destination, trying others when a claim is refused;
    sets its result, actions and attempts. Raises VmfleetError when it could not be defined anywhere."""
    excluded = []
    while True:
        dest = evacuee.destination
        record = migration_journal.new_record(
            evacuee.name, source, dest, states.EVACUATION, how=evacuee.how,
            data_lost=evacuee.how == states.EVACUATE_REBUILD, uuid=evacuee.uuid, start=evacuee.start)
        migration_journal.write(fleet.store, record)
        try:
            if evacuee.how == states.EVACUATE_SHARED:
                evacuee.placement = _define_with_same_disks(fleet, source, evacuee, dest, record["id"])
            else:
                evacuee.placement = _build_from_image(fleet, source, evacuee, dest)
        except claims.ClaimFailed as failure:
            migration_journal.update(fleet.store, record, status=states.ERROR, error=failure.message, cleaned_up=True)
            evacuee.attempts.append({"host": dest, "result": failure.message})
            excluded.append(dest)
            placement = None
            if len(evacuee.attempts) < max_attempts:
                placement = evacuation_plan.replace(fleet, source, evacuee, excluded, scheduler_config, seed)
            if placement is None:
                raise VmfleetError("%s could not be claimed on %s" % (evacuee.name, ", ".join(
                    a["result"] for a in evacuee.attempts)), instance=evacuee.name, attempts=evacuee.attempts)
            evacuee.placement = placement
            continue
        except (VmfleetError, libvirt_client.libvirt.libvirtError) as exc:
            message = "%s on %s: %s" % (evacuee.name, dest, getattr(exc, "message", None) or exc)
            migration_journal.update(fleet.store, record, status=states.ERROR, error=message, cleaned_up=True)
            evacuee.attempts.append({"host": dest, "result": message})
            raise VmfleetError(message, instance=evacuee.name, host=dest)
        migration_journal.update(fleet.store, record, status=states.COMPLETED)
        evacuee.attempts.append({"host": dest, "result": "defined"})
        evacuee.result = states.GUEST_EVACUATED if evacuee.how == states.EVACUATE_SHARED else states.GUEST_REBUILT
        evacuee.running_on = dest
        return evacuee


def _define_with_same_disks(fleet, source, evacuee, dest_name, migration_id):
    """Claim on ``dest_name``, define the guest there over its own disks, start it; the placement claimed."""
    dest = fleet.host(dest_name)
    conn = fleet.conn(dest_name)
    instance = evacuee.instance
    disks = [{"target": d["target"], "path": d["source"], "format": d.get("format") or "qcow2"}
             for d in sorted(evacuee.disks, key=lambda d: d["target"])]
    marker = {"from": source, "migration_id": migration_id}

    def render(placement, facts):
        return domain_xml(instance, facts, placement, disks, states.VM_ACTIVE, extra_metadata={"evacuated": marker})

    claim = claims.claim(conn, dest.as_claim_target(), instance.spec(), render, instance.scheduler_config,
                         moves_from=source)
    evacuee.actions.append("claimed on %s" % dest_name)
    domain = None
    try:
        domain = conn.defineXML(claim.domain_xml)
        evacuee.actions.append("defined on %s with its disks %s" % (dest_name, ", ".join(d["path"] for d in disks)))
        if evacuee.start:
            guest_power.start(domain, dest_name)
            evacuee.actions.append("started on %s" % dest_name)
    except Exception:
        if domain is not None:
            try:
                guest_power.undefine(domain)
            except libvirt_client.libvirt.libvirtError:
                pass  # the error that brought us here is reported; the definition names the same disks
        claims.drop(dest.as_claim_target(), claim.id)
        raise
    # kept, spent, for admission checks on facts read before the evacuation (claims.py)
    claims.spend(dest.as_claim_target(), claim.id)
    return claim.placement


def _build_from_image(fleet, source, evacuee, dest_name):
    """Build the guest on ``dest_name`` from its image, as the instance module does (claim, disks, define,
    start; undone on failure), its claim naming the failed host it replaces the guest of; the placement claimed."""
    built = lifecycle.create(fleet, evacuee.instance, evacuee.start, placement=evacuee.placement, max_attempts=1,
                             moves_from=source)
    evacuee.actions.extend(built["actions"])
    return built["placement"]
