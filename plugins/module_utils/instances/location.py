# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where an instance is defined across the fleet, read once.

While a resize waits for confirm or revert an instance is defined on two
hosts (same name, same UUID): the resized copy, whose metadata holds the
pending ``resize``, is the instance; the source copy is only kept for a
revert. Every operation (instance, resize, confirm, revert) asks this one
place which copy is which.
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.domain_xml import parse_domain


class InstanceLocation(object):
    """The copies of instance ``name`` (host, domain, XML, parsed guest) and which one holds it now."""

    def __init__(self, fleet, name, hosts=None):
        """``hosts``: look only there (a drain knows its guests are on the drained host, and must not need
        every other host to answer)."""
        self.name = name
        self.copies = []
        for host, domain in fleet.find_domains(name, hosts):
            xml = domain.XMLDesc(0)
            self.copies.append((host, domain, xml, parse_domain(xml)))
        pending = [c for c in self.copies if (c[3].get("metadata") or {}).get("resize")]
        current = pending[0] if pending else (self.copies[0] if self.copies else (None, None, "", None))
        self.host, self.domain, self.xml, self.guest = current
        self.metadata = (self.guest or {}).get("metadata") or {}
        self.pending = self.metadata.get("resize") if pending else None

    def __bool__(self):
        return bool(self.copies)

    def require_managed(self, fleet):
        """This location, when it is one instance the collection manages; VmfleetError otherwise."""
        if not self.copies:
            raise VmfleetError("instance %s is defined on none of the given hosts (%s)"
                               % (self.name, ", ".join(fleet.names())), instance=self.name)
        if not self.metadata:
            raise VmfleetError("%s on %s was not created by this collection (no vmfleet metadata): it cannot be "
                               "resized or migrated by it" % (self.name, self.host), instance=self.name,
                               host=self.host)
        if not self.pending and len(self.copies) > 1:
            raise VmfleetError("%s is defined on several hosts (%s) and no resize is pending: remove the stale copy"
                               % (self.name, ", ".join(c[0] for c in self.copies)), instance=self.name)
        return self

    def source_copy(self):
        """The source's (host, domain) of a pending cross-host resize, or None."""
        if not self.pending or self.pending["same_host"]:
            return None
        for host, domain, _xml, _guest in self.copies:
            if host == self.pending["source_host"]:
                return host, domain
        return None
