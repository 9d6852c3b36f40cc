# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt and QEMU versions: against the target's minimums, and skew across the fleet."""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.upgrade_checks.common import (
    FAILURE, SUCCESS, WARNING, host_rows, row, version_tuple)

_COMPONENTS = (("libvirt", "libvirt_version", "target_libvirt_version"),
               ("QEMU", "hypervisor_version", "target_qemu_version"))


def check_versions(hosts, options):
    """Failure for each host whose libvirt or QEMU is older than the target's minimum."""
    targets = [(label, key, options[option]) for label, key, option in _COMPONENTS if options[option]]

    def per_host(host):
        if not targets:
            return SUCCESS, "no target versions given (target_libvirt_version, target_qemu_version): nothing to compare"
        too_old, fine = [], []
        for label, key, minimum in targets:
            installed = host.get(key)
            if installed is None or version_tuple(installed, key) < version_tuple(minimum):
                too_old.append("%s %s is older than the target's minimum %s" % (label, installed, minimum))
            else:
                fine.append("%s %s >= %s" % (label, installed, minimum))
        if too_old:
            return FAILURE, "%s: upgrade %s on %s before upgrading the collection's target release" % (
                "; ".join(too_old), " and ".join(t.split()[0] for t in too_old), host["name"])
        return SUCCESS, "; ".join(fine)
    return host_rows("versions", hosts, per_host)


def check_version_skew(hosts, options):
    """Warning when hosts run different libvirt / QEMU versions (a guest moved to a newer
    host cannot come back to an older one)."""
    problems = []
    for label, key, _option in _COMPONENTS:
        by_version = {}
        for host in hosts:
            by_version.setdefault(str(host.get(key)), []).append(host["name"])
        if len(by_version) > 1:
            ordered = sorted(by_version, key=lambda v: version_tuple(v) if v != "None" else (0,))
            newest = ordered[-1]
            problems.append("%s differs: %s; guests moved onto %s (%s %s) cannot come back to the older hosts"
                            % (label, ", ".join("%s on %s" % (v, "/".join(by_version[v])) for v in ordered),
                               "/".join(by_version[newest]), label, newest))
    if problems:
        return [row("version_skew", None, WARNING, "; ".join(problems)
                    + ". Upgrade the remaining hosts, or keep guests off the upgraded ones until they are")]
    if not hosts:
        return [row("version_skew", None, SUCCESS, "no hosts given")]
    first = hosts[0]
    return [row("version_skew", None, SUCCESS, "every host runs libvirt %s and QEMU %s"
                % (first.get("libvirt_version"), first.get("hypervisor_version")))]
