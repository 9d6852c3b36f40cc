# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Moving a volume's bytes between hosts, or from the controller to a host, over libvirt streams.

The bytes pass through the controller (download from one daemon, upload to the
other), so no host needs to reach another and no path is touched directly.
Streams are sparse when both daemons can (libvirt 3.4+): holes travel as a
length, not as zeros. A qcow2 overlay can be re-pointed at another backing
file on the way, by rewriting its first cluster.

Why the destination starts as an empty file: libvirt's upload writes over
the existing file without truncating it, and a hole in a sparse stream is
only a seek (plus an ftruncate at its end), so it does not zero what the file
already held there. Uploading onto a freshly created qcow2 volume could leave
its old metadata in the copy; uploading into an empty file cannot. libvirt
then probes the uploaded file, and the copy is checked to show the source's
format and capacity. File-backed pools (dir, fs, netfs) work this way.
"""

from __future__ import annotations

import hashlib
import os
import time

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.storage import qcow2_header
from ansible_collections.vmfleet.compute.plugins.module_utils.storage import volumes as storage_volumes

_SPARSE_SINCE = 3004000  # libvirt 3.4.0 added sparse streams
_CHUNK = 262120  # the largest payload one stream message carries (libvirt's streamBufSize)
_ZEROS = b"\0" * _CHUNK
_HEAD_PROBE = 4096  # enough of a local file to tell qcow2 from raw and read its size
_SIZE_KNOWN = 24  # bytes of a qcow2 header that hold its cluster size


def copy_volume(src_volume, dst_pool, dst_name, backing_path=None):
    """Copy ``src_volume`` into ``dst_pool`` (another host, usually) as ``dst_name``.

    With ``backing_path`` the source must be a qcow2 overlay; the copy names
    ``backing_path`` (the destination's copy of the base) as its backing file,
    keeping the backing format. On failure the partial destination volume is
    deleted and the error says what was copied from where to where.
    Returns ``{bytes, seconds, path}``: data bytes sent (holes not counted),
    wall time, and the new volume's path. The source must not change meanwhile
    (no running guest writes to it), or the copy is a torn read of it.
    """
    source = storage_volumes.describe(src_volume)
    src_conn = src_volume.connect()
    what = "copying %s from %s to %s" % (source["path"], src_conn.getURI(), _target(dst_pool, dst_name))
    rewrite = _backing_rewrite(source, backing_path, dst_pool.connect(), what) if backing_path else None
    sparse = _sparse(src_conn, dst_pool.connect())

    def transfer(upload):
        forward = _Forward(upload, rewrite)
        _download(src_volume, forward, sparse)
        forward.close()
        return forward.sent

    return _into_new_volume(dst_pool, dst_name, source, what, transfer, sparse)


def upload_file(local_path, pool, name):
    """Upload an image file on the controller into ``pool`` as volume ``name``.

    Format (qcow2 or raw) and capacity come from the file itself. Holes in the
    file stay holes when the daemon supports sparse streams. Returns
    ``{bytes, seconds, path}`` like copy_volume.
    """
    what = "uploading %s from the controller to %s" % (local_path, _target(pool, name))
    expected = _local_image(local_path, what)
    sparse = _sparse(pool.connect())

    def transfer(upload):
        with open(local_path, "rb") as handle:
            reader = _FileSource(handle.fileno())
            if sparse:
                upload.sparseSendAll(reader.read, reader.section, reader.skip, None)
            else:
                upload.sendAll(reader.read, None)
        return reader.sent

    return _into_new_volume(pool, name, expected, what, transfer, sparse)


def download_file(volume, local_path):
    """Download a volume's bytes into a new file on the controller (holes stay holes).

    Returns ``{bytes, seconds, path}`` with ``path`` the local file.
    """
    started = time.monotonic()
    with open(local_path, "wb") as handle:
        sink = _FileSink(handle.fileno())
        _reading(volume, sink)
    return {"bytes": sink.received, "seconds": round(time.monotonic() - started, 3), "path": local_path}


def volume_sha256(volume):
    """The SHA-256 (hex) of the volume's bytes as stored (holes read as zeros), via a download stream.

    Two volumes with the same digest hold the same file, whichever host they are on.
    """
    sink = _DigestSink()
    _reading(volume, sink)
    return sink.digest.hexdigest()


def _reading(volume, sink):
    """Download ``volume`` into ``sink``; a libvirt failure becomes a VmfleetError naming volume and host."""
    conn = volume.connect()
    try:
        _download(volume, sink, _sparse(conn))
    except libvirt_client.libvirt.libvirtError as exc:
        raise storage_volumes.failure("reading volume %s on %s" % (volume.path(), conn.getURI()), exc)


def _download(volume, sink, sparse):
    """Stream the volume's bytes to ``sink.data(stream, chunk, opaque)`` and ``sink.hole(stream, length, opaque)``."""
    stream = volume.connect().newStream(0)
    volume.download(stream, 0, 0, _flag("VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM", sparse))
    with _aborting(stream):
        if sparse:
            stream.sparseRecvAll(sink.data, sink.hole, None)
        else:
            stream.recvAll(sink.data, None)
        stream.finish()


def _into_new_volume(pool, name, expected, what, transfer, sparse):
    """Create ``name`` as an empty file, upload into it with ``transfer(stream)``, check it, time it.

    ``expected`` holds the source's ``format`` and ``capacity_bytes``. Any
    failure after the volume exists deletes it, so no partial copy stays.
    """
    started = time.monotonic()
    try:
        volume = storage_volumes.create_blank(pool, name, 0, fmt="raw")
    except VmfleetError as exc:  # e.g. the name is taken: that volume is not ours to delete
        raise exc.within("%s failed" % what)
    path = volume.path()
    try:
        upload = pool.connect().newStream(0)
        volume.upload(upload, 0, 0, _flag("VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM", sparse))
        with _aborting(upload):
            sent = transfer(upload)
            upload.finish()
        storage_volumes.refresh(pool)
        volume = pool.storageVolLookupByName(name)
        _check_copy(storage_volumes.describe(volume), expected)
    except Exception as exc:  # pylint: disable=broad-except
        raise _failed(exc, what, volume, path)
    return {"bytes": sent, "seconds": round(time.monotonic() - started, 3), "path": path}


def _check_copy(copy, expected):
    """libvirt must see the copy as the source's format and capacity (it probes the uploaded file)."""
    if (copy["format"], copy["capacity_bytes"]) != (expected["format"], expected["capacity_bytes"]):
        raise VmfleetError("the copy reads as %s of %d bytes, the source is %s of %d bytes"
                           % (copy["format"], copy["capacity_bytes"], expected["format"],
                              expected["capacity_bytes"]))


def _failed(exc, what, volume, path):
    """The error to raise for ``exc``, after deleting the partial ``volume`` (at ``path``)."""
    try:
        volume.delete(0)
        cleanup = "the partial copy %s was deleted" % path
    except libvirt_client.libvirt.libvirtError as delete_exc:
        cleanup = "deleting the partial copy %s failed too: %s" % (path, storage_volumes.message(delete_exc))
    if isinstance(exc, libvirt_client.libvirt.libvirtError):
        return VmfleetError("%s failed (%s): %s" % (what, cleanup, storage_volumes.message(exc)), path=path)
    if isinstance(exc, VmfleetError):
        return exc.within("%s failed (%s)" % (what, cleanup), path=path)
    return exc


class _aborting(object):  # pylint: disable=invalid-name
    """``with _aborting(stream):`` aborts the stream when the block raises, so the daemon lets go of it.

    The binding's ``sparseRecvAll`` does not abort when a handler raises."""

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return self.stream

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is not None:
            try:
                self.stream.abort()
            except Exception:  # pylint: disable=broad-except
                pass  # the stream may be gone with its connection; the first error is the one to report
        return False


class _Forward(object):
    """Hands what a download stream yields to an upload stream, rewriting the first cluster if asked.

    The first cluster is held back until it is complete (its size is in its
    first 24 bytes), passed through ``rewrite`` and sent; then data and holes
    flow through unchanged.
    """

    def __init__(self, upload, rewrite=None):
        self.upload = upload
        self.rewrite = rewrite
        self.head = bytearray() if rewrite else None
        self.sent = 0

    def data(self, _stream, chunk, _opaque):
        if self.head is not None:
            self.head += chunk
            chunk = self._release_head()
        for start in range(0, len(chunk), _CHUNK):
            self.sent += self.upload.send(chunk[start:start + _CHUNK])
        return 0

    def hole(self, _stream, length, _opaque):
        while self.head is not None and length:  # a hole inside the first cluster: it reads as zeros
            zeros = min(length, self._head_room())
            self.data(None, b"\0" * zeros, None)
            length -= zeros
        if length:
            self.upload.sendHole(length, 0)
        return 0

    def close(self):
        if self.head is not None:
            raise VmfleetError("the source ended after %d bytes, inside its first qcow2 cluster" % len(self.head))

    def _head_room(self):
        """Bytes still missing from the first cluster (first from the 24 that give its size)."""
        size = qcow2_header.cluster_size(self.head) if len(self.head) >= _SIZE_KNOWN else _SIZE_KNOWN
        return size - len(self.head)

    def _release_head(self):
        """The rewritten first cluster and what came after it, once it is complete; else b""."""
        if self._head_room() > 0:
            return b""
        size = qcow2_header.cluster_size(self.head)
        head, self.head = bytes(self.head), None
        return self.rewrite(head[:size]) + head[size:]


class _FileSource(object):
    """The callbacks of ``sparseSendAll``/``sendAll`` over a local file descriptor."""

    def __init__(self, fd):
        self.fd = fd
        self.sent = 0

    def read(self, _stream, nbytes, _opaque):
        chunk = os.read(self.fd, nbytes)
        self.sent += len(chunk)
        return chunk

    def section(self, _stream, _opaque):
        """``[in_data, length]`` of the section at the file position (SEEK_DATA/SEEK_HOLE)."""
        here = os.lseek(self.fd, 0, os.SEEK_CUR)
        end = os.fstat(self.fd).st_size
        if here >= end:
            return [False, 0]  # the end: sparseSendAll reads nothing more and stops
        try:
            data = os.lseek(self.fd, here, os.SEEK_DATA)
        except OSError:  # ENXIO: only a hole is left before the end of the file
            data = end
        if data > here:
            found = [False, data - here]
        else:
            found = [True, os.lseek(self.fd, here, os.SEEK_HOLE) - here]
        os.lseek(self.fd, here, os.SEEK_SET)
        return found

    def skip(self, _stream, length, _opaque):
        return os.lseek(self.fd, length, os.SEEK_CUR)


class _FileSink(object):
    """Download callbacks writing to a local file descriptor; a hole is a seek and a truncate,
    so the file ends up as long as the volume and as sparse."""

    def __init__(self, fd):
        self.fd = fd
        self.received = 0

    def data(self, _stream, chunk, _opaque):
        self.received += len(chunk)
        view = memoryview(chunk)
        while view:
            view = view[os.write(self.fd, view):]
        return 0

    def hole(self, _stream, length, _opaque):
        os.ftruncate(self.fd, os.lseek(self.fd, length, os.SEEK_CUR))
        return 0


class _DigestSink(object):
    """Download callbacks feeding SHA-256; holes count as the zeros they read as."""

    def __init__(self):
        self.digest = hashlib.sha256()

    def data(self, _stream, chunk, _opaque):
        self.digest.update(chunk)
        return 0

    def hole(self, _stream, length, _opaque):
        while length > 0:
            self.digest.update(_ZEROS[:min(length, _CHUNK)])
            length -= _CHUNK
        return 0


def _backing_rewrite(source, backing_path, dst_conn, what):
    """The first-cluster rewrite that names ``backing_path``, keeping the backing format the image has.

    Checked before anything is made: the source is a qcow2 overlay, and a pool
    on the destination holds ``backing_path`` (else the copy would be a disk
    whose reads fall through to nothing)."""
    if source["format"] != "qcow2" or not source["backing_path"]:
        raise VmfleetError("%s: backing_path %s was given but the source is not a qcow2 overlay"
                           % (what, backing_path), path=source["path"])
    try:
        storage_volumes.volume_at(dst_conn, backing_path, "the copy's new backing file")
    except VmfleetError as exc:
        raise exc.within(what)

    def rewrite(head):
        return qcow2_header.with_backing_file(head, backing_path, qcow2_header.backing_file(head)[1])
    return rewrite


def _local_image(local_path, what):
    """``{format, capacity_bytes}`` of an image file on the controller, read from its first bytes."""
    try:
        with open(local_path, "rb") as handle:
            head = handle.read(_HEAD_PROBE)
            size = os.fstat(handle.fileno()).st_size
    except OSError as exc:
        raise VmfleetError("%s: cannot read the file: %s" % (what, exc), path=local_path)
    if head[:4] == qcow2_header.MAGIC:
        return {"format": "qcow2", "capacity_bytes": qcow2_header.virtual_size(head)}
    return {"format": "raw", "capacity_bytes": size}


def _sparse(*conns):
    """Whether every daemon (and this binding) speaks sparse streams."""
    libvirt = libvirt_client.libvirt
    if not hasattr(libvirt, "VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM"):
        return False
    return all(conn.getLibVersion() >= _SPARSE_SINCE for conn in conns)


def _flag(name, sparse):
    return getattr(libvirt_client.libvirt, name) if sparse else 0


def _target(pool, name):
    return "%s as %s" % (storage_volumes.where(pool), name)
