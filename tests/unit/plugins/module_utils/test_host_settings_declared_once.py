# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HOST_SETTINGS is the one declaration of the host settings: what must stay a static copy
(the doc fragment, read by ansible-doc as YAML) and what must not import host/ (the
scheduler's fallbacks for a key the facts lack) are held equal to it here."""

from __future__ import annotations

import copy

import pytest
import yaml

from ansible_collections.vmfleet.compute.plugins.doc_fragments.host_config import ModuleDocFragment
from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.host.settings import (
    HOST_CONFIG_ARGSPEC,
    HOST_SETTINGS,
    normalize_host_config,
)
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.host_state import HostCell, HostState
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.scheduler.host_factory import make_host

FRAGMENT_OPTIONS = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]


def test_the_fragment_documents_the_declared_settings_in_their_order():
    assert list(FRAGMENT_OPTIONS) == [setting.name for setting in HOST_SETTINGS]


@pytest.mark.parametrize("setting", HOST_SETTINGS, ids=lambda setting: setting.name)
def test_the_fragment_says_what_the_declaration_says(setting):
    documented = FRAGMENT_OPTIONS[setting.name]
    assert documented["type"] == setting.type
    assert documented.get("default") == setting.default
    assert documented.get("elements") == setting.elements
    assert tuple(documented.get("choices") or ()) == tuple(setting.choices or ())
    assert not documented.get("required")
    lines = documented["description"]
    assert lines[0] == setting.description
    if setting.nova_name:
        assert "Nova's C(%s)" % setting.nova_name in " ".join(lines)


@pytest.mark.parametrize("setting", HOST_SETTINGS, ids=lambda setting: setting.name)
def test_each_default_is_a_value_its_own_check_accepts(setting):
    assert normalize_host_config({setting.name: copy.deepcopy(setting.default)}) == normalize_host_config({})


def test_the_argspec_holds_every_setting_and_nothing_else():
    assert list(HOST_CONFIG_ARGSPEC) == [setting.name for setting in HOST_SETTINGS]
    assert HOST_CONFIG_ARGSPEC["cpu_mode"] == {
        "type": "str", "choices": ["host-model", "host-passthrough", "custom", "none"]}
    assert HOST_CONFIG_ARGSPEC["instance_pools"] == {"type": "list", "elements": "str", "default": ["default"]}


def test_a_value_outside_the_choices_names_them():
    with pytest.raises(InvalidInput, match="host-model, host-passthrough, custom, none") as caught:
        normalize_host_config({"cpu_mode": "maximum"})
    assert caught.value.field == "cpu_mode"


def _snapshot(host):
    """A HostState's attributes as plain values (cells by their slots), to compare two hosts."""
    values = dict(vars(host))
    values["cells"] = [tuple(getattr(cell, slot) for slot in HostCell.__slots__) for cell in host.cells]
    values.pop("cell_by_id")
    return values


@pytest.mark.parametrize("pinned", [{}, {0: [2, 3]}])
def test_the_scheduler_falls_back_to_the_declared_defaults(pinned):
    """Facts without a ``config`` (or without some of its keys) schedule as a host with the declared
    defaults does; the resource limits it computes itself use the same ratios."""
    silent = make_host("hv1", pinned=pinned)
    declared = make_host("hv1", pinned=pinned)
    silent["config"] = {}
    declared["config"] = normalize_host_config({})
    for facts in (silent, declared):
        for limit in ("vcpus_limit", "memory_mb_limit", "local_gb_limit"):
            del facts["resources"][limit]
    assert _snapshot(HostState.from_facts(silent)) == _snapshot(HostState.from_facts(declared))
