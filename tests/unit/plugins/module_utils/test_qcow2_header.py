# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""qcow2_header on images that qemu-img itself made: reading the backing file, and a rewrite that is
byte for byte what `qemu-img rebase -u` writes, that qemu-img info and check accept, and that keeps
the guest's data."""

import json
import shutil
import subprocess

import pytest

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.storage.qcow2_header import (
    backing_file, cluster_size, virtual_size, with_backing_file,
)

pytestmark = pytest.mark.skipif(not (shutil.which("qemu-img") and shutil.which("qemu-io")),
                                reason="needs qemu-img and qemu-io (Debian package qemu-utils)")

NEW_BASE = "/var/lib/libvirt/vmfleet-test/elsewhere/base copy.qcow2"


def qemu_img(*args):
    return subprocess.run(("qemu-img",) + args, check=True, stdout=subprocess.PIPE,
                          universal_newlines=True).stdout


def qemu_io(image, command):
    """Run one qemu-io command on an image (opened read-only); its exit status and output."""
    result = subprocess.run(["qemu-io", "-r", "-c", command, image], check=False, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True)
    return result.returncode, result.stdout


def info(image):
    return json.loads(qemu_img("info", "--output=json", image))


def check(image):
    """`qemu-img check` of the image alone: its new backing file need not exist here."""
    alone = {"driver": "qcow2", "file": {"driver": "file", "filename": image}, "backing": None}
    qemu_img("check", "-q", "json:" + json.dumps(alone))


@pytest.fixture
def base(tmp_path):
    path = str(tmp_path / "base.qcow2")
    qemu_img("create", "-q", "-f", "qcow2", path, "64M")
    return path


def overlay(tmp_path, base_path, *options):
    path = str(tmp_path / "overlay.qcow2")
    qemu_img("create", "-q", "-f", "qcow2", "-b", base_path, "-F", "qcow2", *(options + (path,)))
    return path


def read(path):
    with open(path, "rb") as handle:
        return handle.read()


def rewritten(path, new_path, fmt):
    """A copy of the image at ``path + '.ours'`` with its first cluster replaced by with_backing_file."""
    data = bytearray(read(path))
    size = cluster_size(data)
    data[:size] = with_backing_file(bytes(data[:size]), new_path, fmt)
    with open(path + ".ours", "wb") as handle:
        handle.write(data)
    return path + ".ours"


def rebased_by_qemu(path, new_path, fmt):
    copy = path + ".qemu"
    shutil.copyfile(path, copy)
    qemu_img("rebase", "-u", "-f", "qcow2", "-b", new_path or "", *(("-F", fmt) if fmt else ()), copy)
    return copy


@pytest.mark.parametrize("options", [(), ("-o", "compat=0.10")], ids=["v3", "v2"])
def test_reads_the_backing_file_and_format(tmp_path, base, options):
    header = read(overlay(tmp_path, base, *options))
    assert backing_file(header) == (base, "qcow2")
    assert header[4:8] == (b"\0\0\0\2" if options else b"\0\0\0\3")
    assert virtual_size(header) == 64 << 20


def test_base_without_backing_file(base):
    assert backing_file(read(base)) == (None, None)


def test_backing_file_without_recorded_format(tmp_path, base):
    """qemu-img no longer writes such images (it wants -F), older ones exist: qemu probes the format."""
    ours = rewritten(overlay(tmp_path, base), base, None)
    assert backing_file(read(ours)) == (base, None)
    found = info(ours)
    assert found["backing-filename"] == base and "backing-filename-format" not in found
    check(ours)


@pytest.mark.parametrize("options", [(), ("-o", "compat=0.10"), ("-o", "cluster_size=4096")],
                         ids=["v3", "v2", "4k-clusters"])
@pytest.mark.parametrize("new_path, fmt", [(NEW_BASE, "qcow2"), ("/b.raw", "raw"), ("/b", "qcow2"), (None, None)],
                         ids=["longer", "raw", "shorter", "removed"])
def test_rewrite_is_what_qemu_img_rebase_unsafe_writes(tmp_path, base, options, new_path, fmt):
    path = overlay(tmp_path, base, *options)
    ours = rewritten(path, new_path, fmt)
    assert read(ours) == read(rebased_by_qemu(path, new_path, fmt))
    assert backing_file(read(ours)) == (new_path, fmt)
    check(ours)


def test_qemu_img_reads_the_new_backing_file(tmp_path, base):
    ours = rewritten(overlay(tmp_path, base), NEW_BASE, "qcow2")
    found = info(ours)
    assert found["backing-filename"] == NEW_BASE
    assert found["backing-filename-format"] == "qcow2"
    assert found["virtual-size"] == 64 << 20


def test_guest_data_survives_a_move_to_another_base_path(tmp_path, base):
    """Written data, and the base's data below it, read the same through the re-pointed copy."""
    subprocess.run(["qemu-io", "-c", "write -P 0x11 0 4M", base], check=True, stdout=subprocess.DEVNULL)
    path = overlay(tmp_path, base)
    subprocess.run(["qemu-io", "-c", "write -P 0x5a 1M 1M", path], check=True, stdout=subprocess.DEVNULL)
    moved_base = str(tmp_path / "moved" / "base.qcow2")
    (tmp_path / "moved").mkdir()
    shutil.copyfile(base, moved_base)
    ours = rewritten(path, moved_base, "qcow2")
    assert qemu_io(ours, "read -P 0x5a 1M 1M")[0] == 0
    assert qemu_io(ours, "read -P 0x11 0 1M")[0] == 0  # from the base, through the new path
    subprocess.run(["qemu-img", "compare", "-q", path, ours], check=True)
    check(ours)


def test_refuses_a_name_that_does_not_fit_before_the_first_data_structure(tmp_path, base):
    path = overlay(tmp_path, base, "-o", "cluster_size=512")
    head = read(path)[:512]
    long_path = "/var/lib/libvirt/" + "d" * 400 + "/base.qcow2"
    with pytest.raises(VmfleetError) as err:
        with_backing_file(head, long_path, "qcow2")
    assert "does not fit in the qcow2 header" in err.value.message
    assert "cluster_size 512" in err.value.message
    assert err.value.details["room"] == 512
    assert with_backing_file(head, "/short.qcow2", "qcow2")[:4] == b"QFI\xfb"  # a short one fits


def test_refuses_a_name_longer_than_the_spec_allows(tmp_path, base):
    head = read(overlay(tmp_path, base))[:65536]
    with pytest.raises(VmfleetError, match="at most 1023"):
        with_backing_file(head, "/" + "x" * 1023, "qcow2")


def test_refuses_a_file_that_is_not_qcow2(tmp_path):
    raw = tmp_path / "disk.raw"
    raw.write_bytes(b"\0" * 65536)
    for call in (lambda: backing_file(read(str(raw))), lambda: with_backing_file(read(str(raw)), "/b", "qcow2")):
        with pytest.raises(VmfleetError, match="not a qcow2 image"):
            call()


def test_refuses_less_than_the_first_cluster(tmp_path, base):
    head = read(overlay(tmp_path, base))[:4096]
    with pytest.raises(VmfleetError, match="whole first cluster"):
        with_backing_file(head, "/b.qcow2", "qcow2")


def test_refuses_a_format_name_that_is_not_one(tmp_path, base):
    head = read(overlay(tmp_path, base))[:65536]
    with pytest.raises(VmfleetError, match="not a disk format name"):
        with_backing_file(head, "/b.qcow2", "qcow2; rm -rf")
