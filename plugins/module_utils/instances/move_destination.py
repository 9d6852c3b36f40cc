# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a moved instance goes: resize, cold migration and live migration all
rebuild the instance from its metadata, refuse guests with host devices, and
ask the scheduler for a destination in the source's availability zone (a
destination the user names is checked by the scheduler too, as Nova does
since 2.30 unless forced)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.model import Instance
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.domain_xml import parse_interface
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.networks import check_interfaces
from ansible_collections.vmfleet.compute.plugins.module_utils.planning.admission import schedule_admitted


def interfaces_of(xml_text):
    """The interfaces of a domain XML, in the shape instance_request gives (MACs kept); a running guest's
    interface on a network is the network's (domain_xml.parse_interface)."""
    interfaces = []
    for element in ET.fromstring(xml_text).findall("devices/interface"):
        interface = parse_interface(element)
        if interface["type"] not in states.INTERFACE_TYPES or not interface["source"]:
            raise VmfleetError("interface of type %s cannot be re-created on another host" % interface["type"])
        interfaces.append(dict(interface, model=interface["model"] or "virtio"))
    return interfaces


def instance_from(located, flavor, scheduler_config):
    """The Instance the guest at ``located`` (an InstanceLocation) is, with ``flavor``: what its metadata
    recorded at build time (image, hints), its interfaces and its UUID."""
    meta = located.metadata
    image = dict(meta["image"], source=None)
    hints = dict((meta.get("request") or {}).get("hints") or {})
    instance = Instance(located.guest["name"], flavor, image, interfaces_of(located.xml), hints, scheduler_config)
    instance.fixed_uuid = located.guest["uuid"]
    return instance


def check_host_devices(located, fleet):
    """Refuse to move a guest with host devices: no destination can be checked to offer them."""
    devices = located.guest.get("host_devices") or []
    if devices:
        addresses = ", ".join(d.get("address") or d.get("type") or "?" for d in devices)
        others = ", ".join(h for h in fleet.names() if h != located.host) or "no other host"
        raise VmfleetError("%s has host devices (%s): none of %s can be checked to offer the same devices, so it "
                           "cannot be moved; detach them first" % (located.guest["name"], addresses, others),
                           instance=located.guest["name"], host=located.host)


def references_missing(conn, instance, host, *, must_be_active):
    """Why ``host`` (its daemon ``conn``) cannot take ``instance``'s interfaces: a libvirt network it does not
    define (or does not run, when the guest is to run there: ``must_be_active``), a bridge it does not have;
    None when it has them all. The scheduler's NetworkFilter knows the hosts' networks from their facts, which
    may be old, and not whether they must run: a move checks its destination before anything is claimed or
    copied, as a build checks its host, and is then planned elsewhere."""
    try:
        check_interfaces(conn, instance.networks, host, must_be_active=must_be_active)
    except VmfleetError as exc:
        return exc.message
    return None


def no_host_left(error, attempts, what, **details):
    """``error`` (the scheduler found no destination) as an error saying ``what`` failed, with ``details``
    (where the guest is); after ``attempts``, each host tried with its reason, then the scheduler's answer."""
    tried = "".join("%s: %s; " % (attempt["host"], attempt["result"]) for attempt in attempts)
    return VmfleetError("%s: %s%s%s" % (what, tried, "no other host: " if attempts else "", error.message),
                        **dict(error.details, attempts=list(attempts), **details))


# --- resize ---------------------------------------------------------------------------------

def plan_destination(fleet, located, instance, allow_same_host, destination, excluded, seed=None,
                     same_host_option="allow_resize_to_same_host", destination_field="host"):
    """The scheduler's placement for ``instance`` (its flavor may be new) away from its current host
    (unless ``allow_same_host``), in the source's availability zone; a named ``destination`` is still
    checked by the scheduler. ``same_host_option``: the option that would allow the source (None: nothing
    does); ``destination_field``: the option naming the destination, for errors."""
    not_allowed = "%s is false" % same_host_option if same_host_option else "a guest cannot move to its own host"
    source = fleet.host(located.host)
    zone = source.config.get("availability_zone") or "default"
    asked = instance.request["hints"].get("availability_zone")
    if asked and asked != zone:
        raise InvalidInput("hints.availability_zone", asked, "the source's availability zone %s" % zone,
                           reason="a move never takes an instance to another availability zone")
    instance.request["hints"]["availability_zone"] = zone
    excluded = list(excluded)
    if not allow_same_host and located.host not in excluded:
        excluded.append(located.host)
    spec = instance.spec(excluded)
    if destination:
        fleet.host(destination, destination_field)
        if destination == located.host and not allow_same_host:
            raise InvalidInput(destination_field, destination, "another host than the source %s" % located.host,
                               reason=not_allowed)
        spec.force_host = destination
        spec.retry_exclude = tuple(h for h in spec.retry_exclude if h != destination)
    facts = fleet.facts_list()
    outcome = schedule_admitted(facts, [spec], instance.scheduler_config, seed).outcomes[0]
    if outcome.placement is None:
        raise VmfleetError(outcome.error + (" (the source %s is excluded: %s)" % (located.host, not_allowed)
                                            if located.host in excluded else ""),
                           instance=instance.name, rejections=[v.to_dict() for v in outcome.rejections])
    return outcome.placement.to_dict()
