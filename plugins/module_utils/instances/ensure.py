# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bring an instance to the state a user asks for: absent, present, running or stopped.

The instance module's whole decision, as a library call: find the instance on
the fleet, settle a resize whose confirm window has passed, then delete it,
check that an existing one is the one asked for and set its power, or build it.
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.instances import lifecycle
from ansible_collections.vmfleet.compute.plugins.module_utils.instances import resize as instance_resize
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.location import InstanceLocation
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.model import check_matches, describe
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.names import check_instance_name
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.domain_xml import parse_domain


def ensure_instance(fleet, name, *, state, instance=None, missing="flavor", placement=None, match_existing=True,
                    max_attempts=lifecycle.DEFAULT_MAX_ATTEMPTS, seed=None, shutdown_timeout=60, check_mode=False):
    """Bring instance ``name`` to ``state`` (states.INSTANCE_STATES) on ``fleet``.

    ``instance``: the requested Instance (flavor, image...), or None when the
    caller gave none (enough to delete, start or stop an existing one); then
    ``missing`` names the option that was not given, for the error when the
    instance must be built.
    Returns ``(result, before, after)``: the result dict (changed, instance,
    plan, actions, attempts) and the domain XML before and after, for a diff.
    """
    check_instance_name(name)
    result = dict(changed=False, instance=None, plan=None, actions=[], attempts=[])
    location = InstanceLocation(fleet, name)
    before = location.xml
    if state == states.INSTANCE_ABSENT:
        result["actions"] = lifecycle.remove(fleet, location, check_mode)
        result["changed"] = bool(location)
        return result, before, ""
    if location:
        result["warnings"] = check_asked_host(location, placement, instance, match_existing)
    if location and not check_mode:
        result["actions"] = instance_resize.confirm_if_due(fleet, location)
        if result["actions"]:
            result["changed"] = True
            location = InstanceLocation(fleet, name)
    if location:
        if len(location.copies) > 1 and not location.pending:
            # a stale copy (a failed host back after an evacuation): starting "the" instance could start it twice
            location.require_managed(fleet)
        if instance is not None and match_existing:
            check_matches(instance, location)
        action = lifecycle.set_power(location.host, location.domain, state, shutdown_timeout, check_mode)
        result["actions"] += [action] if action else []
        result["changed"] = result["changed"] or bool(action)
        result["instance"] = describe(location.host, location.domain, location.guest)
        return result, before, before
    if instance is None:
        raise InvalidInput(missing, None, "a flavor and an image to create instance %s (it exists on none of the "
                           "given hosts)" % name)
    built = lifecycle.create(fleet, instance, state == states.INSTANCE_RUNNING, placement=placement,
                             max_attempts=max_attempts, seed=seed, check_mode=check_mode)
    result.update(changed=True, actions=built.pop("actions"), attempts=built.pop("attempts"), plan=built)
    if not check_mode:
        domain = fleet.conn(built["host"]).lookupByName(name)
        result["instance"] = describe(built["host"], domain, parse_domain(domain.XMLDesc(0)))
    return result, before, built["domain_xml"]


def check_asked_host(location, placement, instance, match_existing):
    """An existing instance is not moved by this module: when the caller asked for another host (a placement, or
    ``hints.force_host``), refuse (``match_existing``: this very instance was asked for), else return the
    warnings that say where it stays. A placement of a batch plan (``match_existing=false``, the instances
    role: create what is missing) is no demand, so it alone warns of nothing."""
    asked = []
    if placement and isinstance(placement, dict) and placement.get("host"):
        asked.append(("placement.host", placement["host"]))
    force_host = instance.request["hints"].get("force_host") if instance is not None else None
    if force_host:
        asked.append(("hints.force_host", force_host))
    warnings = []
    for field, host in asked:
        if host == location.host:
            continue
        advice = ("instance %s exists on %s already and this module does not move it: move it with "
                  "vmfleet.compute.live_migrate (destination: %s) or vmfleet.compute.resize (host: %s)"
                  % (location.name, location.host, host, host))
        if match_existing:
            allowed = "%s, where instance %s is, or no placement" % (location.host, location.name)
            raise InvalidInput(field, host, allowed, reason="%s; nothing was changed" % advice)
        if field == "hints.force_host":
            warnings.append("%s=%s not honoured: %s" % (field, host, advice))
    return warnings
