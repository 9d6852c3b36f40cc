# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/host-facts.md's reference is hypervisor_info's RETURN, written out by tools/host_facts_doc.py."""

from __future__ import annotations

import pytest

from ansible_collections.vmfleet.compute.plugins.modules import hypervisor_info
from ansible_collections.vmfleet.compute.tools import host_facts_doc


def test_the_committed_page_is_what_the_tool_writes_from_return():
    with open(host_facts_doc.PAGE, encoding="utf-8") as handle:
        page = handle.read()
    assert host_facts_doc.render(page, host_facts_doc.module_return()) == page, \
        "docs/host-facts.md is out of date: run python tools/host_facts_doc.py"


def test_the_tool_reads_the_modules_return_without_importing_it():
    assert host_facts_doc.module_return() == hypervisor_info.RETURN


def test_every_returned_field_is_on_the_page():
    reference = host_facts_doc.reference(hypervisor_info.RETURN)
    for key in ("host_uuid", "cpu_mode", "cpu_models", "live_migration_inbound_addr", "live_migration_uri",
                "disabled_at", "io_ops"):
        assert "`%s` (" % key in reference


@pytest.mark.parametrize("text, expected", [
    ("C((len(a) - b) * c) and V(x)", "`(len(a) - b) * c` and `x`"),
    ("O(vmfleet.compute.hypervisor_info#module:state_dir), O(name)", "`state_dir`, `name`"),
    ("RV(hypervisor.guests), I(new), B(never)", "`hypervisor.guests`, *new*, **never**"),
    ("L(libvirt, https://libvirt.org), U(https://x.org)", "[libvirt](https://libvirt.org), https://x.org"),
    ("MiB (IoOpsFilter) SPEC(x)", "MiB (IoOpsFilter) SPEC(x)"),
])
def test_ansible_markup_becomes_markdown(text, expected):
    assert host_facts_doc.markdown(text) == expected


def test_a_page_without_its_markers_is_refused():
    with pytest.raises(ValueError, match="markers"):
        host_facts_doc.render("# Host facts\n", hypervisor_info.RETURN)


def test_a_changed_return_changes_the_page():
    changed = hypervisor_info.RETURN.replace("description: libvirt version.", "description: The libvirt version.")
    assert changed != hypervisor_info.RETURN
    with open(host_facts_doc.PAGE, encoding="utf-8") as handle:
        page = handle.read()
    assert "`libvirt_version` (str): The libvirt version." in host_facts_doc.render(page, changed)
