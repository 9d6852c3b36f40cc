# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's own metadata inside a libvirt domain.

A guest the collection manages carries, in its domain XML (``render_element``;
libvirt's ``setMetadata`` takes the un-prefixed form ``render`` gives)::

    <metadata>
      <vmfleet:instance xmlns:vmfleet="https://vmfleet.dev/xmlns/compute/instance/1">
        <vmfleet:flavor>{"name": "m1.small", "vcpus": 1, "memory_mb": 2048, ...}</vmfleet:flavor>
        <vmfleet:request>{...}</vmfleet:request>
        <vmfleet:placement>{...}</vmfleet:placement>
      </vmfleet:instance>
    </metadata>

Each child element holds one JSON document; the child's local name is its key.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.xml_values import local_name

NAMESPACE = "https://vmfleet.dev/xmlns/compute/instance/1"
PREFIX = "vmfleet"
ROOT_ELEMENT = "instance"
ROOT_TAG = "{%s}%s" % (NAMESPACE, ROOT_ELEMENT)


def find(metadata_element):
    """The ``<vmfleet:instance>`` element inside a domain's ``<metadata>``, or None."""
    if metadata_element is None:
        return None
    return metadata_element.find(ROOT_TAG)


def parse(element):
    """``<vmfleet:instance>`` -> dict keyed by child local name, values decoded from JSON.

    A child whose text is not JSON (written by hand or by another tool) is
    kept as its plain text rather than dropped.
    """
    data = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue  # comments, processing instructions
        text = (child.text or "").strip()
        try:
            data[local_name(child.tag)] = json.loads(text) if text else None
        except ValueError:
            data[local_name(child.tag)] = text
    return data


def render(data):
    """dict -> ``<instance><flavor>JSON</flavor>...</instance>`` for libvirt's
    ``setMetadata(VIR_DOMAIN_METADATA_ELEMENT, xml, PREFIX, NAMESPACE)``.

    libvirt puts the element and its children into NAMESPACE under PREFIX
    itself, and refuses XML that already declares the namespace.
    Keys must be XML names (letters, digits, ``_``, ``-``; not starting with a digit).
    """
    return _render(data, "")


def render_element(data):
    """dict -> ``<vmfleet:instance xmlns:vmfleet="...">`` XML text, to place
    inside a domain XML's ``<metadata>`` (e.g. before ``defineXML``)."""
    return _render(data, PREFIX + ":")


def _render(data, prefix):
    attributes = {"xmlns:%s" % PREFIX: NAMESPACE} if prefix else {}
    root = ET.Element(prefix + ROOT_ELEMENT, attributes)
    for key in sorted(data):
        if not _is_xml_name(key):
            raise InvalidInput("metadata key", key, "letters, digits, '_' and '-', not starting with a digit")
        child = ET.SubElement(root, prefix + key)
        child.text = json.dumps(data[key], sort_keys=True, separators=(",", ":"))
    return ET.tostring(root, encoding="unicode")


def _is_xml_name(key):
    return (
        isinstance(key, str)
        and bool(key)
        and (key[0].isalpha() or key[0] == "_")
        and all(ch.isalnum() or ch in "_-" for ch in key)
        and key.isascii()
    )
