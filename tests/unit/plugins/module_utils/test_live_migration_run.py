# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a running migration does with the monitor's forcing decisions, on a domain that records calls."""

from __future__ import annotations

import libvirt

from ansible_collections.vmfleet.compute.plugins.module_utils.migration.live import _Run
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.libvirt_stub import error


class RecordingDomain(object):
    def __init__(self, post_copy_error=None):
        self.calls = []
        self.post_copy_error = post_copy_error

    def migrateStartPostCopy(self, flags):  # noqa: N802 libvirt's name
        self.calls.append("migrateStartPostCopy")
        if self.post_copy_error:
            raise self.post_copy_error

    def suspend(self):
        self.calls.append("suspend")


def run_on(domain):
    return _Run(domain, "qemu+tcp://hv2/system", {"guest": "vm1"}, [], None)


def test_post_copy_when_libvirt_accepts_it():
    domain = RecordingDomain()
    run = run_on(domain)
    run._apply("post_copy", "not finished after 60 s")
    assert domain.calls == ["migrateStartPostCopy"] and run.post_copy and not run.paused_by_us and run.notes == []


def test_post_copy_refused_falls_back_to_pause_and_says_so():
    refused = error(libvirt.VIR_ERR_OPERATION_INVALID, "post-copy is not possible while disks are being mirrored",
                    libvirt.VIR_FROM_QEMU)
    domain = RecordingDomain(post_copy_error=refused)
    run = run_on(domain)
    run._apply("post_copy", "not finished after 60 s")
    assert domain.calls == ["migrateStartPostCopy", "suspend"]
    assert run.paused_by_us and not run.post_copy
    assert run.notes == ["post-copy refused by libvirt (post-copy is not possible while disks are being mirrored): "
                         "paused to complete"]
