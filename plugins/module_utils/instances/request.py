# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a user asks for an instance (flavor, image, networks, hints), checked
and put in the shapes the rest of the collection reads: the scheduler's
request and the guest's metadata.

Flavor keys are Nova's (``vcpus``, ``memory_mb``, ``root_gb``, ``ephemeral_gb``,
``swap`` in MB, ``extra_specs``), because the resource tracker counts a guest
from its metadata with those names (docs/host-facts.md).
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, whole_number
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.mac_address import deterministic_mac, normalize_mac
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import (
    flavor_disk_gb, placement_networks)

FLAVOR_NUMBERS = (("vcpus", 1), ("memory_mb", 1), ("root_gb", 0), ("ephemeral_gb", 0), ("swap", 0))
INTERFACE_MODELS = ("virtio", "e1000", "e1000e", "rtl8139")


def normalize_flavor(flavor, field="flavor"):
    """``{name, vcpus, memory_mb, root_gb, ephemeral_gb, swap, extra_specs}`` with
    Nova's defaults (disks 0); InvalidInput naming the key otherwise."""
    if not isinstance(flavor, dict):
        raise InvalidInput(field, flavor, "a dict with name, vcpus, memory_mb, root_gb (Nova's flavor keys)")
    unknown = sorted(set(flavor) - {"name", "extra_specs"} - set(key for key, _minimum in FLAVOR_NUMBERS))
    if unknown:
        raise InvalidInput("%s.%s" % (field, unknown[0]), flavor[unknown[0]],
                           "name, vcpus, memory_mb, root_gb, ephemeral_gb, swap, extra_specs")
    name = flavor.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("%s.name" % field, name, "a non-empty flavor name (resize compares flavors by it)")
    result = {"name": name}
    for key, minimum in FLAVOR_NUMBERS:
        value = flavor.get(key)
        if value is None and key in ("vcpus", "memory_mb"):
            raise InvalidInput("%s.%s" % (field, key), value, "a whole number of %d or more" % minimum)
        result[key] = whole_number("%s.%s" % (field, key), 0 if value is None else value, minimum)
    specs = flavor.get("extra_specs") or {}
    if not isinstance(specs, dict):
        raise InvalidInput("%s.extra_specs" % field, specs, "a dict such as {'hw:cpu_policy': 'dedicated'}")
    result["extra_specs"] = dict((str(k), _spec_text(v)) for k, v in specs.items() if v is not None)
    return result


def _spec_text(value):
    # Nova's extra specs are strings; YAML gives booleans and numbers.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def disk_gb(flavor):
    """What the scheduler and the tracker count: root + ephemeral + swap (rounded up to GiB)."""
    return flavor_disk_gb(flavor)


def flavor_option(*, required=False, name_required=True, disk_gb_alias=False):
    """The ``flavor`` option of a module that takes one (instance, schedule): Nova's keys, declared once.
    ``disk_gb_alias``: schedule's former name of ``root_gb``, still taken with a deprecation warning."""
    root_gb = dict(type="int", default=0)
    if disk_gb_alias:
        root_gb.update(aliases=["disk_gb"], deprecated_aliases=[
            dict(name="disk_gb", version="1.0.0", collection_name="vmfleet.compute")])
    return dict(type="dict", required=required, options=dict(
        name=dict(type="str", required=name_required),
        vcpus=dict(type="int", required=True),
        memory_mb=dict(type="int", required=True),
        root_gb=root_gb,
        ephemeral_gb=dict(type="int", default=0),
        swap=dict(type="int", default=0),
        extra_specs=dict(type="dict", default={}),
    ))


def normalize_image(image):
    """``{name, source, properties}``: ``name`` is the base image's volume name in
    the host's pool (cached there once, like Nova's ``_base``); ``source`` a
    file on the machine running the module to upload when no host has it."""
    if isinstance(image, str):
        image = {"name": image}
    if not isinstance(image, dict) or not isinstance(image.get("name"), str) or not image["name"].strip():
        raise InvalidInput("image.name", image.get("name") if isinstance(image, dict) else image,
                           "the base image's volume name in the host's pool, such as cirros-0.6.qcow2")
    unknown = sorted(set(image) - {"name", "source", "properties"})
    if unknown:
        raise InvalidInput("image.%s" % unknown[0], image[unknown[0]], "name, source, properties")
    if "/" in image["name"]:
        raise InvalidInput("image.name", image["name"], "a volume name without '/' (give the file as image.source)")
    props = image.get("properties") or {}
    if not isinstance(props, dict):
        raise InvalidInput("image.properties", props, "a dict of hw_* image properties")
    return {"name": image["name"], "source": image.get("source"),
            "properties": dict((str(k), _spec_text(v)) for k, v in props.items() if v is not None)}


def normalize_networks(networks, instance_name):
    """Interfaces ``[{type, source, mac, model}]``; a MAC is derived from the
    instance name and position when none is given, so a re-run renders the same XML."""
    interfaces = []
    for index, item in enumerate(networks or ()):
        field = "networks[%d]" % index
        if isinstance(item, str):
            item = {"network": item}
        if not isinstance(item, dict):
            raise InvalidInput(field, item, "a dict with network (a libvirt network) or bridge (a host bridge)")
        unknown = sorted(set(item) - {"network", "bridge", "mac", "model"})
        if unknown:
            raise InvalidInput("%s.%s" % (field, unknown[0]), item[unknown[0]], "network, bridge, mac, model")
        kinds = [kind for kind in states.INTERFACE_TYPES if item.get(kind)]
        if len(kinds) != 1:
            raise InvalidInput(field, item, "exactly one of network or bridge")
        model = item.get("model") or "virtio"
        if model not in INTERFACE_MODELS:
            raise InvalidInput("%s.model" % field, model, ", ".join(INTERFACE_MODELS))
        mac = (normalize_mac(item["mac"], "%s.mac" % field) if item.get("mac")
               else deterministic_mac(instance_name, index))
        interfaces.append({"type": kinds[0], "source": item[kinds[0]], "mac": mac, "model": model})
    macs = [i["mac"] for i in interfaces]
    duplicates = sorted(set(m for m in macs if macs.count(m) > 1))
    if duplicates:
        raise InvalidInput("networks[].mac", duplicates[0], "a distinct MAC per interface")
    return interfaces


def scheduler_request(name, flavor, image, hints=None, interfaces=()):
    """The request dict ``scheduler.request_spec.build_request_spec`` reads; ``interfaces`` as
    normalize_networks gives them (the hosts must have their networks and bridges)."""
    return {
        "name": name,
        "flavor": {"name": flavor["name"], "vcpus": flavor["vcpus"], "memory_mb": flavor["memory_mb"],
                   "disk_gb": disk_gb(flavor), "extra_specs": flavor["extra_specs"]},
        "image": {"properties": image["properties"]},
        "networks": placement_networks(interfaces),
        "hints": dict(hints or {}),
    }


def instance_metadata(flavor, image, request, placement, cpu_policy, vm_state, task=None, extra=None):
    """The ``<vmfleet:instance>`` metadata: everything later operations read
    about what the guest asked for (no external database)."""
    data = {
        "flavor": flavor,
        "image": {"name": image["name"], "properties": image["properties"]},
        "request": {"name": request["name"], "hints": request["hints"], "cpu_policy": cpu_policy,
                    "availability_zone": (request["hints"] or {}).get("availability_zone")},
        "placement": placement,
        "state": {"vm_state": vm_state, "task": task},
    }
    data.update(extra or {})
    return data
