# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.host.resource_tracker import track_resources
from ansible_collections.vmfleet.compute.plugins.module_utils.host.settings import normalize_host_config
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.capabilities_xml import parse_capabilities
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.domain_xml import parse_domain
from ansible_collections.vmfleet.compute.tests.unit.plugins.module_utils.xml_factory import (
    capabilities_xml,
    domain_xml,
)

GIB = 1024 ** 3
# 2 sockets x 8 cores x 2 threads in 2 cells, 64 GiB per cell, 2M and 1G pages.
HOST = parse_capabilities(capabilities_xml(hugepages={2048: 1024, 1048576: 4}))
CPU_IDS = [cpu["id"] for cell in HOST["cells"] for cpu in cell["cpus"]]
MEMORY_MB = 131072
POOLS = [
    {"name": "default", "type": "dir", "active": True, "path": "/var/lib/libvirt/images",
     "capacity_bytes": 500 * GIB + 123, "allocation_bytes": 0, "available_bytes": 500 * GIB},
    {"name": "shared-nfs", "type": "netfs", "active": True, "path": "/mnt/nfs",
     "capacity_bytes": 10000 * GIB, "allocation_bytes": 0, "available_bytes": 10000 * GIB},
]


def guest(disk_bytes=(), pool="default", state="running", **kwargs):
    """A parsed guest whose disks have the given virtual sizes."""
    disks = [{"source": "/var/lib/libvirt/images/%s-%d.qcow2" % (kwargs.get("name", "vm1"), i),
              "target": "vd" + "abcdefgh"[i]} for i in range(len(disk_bytes))]
    parsed = parse_domain(domain_xml(disks=disks, **kwargs))
    parsed["state"] = state
    for disk, size in zip(parsed["disks"], disk_bytes):
        disk["capacity_bytes"], disk["allocation_bytes"], disk["pool"] = size, 200704, pool
    return parsed


def track(guests, **config):
    return track_resources(CPU_IDS, HOST["cells"], MEMORY_MB, guests, POOLS, normalize_host_config(config))


def test_empty_host_with_nova_defaults():
    resources = track([])["resources"]
    assert resources == {
        "vcpus": 32, "vcpus_used": 0,
        "memory_mb": 131072, "memory_mb_used": 512, "free_ram_mb": 130560,
        "local_gb": 500, "local_gb_used": 0, "free_disk_gb": 500,
        "pcpus": 32, "pcpus_used": 0, "shared_cpus": list(range(32)), "shared_vcpus_used": 0,
        "vcpus_limit": 128.0, "memory_mb_limit": 131072.0, "local_gb_limit": 500.0,
        "running_vms": 0, "io_ops": 0,
    }
    assert resources["memory_mb"] == resources["memory_mb_used"] + resources["free_ram_mb"]


def test_reservations_and_ratios():
    resources = track([], reserved_host_memory_mb=4096, reserved_host_disk_mb=1500, reserved_host_cpus=2,
                      cpu_allocation_ratio=16.0, ram_allocation_ratio=1.5, disk_allocation_ratio=2.0)["resources"]
    assert resources["memory_mb_used"] == 4096
    assert resources["free_ram_mb"] == 131072 - 4096
    assert resources["local_gb_used"] == 2  # 1500 MiB rounds up to 2 GiB
    assert resources["free_disk_gb"] == 498
    assert resources["vcpus_limit"] == (32 - 2) * 16.0
    assert resources["memory_mb_limit"] == 131072 * 1.5
    assert resources["local_gb_limit"] == 1000.0


def test_guests_count_what_they_were_given_running_or_not():
    guests = [
        guest(name="a", vcpus=4, memory_mib=8192, current_memory_mib=2048, disk_bytes=[10 * GIB]),
        guest(name="b", vcpus=2, memory_mib=4096, disk_bytes=[GIB + 1, 1], state="shutoff"),
    ]
    counted = track(guests)
    assert counted["guest_usage"] == [{"vcpus": 4, "memory_mb": 8192, "disk_gb": 10},
                                      {"vcpus": 2, "memory_mb": 4096, "disk_gb": 3}]
    resources = counted["resources"]
    assert resources["vcpus_used"] == 6 and resources["shared_vcpus_used"] == 6
    assert resources["memory_mb_used"] == 512 + 8192 + 4096
    assert resources["local_gb_used"] == 13  # per-disk ceil: 10 + 2 + 1
    assert resources["free_disk_gb"] == 500 - 13
    assert resources["running_vms"] == 2


def test_overcommit_reports_negative_free():
    guests = [guest(name="big%d" % i, vcpus=64, memory_mib=65536, disk_bytes=[300 * GIB]) for i in range(3)]
    resources = track(guests)["resources"]
    assert resources["free_ram_mb"] == 131072 - 512 - 3 * 65536
    assert resources["free_ram_mb"] < 0
    assert resources["free_disk_gb"] == 500 - 900
    assert resources["vcpus_used"] == 192 > resources["vcpus_limit"]


def test_disks_outside_instance_pools_and_cdroms_are_not_local():
    shared = guest(name="nfs", disk_bytes=[40 * GIB], pool="shared-nfs")
    loose = guest(name="loose", disk_bytes=[5 * GIB], pool=None)
    cdrom = parse_domain(domain_xml(name="cd", disks=[{"source": "/x.iso", "target": "sda", "device": "cdrom"}]))
    cdrom["disks"][0]["capacity_bytes"] = 3 * GIB
    counted = track([shared, loose, cdrom])
    assert [u["disk_gb"] for u in counted["guest_usage"]] == [0, 5, 0]
    assert track([shared], instance_pools=["default", "shared-nfs"])["resources"]["local_gb"] == 10500


def test_flavor_in_metadata_is_what_counts():
    flavor = {"vcpus": 2, "memory_mb": 2048, "root_gb": 20, "ephemeral_gb": 5, "swap": 1536}
    counted = track([guest(vcpus=1, memory_mib=1024, disk_bytes=[GIB], metadata={"flavor": flavor})])
    assert counted["guest_usage"] == [{"vcpus": 2, "memory_mb": 2048, "disk_gb": 27}]


def test_pinned_cpus_leave_the_floating_pool_without_sets():
    pinned = guest(name="pinned", vcpus=2, memory_mib=2048, vcpupin={0: "2", 1: "18"}, emulatorpin="3",
                   numatune=("strict", "0"), memnodes={0: "0"}, numa_cells=[("0-1", 2048)])
    floating = guest(name="floating", vcpus=4, memory_mib=1024)
    counted = track([pinned, floating])
    resources = counted["resources"]
    assert resources["pcpus"] == 32
    assert resources["pcpus_used"] == 3  # two vCPUs and the isolated emulator thread
    assert resources["shared_cpus"] == [cpu for cpu in range(32) if cpu not in (2, 3, 18)]
    assert resources["vcpus_limit"] == 29 * 4.0
    assert resources["shared_vcpus_used"] == 4
    assert resources["vcpus_used"] == 6
    cell0, cell1 = counted["cell_usage"][0], counted["cell_usage"][1]
    assert cell0 == {"pinned_cpus": [2, 3, 18], "memory_mb_used": 2048, "pages_used": {}, "shared_vcpus_used": 0}
    assert cell1 == {"pinned_cpus": [], "memory_mb_used": 0, "pages_used": {}, "shared_vcpus_used": 0}


def test_emulator_sharing_the_guests_cpus_is_not_extra():
    pinned = guest(vcpus=2, vcpupin={0: "2", 1: "3"}, emulatorpin="2-3")
    assert track([pinned])["resources"]["pcpus_used"] == 2


def test_dedicated_and_shared_sets_fix_the_pools():
    pinned = guest(name="pinned", vcpus=2, vcpupin={0: "8", 1: "9"})
    floating = guest(name="floating", vcpus=3, vcpupin={0: "0-3", 1: "0-3", 2: "0-3"})
    resources = track([pinned, floating], cpu_dedicated_set="8-15", cpu_shared_set="0-3",
                      reserved_host_cpus=1)["resources"]
    assert resources["pcpus"] == 8 and resources["pcpus_used"] == 2
    assert resources["shared_cpus"] == [0, 1, 2, 3]
    assert resources["vcpus_limit"] == (4 - 1) * 4.0
    assert resources["shared_vcpus_used"] == 3


def test_only_one_set_given():
    only_dedicated = track([], cpu_dedicated_set="16-31")["resources"]
    assert only_dedicated["pcpus"] == 16 and only_dedicated["shared_cpus"] == list(range(16))
    only_shared = track([], cpu_shared_set="0-3")["resources"]
    assert only_shared["pcpus"] == 28 and only_shared["shared_cpus"] == [0, 1, 2, 3]


def test_mixed_guest_counts_its_floating_part_as_shared():
    mixed = guest(vcpus=4, vcpupin={0: "4", 1: "5", 2: "0-3,8-15", 3: "0-3,8-15"})
    resources = track([mixed])["resources"]
    assert mixed["cpu_policy"] == "mixed"
    assert resources["pcpus_used"] == 2 and resources["shared_vcpus_used"] == 2


def test_hugepage_guest_cells_use_pages_per_host_cell():
    huge = guest(name="huge", vcpus=4, memory_mib=4096, hugepage_kb=2048, memnodes={0: "1", 1: "0"},
                 numa_cells=[("0-1", 1024), ("2-3", 3072)])
    gig = guest(name="gig", vcpus=2, memory_mib=2048, hugepage_kb=1048576, numatune=("strict", "1"))
    usage = track([huge, gig])["cell_usage"]
    assert usage[1]["pages_used"] == {"2048": 512, "1048576": 2}
    assert usage[0]["pages_used"] == {"2048": 1536}
    assert usage[1]["memory_mb_used"] == 1024 + 2048 and usage[0]["memory_mb_used"] == 3072
    assert usage[1]["shared_vcpus_used"] == 2 + 2 and usage[0]["shared_vcpus_used"] == 2


def test_shared_policy_pins_are_not_ownership():
    floating = guest(vcpus=1, vcpupin={0: "7"}, metadata={"request": {"cpu_policy": "shared"}})
    resources = track([floating])["resources"]
    assert resources["pcpus_used"] == 0 and resources["shared_vcpus_used"] == 1


def test_inactive_instance_pool_has_no_capacity():
    pools = [dict(POOLS[0], active=False)]
    counted = track_resources(CPU_IDS, HOST["cells"], MEMORY_MB, [], pools, normalize_host_config({}))
    assert counted["resources"]["local_gb"] == 0


def test_floating_cpus_say_where_each_guest_may_float():
    floating = guest(vcpus=2, vcpupin={0: "1", 1: "2-3"}, emulatorpin="1-3")  # no flavor: vCPU 0 owns CPU 1
    anywhere = guest(vcpus=1)
    dedicated = guest(vcpus=2, vcpupin={0: "4", 1: "5"}, emulatorpin="4-5")
    isolated = guest(vcpus=1, vcpupin={0: "6"}, emulatorpin="7")
    mixed = guest(vcpus=2, vcpupin={0: "4"}, emulatorpin="4,8-9")
    mixed["cpu_policy"] = "mixed"
    mixed["vcpupin"].append({"vcpu": 1, "cpus": [8, 9]})
    shared_one = guest(vcpus=1, vcpupin={0: "1"}, emulatorpin="1")
    shared_one["cpu_policy"] = "shared"   # pinned 1:1 but floating by its flavor: the CPU stays in the pool
    guests = [floating, anywhere, dedicated, isolated, mixed, shared_one]
    track(guests)
    assert [g["floating_cpus"] for g in guests] == [[2, 3], sorted(CPU_IDS), [], [], [8, 9], [1]]
