# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Create, start, stop and delete instances: plan -> claim -> disks -> define.

Creating follows Nova's build: the scheduler picks a host (or the caller
gives a placement), the host claims the resources under its lock (claims.py),
the boot disk is a qcow2 overlay on the base image cached in the host's pool
(image_cache.py; the image is never copied per instance), and the domain XML
is rendered from the placement with the request, flavor and placement in its
metadata. A claim the host refuses sends a self-scheduled request back to
the scheduler with that host excluded, up to ``max_attempts`` (Nova's 3).
Anything created for an attempt that fails is removed before the next.
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.instances import claims
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.model import domain_xml
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import guest as guest_power
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.networks import check_interfaces
from ansible_collections.vmfleet.compute.plugins.module_utils.planning.admission import schedule_admitted
from ansible_collections.vmfleet.compute.plugins.module_utils.storage import volumes as storage_volumes
from ansible_collections.vmfleet.compute.plugins.module_utils.storage.instance_disks import (
    base_image, create_disks, delete_disks, delete_guest_disks, disk_layout, root_capacity)

DEFAULT_MAX_ATTEMPTS = 3


# --- placement ------------------------------------------------------------------

def _schedule(fleet, instance, excluded, seed):
    result = schedule_admitted(fleet.facts_list(), [instance.spec(excluded)], instance.scheduler_config, seed)
    outcome = result.outcomes[0]
    if outcome.placement is None:
        raise VmfleetError(outcome.error, instance=instance.name,
                           rejections=[v.to_dict() for v in outcome.rejections])
    return outcome.placement.to_dict()


def plan_placement(fleet, instance, placement=None, excluded=(), seed=None):
    """The placement to try: the caller's (its host must be one of the fleet's), or the scheduler's."""
    if placement:
        if not isinstance(placement, dict) or not placement.get("host"):
            raise InvalidInput("placement", placement, "one entry of the schedule module's plan (with host)")
        if placement.get("name") not in (None, instance.name):
            raise InvalidInput("placement.name", placement.get("name"), "the instance's name %s" % instance.name)
        fleet.host(placement["host"], "placement.host")
        return placement
    return _schedule(fleet, instance, excluded, seed)


# --- create ---------------------------------------------------------------------

def create(fleet, instance, start, placement=None, max_attempts=DEFAULT_MAX_ATTEMPTS, seed=None,
           check_mode=False, moves_from=None):
    """Build ``instance``; returns ``{host, placement, domain_xml, actions, attempts}``.

    ``moves_from``: the host the guest leaves, for a build that replaces a guest there (an evacuation's
    rebuild), recorded with the claim (claims.claim). Raises ClaimFailed when a given placement's host cannot
    claim it, or when every attempt of a self-scheduled build was refused.
    """
    excluded, attempts, actions = [], [], []
    while True:
        planned = plan_placement(fleet, instance, placement, excluded, seed)
        host = fleet.host(planned["host"])
        if check_mode:
            return _plan_only(fleet, instance, host, planned, start)
        try:
            built = _build_on(fleet, instance, host, start, actions, moves_from)
            built["attempts"] = attempts + [{"host": host.name, "result": "built"}]
            return built
        except claims.ClaimFailed as failure:
            attempts.append({"host": host.name, "result": failure.message})
            excluded.append(host.name)
            if placement or len(attempts) >= max_attempts:
                failure.details.update(attempts=attempts, retry_exclude=list(excluded))
                if len(attempts) > 1:
                    failure.message = "%s (after %d attempts: %s)" % (
                        failure.message, len(attempts), "; ".join(a["result"] for a in attempts[:-1]))
                    failure.args = (failure.message,)
                raise


def _check_host_references(conn, instance, host, start):
    """What the guest names on its host (networks, bridges; the pools, in disk_layout) exists there: checked before the
    base image is copied or anything is claimed, so a guest that could never start is never made."""
    check_interfaces(conn, instance.networks, host.name, must_be_active=start)


def _plan_only(fleet, instance, host, planned, start):
    conn = fleet.conn(host.name)
    _check_host_references(conn, instance, host, start)
    disks = disk_layout(instance, host, conn)
    base = base_image(fleet, instance, host, disks[0]["pool"], check_mode=True)
    xml = domain_xml(instance, host.facts, planned, disks, states.VM_ACTIVE)
    return {"host": host.name, "placement": planned, "domain_xml": xml, "disks": disks, "base_image": base,
            "actions": ["claim on %s" % host.name, "base image: %s" % base["action"],
                        "create %d disk(s)" % len(disks), "define"] + (["start"] if start else []),
            "attempts": []}


def _build_on(fleet, instance, host, start, actions, moves_from=None):
    conn = fleet.conn(host.name)
    _check_host_references(conn, instance, host, start)
    disks = disk_layout(instance, host, conn)
    base = base_image(fleet, instance, host, disks[0]["pool"], check_mode=False)
    base_volume = storage_volumes.volume_at(conn, base["path"], "base image %s" % instance.image["name"])
    disks[0]["capacity_bytes"] = root_capacity(instance, storage_volumes.describe(base_volume))
    if base["action"] != "cached":
        actions.append("base image %s %s to %s:%s" % (instance.image["name"], base["action"], host.name,
                                                      disks[0]["pool"]))

    def render(placement, facts):
        return domain_xml(instance, facts, placement, disks, states.VM_ACTIVE)

    claim = claims.claim(conn, host.as_claim_target(), instance.spec(), render, instance.scheduler_config,
                         fleet=fleet, moves_from=moves_from)
    actions.append("claimed on %s" % host.name)
    actions.extend(claim.actions())
    domain = None
    try:
        create_disks(conn, disks, base["path"], host.name)
        actions.append("created %s" % ", ".join(d["volume"] for d in disks))
        domain = conn.defineXML(claim.domain_xml)
        actions.append("defined")
        if start:
            guest_power.start(domain, host.name)
            actions.append("started")
    except Exception as exc:
        _undo_build(conn, domain, disks, host.name)
        claims.drop(host.as_claim_target(), claim.id)
        if isinstance(exc, libvirt_client.libvirt.libvirtError):
            raise VmfleetError("building %s on %s failed, nothing was left there: %s" % (instance.name, host.name, exc),
                               host=host.name, instance=instance.name)
        raise
    claims.spend(host.as_claim_target(), claim.id)
    return {"host": host.name, "placement": claim.placement, "domain_xml": claim.domain_xml, "disks": disks,
            "base_image": base, "actions": actions}


def _undo_build(conn, domain, disks, host):
    """Remove what one build attempt created (the guest and its disks, never the base)."""
    libvirt = libvirt_client.libvirt
    try:
        if domain is not None:
            guest_power.undefine(domain)
        delete_disks(conn, disks, host)
    except (VmfleetError, libvirt.libvirtError):
        pass  # reported by the error that brought us here


# --- existing instances -------------------------------------------------------------

def set_power(host_name, domain, state, shutdown_timeout, check_mode):
    """Bring an existing guest to ``state`` (running / stopped / present); the action taken or None."""
    if state == "running" and not domain.isActive():
        if not check_mode:
            guest_power.start(domain, host_name)
        return "started"
    if state == "stopped" and domain.isActive():
        if check_mode:
            return "stopped"
        return guest_power.stop(domain, host_name, shutdown_timeout)
    return None


def remove(fleet, location, check_mode):
    """Delete every copy of a guest (both sides of a pending resize) and its disks; the actions taken."""
    actions = []
    for host_name, domain, _xml, guest in location.copies:
        if not check_mode:
            guest_power.undefine(domain)
            delete_guest_disks(fleet.conn(host_name), guest)
            claims.forget_guest(fleet.host(host_name).as_claim_target(), guest)
        actions.append("%s %s from %s" % ("delete" if check_mode else "deleted", guest["name"], host_name))
    return actions
