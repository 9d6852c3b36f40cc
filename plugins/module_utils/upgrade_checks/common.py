# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Results, rows and small helpers shared by the checks."""

from __future__ import annotations

import re

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import build_config
from ansible_collections.vmfleet.compute.plugins.module_utils.units import GIB

SUCCESS, WARNING, FAILURE, ERROR = "Success", "Warning", "Failure", "Error"
RESULTS = (SUCCESS, WARNING, FAILURE, ERROR)
# nova-status upgrade check exit codes
RC = {SUCCESS: 0, WARNING: 1, FAILURE: 2, ERROR: 255}

DEFAULT_OPTIONS = {
    "target_libvirt_version": None,
    "target_qemu_version": None,
    "target_machine_types": None,
    "storage_min_free_gb": 1.0,
    "storage_warn_free_percent": 10.0,
    "max_cpu_allocation_ratio": 16.0,
    "scheduler_config": None,
    # cpu_compatibility asks each host's libvirt (through the uri of its facts); the module turns it on
    "libvirt_compare": False,
}

_VERSION_RE = re.compile(r"^\d+(\.\d+){0,3}$")


def row(check, host, result, details):
    return {"check": check, "host": host, "result": result, "details": details}


def host_rows(check, hosts, per_host):
    """One row per host: ``per_host(host) -> (result, details)``."""
    return [row(check, host["name"], *per_host(host)) for host in hosts]


def version_tuple(text, field="version"):
    """``"9.0.0"`` -> ``(9, 0, 0)``; raises InvalidInput for anything else."""
    value = str(text or "").strip()
    if not _VERSION_RE.match(value):
        raise InvalidInput(field, text, "a version such as 9.0.0 or 8.2")
    parts = [int(p) for p in value.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def build_options(raw):
    """Validate the checks' options; unknown keys are refused, None means the default."""
    raw = dict(raw or {})
    unknown = sorted(set(raw) - set(DEFAULT_OPTIONS))
    if unknown:
        raise InvalidInput(unknown[0], raw[unknown[0]], "one of " + ", ".join(sorted(DEFAULT_OPTIONS)))
    options = dict(DEFAULT_OPTIONS)
    options.update((k, v) for k, v in raw.items() if v is not None)
    for field in ("target_libvirt_version", "target_qemu_version"):
        if options[field] is not None:
            version_tuple(options[field], field)
    for field in ("storage_min_free_gb", "storage_warn_free_percent", "max_cpu_allocation_ratio"):
        try:
            options[field] = float(options[field])
        except (TypeError, ValueError):
            raise InvalidInput(field, options[field], "a number of 0 or more")
        if options[field] < 0 or isinstance(raw.get(field), bool):
            raise InvalidInput(field, raw.get(field), "a number of 0 or more")
    if options["storage_warn_free_percent"] > 100:
        raise InvalidInput("storage_warn_free_percent", options["storage_warn_free_percent"], "0 to 100")
    if not isinstance(options["libvirt_compare"], bool):
        raise InvalidInput("libvirt_compare", options["libvirt_compare"], "true or false")
    # n_plus_one plans with it for every host: a wrong one is refused before any check runs
    try:
        build_config(options["scheduler_config"])
    except InvalidInput as error:
        raise error.within("scheduler_config")
    machine_types = options["target_machine_types"]
    if machine_types is not None and (not isinstance(machine_types, (list, tuple))
                                      or not all(isinstance(m, str) and m for m in machine_types)):
        raise InvalidInput("target_machine_types", machine_types, "a list of machine type names such as pc-q35-8.2")
    return options


def names(items, limit=8):
    """``a, b, c`` (and ``+N more`` past ``limit``)."""
    items = list(items)
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (" (+%d more)" % (len(items) - limit) if len(items) > limit else "")


def gib(value_bytes):
    return "%.1f GiB" % (value_bytes / float(GIB))


def guests(host):
    return host.get("guests") or []


def state_metadata(guest):
    """The ``state`` part of the guest's vmfleet metadata (vm_state, task), or {}."""
    value = (guest.get("metadata") or {}).get("state")
    return value if isinstance(value, dict) else {}


def awaiting_resize_confirm(guest):
    meta = state_metadata(guest)
    return meta.get("vm_state") == states.VM_RESIZED
