# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A libvirt domain XML for one placed instance, rendered with Jinja2.

``render_domain(spec)`` takes::

    name: db1
    uuid: 6f1c2a8e-...
    virt_type: kvm                 # kvm | qemu
    arch: x86_64
    machine_type: pc
    vcpus: 4
    memory_mb: 4096
    cpu_mode: host-model           # host-model | host-passthrough | custom | None (no mode, for TCG)
    cpu_model: Skylake-Server      # with cpu_mode custom: the named CPU model (Nova's cpu_models)
    placement: {...}               # Placement.to_dict(): numa, cpuset, emulator_cpus, cpu_topology...
    disks:                         # optional
      - {target: vda, path: /var/lib/libvirt/images/db1.qcow2, format: qcow2, bus: virtio, device: disk}
    interfaces:                    # optional; mac defaults to mac_address.deterministic_mac(name, index)
      - {type: network, source: default, mac: "52:54:00:12:34:56", model: virtio}   # or type: bridge
    metadata: {flavor: {...}, request: {...}, placement: {...}}   # optional, instance_metadata

The CPU and memory parts follow Nova's libvirt driver, so that
``domain_xml.parse_domain`` and ``resource_tracker.owned_cpus`` read back
what the scheduler placed: a pinned vCPU gets its one host CPU, a floating
vCPU of a NUMA cell that cell's CPU set, a floating guest without NUMA
topology the host's shared CPUs; guest cells are bound to their host cells
(``strict``) and backed by their page size.

Python prepares every value; the template only lays out XML. Needs jinja2
(and netaddr for the interfaces' MACs) when called, not when imported.
"""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.cpuset import format_cpuset, parse_cpuset
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError, whole_number
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import instance_metadata
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.mac_address import deterministic_mac, normalize_mac

try:
    import jinja2
except ImportError:
    HAS_JINJA2 = False
    JINJA2_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_JINJA2 = True
    JINJA2_IMPORT_ERROR = None

VIRT_TYPES = ("kvm", "qemu")
CPU_MODES = (None, "host-model", "host-passthrough", "custom")
DISK_DEFAULTS = {"format": "qcow2", "bus": "virtio", "device": "disk"}
SMALL_PAGE_KB = 4  # x86_64's base page; larger sizes are hugepages

# Attributes are single-quoted: autoescape turns ' into &#39; in values.
TEMPLATE = """\
<domain type='{{ virt_type }}'>
  <name>{{ name }}</name>
  <uuid>{{ uuid }}</uuid>
{% if metadata %}
  <metadata>
    {{ metadata | safe }}
  </metadata>
{% endif %}
  <memory unit='MiB'>{{ memory_mb }}</memory>
  <currentMemory unit='MiB'>{{ memory_mb }}</currentMemory>
{% if hugepages %}
  <memoryBacking>
    <hugepages>
{% for size_kb, nodeset in hugepages %}
      <page size='{{ size_kb }}' unit='KiB' nodeset='{{ nodeset }}'/>
{% endfor %}
    </hugepages>
  </memoryBacking>
{% endif %}
  <vcpu placement='static'{% if vcpu_cpuset %} cpuset='{{ vcpu_cpuset }}'{% endif %}>{{ vcpus }}</vcpu>
{% if vcpupins or emulatorpin %}
  <cputune>
{% for vcpu, cpuset in vcpupins %}
    <vcpupin vcpu='{{ vcpu }}' cpuset='{{ cpuset }}'/>
{% endfor %}
{% if emulatorpin %}
    <emulatorpin cpuset='{{ emulatorpin }}'/>
{% endif %}
  </cputune>
{% endif %}
{% if cells %}
  <numatune>
    <memory mode='strict' nodeset='{{ host_nodeset }}'/>
{% for cell in cells %}
    <memnode cellid='{{ cell.id }}' mode='strict' nodeset='{{ cell.host_cell }}'/>
{% endfor %}
  </numatune>
{% endif %}
  <os>
    <type arch='{{ arch }}' machine='{{ machine_type }}'>hvm</type>
    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
{% if cpu_mode or topology or cells %}
  <cpu{% if cpu_mode %} mode='{{ cpu_mode }}'{% endif %}{% if cpu_model %} match='exact'{% endif %}>
{% if cpu_model %}
    <model fallback='forbid'>{{ cpu_model }}</model>
{% endif %}
{% if topology %}
    <topology sockets='{{ topology.sockets }}' cores='{{ topology.cores }}' threads='{{ topology.threads }}'/>
{% endif %}
{% if cells %}
    <numa>
{% for cell in cells %}
      <cell id='{{ cell.id }}' cpus='{{ cell.cpus }}' memory='{{ cell.memory_mb }}' unit='MiB'/>
{% endfor %}
    </numa>
{% endif %}
  </cpu>
{% endif %}
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
{% for disk in disks %}
    <disk type='file' device='{{ disk.device }}'>
      <driver name='qemu' type='{{ disk.format }}' cache='none'/>
      <source file='{{ disk.path }}'/>
      <target dev='{{ disk.target }}' bus='{{ disk.bus }}'/>
    </disk>
{% endfor %}
{% for nic in interfaces %}
    <interface type='{{ nic.type }}'>
      <mac address='{{ nic.mac }}'/>
      <source {{ nic.type }}='{{ nic.source }}'/>
      <model type='{{ nic.model }}'/>
    </interface>
{% endfor %}
    <serial type='pty'/>
    <console type='pty'/>
    <memballoon model='virtio'/>
  </devices>
</domain>
"""

_compiled = []  # the template, compiled on first use


def render_domain(spec):
    """Domain XML text for ``spec`` (see the module docstring).

    Raises InvalidInput naming the field when the spec contradicts itself:
    cells whose vCPUs do not cover 0..vcpus-1 exactly once, or whose memory
    does not sum to memory_mb, a topology that is not vcpus, an unknown
    interface type.
    """
    if not HAS_JINJA2:
        raise VmfleetError(missing_required_lib("jinja2"), library="jinja2", exception=JINJA2_IMPORT_ERROR)
    if not _compiled:
        env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                                 lstrip_blocks=True)
        _compiled.append(env.from_string(TEMPLATE))
    return _compiled[0].render(_context(spec))


def _context(spec):
    vcpus = whole_number("vcpus", spec.get("vcpus"), 1)
    memory_mb = whole_number("memory_mb", spec.get("memory_mb"), 1)
    placement = spec.get("placement") or {}
    cells = placement.get("numa")
    if cells is not None:
        _check_cells(cells, vcpus, memory_mb)
    pins = _vcpu_pins(cells, placement.get("cpuset"), vcpus)
    metadata = spec.get("metadata")
    name = _required(spec, "name")
    return {
        "name": name,
        "uuid": _required(spec, "uuid"),
        "virt_type": _choice(spec.get("virt_type"), VIRT_TYPES, "virt_type"),
        "arch": _required(spec, "arch"),
        "machine_type": _required(spec, "machine_type"),
        "cpu_mode": _choice(spec.get("cpu_mode"), CPU_MODES, "cpu_mode"),
        "cpu_model": _cpu_model(spec),
        "vcpus": vcpus,
        "memory_mb": memory_mb,
        "vcpu_cpuset": placement.get("cpuset") if cells is None else None,
        "vcpupins": sorted(pins.items()),
        "emulatorpin": _emulator_cpuset(placement, cells, pins),
        "cells": [{"id": cell["guest_cell"], "host_cell": cell["host_cell"], "memory_mb": cell["memory_mb"],
                   "cpus": format_cpuset(cell["vcpus"])} for cell in cells or ()],
        "host_nodeset": format_cpuset(cell["host_cell"] for cell in cells or ()),
        "hugepages": _hugepages(cells),
        "topology": _topology(placement.get("cpu_topology"), vcpus),
        "disks": [_disk(disk, "disks[%d]" % i) for i, disk in enumerate(spec.get("disks") or ())],
        "interfaces": [_interface(nic, name, i) for i, nic in enumerate(spec.get("interfaces") or ())],
        # XML text, escaped by render_element itself: the template inserts it with |safe
        "metadata": instance_metadata.render_element(metadata) if metadata else None,
    }


def _check_cells(cells, vcpus, memory_mb):
    given = sorted(v for cell in cells for v in cell["vcpus"])
    if given != list(range(vcpus)):
        raise InvalidInput("placement.numa[].vcpus", given, "each of vCPUs 0-%d exactly once" % (vcpus - 1))
    for index, cell in enumerate(cells):
        stray = [pin["vcpu"] for pin in cell["pinning"] if pin["vcpu"] not in cell["vcpus"]]
        if stray:
            raise InvalidInput("placement.numa[%d].pinning" % index, stray, "vCPUs of the cell: %s" % cell["vcpus"])
    memory = [cell["memory_mb"] for cell in cells]
    if sum(memory) != memory_mb:
        raise InvalidInput("placement.numa[].memory_mb", memory, "cells summing to memory_mb=%d" % memory_mb)


def _vcpu_pins(cells, floating_cpuset, vcpus):
    """{vcpu: host CPU set text}; a vCPU with nowhere particular to run is left out."""
    if cells is None:
        return dict((vcpu, floating_cpuset) for vcpu in range(vcpus)) if floating_cpuset else {}
    pins = {}
    for cell in cells:
        pinned = dict((pin["vcpu"], str(pin["cpu"])) for pin in cell["pinning"])
        for vcpu in cell["vcpus"]:
            cpuset = pinned.get(vcpu, cell.get("cpuset"))
            if cpuset:
                pins[vcpu] = cpuset
    return pins


def _emulator_cpuset(placement, cells, pins):
    """Where the emulator threads run: what the scheduler chose (isolated CPUs,
    the host's shared set, or the guest's own CPUs), else the cells' isolated
    CPUs, else every CPU the vCPUs may use (Nova with emulator_threads_policy
    share and no cpu_shared_set)."""
    cpus = parse_cpuset(placement.get("emulator_cpus"), "placement.emulator_cpus")
    cpus = cpus or sorted(set(cpu for cell in cells or () for cpu in cell.get("emulator_cpus") or ()))
    cpus = cpus or parse_cpuset(list(pins.values()), "placement.numa[].cpuset")
    return format_cpuset(cpus) or None


def _hugepages(cells):
    """[(page size KiB, guest cell nodeset)] for the cells backed by hugepages."""
    by_size = {}
    for cell in cells or ():
        size = cell.get("page_size_kb")
        if size and size > SMALL_PAGE_KB:
            by_size.setdefault(size, []).append(cell["guest_cell"])
    return [(size, format_cpuset(ids)) for size, ids in sorted(by_size.items())]


def _topology(topology, vcpus):
    if not topology:
        return None
    if topology["sockets"] * topology["cores"] * topology["threads"] != vcpus:
        raise InvalidInput("placement.cpu_topology", topology, "sockets * cores * threads = vcpus (%d)" % vcpus)
    return topology


def _disk(disk, field):
    disk = dict(DISK_DEFAULTS, **disk)
    for key in ("target", "path"):
        _required(disk, key, field)
    return disk


def _interface(nic, instance_name, index):
    field = "interfaces[%d]" % index
    _choice(nic.get("type"), states.INTERFACE_TYPES, field + ".type")
    mac = nic.get("mac")
    return dict(nic, source=_required(nic, "source", field), model=nic.get("model") or "virtio",
                mac=normalize_mac(mac, field + ".mac") if mac else deterministic_mac(instance_name, index))


def _cpu_model(spec):
    """The model of a ``custom`` CPU (required then, refused otherwise)."""
    model = spec.get("cpu_model")
    if (spec.get("cpu_mode") == "custom") != bool(model):
        raise InvalidInput("cpu_model", model, "a CPU model name exactly when cpu_mode is custom")
    return model


def _required(mapping, key, prefix=None):
    value = mapping.get(key)
    if value is None or value == "":
        raise InvalidInput("%s.%s" % (prefix, key) if prefix else key, value, "a value")
    return value


def _choice(value, allowed, field):
    if value not in allowed:
        raise InvalidInput(field, value, ", ".join(str(a) for a in allowed))
    return value
