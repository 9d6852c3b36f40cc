# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt node device XML (``virNodeDeviceGetXMLDesc``) of PCI devices."""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.xml_values import int_or_none, parse_xml


def parse_pci_device(text):
    """PCI node device XML -> ``{address, vendor_id, product_id, vendor, product, class,
    numa_node, driver, capability}``; None when the device is not a PCI device.

    ``capability`` is ``pf`` for an SR-IOV physical function that has virtual
    functions, ``vf`` for a virtual function, else ``pci``. ``numa_node`` is
    None where libvirt does not list one (single-node hosts, most VMs).
    """
    root = parse_xml(text, "node device XML")
    cap = root.find("capability[@type='pci']")
    if cap is None:
        return None
    vendor = cap.find("vendor")
    product = cap.find("product")
    numa = cap.find("numa")
    address = "%04x:%02x:%02x.%x" % tuple(
        int_or_none(cap.findtext(key)) or 0 for key in ("domain", "bus", "slot", "function"))
    return {
        "address": address,
        "vendor_id": vendor.get("id") if vendor is not None else None,
        "product_id": product.get("id") if product is not None else None,
        "vendor": (vendor.text or "").strip() or None if vendor is not None else None,
        "product": (product.text or "").strip() or None if product is not None else None,
        "class": (cap.findtext("class") or "").strip() or None,
        "numa_node": int_or_none(numa.get("node")) if numa is not None else None,
        "driver": (root.findtext("driver/name") or "").strip() or None,
        "capability": _kind(cap),
    }


def _kind(cap):
    if cap.find("capability[@type='phys_function']") is not None:
        return "vf"
    functions = cap.find("capability[@type='virt_functions']")
    if functions is not None and (int_or_none(functions.get("maxCount")) or len(functions)):
        return "pf"
    return "pci"
