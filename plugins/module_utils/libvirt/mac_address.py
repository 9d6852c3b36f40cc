# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MAC addresses of guest interfaces: a stable one per (instance, interface
index), and addresses given by the user checked and written one way
(``52:54:00:ab:cd:ef``, lower case).

Needs the ``netaddr`` library; importing this module does not, calling it does.
"""

from __future__ import annotations

import hashlib
import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError

try:
    import netaddr
except ImportError:
    HAS_NETADDR = False
    NETADDR_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_NETADDR = True
    NETADDR_IMPORT_ERROR = None

# QEMU's OUI: its first octet has the locally administered bit set and the
# multicast bit clear; libvirt and QEMU give guests addresses under it.
QEMU_PREFIX = 0x525400
ALLOWED = "a MAC address such as 52:54:00:12:34:56"


def deterministic_mac(instance_name, index):
    """``52:54:00:xx:xx:xx`` for interface ``index`` of ``instance_name``: the
    same every time, so re-rendering a guest keeps its addresses.

    Only 24 bits come from the name: addresses of different guests may collide
    (by the birthday bound, even odds near 4,800 interfaces on one network).
    """
    _require_netaddr()
    digest = hashlib.sha256(("%s/%d" % (instance_name, index)).encode("utf-8")).digest()
    value = (QEMU_PREFIX << 24) | int.from_bytes(digest[:3], "big")
    return str(netaddr.EUI(value, version=48, dialect=netaddr.mac_unix_expanded))


def normalize_mac(value, field):
    """``value`` (any notation netaddr reads: ``52-54-00-AB-CD-EF``,
    ``5254.00ab.cdef``...) as ``52:54:00:ab:cd:ef``; InvalidInput naming
    ``field`` when it is not a MAC address or is a multicast one."""
    _require_netaddr()
    if not isinstance(value, str):  # netaddr would take an int as the address's value
        raise InvalidInput(field, value, ALLOWED)
    try:
        mac = netaddr.EUI(value.strip(), version=48, dialect=netaddr.mac_unix_expanded)
    except (netaddr.AddrFormatError, TypeError, ValueError):
        raise InvalidInput(field, value, ALLOWED)
    if mac.words[0] & 1:
        raise InvalidInput(field, value, ALLOWED, reason="a multicast address cannot be an interface's own")
    return str(mac)


def _require_netaddr():
    if not HAS_NETADDR:
        raise VmfleetError(missing_required_lib("netaddr"), library="netaddr", exception=NETADDR_IMPORT_ERROR)
