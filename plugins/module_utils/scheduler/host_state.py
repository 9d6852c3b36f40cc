# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scheduler's view of one host, built from its facts (docs/host-facts.md).

``HostState.from_facts(facts)`` reads the ``hypervisor`` dict of
``hypervisor_info``; ``consume(placement)`` reserves what a placement takes
(Nova's ``consume_from_request``, the Kubernetes framework's Reserve) and
``release(placement)`` gives it back (Unreserve; idempotent). Free amounts are
kept as plain attributes so that filters and weighers read them without any
computation.
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler import floating_pool
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.server_group import members_by_group


def _ids(values):
    return frozenset(int(v) for v in values or ())


def _hex(value):
    text = str(value or "").strip().lower()
    return text[2:] if text.startswith("0x") else text


class HostCell(object):
    """One host NUMA cell: CPUs, sibling sets, memory and pages, and their use.

    ``pinned`` changes only through ``pin`` / ``unpin``, which keep the derived
    free sets (``free_pcpus``, ``free_siblings``, ``shared_cpus``) up to date."""

    __slots__ = ("id", "cpus", "siblings", "pcpuset", "shared_fixed", "pinned", "memory_mb",
                 "memory_used_mb", "pages", "page_sizes", "shared_vcpus_used", "threads_per_core",
                 "free_pcpus", "free_siblings", "free_by_len", "shared_cpus", "shared_sorted")

    def __init__(self, cell_id, cpus, siblings, pcpuset, shared_fixed, pinned, memory_mb, memory_used_mb,
                 pages, shared_vcpus_used):
        self.id = cell_id
        self.cpus = cpus                    # frozenset of the cell's CPU ids
        self.siblings = siblings            # tuple of sorted tuples, one per core (usable CPUs only)
        self.pcpuset = pcpuset              # CPUs of this cell that may be pinned
        self.shared_fixed = shared_fixed    # cpu_shared_set & cell, or None when the sets are not given
        self.memory_mb = memory_mb
        self.memory_used_mb = memory_used_mb
        self.pages = pages                  # {size_kb: [total, used]}
        self.page_sizes = tuple(sorted(pages))
        self.shared_vcpus_used = shared_vcpus_used
        self.threads_per_core = max([len(s) for s in siblings] or [1])
        self._set_pinned(frozenset(pinned))

    def _set_pinned(self, pinned):
        self.pinned = pinned                # pinned host CPUs (guests and isolated emulators)
        self.free_pcpus = self.pcpuset - pinned
        free = self.free_pcpus
        self.free_siblings = [tuple(c for c in sib if c in free) for sib in self.siblings]
        longest = max([len(sib) for sib in self.free_siblings] or [0])
        self.free_by_len = dict((k, [sib for sib in self.free_siblings if len(sib) >= k])
                                for k in range(1, longest + 1))
        # CPUs floating guest cells may use: the shared set, else every unpinned CPU
        self.shared_cpus = self.shared_fixed if self.shared_fixed is not None else self.cpus - pinned
        self.shared_sorted = tuple(sorted(self.shared_cpus))

    def pin(self, cpus):
        self._set_pinned(self.pinned | frozenset(cpus))

    def unpin(self, cpus):
        self._set_pinned(self.pinned - frozenset(cpus))

    def free_pages_kb(self, size_kb):
        total, used = self.pages[size_kb]
        return (total - used) * size_kb

    def siblings_of(self, cpus):
        found = set()
        for sib in self.siblings:
            if cpus.intersection(sib):
                found.update(sib)
        return found | set(cpus)


def _cell_from_facts(cell, dedicated_set, shared_set, host_field):
    cpu_ids = _ids(c["id"] for c in cell.get("cpus") or ())
    if dedicated_set is None and shared_set is None:
        pcpuset, shared_fixed, usable = cpu_ids, None, cpu_ids
    else:
        pcpuset = cpu_ids & dedicated_set if dedicated_set is not None else cpu_ids - (shared_set or frozenset())
        shared_fixed = cpu_ids & shared_set if shared_set is not None else frozenset()
        usable = pcpuset | shared_fixed
    siblings = set()
    for cpu in cell.get("cpus") or ():
        sib = tuple(sorted(set(int(s) for s in cpu.get("siblings") or (cpu["id"],)) & usable))
        if sib:
            siblings.add(sib)
    usage = cell.get("usage") or {}
    memory_used = int(usage.get("memory_mb_used") or 0)
    pages_used = dict((int(k), int(v)) for k, v in (usage.get("pages_used") or {}).items())
    pages = {}
    for page in cell.get("pages") or ():
        pages[int(page["size_kb"])] = [int(page.get("total") or 0), pages_used.get(int(page["size_kb"]), 0)]
    if pages:
        smallest = min(pages)
        huge_kb = sum(size * count for size, count in pages_used.items() if size != smallest)
        small_used_kb = max(0, memory_used * 1024 - huge_kb)
        pages[smallest][1] = pages_used.get(smallest, small_used_kb // smallest)
    return HostCell(int(cell["id"]), cpu_ids, tuple(sorted(siblings)), pcpuset, shared_fixed,
                    _ids(usage.get("pinned_cpus")) & cpu_ids, int(cell.get("memory_mb") or 0), memory_used,
                    pages, int(usage.get("shared_vcpus_used") or 0))


class HostState(object):
    """Resources, usage and placement attributes of one host, as the scheduler sees them."""

    def __init__(self, name):
        self.name = name
        self.claims = {}
        self.fit_cache = {}     # numa_fit.fit results per request shape
        self.pair_cache = {}    # numa_fit per (host cell, guest cell shape) results
        self.fit_index = None   # numa_fit.FitIndex shared by the hosts of a scheduler run
        self.instances = set()
        self.group_members = {}     # server group name -> names of its guests here (server_group.py)
        self.disk_tiers = {}
        self.networks = None        # names of the host's libvirt networks; None: the facts do not say (NetworkFilter)
        self.interfaces = None      # names of the host's network interfaces; None: its libvirt cannot tell
        self.floating = {}          # guest name -> floating_pool.FloatingGuest: where its floating vCPUs may run
        self.shrunk = {}            # request name -> {floating guest: CPUs its pin took out of that guest's set}

    @classmethod
    def from_facts(cls, facts):
        """Build from one ``hypervisor`` dict (or a registered result holding one)."""
        if isinstance(facts, dict) and "hypervisor" in facts and isinstance(facts["hypervisor"], dict):
            facts = facts["hypervisor"]
        if not isinstance(facts, dict) or not facts.get("name"):
            raise InvalidInput("hosts[].name", facts.get("name") if isinstance(facts, dict) else facts,
                               "host facts as hypervisor_info returns them (a dict with name, resources, ...)")
        self = cls(facts["name"])
        config = facts.get("config") or {}
        res = facts.get("resources") or {}
        cpu = facts.get("cpu") or {}
        self.enabled = config.get("enabled", True) is not False
        self.disabled_reason = config.get("disabled_reason")
        self.availability_zone = config.get("availability_zone") or "default"
        self.aggregates = list(config.get("aggregates") or ())
        self.disk_tiers = dict(config.get("disk_tiers") or {})
        self.aggregate_metadata = {}
        for aggregate in self.aggregates:
            for key, value in (aggregate.get("metadata") or {}).items():
                self.aggregate_metadata.setdefault(key, set()).add(str(value))
        self.arch = cpu.get("arch")
        self.virt_type = facts.get("virt_type") or "kvm"
        self.hypervisor_type = facts.get("hypervisor_type") or "QEMU"
        self.hypervisor_version = str(facts.get("hypervisor_version") or "")
        self.cpu_allocation_ratio = float(config.get("cpu_allocation_ratio", 4.0))
        self.ram_allocation_ratio = float(config.get("ram_allocation_ratio", 1.0))
        self.disk_allocation_ratio = float(config.get("disk_allocation_ratio", 1.0))
        self.reserved_host_cpus = int(config.get("reserved_host_cpus") or 0)
        dedicated = config.get("cpu_dedicated_set")
        shared = config.get("cpu_shared_set")
        dedicated = _ids(dedicated) if dedicated is not None else None
        shared = _ids(shared) if shared is not None else None
        if dedicated is not None and shared is not None and dedicated & shared:
            raise InvalidInput("hosts[%s].config.cpu_dedicated_set" % self.name, sorted(dedicated),
                               "a set disjoint from cpu_shared_set", reason="CPUs %s are in both sets"
                               % sorted(dedicated & shared))
        self.sets_configured = dedicated is not None or shared is not None
        self.cells = [_cell_from_facts(c, dedicated, shared, self.name)
                      for c in (facts.get("numa") or {}).get("cells") or ()]
        self.cells.sort(key=lambda c: c.id)
        # as libvirt's driver decides the HW_CPU_HYPERTHREADING trait: any CPU with a sibling, usable or not
        self.has_smt = any(len(cpu.get("siblings") or ()) > 1
                           for cell in (facts.get("numa") or {}).get("cells") or () for cpu in cell.get("cpus") or ())
        self.cell_by_id = dict((c.id, c) for c in self.cells)

        self.vcpus = int(res.get("vcpus") or 0)
        self.vcpus_used = int(res.get("vcpus_used") or 0)
        self.memory_mb = int(res.get("memory_mb") or 0)
        self.memory_mb_used = int(res.get("memory_mb_used") or 0)
        self.memory_mb_limit = float(res.get("memory_mb_limit", self.memory_mb * self.ram_allocation_ratio))
        self.local_gb = int(res.get("local_gb") or 0)
        self.local_gb_used = int(res.get("local_gb_used") or 0)
        self.local_gb_limit = float(res.get("local_gb_limit", self.local_gb * self.disk_allocation_ratio))
        self.pcpus = int(res.get("pcpus") or 0)
        self.pcpus_used = int(res.get("pcpus_used") or 0)
        self.shared_cpus = set(int(c) for c in res.get("shared_cpus") or ())
        self.shared_vcpus_used = int(res.get("shared_vcpus_used") or 0)
        self.vcpus_limit = float(res.get("vcpus_limit", (len(self.shared_cpus) - self.reserved_host_cpus)
                                         * self.cpu_allocation_ratio))
        self.running_vms = int(res.get("running_vms") or 0)
        self.io_ops = int(res.get("io_ops") or 0)

        if facts.get("networks") is not None:
            self.networks = frozenset(n["name"] for n in facts["networks"] if n.get("name"))
        if facts.get("host_interfaces") is not None:
            # a guest may be plugged into a network's bridge directly, as libvirt's interface driver may not list it
            self.interfaces = frozenset(facts["host_interfaces"]).union(
                n["bridge"] for n in facts.get("networks") or () if n.get("bridge"))
        self.instances = set(g.get("name") for g in facts.get("guests") or () if g.get("name"))
        self.group_members = members_by_group(facts.get("guests"))
        self.floating = floating_pool.floating_guests(facts.get("guests"))
        used_devices = set()
        for guest in facts.get("guests") or ():
            for device in guest.get("host_devices") or ():
                if device.get("address"):
                    used_devices.add(device["address"])
        self.pci_devices = {}
        for device in facts.get("pci_devices") or ():
            address = device.get("address")
            if address and address not in used_devices:
                key = (_hex(device.get("vendor_id")), _hex(device.get("product_id")))
                self.pci_devices.setdefault(key, []).append((address, device.get("numa_node")))
        self._refresh()
        self._forget_fits()
        return self

    def _refresh(self):
        """Recompute the free amounts filters and weighers read."""
        self.free_ram_mb = self.memory_mb - self.memory_mb_used
        self.ram_headroom = self.memory_mb_limit - self.memory_mb_used
        self.vcpu_headroom = self.vcpus_limit - self.shared_vcpus_used
        self.pcpu_headroom = self.pcpus - self.pcpus_used
        self.disk_headroom = self.local_gb_limit - self.local_gb_used
        self.free_disk_gb = self.local_gb - self.local_gb_used

    def _forget_fits(self, cells=None):
        """Drop the NUMA fits this host's change may have made wrong. A fit reads the
        cells and the free PCI devices; one (host cell, guest cell shape) pair reads
        that one cell only, so pairs of ``cells`` (ids; None: every cell) go and the
        others stay: a guest on cell 0 leaves what cell 1 can take as it was."""
        self.fit_cache.clear()
        if self.fit_index is not None:
            self.fit_index.forget(self)
        if cells is None:
            self.pair_cache.clear()
        elif cells:
            for key in [k for k in self.pair_cache if k[0] in cells]:
                del self.pair_cache[key]

    def _shrink_shared_pool(self):
        if not self.sets_configured:
            pinned = set()
            for cell in self.cells:
                pinned |= cell.pinned
            all_cpus = set()
            for cell in self.cells:
                all_cpus |= cell.cpus
            self.shared_cpus = all_cpus - pinned
            self.vcpus_limit = (len(self.shared_cpus) - self.reserved_host_cpus) * self.cpu_allocation_ratio

    def consume(self, placement):
        """Reserve what ``placement`` takes on this host (before the next request is placed)."""
        name = placement.name
        if name in self.claims:
            raise VmfleetError("host %s: request %s is already reserved here" % (self.name, name),
                               host=self.name, request=name)
        spec = placement.request
        for cell_place in placement.cells or ():
            cell = self.cell_by_id[cell_place.host_cell]
            clash = (set(cell_place.pinning.values()) | set(cell_place.reserved)) & cell.pinned
            if clash:
                message = "host %s: request %s: CPUs %s of cell %d are already pinned (the placement was " \
                          "made on an older view of the host)" % (self.name, name, sorted(clash), cell.id)
                raise VmfleetError(message, host=self.name, request=name)
        taken = self.cpus_taken(placement)
        for cell_place in placement.cells or ():
            cell = self.cell_by_id[cell_place.host_cell]
            cell.pin(taken[cell.id])
            cell.memory_used_mb += cell_place.memory_mb
            if cell_place.page_size_kb in cell.pages:
                cell.pages[cell_place.page_size_kb][1] += cell_place.memory_mb * 1024 // cell_place.page_size_kb
            cell.shared_vcpus_used += len(cell_place.shared_vcpus)
        # the floating guests give up what the pin takes (floating_pool.py); the request floats where it was put
        shrunk = self.shrunk[name] = floating_pool.shrinks(self, taken)
        for guest, cpus in shrunk.items():
            self.floating[guest] = floating_pool.FloatingGuest(self.floating[guest].cpus - cpus,
                                                               self.floating[guest].repinnable)
        floats_on = set(placement.cpuset)
        for cell_place in placement.cells or ():
            floats_on.update(cell_place.cpuset if cell_place.shared_vcpus else ())
        if floats_on:
            self.floating[name] = floating_pool.FloatingGuest(floats_on, True)
        pinned_count = sum(len(c) for c in taken.values())
        self.claims[name] = (placement, taken)
        self._apply(spec, placement, pinned_count, 1)
        return placement

    def cpus_taken(self, placement):
        """``{cell id: host CPUs}`` that consuming ``placement`` pins (under ``isolate`` the
        siblings of its CPUs too), without those pinned already."""
        taken = {}
        for cell_place in placement.cells or ():
            cell = self.cell_by_id[cell_place.host_cell]
            cpus = set(cell_place.pinning.values()) | set(cell_place.reserved)
            if cell_place.isolate:
                cpus = cell.siblings_of(cpus) & cell.pcpuset
            taken[cell.id] = frozenset(cpus - cell.pinned)
        return taken

    def release(self, placement):
        """Give back what ``consume(placement)`` reserved; False when nothing was reserved."""
        name = placement if isinstance(placement, str) else placement.name
        claim = self.claims.pop(name, None)
        if claim is None:
            return False
        placement, taken = claim
        self.floating.pop(name, None)
        for guest, cpus in self.shrunk.pop(name, {}).items():
            if guest in self.floating:
                self.floating[guest] = floating_pool.FloatingGuest(self.floating[guest].cpus | cpus,
                                                                   self.floating[guest].repinnable)
        for cell_place in placement.cells or ():
            cell = self.cell_by_id[cell_place.host_cell]
            cell.unpin(taken.get(cell.id, ()))
            cell.memory_used_mb -= cell_place.memory_mb
            if cell_place.page_size_kb in cell.pages:
                cell.pages[cell_place.page_size_kb][1] -= cell_place.memory_mb * 1024 // cell_place.page_size_kb
            cell.shared_vcpus_used -= len(cell_place.shared_vcpus)
        self._apply(placement.request, placement, sum(len(c) for c in taken.values()), -1)
        return True

    def _apply(self, spec, placement, pinned_count, sign):
        self.memory_mb_used += sign * spec.memory_mb
        self.vcpus_used += sign * spec.vcpus
        self.shared_vcpus_used += sign * spec.shared_vcpus
        self.pcpus_used += sign * pinned_count
        self.local_gb_used += sign * spec.disk_gb
        self.running_vms += sign
        self.io_ops += sign
        group = spec.group["name"] if spec.group else None
        if sign > 0:
            self.instances.add(spec.name)
            if group:
                self.group_members.setdefault(group, set()).add(spec.name)
        else:
            self.instances.discard(spec.name)
            if group:
                self.group_members.get(group, set()).discard(spec.name)
        for key, device in placement.pci_claims:
            if sign > 0:
                self.pci_devices[key] = [d for d in self.pci_devices.get(key, ()) if d[0] != device[0]]
            else:
                self.pci_devices.setdefault(key, []).append(device)
        if pinned_count:
            self._shrink_shared_pool()
        self._refresh()
        cells = set(c.host_cell for c in placement.cells or ())
        if cells or placement.pci_claims:
            # a guest without NUMA cells and devices changes no cell: every fit still holds
            self._forget_fits(cells)

    def summary(self):
        """The free amounts, for messages and the module's output."""
        return {
            "free_ram_mb": self.free_ram_mb,
            "ram_headroom_mb": self.ram_headroom,
            "vcpu_headroom": self.vcpu_headroom,
            "free_pcpus": self.pcpu_headroom,
            "disk_headroom_gb": self.disk_headroom,
            "running_vms": self.running_vms,
            "io_ops": self.io_ops,
        }
