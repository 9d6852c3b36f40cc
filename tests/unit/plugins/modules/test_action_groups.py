# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_defaults for an action group pass the same options to every module of the group, and a module
without one of them fails: every module of the fleet group must take hosts, and every module that takes
hosts must be in it."""

from __future__ import annotations

import importlib
import os

import yaml

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..")
MODULES = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, "plugins", "modules"))
                 if name.endswith(".py") and not name.startswith("_"))


def spec_of(name):
    module = importlib.import_module("ansible_collections.vmfleet.compute.plugins.modules.%s" % name)
    return module.argument_spec()


def test_the_fleet_group_is_exactly_the_modules_that_take_hosts():
    with open(os.path.join(ROOT, "meta", "runtime.yml")) as handle:
        groups = yaml.safe_load(handle)["action_groups"]
    assert sorted(groups) == ["fleet"]
    assert sorted(groups["fleet"]) == sorted(name for name in MODULES if "hosts" in spec_of(name))
    assert all(spec_of(name)["hosts"]["type"] == "list" for name in groups["fleet"])


def test_every_module_of_the_fleet_group_takes_the_state_store():
    """So module_defaults for the group can name the fleet state store for all of them at once."""
    with open(os.path.join(ROOT, "meta", "runtime.yml")) as handle:
        groups = yaml.safe_load(handle)["action_groups"]
    assert [name for name in groups["fleet"] if "state_url" not in spec_of(name)] == []
    assert all(spec_of(name)["state_url"].get("no_log") for name in groups["fleet"])
