# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The architecture, held by a test: data flows libvirt -> host facts -> scheduler -> plan -> operations.

Each package of module_utils has a rank; a file may import its own package and packages of a lower
rank only. docs/developing.md explains the layers; change the table there and here together.
"""

from __future__ import annotations

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PLUGINS = os.path.join(ROOT, "plugins")
PREFIX = "ansible_collections.vmfleet.compute.plugins."

# package (or shared root file) of module_utils -> rank
RANKS = {
    # the shared files of module_utils' root
    "errors": 0, "units": 1, "states": 1, "cpuset": 1,
    # the edge and the pure layers: none of them knows another
    "libvirt": 2, "scheduler": 2, "state": 2,
    # a host: its facts (from libvirt), settings, tracker, fleet, capacity table; volumes
    "host": 3, "storage": 3,
    # plans over the fleet's facts several operations share (the evacuation of a host)
    "planning": 3,
    # operations, and the preflight (pure over facts)
    "instances": 4, "upgrade_checks": 4,
    "migration": 5,
    "maintenance": 6,
    # the evacuation of a failed host: plans with the scheduler, rebuilds with instances, probes with migration
    "evacuation": 6,
    # the module base: only modules use it
    "module": 9,
}
SHARED = ("errors", "units", "states", "cpuset", "module")
# Pure over facts: may not reach libvirt/ even through another package.
PURE = ("scheduler", "upgrade_checks", "state", "planning")


def plugin_files():
    for folder, _dirs, files in os.walk(PLUGINS):
        for name in files:
            if name.endswith(".py"):
                yield os.path.join(folder, name)


def dotted(path):
    """plugins/module_utils/host/fleet.py -> module_utils.host.fleet"""
    rel = os.path.relpath(path, PLUGINS)[:-len(".py")].replace(os.sep, ".")
    return rel[:-len(".__init__")] if rel.endswith(".__init__") else rel


def imports_of(path):
    """The collection's modules ``path`` imports, dotted below plugins (``from X import name`` counts as
    X.name when name is a module of X)."""
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PREFIX):
            base = node.module[len(PREFIX):]
            for alias in node.names:
                candidate = "%s.%s" % (base, alias.name)
                found.add(candidate if candidate in MODULES else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name[len(PREFIX):] for alias in node.names if alias.name.startswith(PREFIX))
    return found


MODULES = set(dotted(path) for path in plugin_files())


def unit(name):
    """module_utils.host.fleet -> host; module_utils.errors -> errors; None outside module_utils."""
    parts = name.split(".")
    if parts[0] != "module_utils" or len(parts) < 2:
        return None
    return parts[1]


def violations(graph):
    """``[(importer, imported, why)]`` for every import against the layering."""
    found = []
    for importer, imported_names in sorted(graph.items()):
        mine = unit(importer)
        for imported in sorted(imported_names):
            theirs = unit(imported)
            if importer.startswith("module_utils") and imported.startswith("modules"):
                found.append((importer, imported, "module_utils never imports a module"))
            if mine is None or theirs is None or theirs == mine:
                continue
            if theirs not in RANKS or mine not in RANKS:
                found.append((importer, imported, "a package without a rank: add it to RANKS and docs/developing.md"))
            elif RANKS[theirs] >= RANKS[mine]:
                found.append((importer, imported, "%s (rank %d) may not import %s (rank %d)" % (
                    mine, RANKS[mine], theirs, RANKS[theirs])))
    for name in graph:
        if unit(name) in PURE:
            reached = reachable(graph, name)
            bad = sorted(r for r in reached if unit(r) == "libvirt")
            if bad:
                found.append((name, bad[0], "%s is pure over facts: it may not reach libvirt/, even indirectly"
                              % unit(name)))
    return found


def reachable(graph, start):
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def import_graph():
    return dict((dotted(path), imports_of(path)) for path in plugin_files())


def test_no_lower_layer_imports_a_higher_one():
    assert violations(import_graph()) == []


def test_the_checker_catches_an_upward_import():
    """The test above can fail: a scheduler file importing an operation is reported."""
    graph = import_graph()
    graph["module_utils.scheduler.filters"] = set(graph["module_utils.scheduler.filters"]) | {
        "module_utils.maintenance.drain"}
    found = violations(graph)
    assert ("module_utils.scheduler.filters", "module_utils.maintenance.drain",
            "scheduler (rank 2) may not import maintenance (rank 6)") in found
    # and every pure file that imports the filters now reaches libvirt through them
    assert ("module_utils.scheduler.scheduler", "module_utils.libvirt.capabilities_xml",
            "scheduler is pure over facts: it may not reach libvirt/, even indirectly") in found


def test_the_checker_catches_a_pure_package_reaching_libvirt_indirectly():
    graph = import_graph()
    graph["module_utils.upgrade_checks.drain"] = set(graph["module_utils.upgrade_checks.drain"]) | {
        "module_utils.host.fleet"}
    reported = [v[:2] for v in violations(graph) if v[0] == "module_utils.upgrade_checks.drain"]
    assert len(reported) == 1 and reported[0][1].startswith("module_utils.libvirt.")


@pytest.mark.parametrize("path", sorted(p for p in plugin_files() if dotted(p).startswith("module_utils")))
def test_only_the_module_base_sees_ansible_module(path):
    with open(path) as handle:
        source = handle.read()
    if dotted(path) != "module_utils.module":
        assert "AnsibleModule" not in source.replace("no AnsibleModule", ""), path


@pytest.mark.parametrize("path", sorted(p for p in plugin_files() if dotted(p).startswith("modules.")))
def test_every_module_is_built_on_the_module_base(path):
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.update("%s.%s" % (node.module, alias.name) for alias in node.names)
    assert PREFIX + "module_utils.module.VmfleetModule" in imported, path
    assert "ansible.module_utils.basic.AnsibleModule" not in imported, path


def test_module_utils_root_holds_only_the_shared_files():
    root = os.path.join(PLUGINS, "module_utils")
    files = sorted(name[:-3] for name in os.listdir(root) if name.endswith(".py") and name != "__init__.py")
    assert files == sorted(SHARED)
