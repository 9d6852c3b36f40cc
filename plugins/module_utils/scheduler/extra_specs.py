# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which flavor extra specs exist and what their values may be: the table Nova's
API validates flavors against (``nova/api/validation/extra_specs``), in one place.

Nova refuses a key in a namespace it owns (``hw:``, ``quota:``, ``resources:``,
``trait:``...) that it does not define, and a defined key whose value has the
wrong form; unscoped keys and keys in other namespaces pass (the aggregate
filter reads them). ``check_extra_specs`` does the same, and also refuses what
Nova would act on but this scheduler cannot: placement resources and traits
other than ``resources:VCPU``, ``resources:PCPU`` and
``trait:HW_CPU_HYPERTHREADING`` (there is no placement service here to hold
them), compute capabilities and accelerators. Refusing them by name is better
than ignoring them: a flavor that would be pinned by Nova must not float here.
What the supported keys mean is ``request_spec``'s business.
"""

from __future__ import annotations

import difflib
import re

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, whole_number

_BOOL_WORDS = ("1", "t", "true", "on", "y", "yes", "0", "f", "false", "off", "n", "no")
_CPU_LIST = (r"\^?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*", "a guest CPU list such as '0-3' or '^0' (no spaces)")
_PAGE_SIZE = (r"(large|small|any|\d+([kKMGT]i?)?(b|bit|B)?)", "small, large, any, or a size such as 2MB, 1GB, 2048")


def _enum(*values):
    return ("enum", values)


def _int(minimum=None, maximum=None):
    return ("int", (minimum, maximum))


BOOL = ("bool", None)
TEXT = ("text", None)

# Nova's own keys: name (``{n}`` = a guest NUMA node number) -> the form of the value
NOVA_KEYS = {
    # hw: (nova/api/validation/extra_specs/hw.py)
    "hw:boot_menu": BOOL,
    "hw:cpu_cores": _int(1), "hw:cpu_sockets": _int(1), "hw:cpu_threads": _int(1),
    "hw:cpu_max_cores": _int(1), "hw:cpu_max_sockets": _int(1), "hw:cpu_max_threads": _int(1),
    "hw:cpu_dedicated_mask": ("pattern", _CPU_LIST),
    "hw:cpu_policy": _enum("shared", "dedicated", "mixed"),
    "hw:cpu_realtime": BOOL,
    "hw:cpu_realtime_mask": ("pattern", _CPU_LIST),
    "hw:cpu_thread_policy": _enum("prefer", "isolate", "require"),
    "hw:emulator_threads_policy": _enum("share", "isolate"),
    "hw:ephemeral_encryption": BOOL,
    "hw:ephemeral_encryption_format": _enum("plain", "luks", "luksv2"),
    "hw:hide_hypervisor_id": BOOL,
    "hw:locked_memory": BOOL,
    "hw:mem_encryption": BOOL,
    "hw:mem_encryption_model": _enum("amd-sev", "amd-sev-es", "amd-sev-snp"),
    "hw:mem_page_size": ("pattern", _PAGE_SIZE),
    "hw:numa_cpus.{n}": ("pattern", _CPU_LIST),
    "hw:numa_mem.{n}": _int(1),
    "hw:numa_nodes": _int(1),
    "hw:pci_numa_affinity_policy": _enum("required", "preferred", "legacy", "socket"),
    "hw:pmem": ("pattern", (r"([a-zA-Z0-9_]+(,)?)+", "a comma-separated list of vPMEM labels")),
    "hw:pmu": BOOL,
    "hw:redirected_usb_ports": _int(0, 15),
    "hw:serial_port_count": _int(0),
    "hw:sound_model": _enum("sb16", "es1370", "pcspk", "ac97", "ich6", "ich9", "usb", "virtio"),
    "hw:tpm_model": _enum("tpm-tis", "tpm-crb"),
    "hw:tpm_secret_security": _enum("user", "host", "deployment"),
    "hw:tpm_version": _enum("1.2", "2.0"),
    "hw:usb_model": _enum("none", "nec-xhci", "qemu-xhci"),
    "hw:vif_multiqueue_enabled": BOOL,
    "hw:viommu_model": _enum("intel", "smmuv3", "virtio", "auto"),
    "hw:virtio_packed_ring": BOOL,
    "hw:watchdog_action": _enum("none", "pause", "poweroff", "reset", "disabled"),
    # the other namespaces Nova owns whose keys only shape the guest, not where it goes
    "hw_rng:allowed": BOOL, "hw_rng:rate_bytes": _int(0), "hw_rng:rate_period": _int(0),
    "hw_video:ram_max_mb": _int(0),
    "os:secure_boot": _enum("disabled", "required"),
    "pci_passthrough:alias": ("pattern", (r"[^:]+:\d+(?:\s*,\s*[^:]+:\d+)*",
                                          "alias:count[,alias:count...], each count a whole number")),
    "vmware:hw_version": TEXT, "vmware:storage_policy": TEXT,
    "quota:cpu_shares": _int(0), "quota:cpu_period": _int(0), "quota:cpu_quota": _int(),
}
for _kind in ("cpu", "memory", "disk_io", "vif"):
    NOVA_KEYS.update({"quota:%s_limit" % _kind: _int(0), "quota:%s_reservation" % _kind: _int(0),
                      "quota:%s_shares_level" % _kind: _enum("custom", "high", "normal", "low"),
                      "quota:%s_shares_share" % _kind: _int(0)})
for _stat in ("read", "write", "total"):
    for _metric in ("bytes", "iops"):
        NOVA_KEYS["quota:disk_%s_%s_sec" % (_stat, _metric)] = _int(0)
for _stat in ("inbound", "outbound"):
    for _metric in ("average", "peak", "burst"):
        NOVA_KEYS["quota:vif_%s_%s" % (_stat, _metric)] = _int(0)

# the collection's own namespace
OWN_KEYS = {"vmfleet:disk_tier": TEXT}

# placement keys this scheduler understands (request_spec gives them Nova's meaning), also in a
# numbered request group (resources1:PCPU), which Nova's hardware.py counts like the unnumbered one
PLACEMENT_KEYS = {
    "resources:VCPU": _int(0),
    "resources:PCPU": _int(0),
    "trait:HW_CPU_HYPERTHREADING": _enum("required", "forbidden"),
}

_GROUP_RE = re.compile(r"^(resources|trait)[1-9][0-9]*:")

# Nova namespaces whose keys ask for something only Nova's services provide
_UNSUPPORTED = {
    "resources": "placement resources other than VCPU and PCPU (and named request groups) need Nova's "
                 "placement service",
    "trait": "placement traits other than HW_CPU_HYPERTHREADING (and named request groups) need Nova's "
             "placement service",
    "capabilities": "ComputeCapabilitiesFilter is not one of this scheduler's filters",
    "accel": "accelerator device profiles need OpenStack Cyborg",
}
# namespaces whose every key is known above: anything else in them is a typo or unsupported
_CLOSED = ("hw", "hw_rng", "hw_video", "os", "quota", "vmware", "pci_passthrough", "vmfleet")
# aggregate_instance_extra_specs:* (any key) is read by AggregateInstanceExtraSpecsFilter


def _numbered(name):
    return re.sub(r"\.\d+$", ".{n}", name)


def placement_key(name):
    """``resources:PCPU`` for ``resources:PCPU`` and ``resources2:PCPU`` (and so on); None for
    any other key."""
    if not name.startswith(("resources", "trait")):
        return None
    key = _GROUP_RE.sub(r"\1:", name)
    return key if key in PLACEMENT_KEYS else None


def _known(name):
    for table in (NOVA_KEYS, OWN_KEYS):
        form = table.get(name) or table.get(_numbered(name))
        if form:
            return form
    return PLACEMENT_KEYS.get(placement_key(name))


def _check_value(name, value, form):
    """InvalidInput unless ``value`` has the form Nova's validator allows for ``name``."""
    kind, detail = form
    if kind == "int":
        minimum, maximum = detail
        if minimum is None:
            try:
                int(str(value).strip())
            except ValueError:
                raise InvalidInput(name, value, "a whole number")
            return
        number = whole_number(name, value, minimum)
        if maximum is not None and number > maximum:
            raise InvalidInput(name, value, "a whole number from %d to %d" % (minimum, maximum))
        return
    text = "true" if value is True else "false" if value is False else str(value)
    if kind == "bool":
        if text.strip().lower() not in _BOOL_WORDS:
            raise InvalidInput(name, value, "true or false (also yes/no, on/off, 1/0)")
    elif kind == "enum":
        if text not in detail:
            raise InvalidInput(name, value, ", ".join(detail) + " (case-sensitive, as in Nova)")
    elif kind == "pattern":
        pattern, allowed = detail
        if not re.fullmatch(pattern, text):
            raise InvalidInput(name, value, allowed)


def _unknown(name, value, namespace):
    candidates = sorted(k.replace("{n}", "N") for k in list(NOVA_KEYS) + list(OWN_KEYS) + list(PLACEMENT_KEYS)
                        if k.startswith(namespace + ":"))
    near = difflib.get_close_matches(re.sub(r"\.\d+$", ".N", name), candidates, n=1, cutoff=0.75)
    reason = "unknown extra spec%s" % (" (did you mean %s?)" % near[0] if near else "")
    if namespace in _UNSUPPORTED:
        reason = "not supported here: %s" % _UNSUPPORTED[namespace]
    allowed = "the %s: keys this scheduler knows: %s" % (namespace, ", ".join(candidates) or "none")
    return InvalidInput(name, value, allowed, reason=reason)


def check_extra_specs(specs):
    """Refuse an unknown or malformed key in a namespace Nova (or the collection) owns,
    and a key asking for something this scheduler cannot provide; pass every other key."""
    for name in sorted(specs):
        value = specs[name]
        form = _known(name)
        if form:
            _check_value(name, value, form)
            continue
        namespace, sep, rest = name.partition(":")
        if not sep:
            continue
        # resources1:, trait_net: ... are Nova's granular request groups
        family = next((f for f in ("resources", "trait") if namespace.startswith(f)), namespace)
        if family in _UNSUPPORTED or family in _CLOSED:
            raise _unknown(name, value, family)
