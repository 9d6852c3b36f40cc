# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start and stop a libvirt guest the way Nova's power operations do.

Stopping asks the guest OS first (ACPI shutdown) and waits up to
``shutdown_timeout`` seconds (Nova's ``shutdown_timeout``, 60); a guest that
does not stop by then is powered off (destroyed), as Nova does. A timeout of
0 powers off at once.
"""

from __future__ import annotations

import time

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client

DEFAULT_SHUTDOWN_TIMEOUT = 60
_POLL = 0.5


def find(conn, name=None, uuid=None):
    """The guest defined on ``conn`` with this ``uuid`` (else ``name``), or None when there is none.
    Other libvirt errors are raised as they are (the caller says which host)."""
    lookup = conn.lookupByUUIDString if uuid else conn.lookupByName
    return libvirt_client.or_none(lookup, libvirt_client.libvirt.VIR_ERR_NO_DOMAIN, uuid or name)


def state_name(domain):
    """libvirt's state of ``domain`` as a name of states.GUEST_STATES."""
    return states.guest_state_name(domain.state()[0])


def is_active(domain):
    return bool(domain.isActive())


def start(domain, host):
    """Start ``domain`` when it is not running; True when it was started."""
    libvirt = libvirt_client.libvirt
    if is_active(domain):
        return False
    try:
        domain.create()
    except libvirt.libvirtError as exc:
        raise VmfleetError("cannot start %s on %s: %s" % (domain.name(), host, exc), host=host,
                           instance=domain.name())
    return True


def stop(domain, host, shutdown_timeout=DEFAULT_SHUTDOWN_TIMEOUT):
    """Stop ``domain``: clean shutdown, then power off after ``shutdown_timeout``.

    Returns None when it was not running, else ``"shutdown"`` or ``"destroyed"``.
    """
    libvirt = libvirt_client.libvirt
    if not is_active(domain):
        return None
    try:
        if shutdown_timeout > 0:
            domain.shutdown()
            deadline = time.monotonic() + shutdown_timeout
            while time.monotonic() < deadline:
                if not is_active(domain):
                    return "shutdown"
                time.sleep(_POLL)
        if is_active(domain):
            domain.destroy()
    except libvirt.libvirtError as exc:
        if not is_active(domain):
            return "shutdown"  # it stopped between our question and our order
        raise VmfleetError("cannot stop %s on %s: %s" % (domain.name(), host, exc), host=host,
                           instance=domain.name())
    return "destroyed"


def undefine(domain):
    """Power the guest off (it is going away) and remove its definition."""
    if domain.isActive():
        domain.destroy()
    domain.undefine()
