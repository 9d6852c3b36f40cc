# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host-facts contract, checked: hypervisor_info's RETURN against a ``hypervisor`` dict.

RETURN is the one written contract (docs/host-facts.md is generated from it). A unit test
feeds this the facts of libvirt's test driver and of the test factories; the lab's
integration test feeds it what hypervisor_info returns on real hosts.

Rules: a documented key is returned and a returned key documented, at every level RETURN
lists with ``contains`` (a dict documented without ``contains`` is free-form: distances,
metadata, ...); a value has its documented ``type`` (and list items their ``elements``)
and is one of its ``choices``; a value is null only where its description says it may be.
"""

from __future__ import annotations

import yaml

_TYPES = {
    "str": (str,),
    "int": (int,),
    "float": (float, int),
    "bool": (bool,),
    "list": (list,),
    "dict": (dict,),
}


def documented_facts(return_text):
    """RETURN's entry for ``hypervisor`` (the module's RETURN string, as ansible-doc reads it)."""
    return yaml.safe_load(return_text)["hypervisor"]


def contract_violations(facts, documented, path="hypervisor", seen=None):
    """Where ``facts`` break the contract ``documented``; an empty list when they keep it.

    ``seen``: a set that collects the paths of the values checked (null ones left out), to
    tell which parts of the contract some facts exercised."""
    problems = []
    _check_value(facts, documented, path, problems, set() if seen is None else seen)
    return problems


def documented_paths(documented, path="hypervisor"):
    """Every path RETURN documents, in the form contract_violations reports and collects them."""
    paths = [path]
    if documented.get("type") == "list":
        path += "[]"
        paths.append(path)
    for key, spec in (documented.get("contains") or {}).items():
        paths.extend(documented_paths(spec, "%s.%s" % (path, key)))
    return paths


def _check_value(value, spec, path, problems, seen):
    if value is None:
        if "null" not in _description(spec):
            problems.append("%s: null, but its description does not say it may be" % path)
        return
    seen.add(path)
    if not _has_type(value, spec.get("type", "raw")):
        problems.append("%s: %s %r, documented as %s" % (path, type(value).__name__, value, spec.get("type")))
        return
    if spec.get("choices") and value not in spec["choices"]:
        problems.append("%s: %r, not one of the documented choices %s" % (path, value, spec["choices"]))
    if isinstance(value, list):
        item_spec = dict(spec, type=spec.get("elements", "raw"))
        item_spec.pop("choices", None)
        for item in value:
            _check_value(item, item_spec, path + "[]", problems, seen)
    elif isinstance(value, dict) and "contains" in spec:
        contains = spec["contains"]
        for key in contains:
            if key not in value:
                problems.append("%s.%s: documented, not returned" % (path, key))
        for key, item in value.items():
            if key not in contains:
                problems.append("%s.%s: returned, not documented" % (path, key))
            else:
                _check_value(item, contains[key], "%s.%s" % (path, key), problems, seen)


def _has_type(value, type_name):
    if type_name == "raw":
        return True
    if isinstance(value, bool) and type_name != "bool":
        return False  # bool is an int to Python, not to the contract
    return isinstance(value, _TYPES[type_name])


def _description(spec):
    text = spec.get("description", "")
    return " ".join(text) if isinstance(text, list) else text
