# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: instance_request
short_description: Turn an instance definition into a scheduler request
version_added: 0.1.0
description:
  - Takes an instance as M(vmfleet.compute.instance) takes it (C(name), C(flavor) with C(root_gb),
    C(ephemeral_gb), C(swap), C(image), C(hints)) and returns the request M(vmfleet.compute.schedule) takes, with
    the disk counted as the instance module counts it (root + ephemeral + swap rounded up to GiB).
  - So a batch is scheduled at once (group affinity sees the whole batch) and each instance built with its
    placement.
options:
  _input:
    description: The instance definition.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Schedule a batch of instances
  vmfleet.compute.schedule:
    hosts: "{{ fleet_facts }}"
    requests: "{{ my_instances | map('vmfleet.compute.instance_request') | list }}"
"""

RETURN = r"""
_value:
  description: "The request: C(name), C(flavor) (C(name), C(vcpus), C(memory_mb), C(root_gb), C(ephemeral_gb),
    C(swap), C(extra_specs)),
    C(image) and C(hints)."
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.instances.request import (
    normalize_flavor, normalize_image, scheduler_request)


def instance_request(instance):
    if not isinstance(instance, dict) or not instance.get("name"):
        raise AnsibleFilterError("instance_request expects an instance definition with a name, got %r" % (instance,))
    try:
        image = normalize_image(instance.get("image") or {"name": "-"})
        flavor = normalize_flavor(instance.get("flavor"))
        request = scheduler_request(instance["name"], flavor, image, instance.get("hints"))
        # the flavor in the shape schedule takes (Nova's keys), not the scheduler's summed disk_gb,
        # which schedule keeps only as a deprecated alias of root_gb
        del request["flavor"]["disk_gb"]
        request["flavor"].update((key, flavor[key]) for key in ("root_gb", "ephemeral_gb", "swap"))
        return request
    except VmfleetError as error:
        raise AnsibleFilterError("instance_request(%s): %s" % (instance["name"], error.message))


class FilterModule(object):
    def filters(self):
        return {"instance_request": instance_request}
