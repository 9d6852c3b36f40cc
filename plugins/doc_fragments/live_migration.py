# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How live migrations are driven: Nova's [libvirt] live_migration_* options, without the prefix."""

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  max_downtime:
    description:
      - Longest pause (ms) the guest may see when it switches host (Nova's C(live_migration_downtime)), reached
        through the downtime ladder; at least 100.
    type: int
    default: 500
  downtime_steps:
    description:
      - Steps of the downtime ladder (Nova's C(live_migration_downtime_steps)); at least 3.
      - "The allowed downtime starts at O(max_downtime)/steps and grows by equal steps, one every
        O(downtime_delay) seconds per GiB of data, up to O(max_downtime)."
    type: int
    default: 10
  downtime_delay:
    description:
      - Seconds per GiB of data between two ladder steps (Nova's C(live_migration_downtime_delay)); at least 3.
      - Data is the guest's RAM, plus its disks with a block migration, and counts as at least 2 GiB.
    type: int
    default: 75
  completion_timeout:
    description:
      - Seconds per GiB of data the whole migration may take (Nova's C(live_migration_completion_timeout));
        then O(timeout_action) happens. V(0) means no limit.
    type: int
    default: 800
  timeout_action:
    description:
      - What happens at the completion timeout (Nova's C(live_migration_timeout_action)).
      - V(abort) cancels the migration; the guest keeps running on its source.
      - V(force_complete) switches to post-copy when O(permit_post_copy), else pauses the guest so the last
        pages can be copied; it runs again on the destination. Post-copy moves memory only, so while a block
        migration still mirrors the disks, QEMU refuses it, and the guest is paused instead (the result's
        C(actions) say so).
    type: str
    choices: [abort, force_complete]
    default: abort
  progress_timeout:
    description:
      - Seconds without progress (the data still to copy not going down) after which the migration is aborted;
        V(0) never. Nova removed its own in Stein; the default is KubeVirt's C(progressTimeout).
      - "A peer that stops answering is not waited for: every connection the collection opens has libvirt
        keepalive (a probe every 5 s, closed after 3 unanswered: 20 s of silence), and the source daemon's own
        connection to the destination has its keepalive (C(keepalive_interval)/C(keepalive_count) in
        C(qemu.conf), 5 and 5 by default: 30 s). The migration then fails naming the host whose daemon stopped
        answering, with the guest running on its source."
    type: int
    default: 150
  bandwidth:
    description:
      - Bandwidth cap in MiB/s (Nova's C(live_migration_bandwidth)); V(0) means no cap.
    type: int
    default: 0
  permit_auto_converge:
    description:
      - Let libvirt slow the guest's vCPUs down when it dirties memory faster than it can be copied (Nova's
        C(live_migration_permit_auto_converge)). Not used together with post-copy.
    type: bool
    default: false
  permit_post_copy:
    description:
      - Allow the switch to post-copy at the completion timeout (Nova's C(live_migration_permit_post_copy)).
        The guest then runs on the destination and pulls its remaining memory from the source; a network
        failure in that phase loses the guest.
    type: bool
    default: false
  compression:
    description:
      - Compress the memory pages sent (libvirt's C(VIR_MIGRATE_COMPRESSED)); costs CPU on both hosts.
    type: bool
    default: false
  parallel_connections:
    description:
      - Connections used to send memory (libvirt's C(VIR_MIGRATE_PARALLEL)); V(1) is a normal migration.
    type: int
    default: 1
  native_tls:
    description:
      - Let QEMU encrypt the migration data itself, and a block migration's disk mirror, with TLS (Nova's
        C(live_migration_with_native_tls), libvirt's C(VIR_MIGRATE_TLS)). Without it the data goes to the
        destination's C(vmfleet_migration_address) unencrypted, whatever the transport of the libvirt URIs.
      - "Needs QEMU's x509 certificates on both hosts, in C(migrate_tls_x509_cert_dir) of C(qemu.conf) (default
        C(/etc/pki/qemu)): C(ca-cert.pem); C(server-cert.pem) and C(server-key.pem) for the address the data
        goes to; C(client-cert.pem) and C(client-key.pem). A host without them fails the migration with the host
        named and what is missing; the guest keeps running on its source."
      - The result's C(migration.native_tls) says whether the data went over TLS.
    type: bool
    default: false
"""
