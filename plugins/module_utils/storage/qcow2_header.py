# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backing file named in a qcow2 image's header, read and replaced on bytes.

Moving an instance copies only its overlay; on the destination the overlay must
name that host's copy of the base image, whose path may differ. Rewriting the
first cluster while the bytes stream through the controller does what
``qemu-img rebase -u`` does, without qemu-img on either host and without a
second pass over the volume.

Layout (qemu's docs/interop/qcow2.txt), all numbers big-endian: a fixed header
(72 bytes in version 2; ``header_length`` bytes, at least 104, in version 3),
then header extensions (type, length, data padded to 8 bytes) up to an end
marker of type 0, then the backing file name; all of it inside the first
cluster. The backing file's format is the extension of type 0xE2792ACA.
"""

from __future__ import annotations

import struct

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError

MAGIC = b"QFI\xfb"
# The version 2 header, which version 3 starts with: magic, version,
# backing_file_offset, backing_file_size, cluster_bits, size, crypt_method,
# l1_size, l1_table_offset, refcount_table_offset, refcount_table_clusters,
# nb_snapshots, snapshots_offset.
_V2_HEADER = struct.Struct(">4sIQIIQIIQQIIQ")
_WORD = struct.Struct(">I")  # cluster_bits at byte 20; header_length at byte 100 (version 3)
_V3_MIN_LENGTH = 104
_EXTENSION = struct.Struct(">II")  # type, length of the data
_EXT_END = 0
_EXT_BACKING_FORMAT = 0xE2792ACA
_MAX_NAME_BYTES = 1023  # the spec's limit for backing_file_size
_MAX_FORMAT_BYTES = 15  # qemu keeps the format name in a 16-byte buffer
_MIN_CLUSTER_BITS, _MAX_CLUSTER_BITS = 9, 21  # 512 bytes .. qemu's 2 MiB limit


def backing_file(header):
    """``(path, format)`` of the backing file that a qcow2 header names.

    ``header`` holds at least the first cluster of the image (the name lives
    anywhere in it). ``(None, None)`` for an image without a backing file;
    the format is None when the image does not record it (then qemu probes it).
    """
    fields = _parse(header)
    if not fields["backing_file_offset"]:
        return None, None
    start, size = fields["backing_file_offset"], fields["backing_file_size"]
    if start + size > len(header):
        raise VmfleetError("qcow2 header names a backing file at bytes %d-%d but only %d bytes were given"
                           % (start, start + size, len(header)))
    fmt = dict(fields["extensions"]).get(_EXT_BACKING_FORMAT)
    return _text(header[start:start + size]), (_text(fmt) if fmt else None)


def with_backing_file(header_cluster, path, fmt):
    """The first cluster of a qcow2 image, rewritten to name backing file ``path`` of format ``fmt``.

    What ``qemu-img rebase -u -b PATH -F FMT`` writes: the header fields stay,
    other extensions stay in their order, the backing-format extension comes
    first (left out when ``fmt`` is None) and the name follows the end marker;
    the rest of the cluster is zeros, as the spec reserves it. ``path`` None
    removes the backing file (and its format). Only the header changes: guest
    data is never read from the first cluster. Returns ``cluster_size`` bytes.
    """
    fields = _parse(header_cluster)
    cluster_size = 1 << fields["cluster_bits"]
    if len(header_cluster) < cluster_size:
        raise VmfleetError("qcow2 header rewrite needs the whole first cluster (%d bytes), got %d"
                           % (cluster_size, len(header_cluster)))
    name = _name_bytes(path)
    extensions = [ext for ext in fields["extensions"] if ext[0] != _EXT_BACKING_FORMAT]
    if name and fmt:
        extensions.insert(0, (_EXT_BACKING_FORMAT, _format_bytes(fmt)))
    head = bytearray(header_cluster[:fields["header_length"]])
    head += b"".join(_extension_bytes(kind, data) for kind, data in extensions)
    head += _extension_bytes(_EXT_END, b"")
    struct.pack_into(">QI", head, 8, len(head) if name else 0, len(name))
    head += name
    _check_room(fields, len(head), path)
    return bytes(head) + b"\0" * (cluster_size - len(head))


def cluster_size(header):
    """The image's cluster size (the first 24 bytes are enough): how much a rewrite needs."""
    if len(header) < 24 or header[:4] != MAGIC:
        raise VmfleetError("not a qcow2 image: the file does not start with the qcow2 magic 'QFI\\xfb'")
    bits = _WORD.unpack_from(header, 20)[0]
    if not _MIN_CLUSTER_BITS <= bits <= _MAX_CLUSTER_BITS:
        raise VmfleetError("qcow2 header has cluster_bits %d, outside %d..%d: not a valid image"
                           % (bits, _MIN_CLUSTER_BITS, _MAX_CLUSTER_BITS))
    return 1 << bits


def virtual_size(header):
    """The disk size the guest sees, in bytes (the first 32 bytes are enough)."""
    cluster_size(header)
    if len(header) < 32:
        raise VmfleetError("qcow2 header is cut short: %d bytes given" % len(header))
    return struct.unpack_from(">Q", header, 24)[0]


def _parse(header):
    """The fixed fields, ``header_length`` and the ``extensions`` [(type, data)] of a qcow2 header."""
    cluster_size(header)
    if len(header) < _V2_HEADER.size:
        raise VmfleetError("qcow2 header is cut short: %d bytes given" % len(header))
    names = ("magic", "version", "backing_file_offset", "backing_file_size", "cluster_bits", "size",
             "crypt_method", "l1_size", "l1_table_offset", "refcount_table_offset",
             "refcount_table_clusters", "nb_snapshots", "snapshots_offset")
    fields = dict(zip(names, _V2_HEADER.unpack_from(header)))
    if fields["version"] not in (2, 3):
        raise VmfleetError("qcow2 version %d is not supported (only 2 and 3 are)" % fields["version"])
    fields["header_length"] = _header_length(header, fields["version"])
    fields["extensions"] = _extensions(header, fields["header_length"], 1 << fields["cluster_bits"])
    return fields


def _header_length(header, version):
    """72 for version 2; version 3 stores it, at least 104 and a multiple of 8."""
    if version == 2:
        return _V2_HEADER.size
    if len(header) < _V3_MIN_LENGTH:
        raise VmfleetError("qcow2 version 3 header is cut short: %d bytes given" % len(header))
    length = _WORD.unpack_from(header, 100)[0]
    if length < _V3_MIN_LENGTH or length % 8:
        raise VmfleetError("qcow2 header_length %d is invalid (at least 104, a multiple of 8)" % length)
    return length


def _extensions(header, start, cluster_size):
    """[(type, data)] of the header extensions, from ``start`` up to the end marker."""
    found, offset, limit = [], start, min(len(header), cluster_size)
    while True:
        if offset + _EXTENSION.size > limit:
            raise VmfleetError("qcow2 header extensions run past the first cluster or the bytes given (%d)"
                               % limit)
        kind, length = _EXTENSION.unpack_from(header, offset)
        if kind == _EXT_END:
            return found
        data_start = offset + _EXTENSION.size
        if data_start + length > limit:
            raise VmfleetError("qcow2 header extension 0x%08x is longer than the first cluster" % kind)
        found.append((kind, bytes(header[data_start:data_start + length])))
        offset = data_start + _padded(length)


def _extension_bytes(kind, data):
    """One header extension as stored: type, length, data, zeros up to a multiple of 8."""
    return _EXTENSION.pack(kind, len(data)) + data + b"\0" * (_padded(len(data)) - len(data))


def _padded(length):
    return (length + 7) // 8 * 8


def _check_room(fields, needed, path):
    """The header, extensions and name must end before the first cluster ends and before
    any structure the header points at (L1 table, refcount table, snapshot table)."""
    cluster_size = 1 << fields["cluster_bits"]
    offsets = [fields[key] for key in ("l1_table_offset", "refcount_table_offset", "snapshots_offset")]
    room = min([cluster_size] + [offset for offset in offsets if offset])
    if needed > room:
        raise VmfleetError(
            "backing file name %r does not fit in the qcow2 header: header, extensions and name need %d "
            "bytes, the image has room for %d before its first data structure (cluster_size %d, "
            "l1_table_offset %d, refcount_table_offset %d, snapshots_offset %d); use a shorter path"
            % (path, needed, room, cluster_size, fields["l1_table_offset"], fields["refcount_table_offset"],
               fields["snapshots_offset"]), path=path, needed=needed, room=room)


def _name_bytes(path):
    """The backing file name as stored (UTF-8), b"" for none; at most 1023 bytes as the spec says."""
    if not path:
        return b""
    name = path.encode("utf-8", "surrogateescape")
    if len(name) > _MAX_NAME_BYTES:
        raise VmfleetError("backing file name %r is %d bytes; qcow2 allows at most %d"
                           % (path, len(name), _MAX_NAME_BYTES), path=path)
    return name


def _format_bytes(fmt):
    """The backing format name as stored: a short ASCII word such as ``qcow2`` or ``raw``."""
    data = fmt.encode("ascii", "replace")
    if len(data) > _MAX_FORMAT_BYTES or not data.replace(b"-", b"").replace(b"_", b"").isalnum():
        raise VmfleetError("backing file format %r is not a disk format name such as qcow2 or raw" % fmt,
                           format=fmt)
    return data


def _text(data):
    return bytes(data).decode("utf-8", "surrogateescape")
