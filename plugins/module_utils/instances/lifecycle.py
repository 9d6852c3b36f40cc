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

import copy
import uuid

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.instances import claims
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.request import (
    GIB, instance_metadata, scheduler_request)
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import guest as guest_power
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.domain_template import render_domain
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.storage_xml import parse_pool
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import build_config
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import build_request_spec
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import schedule
from ansible_collections.vmfleet.compute.plugins.module_utils.storage import image_cache
from ansible_collections.vmfleet.compute.plugins.module_utils.storage import volumes as storage_volumes

STATES = ("running", "stopped", "present", "absent")
DEFAULT_MAX_ATTEMPTS = 3
# Fixed namespace: an instance's UUID follows from its name, so a plan (check
# mode) shows the same XML the run defines.
_UUID_NAMESPACE = uuid.UUID("8f0f3e3a-6c1e-5d55-9a51-7c0d7f6b0e11")
# Nova's vm_state, as the metadata keeps it: active, or resized while a resize waits
# for confirm or revert. Whether the guest runs is libvirt's to say, not the metadata's.
ACTIVE = "active"


class Instance(object):
    """One instance as the user asks for it (normalized by instance_request)."""

    def __init__(self, name, flavor, image, networks=(), hints=None, scheduler_config=None):
        self.name = name
        self.flavor = flavor
        self.image = image
        self.networks = list(networks)
        self.request = scheduler_request(name, flavor, image, hints)
        self.scheduler_config = build_config(scheduler_config)
        # validates the request before any host is touched; the metadata records the policy
        self.cpu_policy = self.spec().cpu_policy or "shared"
        self.fixed_uuid = None  # an existing guest's UUID (resize keeps it)

    @property
    def uuid(self):
        return self.fixed_uuid or str(uuid.uuid5(_UUID_NAMESPACE, self.name))

    def spec(self, retry_exclude=()):
        """A fresh RequestSpec (the scheduler and claims write into it)."""
        request = copy.deepcopy(self.request)
        if retry_exclude:
            request["hints"]["retry_exclude"] = list(retry_exclude)
        return build_request_spec(request, self.scheduler_config.pci_aliases)


# --- disks ------------------------------------------------------------------

def disk_layout(instance, host, conn, volume_prefix=None):
    """The disks the flavor gives, in the pool of the flavor's tier on ``host``:
    a root overlay on the base image, and blank ephemeral and swap disks
    (Nova's ``disk``, ``disk.eph0``, ``disk.swap``)."""
    pool_name = host.pool_for(instance.flavor["extra_specs"])
    pool = storage_volumes.active_pool(conn, pool_name, host.name)
    folder = parse_pool(pool.XMLDesc(0))["path"]
    prefix = volume_prefix or instance.name
    disks = [{"role": "root", "target": "vda", "volume": "%s.disk.qcow2" % prefix,
              "capacity_bytes": instance.flavor["root_gb"] * GIB}]
    if instance.flavor["ephemeral_gb"]:
        disks.append({"role": "ephemeral", "target": "vdb", "volume": "%s.disk.eph0.qcow2" % prefix,
                      "capacity_bytes": instance.flavor["ephemeral_gb"] * GIB})
    if instance.flavor["swap"]:
        disks.append({"role": "swap", "target": "vd" + "bc"[len(disks) - 1], "volume": "%s.disk.swap.qcow2" % prefix,
                      "capacity_bytes": instance.flavor["swap"] * 1024 * 1024})
    for disk in disks:
        disk.update(pool=pool_name, path="%s/%s" % (folder.rstrip("/"), disk["volume"]), format="qcow2")
    return disks


def create_disks(conn, disks, base_path, host):
    """Create the volumes; on failure remove those created and re-raise."""
    created = []
    try:
        for disk in disks:
            pool = storage_volumes.active_pool(conn, disk["pool"], host)
            if disk["role"] == "root":
                storage_volumes.create_overlay(pool, disk["volume"], base_path, disk["capacity_bytes"])
            else:
                storage_volumes.create_blank(pool, disk["volume"], disk["capacity_bytes"])
            created.append(disk)
    except Exception:
        delete_disks(conn, created, host)
        raise
    return created


def delete_disks(conn, disks, host):
    for disk in disks:
        storage_volumes.delete(storage_volumes.active_pool(conn, disk["pool"], host), disk["volume"])


def root_capacity(instance, base):
    """Root disk size: the flavor's ``root_gb``, or the image's size when it is 0
    (Nova's meaning); a flavor disk smaller than the image is an error."""
    wanted = instance.flavor["root_gb"] * GIB
    if wanted and wanted < base["capacity_bytes"]:
        raise InvalidInput("flavor.root_gb", instance.flavor["root_gb"],
                           "at least the image's virtual size (%.2f GiB)" % (base["capacity_bytes"] / float(GIB)),
                           reason="flavor disk is smaller than image %s" % instance.image["name"])
    return wanted or base["capacity_bytes"]


# --- domain XML -----------------------------------------------------------------

def domain_xml(instance, facts, placement, disks, vm_state, task=None, extra_metadata=None):
    """The domain XML of ``instance`` placed by ``placement`` on the host of ``facts``."""
    metadata = instance_metadata(instance.flavor, instance.image, instance.request, placement, instance.cpu_policy,
                                 vm_state, task, extra_metadata)
    virt_type = facts.get("virt_type") or "kvm"
    config = facts.get("config") or {}
    # Nova's default cpu_mode: host-model under KVM, none under TCG
    cpu_mode = config.get("cpu_mode") or ("host-model" if virt_type == "kvm" else "none")
    return render_domain({
        "name": instance.name,
        "uuid": instance.uuid,
        "virt_type": virt_type,
        "arch": (facts.get("cpu") or {}).get("arch") or "x86_64",
        "machine_type": instance.image["properties"].get("hw_machine_type") or "pc",
        "vcpus": instance.flavor["vcpus"],
        "memory_mb": instance.flavor["memory_mb"],
        "cpu_mode": None if cpu_mode == "none" else cpu_mode,
        "cpu_model": (config.get("cpu_models") or [None])[0] if cpu_mode == "custom" else None,
        "placement": placement,
        "disks": [{"target": d["target"], "path": d["path"], "format": d["format"]} for d in disks],
        "interfaces": instance.networks,
        "metadata": metadata,
    })


# --- placement ------------------------------------------------------------------

def _schedule(fleet, instance, excluded, seed):
    result = schedule(fleet.facts_list(), [instance.spec(excluded)], instance.scheduler_config, seed)
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
           check_mode=False):
    """Build ``instance``; returns ``{host, placement, domain_xml, actions, attempts}``.

    Raises ClaimFailed when a given placement's host cannot claim it, or when
    every attempt of a self-scheduled build was refused.
    """
    excluded, attempts, actions = [], [], []
    while True:
        planned = plan_placement(fleet, instance, placement, excluded, seed)
        host = fleet.host(planned["host"])
        if check_mode:
            return _plan_only(fleet, instance, host, planned, start)
        try:
            built = _build_on(fleet, instance, host, start, actions)
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


def base_image(fleet, instance, host, pool_name, check_mode):
    """Cache the base image in the pool: from this host's other pools, other hosts, or the source file."""
    peers = [(fleet.conn(host.name), pool) for pool in host.config.get("instance_pools") or () if pool != pool_name]
    for other in fleet.reachable():
        if other == host.name:
            continue
        try:
            conn = fleet.conn(other)
        except VmfleetError:
            continue  # a host that is down cannot lend its copy; the others (or the source file) may
        peers += [(conn, pool) for pool in fleet.host(other).config.get("instance_pools") or ()]
    return image_cache.ensure_base_image(fleet.conn(host.name), pool_name, instance.image["name"], host.name,
                                         source_path=instance.image.get("source"), peers=peers,
                                         check_mode=check_mode)


def _plan_only(fleet, instance, host, planned, start):
    conn = fleet.conn(host.name)
    disks = disk_layout(instance, host, conn)
    base = base_image(fleet, instance, host, disks[0]["pool"], check_mode=True)
    xml = domain_xml(instance, host.facts, planned, disks, ACTIVE)
    return {"host": host.name, "placement": planned, "domain_xml": xml, "disks": disks, "base_image": base,
            "actions": ["claim on %s" % host.name, "base image: %s" % base["action"],
                        "create %d disk(s)" % len(disks), "define"] + (["start"] if start else []),
            "attempts": []}


def _build_on(fleet, instance, host, start, actions):
    conn = fleet.conn(host.name)
    disks = disk_layout(instance, host, conn)
    base = base_image(fleet, instance, host, disks[0]["pool"], check_mode=False)
    base_volume = storage_volumes.volume_at(conn, base["path"], "base image %s" % instance.image["name"])
    disks[0]["capacity_bytes"] = root_capacity(instance, storage_volumes.describe(base_volume))
    if base["action"] != "cached":
        actions.append("base image %s %s to %s:%s" % (instance.image["name"], base["action"], host.name,
                                                      disks[0]["pool"]))

    def render(placement, facts):
        return domain_xml(instance, facts, placement, disks, ACTIVE)

    claim = claims.claim(conn, host.as_claim_target(), instance.spec(), render, instance.scheduler_config)
    actions.append("claimed on %s" % host.name)
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
    claims.drop(host.as_claim_target(), claim.id)
    return {"host": host.name, "placement": claim.placement, "domain_xml": claim.domain_xml, "disks": disks,
            "base_image": base, "actions": actions}


def _undo_build(conn, domain, disks, host):
    """Remove what one build attempt created (the guest and its disks, never the base)."""
    libvirt = libvirt_client.libvirt
    try:
        if domain is not None:
            undefine_guest(domain)
        delete_disks(conn, disks, host)
    except (VmfleetError, libvirt.libvirtError):
        pass  # reported by the error that brought us here


# --- existing instances -------------------------------------------------------------

def describe(host_name, domain, guest):
    """What a module returns about one defined guest (``guest``: its parsed XML)."""
    metadata = guest.get("metadata") or {}
    return {
        "name": guest["name"],
        "uuid": guest["uuid"],
        "host": host_name,
        "power_state": "running" if domain.isActive() else "shutoff",
        "managed": bool(metadata),
        "flavor": metadata.get("flavor"),
        "vm_state": (metadata.get("state") or {}).get("vm_state"),
        "task": (metadata.get("state") or {}).get("task"),
        "placement": metadata.get("placement"),
        "vcpupin": guest["vcpupin"],
        "disks": [{"target": d["target"], "source": d["source"]} for d in guest["disks"]],
    }


def check_matches(instance, location):
    """An existing guest must be the same instance: managed, same flavor and image."""
    metadata, host_name = location.metadata, location.host
    if not metadata:
        raise VmfleetError("a guest named %s exists on %s but was not created by this collection (no vmfleet "
                           "metadata): choose another name, or remove it" % (instance.name, host_name),
                           host=host_name, instance=instance.name)
    flavor = metadata.get("flavor")
    if flavor != instance.flavor:
        raise VmfleetError("instance %s exists on %s with flavor %s, not the requested %s: change a flavor with "
                           "vmfleet.compute.resize" % (instance.name, host_name, (flavor or {}).get("name"),
                                                       instance.flavor["name"]),
                           host=host_name, instance=instance.name, flavor=flavor)
    if (metadata.get("image") or {}).get("name") != instance.image["name"]:
        raise VmfleetError("instance %s exists on %s with image %s, not %s: rebuilding is not supported"
                           % (instance.name, host_name, (metadata.get("image") or {}).get("name"),
                              instance.image["name"]), host=host_name, instance=instance.name)


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


def undefine_guest(domain):
    """Power the guest off (it is going away) and remove its definition."""
    if domain.isActive():
        domain.destroy()
    domain.undefine()


def delete_guest_disks(conn, guest, keep=()):
    """Delete the volumes of a guest's local disks (the base image behind them stays), except ``keep``."""
    for disk in guest["disks"]:
        if disk["device"] == "disk" and disk["type"] == "file" and disk["source"] and disk["source"] not in keep:
            storage_volumes.delete_at(conn, disk["source"])


def remove(fleet, location, check_mode):
    """Delete every copy of a guest (both sides of a pending resize) and its disks; the actions taken."""
    actions = []
    for host_name, domain, _xml, guest in location.copies:
        if not check_mode:
            undefine_guest(domain)
            delete_guest_disks(fleet.conn(host_name), guest)
        actions.append("%s %s from %s" % ("delete" if check_mode else "deleted", guest["name"], host_name))
    return actions
