# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An instance: what the user asks for (flavor, image, networks, hints), its domain XML once placed,
and what a module says about an existing one.

The request is validated when the Instance is made, before any host is
touched; the domain XML carries the request, flavor and placement in its
metadata, so libvirt stays the only record of what an instance is.
"""

from __future__ import annotations

import copy
import uuid

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.request import instance_metadata, scheduler_request
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.domain_template import render_domain
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import build_config
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import build_request_spec

# Fixed namespace: an instance's UUID follows from its name, so a plan (check
# mode) shows the same XML the run defines.
_UUID_NAMESPACE = uuid.UUID("8f0f3e3a-6c1e-5d55-9a51-7c0d7f6b0e11")


class Instance(object):
    """One instance as the user asks for it (normalized by instance_request)."""

    def __init__(self, name, flavor, image, networks=(), hints=None, scheduler_config=None):
        self.name = name
        self.flavor = flavor
        self.image = image
        self.networks = list(networks)
        self.request = scheduler_request(name, flavor, image, hints, self.networks)
        self.scheduler_config = build_config(scheduler_config)
        # validates the request before any host is touched; the metadata records the policy
        self.cpu_policy = self.spec().cpu_policy or "shared"
        self.fixed_uuid = None  # an existing guest's UUID (resize keeps it)

    @property
    def uuid(self):
        return self.fixed_uuid or str(uuid.uuid5(_UUID_NAMESPACE, self.name))

    def spec(self, retry_exclude=()):
        """A fresh RequestSpec (the scheduler and claims write into it)."""
        request = copy.deepcopy(self.request)
        if retry_exclude:
            request["hints"]["retry_exclude"] = list(retry_exclude)
        return build_request_spec(request, self.scheduler_config.pci_aliases)


def domain_xml(instance, facts, placement, disks, vm_state, task=None, extra_metadata=None):
    """The domain XML of ``instance`` placed by ``placement`` on the host of ``facts``."""
    metadata = instance_metadata(instance.flavor, instance.image, instance.request, placement, instance.cpu_policy,
                                 vm_state, task, extra_metadata)
    virt_type = facts.get("virt_type") or "kvm"
    config = facts.get("config") or {}
    # Nova's default cpu_mode: host-model under KVM, none under TCG
    cpu_mode = config.get("cpu_mode") or ("host-model" if virt_type == "kvm" else "none")
    return render_domain({
        "name": instance.name,
        "uuid": instance.uuid,
        "virt_type": virt_type,
        "arch": (facts.get("cpu") or {}).get("arch") or "x86_64",
        "machine_type": instance.image["properties"].get("hw_machine_type") or "pc",
        "vcpus": instance.flavor["vcpus"],
        "memory_mb": instance.flavor["memory_mb"],
        "cpu_mode": None if cpu_mode == "none" else cpu_mode,
        "cpu_model": (config.get("cpu_models") or [None])[0] if cpu_mode == "custom" else None,
        "placement": placement,
        "disks": [{"target": d["target"], "path": d["path"], "format": d["format"]} for d in disks],
        "interfaces": instance.networks,
        "metadata": metadata,
    })


def describe(host_name, domain, guest):
    """What a module returns about one defined guest (``guest``: its parsed XML)."""
    metadata = guest.get("metadata") or {}
    return {
        "name": guest["name"],
        "uuid": guest["uuid"],
        "host": host_name,
        "power_state": "running" if domain.isActive() else "shutoff",
        "managed": bool(metadata),
        "flavor": metadata.get("flavor"),
        "vm_state": (metadata.get("state") or {}).get("vm_state"),
        "task": (metadata.get("state") or {}).get("task"),
        "placement": metadata.get("placement"),
        "vcpupin": guest["vcpupin"],
        "disks": [{"target": d["target"], "source": d["source"]} for d in guest["disks"]],
    }


def check_matches(instance, location):
    """An existing guest must be the same instance: managed, same flavor and image."""
    metadata, host_name = location.metadata, location.host
    if not metadata:
        raise VmfleetError("a guest named %s exists on %s but was not created by this collection (no vmfleet "
                           "metadata): choose another name, or remove it" % (instance.name, host_name),
                           host=host_name, instance=instance.name)
    flavor = metadata.get("flavor")
    if flavor != instance.flavor:
        raise VmfleetError("instance %s exists on %s with flavor %s, not the requested %s: change a flavor with "
                           "vmfleet.compute.resize" % (instance.name, host_name, (flavor or {}).get("name"),
                                                       instance.flavor["name"]),
                           host=host_name, instance=instance.name, flavor=flavor)
    if (metadata.get("image") or {}).get("name") != instance.image["name"]:
        raise VmfleetError("instance %s exists on %s with image %s, not %s: rebuilding is not supported"
                           % (instance.name, host_name, (metadata.get("image") or {}).get("name"),
                              instance.image["name"]), host=host_name, instance=instance.name)
