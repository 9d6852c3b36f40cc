# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt's own CPU comparison: can a CPU run on another host, and what CPU can every host run.

For live migration and the upgrade preflight. A check builds a :class:`CpuQuery` (what to ask
libvirt, read from XML only) and :func:`run_query` asks the destination's libvirt with
``compareHypervisorCPU``, which weighs the CPU against what the destination's hypervisor can
give a guest (KVM's view of the host CPU, the QEMU binary, the machine type), not against the
host CPU's raw flags. A check returns None when the CPU can run there, else the reason, in
libvirt's words (``the CPU is incompatible with host CPU: Host CPU does not provide required
features: avx512f``).

What is compared:

- a running guest (:func:`guest_cpu_check`): the ``<cpu>`` of its live XML, which for a
  ``host-model`` guest already carries the expanded model and features it was given, with the
  guest's own domain type, arch, machine type and emulator. No ``<cpu>``, a ``custom`` CPU without
  a model (QEMU's default model), or ``maximum`` under TCG (``<domain type='qemu'>``, emulated
  anyway) are compatible without asking. ``host-passthrough`` (and ``maximum`` under KVM, and a
  ``host-model`` without its expansion, as in an inactive definition) show the source host's CPU
  to the guest: the source host's CPU is compared instead (``source_host_cpu_xml``); without it
  the guest cannot be checked, and the check says so as a reason (unknown is not compatible).
- a host (:func:`host_cpu_check`): can guests started there with ``host-model`` run on the
  destination. Given the source's domain capabilities (``getDomainCapabilities``), its
  ``host-model`` CPU is compared, which is what such guests get; given its capabilities
  (``getCapabilities``), the ``<host><cpu>``. libvirt keeps the latter for compatibility only:
  it lists host features KVM cannot give guests, so it is often refused even on the same host.

Drivers without ``compareHypervisorCPU`` (``VIR_ERR_NO_SUPPORT``) are asked ``compareCPU``
(against the host CPU); drivers without either count as compatible, with a note appended to
``notes`` when a list is given. Errors of the connection itself raise HostUnreachable; other
libvirt errors (an unknown CPU model, an emulator or machine type the destination lacks) are
reasons, since the guest could not start there either.
"""

from __future__ import annotations

import collections
import copy
import xml.etree.ElementTree as ET

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.xml_values import parse_xml

# What to ask libvirt: compareHypervisorCPU's arguments. ``cpu_xml`` None with ``reason`` None:
# nothing to compare (compatible); ``reason`` set: it cannot be compared, and why.
CpuQuery = collections.namedtuple("CpuQuery", "emulator arch machine virttype cpu_xml reason")

# Modes that show the source host's CPU itself to the guest.
_SOURCE_CPU_MODES = ("host-passthrough", "maximum")
# libvirt error codes and domains that mean the connection failed, not the comparison.
_CONNECTION_CODES = ("VIR_ERR_INVALID_CONN", "VIR_ERR_NO_CONNECT", "VIR_ERR_AUTH_FAILED", "VIR_ERR_AUTH_CANCELLED",
                     "VIR_ERR_AUTH_UNAVAILABLE", "VIR_ERR_OPERATION_TIMEOUT")
_CONNECTION_DOMAINS = ("VIR_FROM_RPC", "VIR_FROM_REMOTE")
_INCOMPATIBLE_PREFIX = "the CPU is incompatible with host CPU: "


def guest_cpu_check(dest_conn, guest_xml, dest_name, source_host_cpu_xml=None, notes=None):
    """None when the running guest (its live domain XML) can run on ``dest_conn``'s host, else why.

    ``source_host_cpu_xml``: the ``<cpu>`` of the source host, compared for guests that see the
    host's own CPU (host-passthrough); :func:`host_cpu_query`'s ``cpu_xml`` of the source's domain
    capabilities is the best one. Raises HostUnreachable when ``dest_conn`` fails.
    """
    return run_query(dest_conn, guest_cpu_query(guest_xml, source_host_cpu_xml), dest_name, notes)


def host_cpu_check(dest_conn, source_capabilities_xml, dest_name, notes=None):
    """None when guests using the source host's CPU model (host-model) can run on ``dest_conn``'s host.

    ``source_capabilities_xml``: the source's domain capabilities (preferred) or capabilities.
    """
    return run_query(dest_conn, host_cpu_query(source_capabilities_xml), dest_name, notes)


def guest_cpu_query(guest_xml, source_host_cpu_xml=None):
    """The :class:`CpuQuery` for a guest's live domain XML (see the module's notes)."""
    root = parse_xml(guest_xml, "domain XML")
    virttype = root.get("type")
    os_type = root.find("os/type")
    arch = os_type.get("arch") if os_type is not None else None
    machine = os_type.get("machine") if os_type is not None else None
    emulator = (root.findtext("devices/emulator") or "").strip() or None
    cpu = root.find("cpu")
    mode = cpu.get("mode", "custom") if cpu is not None else None
    has_model = cpu is not None and bool((cpu.findtext("model") or "").strip())
    if cpu is None or (mode == "maximum" and virttype == "qemu"):
        return CpuQuery(emulator, arch, machine, virttype, None, None)
    if mode in _SOURCE_CPU_MODES or (mode == "host-model" and not has_model):
        if source_host_cpu_xml:
            return CpuQuery(emulator, arch, machine, virttype, source_host_cpu_xml, None)
        return CpuQuery(emulator, arch, machine, virttype, None,
                        "its CPU is %s, the source host's own, which was not given: it cannot be checked" % mode)
    if not has_model:
        return CpuQuery(emulator, arch, machine, virttype, None, None)  # QEMU's default model
    cpu = _detached(cpu)
    if mode == "host-model":  # the live expansion, compared as the custom CPU it is
        cpu.set("mode", "custom")
        cpu.set("match", "exact")
    for numa in cpu.findall("numa"):
        cpu.remove(numa)  # guest NUMA cells are memory layout, not CPU features
    return CpuQuery(emulator, arch, machine, virttype, ET.tostring(cpu, encoding="unicode"), None)


def host_cpu_query(capabilities_xml):
    """The :class:`CpuQuery` for a host's CPU, from its domain capabilities or its capabilities.

    Domain capabilities: its ``host-model`` CPU as a guest ``<cpu>`` (``reason`` when host-model is
    not supported there), with its arch and domain type. Capabilities: ``<host><cpu>``. Neither the
    emulator nor the machine type is passed: the destination's defaults answer for host-model guests.
    """
    root = parse_xml(capabilities_xml, "capabilities XML")
    if root.tag == "domainCapabilities":
        arch = (root.findtext("arch") or "").strip() or None
        virttype = (root.findtext("domain") or "").strip() or None
        mode = root.find("cpu/mode[@name='host-model']")
        if mode is None or mode.get("supported") == "no" or not (mode.findtext("model") or "").strip():
            return CpuQuery(None, arch, None, virttype, None, "its hypervisor offers no host-model CPU")
        cpu = ET.Element("cpu", {"mode": "custom", "match": "exact"})
        cpu.extend(copy.deepcopy(list(mode)))
        return CpuQuery(None, arch, None, virttype, ET.tostring(cpu, encoding="unicode"), None)
    if root.tag != "capabilities":
        raise InvalidInput("capabilities_xml", root.tag, "capabilities or domainCapabilities XML")
    cpu = root.find("host/cpu")
    if cpu is None:
        return CpuQuery(None, None, None, None, None, "its capabilities list no host CPU")
    arch = (cpu.findtext("arch") or "").strip() or None
    if not (cpu.findtext("model") or "").strip():
        return CpuQuery(None, arch, None, None, None, "its capabilities name no host CPU model")
    return CpuQuery(None, arch, None, None, ET.tostring(_detached(cpu), encoding="unicode"), None)


def run_query(dest_conn, query, dest_name, notes=None):
    """Ask ``dest_conn`` whether ``query``'s CPU can run there: None, or the reason it cannot."""
    if query.reason or query.cpu_xml is None:
        return query.reason
    libvirt = libvirt_client.libvirt
    flags = libvirt.VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE
    try:
        supported, result = _first_supported(
            libvirt, dest_conn, ("compareHypervisorCPU", query.emulator, query.arch, query.machine, query.virttype,
                                 query.cpu_xml, flags), ("compareCPU", query.cpu_xml, flags))
    except libvirt.libvirtError as exc:
        if _connection_failed(libvirt, exc):
            raise libvirt_client.unreachable(dest_name, _uri(dest_conn), exc)
        return _message(exc)
    if not supported:
        if notes is not None:
            notes.append("libvirt on %s cannot compare CPUs; assumed compatible" % dest_name)
        return None
    if result == libvirt.VIR_CPU_COMPARE_INCOMPATIBLE:  # a driver that ignored the flag
        return _INCOMPATIBLE_PREFIX + "libvirt gave no details"
    return None


def baseline(conns_or_capabilities, conn=None, migratable=True):
    """The CPU XML (a guest ``<cpu>``) that every host given can run, for advice.

    ``conns_or_capabilities``: libvirt connections (their domain capabilities are read) and/or
    domain capabilities or capabilities XML texts, one per host. ``conn`` asks libvirt
    (``baselineHypervisorCPU``, else ``baselineCPU``); default: the first connection given.
    ``migratable`` drops features that block migration. Raises InvalidInput without a connection
    or a host CPU, HostUnreachable when a connection fails, VmfleetError when libvirt refuses.
    """
    libvirt = libvirt_client.libvirt
    queries = []
    for index, item in enumerate(conns_or_capabilities):
        if isinstance(item, str):
            text = item
        else:
            conn = conn or item
            try:
                text = item.getDomainCapabilities(None, None, None, None, 0)
            except libvirt.libvirtError as exc:
                raise libvirt_client.unreachable(_uri(item) or "host %d" % index, _uri(item), exc)
        query = host_cpu_query(text)
        if query.cpu_xml is None:
            raise InvalidInput("conns_or_capabilities[%d]" % index, query.arch, "a host with a CPU model", query.reason)
        queries.append(query)
    if not queries:
        raise InvalidInput("conns_or_capabilities", [], "one host or more")
    if conn is None:
        raise InvalidInput("conn", None, "a libvirt connection to ask", "only XML was given")
    flags = libvirt.VIR_CONNECT_BASELINE_CPU_MIGRATABLE if migratable else 0
    try:
        supported, result = _first_supported(
            libvirt, conn, ("baselineHypervisorCPU", None, queries[0].arch, None, queries[0].virttype,
                            [q.cpu_xml for q in queries], flags),
            ("baselineCPU", [_host_style(q) for q in queries], flags))
    except libvirt.libvirtError as exc:
        if _connection_failed(libvirt, exc):
            raise libvirt_client.unreachable(_uri(conn), _uri(conn), exc)
        raise VmfleetError("libvirt found no baseline CPU: %s" % _message(exc), reason=_message(exc))
    if not supported:
        raise VmfleetError("libvirt at %s cannot compute a baseline CPU" % _uri(conn), reason="no support")
    return result


def _detached(element):
    """A copy of ``element`` without the text that follows it in its document."""
    element = copy.deepcopy(element)
    element.tail = None
    return element


def _first_supported(libvirt, conn, *calls):
    """``(True, result)`` of the first ``(method, args...)`` the binding and driver have, else ``(False, None)``.

    A method missing from the binding, or answered with VIR_ERR_NO_SUPPORT, passes to the next;
    other libvirt errors propagate.
    """
    for method, *args in calls:
        if not hasattr(conn, method):
            continue  # compareHypervisorCPU and baselineHypervisorCPU came with libvirt 4.4
        try:
            return True, getattr(conn, method)(*args)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
                raise
    return False, None


def _host_style(query):
    """A guest ``<cpu>`` as the host CPU XML ``baselineCPU`` wants: arch, model, vendor, required features."""
    cpu = ET.fromstring(query.cpu_xml)
    if cpu.get("mode") is None:
        return query.cpu_xml  # already a host CPU
    host = ET.Element("cpu")
    if query.arch:
        ET.SubElement(host, "arch").text = query.arch
    for tag in ("model", "vendor"):
        if (cpu.findtext(tag) or "").strip():
            ET.SubElement(host, tag).text = cpu.findtext(tag).strip()
    for feature in cpu.findall("feature"):
        if feature.get("policy", "require") in ("require", "force"):
            ET.SubElement(host, "feature", {"name": feature.get("name")})
    return ET.tostring(host, encoding="unicode")


def _connection_failed(libvirt, exc):
    codes = set(getattr(libvirt, name) for name in _CONNECTION_CODES if hasattr(libvirt, name))
    domains = set(getattr(libvirt, name) for name in _CONNECTION_DOMAINS if hasattr(libvirt, name))
    return exc.get_error_code() in codes or exc.get_error_domain() in domains


def _message(exc):
    return ((exc.get_error_message() if hasattr(exc, "get_error_message") else None) or str(exc)).rstrip(".")


def _uri(conn):
    try:
        return conn.getURI()
    except Exception:  # pylint: disable=broad-except
        return None  # a broken connection may not even say where it went
