# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stand-in for a libvirt connection that answers from a table and records every call."""

from __future__ import annotations

import libvirt


def error(code, message, domain=None):
    """A libvirtError carrying ``code``, ``domain`` (default: the CPU driver's) and ``message``."""
    exc = libvirt.libvirtError(message)
    exc.err = (code, domain if domain is not None else libvirt.VIR_FROM_CPU, message, 2, None, None, None, 0, 0)
    return exc


class StubDomain(object):
    def __init__(self, xml):
        self.xml = xml

    def XMLDesc(self, flags=0):  # noqa: N802 libvirt's name
        return self.xml


class StubConn(object):
    """Answers each call from ``answers[method]``: a value, an exception to raise, or a callable
    given the call's arguments. Records ``(method, args...)`` in ``calls``."""

    def __init__(self, uri="qemu+tcp://hv2/system", **answers):
        self.uri = uri
        self.answers = answers
        self.calls = []
        self.closed = False

    def _answer(self, method, *args):
        self.calls.append((method,) + args)
        answer = self.answers[method]
        if isinstance(answer, Exception):
            raise answer
        return answer(*args) if callable(answer) else answer

    def compareHypervisorCPU(self, emulator, arch, machine, virttype, xml, flags):  # noqa: N802
        return self._answer("compareHypervisorCPU", emulator, arch, machine, virttype, xml, flags)

    def compareCPU(self, xml, flags):  # noqa: N802
        return self._answer("compareCPU", xml, flags)

    def baselineHypervisorCPU(self, emulator, arch, machine, virttype, xmls, flags):  # noqa: N802
        return self._answer("baselineHypervisorCPU", emulator, arch, machine, virttype, xmls, flags)

    def baselineCPU(self, xmls, flags):  # noqa: N802
        return self._answer("baselineCPU", xmls, flags)

    def getCapabilities(self):  # noqa: N802
        return self._answer("getCapabilities")

    def getDomainCapabilities(self, *args):  # noqa: N802
        return self._answer("getDomainCapabilities", *args)

    def lookupByUUIDString(self, uuid):  # noqa: N802
        return StubDomain(self._answer("lookupByUUIDString", uuid))

    def getURI(self):  # noqa: N802
        return self.uri

    def close(self):
        self.closed = True
        return 0
