# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading plain values out of libvirt XML: documents, integers, sizes with units.

Shared by the capabilities, domain, node device and storage parsers so that
"4 GiB" written as ``<memory unit='G'>4</memory>`` means the same everywhere.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError

# libvirt's size units (docs: "Memory Allocation", "Storage units"), as KiB multipliers.
# 'b'/'bytes' are handled apart because they are fractions of a KiB.
_KIB_PER_UNIT = {
    "k": 1, "kib": 1, "kb": 1000 / 1024.0,
    "m": 1024, "mib": 1024, "mb": 1000 ** 2 / 1024.0,
    "g": 1024 ** 2, "gib": 1024 ** 2, "gb": 1000 ** 3 / 1024.0,
    "t": 1024 ** 3, "tib": 1024 ** 3, "tb": 1000 ** 4 / 1024.0,
    "p": 1024 ** 4, "pib": 1024 ** 4, "pb": 1000 ** 5 / 1024.0,
}


def parse_xml(text, what):
    """Parse ``text`` into an Element; a broken document raises VmfleetError naming ``what``."""
    try:
        return ET.fromstring(text)
    except ET.ParseError as exc:
        raise VmfleetError("libvirt returned %s that is not valid XML: %s" % (what, exc), what=what)


def int_or_none(text):
    """``"12"`` -> 12, ``"0x1f"`` -> 31; None, "" or a non-number -> None."""
    if text is None:
        return None
    text = str(text).strip()
    try:
        return int(text, 16) if text.lower().startswith("0x") else int(text)
    except ValueError:
        return None


def size_kib(element, default_unit="KiB"):
    """The size an element such as ``<memory unit='MiB'>128</memory>`` holds, in KiB (float).

    None when the element is missing or empty.
    """
    if element is None or element.text is None or not element.text.strip():
        return None
    value = float(element.text.strip())
    unit = (element.get("unit") or default_unit).strip().lower()
    if unit in ("b", "bytes"):
        return value / 1024.0
    try:
        return value * _KIB_PER_UNIT[unit]
    except KeyError:
        raise VmfleetError("unknown size unit %r in libvirt XML <%s>" % (unit, element.tag), unit=unit)


def size_bytes(element, default_unit="bytes"):
    """Like :func:`size_kib`, in bytes (int); storage XML defaults to bytes."""
    kib = size_kib(element, default_unit)
    return None if kib is None else int(round(kib * 1024))


def local_name(tag):
    """``"{uri}flavor"`` -> ``"flavor"``."""
    return tag.rsplit("}", 1)[-1]
