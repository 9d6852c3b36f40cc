# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Server groups are a fleet concept: who belongs to a group is read from the fleet, not from a request.

A group's members on a host are:

- the host's guests whose collection metadata names the group
  (``request.hints.group.name``), and the guests of claims still in flight
  there (their pending domain carries the same metadata);
- the requests of the current batch placed there so far (``HostState.consume``
  records them as the host's guests do);
- the guests a request names in ``hints.group.members`` (resolved to the hosts
  that run them).

The request itself never counts: a guest that is drained or live-migrated
away from its host is not a member there for its own move, or it would refuse
(anti-affinity) or attract (affinity) itself.

Filters, weighers and the claim all read one ``GroupMembers`` per request, so
they agree; a claim re-checks it on the host's current guests and claims, under
the store's lock, which is what keeps two concurrent moves of one anti-affinity
group off one host (the race of Nova's bug 1821755).
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError


def group_of(guest):
    """The server group name a guest's metadata names, or None (no metadata, no group)."""
    metadata = guest.get("metadata")
    request = metadata.get("request") if isinstance(metadata, dict) else None
    hints = request.get("hints") if isinstance(request, dict) else None
    group = hints.get("group") if isinstance(hints, dict) else None
    name = group.get("name") if isinstance(group, dict) else None
    return name or None


def members_by_group(guests):
    """``{group name: set of guest names}`` of a host's guests (facts' ``guests``)."""
    found = {}
    for guest in guests or ():
        name = group_of(guest)
        if name and guest.get("name"):
            found.setdefault(name, set()).add(guest["name"])
    return found


class GroupMembers(object):
    """One request's view of its group: the members other than the request, by host."""

    __slots__ = ("name", "policy", "by_host")

    def __init__(self, name, policy, by_host):
        self.name = name
        self.policy = policy
        self.by_host = by_host      # {host name: sorted tuple of member names}, hosts without members absent

    def on(self, host_name):
        return self.by_host.get(host_name, ())


def members_of(spec):
    """The ``GroupMembers`` the scheduler worked out for ``spec``. A filter or weigher asked about a
    grouped request before that is a programming error, not a host that passes."""
    found = spec.group_members
    if found is None:
        raise VmfleetError("request %s: the members of server group %s were not worked out from the fleet "
                           "(GroupIndex.members_for) before filtering" % (spec.name, spec.group["name"]),
                           request=spec.name)
    return found


class GroupIndex(object):
    """Which hosts hold members of each group, and which hosts run each guest, over the hosts of one
    scheduler run; built on first use (one pass over the hosts for a whole batch) and kept up to date
    as the batch places requests."""

    def __init__(self, hosts):
        self.hosts = dict((h.name, h) for h in hosts)
        self._group_hosts = None    # group name -> names of the hosts with members
        self._guest_hosts = None    # guest name -> names of the hosts running it

    def _build(self):
        self._group_hosts, self._guest_hosts = {}, {}
        for host in self.hosts.values():
            for group in host.group_members:
                self._group_hosts.setdefault(group, set()).add(host.name)
            for guest in host.instances:
                self._guest_hosts.setdefault(guest, set()).add(host.name)

    def members_for(self, spec):
        """The ``GroupMembers`` of ``spec``'s group, the request itself left out."""
        if self._group_hosts is None:
            self._build()
        group, me = spec.group["name"], spec.name
        by_host = {}
        for host_name in self._group_hosts.get(group, ()):
            names = self.hosts[host_name].group_members.get(group, set()) - {me}
            if names:
                by_host[host_name] = names
        for member in spec.group["members"]:
            if member == me:
                continue
            for host_name in self._guest_hosts.get(member, ()):
                by_host.setdefault(host_name, set()).add(member)
        return GroupMembers(group, spec.group["policy"],
                            dict((host, tuple(sorted(names))) for host, names in by_host.items()))

    def placed(self, spec, host_name):
        """Record that the batch placed ``spec`` on ``host_name`` (the host has consumed it)."""
        if self._group_hosts is None:
            return      # not built yet: the build will read the host as it is now
        if spec.group:
            self._group_hosts.setdefault(spec.group["name"], set()).add(host_name)
        self._guest_hosts.setdefault(spec.name, set()).add(host_name)
