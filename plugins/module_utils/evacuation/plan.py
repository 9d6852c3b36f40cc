# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of an evacuation: which guests of the failed host come back, how, and where.

The failed host cannot be asked, so its guests are what the fleet state store
remembers of them (host facts keep each host's guests: domain XML, disks with
their pools, sizes and backing chains). Per guest, in name order:

- defined on a reachable host already: an earlier run evacuated it, or it moved
  before the host went down. Not evacuated again (re-running is safe);
- libvirt of the failed host answers (``force``) and says it runs there: not
  evacuated, it would run twice;
- created outside the collection, a resize pending, host devices, a disk that is
  not a file, an interface that cannot be re-created: reported, nothing done;
- every disk (and the backing files under it) seen at the same path by some other
  host (a pool of its own over the folder lists it): ``shared``, defined there
  with the same disks;
- otherwise its data is on the failed host's own storage: ``rebuild`` from its
  base image only with ``allow_rebuild`` (its local data is lost, and the result
  says so), else reported.

The guests that come back are placed as one batch by the scheduler (pinning, NUMA,
server groups see each other's destinations), constrained and large ones first
(planning/evacuation.py's order), in the failed host's availability zone; a
``shared`` guest only onto the hosts that see its disks. Admission control
never refuses them: its reserved room is what an evacuation uses (failover.py
says afterwards whether the fleet still tolerates a host failure).
"""

from __future__ import annotations

import os

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.instances import move_destination
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.domain_xml import parse_domain
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.storage_xml import parse_pool
from ansible_collections.vmfleet.compute.plugins.module_utils.planning.admission import without_admission
from ansible_collections.vmfleet.compute.plugins.module_utils.planning.evacuation import placement_order
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import build_config
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import schedule
from ansible_collections.vmfleet.compute.plugins.module_utils.storage import volumes as storage_volumes


class Evacuee(object):
    """One guest the failed host had when its facts were last read (a record of remember_guests), and what
    becomes of it. ``name``, ``guest`` (the parsed XML), ``metadata`` and ``xml`` are what
    move_destination.instance_from reads."""

    def __init__(self, record):
        self.name, self.uuid, self.last_state = record["name"], record["uuid"], record.get("state")
        self.xml = record["domain_xml"]
        self.guest = parse_domain(self.xml)
        self.disks = [d for d in (record.get("disks") or self.guest["disks"]) if d.get("device") == "disk"]
        self.metadata = self.guest.get("metadata") or {}
        self.how = None          # states.EVACUATE_SHARED | states.EVACUATE_REBUILD
        self.instance = None     # the Instance it is defined again as
        self.hosts = ()          # the hosts it may go to (a shared guest: those that see its disks)
        self.placement = None
        self.scheduled = None    # (rank in the batch, the scheduler's Placement): failover.py replays the plan
        self.result, self.reason, self.error = None, None, None
        self.running_on = None
        self.actions, self.attempts = [], []

    @property
    def destination(self):
        return self.placement["host"] if self.placement else None

    @property
    def start(self):
        """Started on its destination when it was running (or paused) when last seen, as Nova's evacuate
        brings an active instance back active and a stopped one stopped."""
        return self.last_state in states.LIVE_GUEST_STATES

    def refuse(self, result, reason):
        self.result, self.reason, self.instance = result, reason, None

    def to_dict(self, source):
        return {
            "guest": self.name, "from": source, "to": self.destination, "how": self.how,
            "result": self.result or states.GUEST_PLANNED, "reason": self.reason, "error": self.error,
            "data_lost": self.how == states.EVACUATE_REBUILD and self.result in (states.GUEST_REBUILT,
                                                                                  states.GUEST_PLANNED, None),
            "last_state": self.last_state, "start": self.start, "placement": self.placement,
            "disks": [d.get("source") for d in self.disks], "running_on": self.running_on,
            "actions": list(self.actions), "attempts": list(self.attempts),
        }


def plan(fleet, source, records, *, allow_rebuild=False, active_on_source=(), held=None, scheduler_config=None,
         seed=None):
    """The Evacuees of ``records`` (the failed host's remembered guests), each placed or refused (module
    docstring). ``active_on_source``: names libvirt of the source says run there (only with ``force``);
    ``held``: ``{name: reason}`` of guests not to evacuate now (an interrupted evacuation not settled)."""
    others = [name for name in fleet.reachable() if name != source]
    if not others:
        raise VmfleetError("no other host of the fleet answers (%s): there is nowhere to evacuate %s to" % (
            ", ".join(sorted(fleet.unreachable)) or "none given", source), host=source)
    config = build_config(scheduler_config)
    zone = fleet.host(source).config.get("availability_zone") or "default"
    storage = _SeenStorage(fleet)
    evacuees = [Evacuee(record) for record in sorted(records, key=lambda r: r["name"])]
    for evacuee in evacuees:
        if evacuee.name in (held or {}):
            evacuee.refuse(states.GUEST_NOT_EVACUATED, held[evacuee.name])
            continue
        _classify(fleet, evacuee, others, storage, allow_rebuild=allow_rebuild,
                  active_on_source=active_on_source, source=source)
        if evacuee.result is None:
            _as_instance(evacuee, scheduler_config, zone)
    _place(fleet, source, [e for e in evacuees if e.instance is not None], config, seed)
    return evacuees


def _classify(fleet, evacuee, others, storage, *, allow_rebuild, active_on_source, source):
    name = evacuee.name
    elsewhere = [host for host, _domain in fleet.find_domains(name, others)]
    if elsewhere:
        evacuee.running_on = elsewhere[0]
        return evacuee.refuse(states.GUEST_ALREADY_ELSEWHERE, "defined on %s already (evacuated by an earlier run, "
                                                              "or moved before %s went down): not evacuated again"
                              % (", ".join(elsewhere), source))
    if name in active_on_source:
        return evacuee.refuse(states.GUEST_NOT_EVACUATED, "libvirt of %s answers and says %s runs there: it would "
                                                          "run twice; stop it there first" % (source, name))
    metadata = evacuee.metadata
    if not metadata:
        return evacuee.refuse(states.GUEST_NOT_EVACUATED, "created outside the collection (no vmfleet metadata): "
                                                          "no flavor or image to define it again with")
    task = metadata.get("state") if isinstance(metadata.get("state"), dict) else {}
    if metadata.get("resize") or task.get("vm_state") == states.VM_RESIZED:
        return evacuee.refuse(states.GUEST_NOT_EVACUATED, "a resize of it waited for confirm or revert on %s: "
                                                          "recover it by hand" % source)
    if evacuee.guest.get("host_devices"):
        return evacuee.refuse(states.GUEST_NOT_EVACUATED, "it has host devices, which no other host can be "
                                                          "checked to offer")
    for disk in evacuee.disks:
        if disk.get("type") != "file" or not disk.get("source"):
            return evacuee.refuse(states.GUEST_NOT_EVACUATED, "disk %s is not a file (%s): only file disks are "
                                                              "evacuated" % (disk.get("target"), disk.get("type")))
    seen_by = [host for host in others if all(storage.sees(host, disk) for disk in evacuee.disks)]
    if seen_by:
        evacuee.how, evacuee.hosts = states.EVACUATE_SHARED, seen_by
        return None
    paths = ", ".join(d["source"] for d in evacuee.disks)
    if not allow_rebuild:
        return evacuee.refuse(states.GUEST_NOT_EVACUATED, "its disks (%s) are on storage of %s that no other host "
                                                          "sees: its data stays there; allow_rebuild: true rebuilds it "
                                                          "from its image %s, losing that data" % (
                                                              paths, source, (metadata.get("image") or {}).get("name")))
    evacuee.how, evacuee.hosts = states.EVACUATE_REBUILD, others
    return None


def _as_instance(evacuee, scheduler_config, zone):
    """The Instance the guest is defined again as: its recorded flavor, image, hints, interfaces and UUID."""
    try:
        # its claims do not ask admission control (failover.py): the instance carries the setting to them
        evacuee.instance = move_destination.instance_from(evacuee, evacuee.metadata.get("flavor"),
                                                          without_admission(scheduler_config))
    except (VmfleetError, KeyError, TypeError) as exc:
        return evacuee.refuse(states.GUEST_NOT_EVACUATED, "its recorded flavor, image or interfaces cannot be "
                                                          "built again (%s)" % (getattr(exc, "message", None) or exc))
    # an evacuation keeps the guest in its host's availability zone, as every move does
    evacuee.instance.request["hints"]["availability_zone"] = zone
    return None


def _place(fleet, source, evacuees, config, seed):
    if not evacuees:
        return
    others = set(fleet.reachable())
    specs = [(e.instance.spec(sorted(set(fleet.names()) - set(e.hosts) | {source})), e) for e in evacuees]
    ordered = sorted(specs, key=lambda pair: placement_order(pair[0]))
    facts = [f for f in fleet.facts_list() if f["name"] in others and f["name"] != source]
    outcomes = schedule(facts, [spec for spec, _e in ordered], config, seed).outcomes
    for rank, ((_spec, evacuee), outcome) in enumerate(zip(ordered, outcomes)):
        if outcome.placement is None:
            evacuee.refuse(states.GUEST_NOT_EVACUATED, outcome.error)
        else:
            evacuee.placement = outcome.placement.to_dict()
            evacuee.scheduled = (rank, outcome.placement)


def replace(fleet, source, evacuee, excluded, scheduler_config, seed=None):
    """A new placement for ``evacuee`` after its claim was refused on the hosts ``excluded``, from the
    facts read again now; None when no host takes it."""
    fleet.refresh([host for host in evacuee.hosts if host not in excluded])
    refused = set(fleet.names()) - set(evacuee.hosts) | {source} | set(excluded)
    facts = [f for f in fleet.facts_list() if f["name"] not in refused]
    outcome = schedule(facts, [evacuee.instance.spec(sorted(refused))], build_config(scheduler_config),
                       seed).outcomes[0]
    return outcome.placement.to_dict() if outcome.placement is not None else None


class _SeenStorage(object):
    """Whether a host sees a disk of the failed host: a pool of its own over the disk's folder holds a volume
    of that name, and the backing files under it too. Each (host, folder) pool is refreshed once per plan, so
    files written by the failed host before it went down are listed. (The size is not compared: the facts
    remember what the guest sees, which drivers report differently from the file's size.)"""

    def __init__(self, fleet):
        self._fleet = fleet
        self._pools = {}

    def sees(self, host, disk):
        return all(self._has(host, path) for path in [disk["source"]] + list(disk.get("backing_chain") or ()))

    def _has(self, host, path):
        pool = self._pool(host, os.path.dirname(path))
        return pool is not None and storage_volumes.lookup(pool, os.path.basename(path)) is not None

    def _pool(self, host, folder):
        key = (host, os.path.normpath(folder))
        if key not in self._pools:
            self._pools[key] = None
            conn = self._fleet.conn(host)
            for pool in conn.listAllStoragePools(libvirt_client.libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE):
                pool_path = parse_pool(pool.XMLDesc(0)).get("path")
                if pool_path and os.path.normpath(pool_path) == key[1]:
                    storage_volumes.refresh(pool)
                    self._pools[key] = pool
                    break
        return self._pools[key]
