# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import instance_metadata


def test_render_then_parse_round_trips():
    data = {
        "flavor": {"name": "m1.small", "vcpus": 1, "memory_mb": 2048, "root_gb": 20,
                   "extra_specs": {"hw:cpu_policy": "dedicated"}},
        "placement": {"host": "hv1", "cells": [{"guest_cell": 0, "host_cell": 1}]},
        "state": None,
    }
    text = instance_metadata.render_element(data)
    element = ET.fromstring(text)
    assert element.tag == "{%s}instance" % instance_metadata.NAMESPACE
    assert text.startswith("<vmfleet:instance xmlns:vmfleet=\"https://vmfleet.dev/xmlns/compute/instance/1\"")
    assert instance_metadata.parse(element) == data
    # The setMetadata form carries no namespace: libvirt adds it (and what metadata() returns lacks it too).
    plain = instance_metadata.render(data)
    assert plain.startswith("<instance><flavor>")
    assert instance_metadata.parse(ET.fromstring(plain)) == data


def test_find_inside_domain_metadata_and_plain_text_children():
    metadata = ET.fromstring(
        "<metadata><other xmlns='urn:x'/><v:instance xmlns:v='%s'><v:flavor>{\"vcpus\": 2}</v:flavor>"
        "<v:note>hand written</v:note><!-- c --></v:instance></metadata>" % instance_metadata.NAMESPACE)
    element = instance_metadata.find(metadata)
    assert instance_metadata.parse(element) == {"flavor": {"vcpus": 2}, "note": "hand written"}
    assert instance_metadata.find(ET.fromstring("<metadata/>")) is None
    assert instance_metadata.find(None) is None


@pytest.mark.parametrize("key", ["1st", "with space", "", "a:b"])
def test_keys_must_be_xml_names(key):
    with pytest.raises(InvalidInput, match="metadata key"):
        instance_metadata.render({key: 1})
    with pytest.raises(InvalidInput, match="metadata key"):
        instance_metadata.render_element({key: 1})
