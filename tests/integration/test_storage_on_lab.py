# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Storage volumes, stream copies and the base image cache against the lab's real libvirt daemons.

Each test works in transient dir pools of its own, at a folder named after the test and the host
(so the base image's path differs between source and destination, as between real hosts), and
removes them, folders included, when it ends. What a guest would read is checked here, on the
controller, with qemu-img and qemu-io on downloaded copies.
"""

import hashlib
import json
import os
import shutil
import subprocess
import uuid
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import (
    HostUnreachable, InvalidInput, VmfleetError,
)
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.storage import image_cache
from ansible_collections.vmfleet.compute.plugins.module_utils.storage import volume_copy
from ansible_collections.vmfleet.compute.plugins.module_utils.storage import volumes as storage_volumes

from lab_tools import INVENTORY

BASE = "vmfleet-tiny-base.qcow2"  # in every lab host's pool "default"
MIB = 1 << 20

pytestmark = pytest.mark.skipif(not (shutil.which("qemu-img") and shutil.which("qemu-io")),
                                reason="needs qemu-img and qemu-io on the controller (qemu-utils)")


def lab_uris():
    """``{host: uri}`` from the lab's inventory (JSON, after its comment lines)."""
    try:
        with open(INVENTORY, encoding="utf-8") as handle:
            text = "".join(line for line in handle if not line.lstrip().startswith("#"))
    except OSError as exc:
        pytest.skip("no lab inventory (%s): start the lab with lab/lab up" % exc)
    hosts = json.loads(text)["all"]["children"]["hypervisors"]["hosts"]
    return {name: host["vmfleet_libvirt_uri"] for name, host in sorted(hosts.items())}


@pytest.fixture(scope="module")
def lab():
    """Open connections to the lab's hosts, ``{host: conn}``; skip when the lab is down."""
    conns = {}
    try:
        for name, uri in lab_uris().items():
            conns[name] = libvirt_client.open_connection(uri, name)
    except HostUnreachable as exc:
        for conn in conns.values():
            conn.close()
        pytest.skip("the lab is down (%s); start it with lab/lab up" % exc.message)
    if len(conns) < 2:
        pytest.skip("the lab has %d host(s); these tests move volumes between two" % len(conns))
    yield conns
    for conn in conns.values():
        conn.close()


@pytest.fixture
def hosts(lab):
    """The first two lab hosts: source and destination."""
    return sorted(lab)[:2]


@pytest.fixture
def make_pool(lab):
    """``make_pool(host, suffix="")``: a transient dir pool at /var/lib/libvirt/vmfleet-test-<uuid>-<host><suffix>."""
    made = []

    def make(host, suffix=""):
        name = "vmfleet-test-%s-%s%s" % (uuid.uuid4().hex[:12], host, suffix)
        xml = pool_xml(name, "/var/lib/libvirt/" + name)
        pool = lab[host].storagePoolCreateXML(xml, libvirt_client.libvirt.VIR_STORAGE_POOL_CREATE_WITH_BUILD)
        made.append((lab[host], pool, xml))
        return pool

    yield make
    for conn, pool, xml in reversed(made):
        remove_pool(conn, pool, xml)


@pytest.fixture
def pools(hosts, make_pool):
    """A test pool on each of the two hosts: ``(source pool, destination pool)``."""
    return make_pool(hosts[0]), make_pool(hosts[1])


def pool_xml(name, path):
    root = ET.Element("pool", type="dir")
    ET.SubElement(root, "name").text = name
    ET.SubElement(ET.SubElement(root, "target"), "path").text = path
    return ET.tostring(root, encoding="unicode")


def remove_pool(conn, pool, xml):
    """Delete the pool's volumes, stop it, and remove its folder: only an inactive, defined pool can
    delete its folder, so the same XML is defined for a moment to do that."""
    pool.refresh(0)
    for name in pool.listVolumes():
        pool.storageVolLookupByName(name).delete(0)
    pool.destroy()
    defined = conn.storagePoolDefineXML(xml, 0)
    try:
        defined.delete(0)
    finally:
        defined.undefine()


def cache_base(lab, host, pool):
    """The lab's base image in a test pool, copied from the same host's pool "default"."""
    return image_cache.ensure_base_image(lab[host], pool.name(), BASE, host, peers=[(lab[host], "default")])


def run(*args, check=True):
    return subprocess.run(args, check=check, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(MIB), b""):
            digest.update(block)
    return digest.hexdigest()


def data_bytes(path):
    """How many bytes of a local file are data, not holes (SEEK_DATA / SEEK_HOLE)."""
    total, offset, end = 0, 0, os.path.getsize(path)
    with open(path, "rb") as handle:
        while offset < end:
            try:
                start = os.lseek(handle.fileno(), offset, os.SEEK_DATA)
            except OSError:
                break
            offset = os.lseek(handle.fileno(), start, os.SEEK_HOLE)
            total += offset - start
    return total


def local_overlay(tmp_path, local_base, name, *options):
    """A qcow2 overlay made here on ``local_base``, with known data written into it by qemu-io."""
    path = str(tmp_path / name)
    run("qemu-img", "create", "-q", "-f", "qcow2", "-b", local_base, "-F", "qcow2", *(options + (path,)))
    run("qemu-io", "-c", "write -P 0x5a 0 1M", "-c", "write -P 0xa5 40M 64k", path)
    return path


def fetch_chain(overlay, base, folder):
    """Download an overlay and its base into ``folder``; point the local overlay at the local base.

    Returns ``(overlay path, qemu-img info of the overlay as downloaded)``."""
    folder.mkdir()
    local_base = volume_copy.download_file(base, str(folder / "base.qcow2"))["path"]
    local = volume_copy.download_file(overlay, str(folder / "overlay.qcow2"))["path"]
    as_downloaded = json.loads(run("qemu-img", "info", "--output=json", local).stdout)
    run("qemu-img", "rebase", "-u", "-f", "qcow2", "-b", local_base, "-F", "qcow2", local)
    return local, as_downloaded


def raw_sha256(image, folder):
    """SHA-256 of what a guest reads from the whole chain (qemu-img convert to raw)."""
    raw = str(folder / "disk.raw")
    run("qemu-img", "convert", "-O", "raw", image, raw)
    return sha256_of(raw)


def test_overlay_on_the_cached_base(lab, hosts, make_pool):
    host = hosts[0]
    pool = make_pool(host)
    base = cache_base(lab, host, pool)
    overlay = storage_volumes.create_overlay(pool, "inst.qcow2", base["path"])
    folder = os.path.dirname(base["path"])
    info = storage_volumes.describe(overlay)
    assert 0 < info.pop("allocation_bytes") < MIB  # qcow2 metadata only: reads fall through to the base
    assert info == {"name": "inst.qcow2", "path": folder + "/inst.qcow2", "format": "qcow2",
                    "capacity_bytes": 64 * MIB, "backing_path": base["path"]}
    bigger = storage_volumes.create_overlay(pool, "big.qcow2", base["path"], 1024 * MIB)
    assert storage_volumes.describe(bigger)["capacity_bytes"] == 1024 * MIB
    with pytest.raises(InvalidInput, match="at least 67108864"):
        storage_volumes.create_overlay(pool, "small.qcow2", base["path"], 32 * MIB)
    assert storage_volumes.lookup(pool, "small.qcow2") is None
    assert image_cache.base_of(overlay).path() == base["path"]
    assert image_cache.base_of(storage_volumes.lookup(pool, BASE)) is None


def test_copy_moves_guest_data_and_points_at_the_destination_base(lab, hosts, pools, tmp_path):
    (src_host, dst_host), (src_pool, dst_pool) = hosts, pools
    src_base = cache_base(lab, src_host, src_pool)
    dst_base = image_cache.ensure_base_image(lab[dst_host], dst_pool.name(), BASE, dst_host,
                                             peers=[(lab[src_host], src_pool.name())])
    assert dst_base["action"] == "copied" and dst_base["path"] != src_base["path"]
    src_base_vol, dst_base_vol = (storage_volumes.lookup(p, BASE) for p in (src_pool, dst_pool))
    assert volume_copy.volume_sha256(src_base_vol) == volume_copy.volume_sha256(dst_base_vol)

    # the instance's disk: an overlay with known data, made here, named after the source host's base
    local_base = volume_copy.download_file(src_base_vol, str(tmp_path / "base.qcow2"))["path"]
    made = local_overlay(tmp_path, local_base, "made.qcow2")
    run("qemu-img", "rebase", "-u", "-f", "qcow2", "-b", src_base["path"], "-F", "qcow2", made)
    volume_copy.upload_file(made, src_pool, "inst.qcow2")
    src_vol = storage_volumes.lookup(src_pool, "inst.qcow2")
    assert storage_volumes.describe(src_vol)["backing_path"] == src_base["path"]

    moved = volume_copy.copy_volume(src_vol, dst_pool, "inst.qcow2", backing_path=dst_base["path"])
    dst_vol = storage_volumes.lookup(dst_pool, "inst.qcow2")
    assert moved["path"] == dst_vol.path() == os.path.dirname(dst_base["path"]) + "/inst.qcow2"
    assert 0 < moved["bytes"] <= os.path.getsize(made)
    src_info, dst_info = storage_volumes.describe(src_vol), storage_volumes.describe(dst_vol)
    assert dst_info["backing_path"] == dst_base["path"]
    assert (dst_info["format"], dst_info["capacity_bytes"]) == (src_info["format"], src_info["capacity_bytes"])

    src_chain = fetch_chain(src_vol, src_base_vol, tmp_path / "src")[0]
    dst_chain, dst_downloaded = fetch_chain(dst_vol, dst_base_vol, tmp_path / "dst")
    assert dst_downloaded["backing-filename"] == dst_base["path"]
    assert dst_downloaded["backing-filename-format"] == "qcow2"
    run("qemu-img", "check", "-q", dst_chain)
    assert run("qemu-img", "compare", "-q", src_chain, dst_chain, check=False).returncode == 0
    assert raw_sha256(src_chain, tmp_path / "src") == raw_sha256(dst_chain, tmp_path / "dst")
    for pattern, offset in (("0x5a", "0 1M"), ("0xa5", "40M 64k")):
        read = run("qemu-io", "-r", "-c", "read -P %s %s" % (pattern, offset), dst_chain, check=False)
        assert read.returncode == 0 and "verification failed" not in read.stdout, read.stdout
    # and the written data really differ from the base alone
    assert run("qemu-img", "compare", "-q", local_base, dst_chain, check=False).returncode == 1


@pytest.mark.parametrize("sparse", [True, False], ids=["sparse", "plain"])
def test_raw_copy_with_holes(pools, tmp_path, monkeypatch, sparse):
    """Sparse streams send only the data; the plain fallback (daemons before libvirt 3.4) sends
    every byte; both copies are the same file."""
    if not sparse:
        monkeypatch.setattr(volume_copy, "_sparse", lambda *conns: False)
    src_pool, dst_pool = pools
    disk = str(tmp_path / "disk.raw")
    run("qemu-img", "create", "-q", "-f", "raw", disk, "64M")
    run("qemu-io", "-f", "raw", "-c", "write -P 0x33 8M 1M", disk)
    uploaded = volume_copy.upload_file(disk, src_pool, "disk.raw")
    copied = volume_copy.copy_volume(storage_volumes.lookup(src_pool, "disk.raw"), dst_pool, "disk.raw")
    # sparse: only the data travel (qemu-img also wrote the first 4 KiB); the holes go as lengths
    assert uploaded["bytes"] == copied["bytes"] == (data_bytes(disk) if sparse else 64 * MIB)
    dst = storage_volumes.lookup(dst_pool, "disk.raw")
    info = storage_volumes.describe(dst)
    assert (info["format"], info["capacity_bytes"]) == ("raw", 64 * MIB)
    assert (info["allocation_bytes"] <= 2 * MIB) is sparse
    assert volume_copy.volume_sha256(dst) == sha256_of(disk)


def test_grow_and_refuse_to_shrink(hosts, make_pool):
    pool = make_pool(hosts[0])
    volume = storage_volumes.create_blank(pool, "data.qcow2", 16 * MIB)
    assert storage_volumes.grow(volume, 32 * MIB) is True
    assert storage_volumes.grow(volume, 32 * MIB) is False
    with pytest.raises(InvalidInput, match="shrinking a disk loses the data at its end"):
        storage_volumes.grow(volume, 8 * MIB)
    assert storage_volumes.describe(volume)["capacity_bytes"] == 32 * MIB
    raw = storage_volumes.create_blank(pool, "data.raw", MIB, fmt="raw")
    assert storage_volumes.grow(raw, 2 * MIB) is True
    assert storage_volumes.describe(raw)["capacity_bytes"] == 2 * MIB
    assert storage_volumes.delete(pool, "data.raw") is True
    assert storage_volumes.delete(pool, "data.raw") is False


def test_image_cache_uploads_copies_then_reports_cached(lab, hosts, make_pool, tmp_path):
    host, peer = hosts[1], hosts[0]
    pool = make_pool(host)
    image = str(tmp_path / "image.qcow2")
    run("qemu-img", "create", "-q", "-f", "qcow2", image, "32M")
    run("qemu-io", "-c", "write -P 0x77 0 2M", image)

    planned = image_cache.ensure_base_image(lab[host], pool.name(), "image.qcow2", host, source_path=image,
                                            check_mode=True)
    assert planned["action"] == "uploaded" and storage_volumes.lookup(pool, "image.qcow2") is None
    uploaded = image_cache.ensure_base_image(lab[host], pool.name(), "image.qcow2", host, source_path=image)
    assert uploaded == dict(planned, bytes=uploaded["bytes"], seconds=uploaded["seconds"])
    assert uploaded["from"] == {"file": image}
    assert volume_copy.volume_sha256(storage_volumes.lookup(pool, "image.qcow2")) == sha256_of(image)

    peers = [(lab[peer], "no-such-pool"), (lab[peer], "default")]
    planned = image_cache.ensure_base_image(lab[host], pool.name(), BASE, host, peers=peers, check_mode=True)
    assert planned["action"] == "copied" and storage_volumes.lookup(pool, BASE) is None
    copied = image_cache.ensure_base_image(lab[host], pool.name(), BASE, host, peers=peers)
    assert copied["from"] == {"uri": lab[peer].getURI(), "pool": "default", "path": "/var/lib/libvirt/images/" + BASE}
    assert copied["path"] == planned["path"]

    again = image_cache.ensure_base_image(lab[host], pool.name(), BASE, host, peers=peers)
    assert again == {"path": copied["path"], "action": "cached"}


def test_image_cache_missing_everywhere_says_what_to_do(lab, hosts, make_pool):
    host, peer = hosts
    pool = make_pool(host)
    with pytest.raises(VmfleetError) as err:
        image_cache.ensure_base_image(lab[host], pool.name(), "nowhere.qcow2", host,
                                      peers=[(lab[peer], "default")])
    for words in ("'nowhere.qcow2'", repr(pool.name()), "host %s" % host, "image.source", "peer",
                  lab[peer].getURI()):
        assert words in err.value.message
    with pytest.raises(VmfleetError, match="storage pool 'no-such-pool' does not exist on host %s" % host):
        image_cache.ensure_base_image(lab[host], "no-such-pool", BASE, host)


def test_copy_onto_an_existing_name_fails_and_leaves_that_volume_alone(lab, hosts, pools):
    (src_host, dst_host), (src_pool, dst_pool) = hosts, pools
    overlay = storage_volumes.create_overlay(src_pool, "inst.qcow2", cache_base(lab, src_host, src_pool)["path"])
    dst_base = cache_base(lab, dst_host, dst_pool)
    storage_volumes.create_blank(dst_pool, "inst.qcow2", MIB, fmt="raw")
    before = storage_volumes.describe(storage_volumes.lookup(dst_pool, "inst.qcow2"))
    with pytest.raises(VmfleetError) as err:
        volume_copy.copy_volume(overlay, dst_pool, "inst.qcow2", backing_path=dst_base["path"])
    assert "copying %s from %s to pool %r on %s as inst.qcow2" % (
        overlay.path(), lab[src_host].getURI(), dst_pool.name(), lab[dst_host].getURI()) in err.value.message
    assert "exists already" in err.value.message
    assert storage_volumes.describe(storage_volumes.lookup(dst_pool, "inst.qcow2")) == before


def test_copy_failing_mid_stream_deletes_the_partial_volume(lab, hosts, make_pool, tmp_path):
    """The header rewrite fails after the destination volume exists and the streams are open: the
    source has 512-byte clusters and the destination's base has a long path (long folder and name)."""
    src_host, dst_host = hosts
    src_pool, dst_pool = make_pool(src_host), make_pool(dst_host, suffix="-" + "d" * 200)
    base = cache_base(lab, src_host, src_pool)
    long_base = volume_copy.copy_volume(storage_volumes.lookup(src_pool, BASE), dst_pool, "b" * 200 + ".qcow2")
    made = str(tmp_path / "small-clusters.qcow2")  # room for a name of about 370 bytes
    run("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=512", "-u", "-b", base["path"],
        "-F", "qcow2", made, "64M")
    volume_copy.upload_file(made, src_pool, "inst.qcow2")
    overlay = storage_volumes.lookup(src_pool, "inst.qcow2")
    with pytest.raises(VmfleetError) as err:
        volume_copy.copy_volume(overlay, dst_pool, "inst.qcow2", backing_path=long_base["path"])
    message = err.value.message
    assert "copying %s from %s to pool %r" % (overlay.path(), lab[src_host].getURI(), dst_pool.name()) in message
    assert "the partial copy /var/lib/libvirt/%s/inst.qcow2 was deleted" % dst_pool.name() in message
    assert "does not fit in the qcow2 header" in message
    storage_volumes.refresh(dst_pool)  # the folder itself, not only libvirt's list, holds nothing new
    assert dst_pool.listVolumes() == ["b" * 200 + ".qcow2"]
    # the same volume copied as it is: byte for byte, though its file (about 18 KiB) is shorter than a
    # fresh 64 MiB qcow2 volume's (192 KiB): an upload onto such a volume would leave its tail behind
    volume_copy.copy_volume(overlay, dst_pool, "inst.qcow2")
    copy = storage_volumes.lookup(dst_pool, "inst.qcow2")
    assert volume_copy.volume_sha256(copy) == volume_copy.volume_sha256(overlay) == sha256_of(made)


def test_copy_refuses_a_bad_backing_path_before_anything_is_made(lab, hosts, pools):
    """A source that is no overlay, or a new backing file that no pool on the destination holds."""
    src_pool, dst_pool = pools
    raw = storage_volumes.create_blank(src_pool, "disk.raw", MIB, fmt="raw")
    with pytest.raises(VmfleetError, match="is not a qcow2 overlay"):
        volume_copy.copy_volume(raw, dst_pool, "disk.raw", backing_path="/var/lib/libvirt/images/" + BASE)
    overlay = storage_volumes.create_overlay(src_pool, "inst.qcow2", cache_base(lab, hosts[0], src_pool)["path"])
    with pytest.raises(VmfleetError, match="no storage pool on %s holds /nowhere/base.qcow2" % (
            lab[hosts[1]].getURI().replace("+", "[+]"))):
        volume_copy.copy_volume(overlay, dst_pool, "inst.qcow2", backing_path="/nowhere/base.qcow2")
    assert dst_pool.listVolumes() == []
