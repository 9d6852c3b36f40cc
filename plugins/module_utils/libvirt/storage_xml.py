# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt storage pool and volume XML: a pool's type and path, a volume's backing file."""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.xml_values import parse_xml


def parse_pool(text):
    """Pool XML -> ``{name, type, path}`` (path None for pools without a target path)."""
    root = parse_xml(text, "storage pool XML")
    return {
        "name": root.findtext("name"),
        "type": root.get("type"),
        "path": (root.findtext("target/path") or "").strip() or None,
    }


def volume_backing_path(text):
    """The backing file a volume's XML names, or None."""
    root = parse_xml(text, "storage volume XML")
    return (root.findtext("backingStore/path") or "").strip() or None
