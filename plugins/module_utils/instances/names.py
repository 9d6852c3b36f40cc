# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one rule for an instance's name, checked before any host is touched.

The name becomes the libvirt domain name and, on every host, part of file
names: the disks (``<name>.disk.qcow2``, ``<name>.disk.swap.qcow2``) and
libvirt's own files (``/etc/libvirt/qemu/<name>.xml``, its log, save and
snapshot folders). Without this rule a bad name reached libvirt or
``qemu-img`` and failed there, half-way, with their words ("File name too
long"; "Cannot access '/var/lib/libvirt/qemu/snapshot/../dump'"). So a name:

- is at most ``MAX_NAME_BYTES`` bytes in UTF-8: the longest disk file name
  (the name and ``.disk.swap.qcow2``) stays far below Linux's 255-byte limit;
- has no ``/`` (libvirt refuses it too: it is the path separator);
- does not start with ``.`` (``.`` and ``..`` walk up a folder, others hide
  the files) nor with ``-`` (``virsh`` and ``qemu-img`` read it as an option);
- has no control characters (libvirt refuses a newline; the others break
  logs and file names) and no white space at either end (``" db1"`` looks
  like ``db1`` but is another guest).

Anything else is allowed, XML specials (``<``, ``&``, quotes) too: the
domain template escapes them.
"""

from __future__ import annotations

import unicodedata

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput

MAX_NAME_BYTES = 128
NAME_RULE = ("1 to %d bytes (UTF-8), no '/', no control characters, not starting with '.' or '-', no white "
             "space at either end" % MAX_NAME_BYTES)
# Unicode categories refused: control characters, and line and paragraph separators (a line break by another name)
_REFUSED_CATEGORIES = ("Cc", "Zl", "Zp")
# how much of a refused name an error shows: a 300-character name printed in full hides the message
_SHOWN = 40


def check_instance_name(name, field="name"):
    """``name`` when it follows the rule above; InvalidInput naming ``field`` and the broken rule otherwise."""
    if not isinstance(name, str) or not name:
        raise InvalidInput(field, name, NAME_RULE, reason="an instance needs a name")
    reason = _broken_rule(name)
    if reason:
        raise InvalidInput(field, _shown(name), NAME_RULE, reason=reason)
    return name


def _broken_rule(name):
    size = len(name.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        return "%d bytes long, more than %d (it names the guest's disk files and libvirt's)" % (size, MAX_NAME_BYTES)
    if "/" in name:
        return "'/' separates folders in the file names the name becomes"
    if name.startswith("."):
        return "a name starting with '.' is a hidden file, or walks up a folder ('..')"
    if name.startswith("-"):
        return "a name starting with '-' is read as an option by virsh and qemu-img"
    for position, char in enumerate(name):
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            return "control character %r at position %d" % (char, position)
    if name != name.strip():
        return "white space at the start or the end"
    return None


def _shown(name):
    if len(name) <= _SHOWN:
        return name
    return "%s... (%d characters)" % (name[:_SHOWN], len(name))
