# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The libvirt networks and host bridges a guest's interfaces name, checked on its host before the guest is defined.

libvirt defines a guest on a network that does not exist without a word; the
guest then can never start there ("Network not found" at every start). So a
build asks the host's daemon first and refuses, naming the host, the network
and the networks it has. A bridge is looked for among the host's interfaces
(libvirt's interface driver); a daemon without that driver cannot tell, and
the bridge is then left to the guest's start.
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client


def check_networks(conn, names, host, *, must_be_active):
    """Each libvirt network of ``names`` exists on ``conn`` (the daemon of ``host``), and runs when
    ``must_be_active`` (the guest is about to start); VmfleetError naming the first that does not."""
    for name in names:
        network = _lookup(conn, name, host)
        if network is None:
            there = network_names(conn)
            raise VmfleetError("network %r does not exist on host %s (networks there: %s): define it there, or name "
                               "one of those; nothing was created" % (name, host, ", ".join(there) or "none"),
                               network=name, host=host, networks=there)
        if must_be_active and not network.isActive():
            raise VmfleetError("network %r on host %s is defined but not active, so the guest cannot start: start it "
                               "(virsh net-start %s) and set it to autostart; nothing was created" % (name, host, name),
                               network=name, host=host)


def check_interfaces(conn, interfaces, host, *, must_be_active):
    """What ``interfaces`` (an instance's, ``{type, source}``) name exists on ``host``: its libvirt networks
    (running when ``must_be_active``) and its bridges; VmfleetError naming the first that does not."""
    check_networks(conn, [i["source"] for i in interfaces if i["type"] == states.INTERFACE_NETWORK], host,
                   must_be_active=must_be_active)
    check_bridges(conn, [i["source"] for i in interfaces if i["type"] == states.INTERFACE_BRIDGE], host)


def check_bridges(conn, names, host):
    """Each host bridge of ``names`` is an interface of ``host`` (when its daemon can list interfaces)."""
    libvirt = libvirt_client.libvirt
    for name in names:
        try:
            conn.interfaceLookupByName(name)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_INTERFACE:
                raise VmfleetError("bridge %r does not exist on host %s: create it there, or name a bridge or a libvirt "
                                   "network it has; nothing was created" % (name, host), bridge=name, host=host)
            # no interface driver (a modular daemon without virtinterfaced): this host cannot say


def host_networks(conn):
    """The libvirt networks of ``conn`` for the host facts: ``[{name, active, bridge}]`` sorted by name (the
    bridge a network's guests are plugged into, when it has one)."""
    networks = []
    for network in conn.listAllNetworks(0):
        try:
            bridge = network.bridgeName()
        except libvirt_client.libvirt.libvirtError:
            bridge = None  # a network without a bridge of its own (macvtap, hostdev, an open vSwitch one)
        networks.append({"name": network.name(), "active": bool(network.isActive()), "bridge": bridge or None})
    return sorted(networks, key=lambda n: n["name"])


def host_interface_names(conn):
    """The names of the host's network interfaces (bridges among them), sorted; None when its daemon has no
    interface driver (a modular daemon without virtinterfaced) and so cannot tell."""
    libvirt = libvirt_client.libvirt
    try:
        return sorted(interface.name() for interface in conn.listAllInterfaces(0))
    except libvirt.libvirtError:
        return None


def network_names(conn):
    """The names of the networks defined on ``conn``, active or not, sorted."""
    try:
        return sorted(conn.listNetworks() + conn.listDefinedNetworks())
    except libvirt_client.libvirt.libvirtError:
        return []


def _lookup(conn, name, host):
    libvirt = libvirt_client.libvirt
    try:
        return libvirt_client.or_none(conn.networkLookupByName, libvirt.VIR_ERR_NO_NETWORK, name)
    except libvirt.libvirtError as exc:
        raise VmfleetError("looking up network %r on host %s failed: %s" % (name, host, exc.get_error_message()),
                           network=name, host=host)
