#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: migration_info
short_description: List the fleet's migrations from the hosts' migration journals, like nova migration-list
version_added: 0.1.0
description:
  - Reads the migration journal of each host (C(<state_dir>/journal/<id>.json), one record per live migration,
    cold migration or resize, written by M(vmfleet.compute.resize) and the other moves of the collection) and
    returns the migrations, newest first, with the filters given.
  - A move is recorded in the journal of its source and of its destination, and each copy is updated on its own.
    The copies are merged by id into one record, the one furthest along (a readable copy before an unreadable
    one, then V(migrating) before V(finished) before the final statuses, then the later C(finished_at)), and
    RV(migrations[].journals) lists the hosts that hold it.
  - A record file that cannot be read is listed with status V(unreadable) and the reason in
    RV(migrations[].error), unless another host holds a readable copy; RV(migrations[].unreadable_in) names the
    hosts whose copy is broken.
  - Read-only; connects to no libvirt daemon and changes nothing.
author:
  - vmfleet.compute contributors (@vmfleet)
options:
  hosts:
    description:
      - Host facts as M(vmfleet.compute.hypervisor_info) returns them under C(hypervisor) (a registered result
        holding C(hypervisor) is accepted too), gathered with O(vmfleet.compute.hypervisor_info#module:state_dir);
        each host's journal is read from C(maintenance.state_dir) of its facts.
      - At least one of O(hosts) and O(state_dirs) is required.
    type: list
    elements: raw
  state_dirs:
    description:
      - "The state folders to read, by host name: C({hv1: /var/lib/vmfleet/state}), for when the facts are not at
        hand (inventory C(vmfleet_state_dir))."
      - For a host also in O(hosts), this folder is read instead of the one of its facts.
    type: dict
  guest:
    description: Only the migrations of this guest.
    type: str
  host:
    description: Only the migrations from or to this host (or held in its journal).
    type: str
  source:
    description: Only the migrations from this host.
    type: str
  destination:
    description: Only the migrations to this host.
    type: str
  kind:
    description: Only the migrations of these kinds. Empty lists every kind.
    type: list
    elements: str
    choices: [live, cold, resize]
  status:
    description:
      - Only the migrations with these statuses. Empty lists every status.
      - V(migrating) while the move runs; V(finished) for a resize waiting for confirm or revert, then
        V(confirmed) or V(reverted); V(completed) for a finished live or cold migration; V(error) when it failed;
        V(unreadable) for a record file that cannot be read.
    type: list
    elements: str
    choices: [migrating, finished, confirmed, reverted, completed, error, unreadable]
  id:
    description: Only the migration with this id.
    type: str
  since:
    description:
      - Only the migrations started at or after this time, ISO 8601 in UTC, such as V(2026-11-21T08:30:00Z) or
        V(2026-11-21); a time with an offset is converted to UTC.
    type: str
  limit:
    description: The newest N migrations left after filtering; V(0) returns them all.
    type: int
    default: 0
attributes:
  check_mode:
    support: full
    description: The module changes nothing; check mode returns the same list.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
notes:
  - The journals are read on the machine that runs the module; with C(ansible_connection=local) (the lab, and
    fleets reached through remote libvirt URIs) that is the controller.
  - A state folder that does not exist, or has no journal yet, adds no migration; the module warns when a folder
    does not exist.
seealso:
  - module: vmfleet.compute.hypervisor_info
  - module: vmfleet.compute.resize
  - module: vmfleet.compute.upgrade_check
  - name: nova migration-list
    description: The command this module follows.
    link: https://docs.openstack.org/python-novaclient/latest/cli/nova.html#nova-migration-list
"""

EXAMPLES = r"""
- name: List every migration of the fleet
  vmfleet.compute.migration_info:
    hosts: "{{ fleet_facts }}"
  register: migrations

- name: Failed moves that touched hv2 since the start of the maintenance window
  vmfleet.compute.migration_info:
    hosts: "{{ fleet_facts }}"
    host: hv2
    status: [error]
    since: "2026-11-21T08:00:00Z"
  register: failed

- name: The last three resizes of db1, from the state folders of the inventory
  vmfleet.compute.migration_info:
    state_dirs: "{{ dict(groups['hypervisors'] | zip(groups['hypervisors'] | map('extract', hostvars, 'vmfleet_state_dir'))) }}"
    guest: db1
    kind: [resize]
    limit: 3

- name: Fail while a resize waits for confirmation
  ansible.builtin.assert:
    that: migrations.summary.by_status.finished == 0
"""

RETURN = r"""
migrations:
  description:
    - The migrations that pass the filters, newest first (by RV(migrations[].started_at)).
    - Each is its journal record as the move wrote it (fields not listed here, such as the guest's C(uuid) or a live
      migration's C(storage) mode and C(claim_id), are returned as they are), with RV(migrations[].journals) and
      RV(migrations[].unreadable_in) added.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The migration's id (the name of its record file).
      type: str
      sample: 0306611b-0869-4a1d-ba4e-693201d09e89
    guest:
      description: The guest moved; null for an unreadable record.
      type: str
      sample: db1
    source:
      description: The host it moved from.
      type: str
      sample: hv3
    destination:
      description: The host it moved to.
      type: str
      sample: hv1
    kind:
      description: The kind of move.
      type: str
      choices: [live, cold, resize]
      sample: resize
    status:
      description: The status of the copy kept.
      type: str
      choices: [migrating, finished, confirmed, reverted, completed, error, unreadable]
      sample: confirmed
    started_at:
      description: When it started (UTC, ISO 8601).
      type: str
      sample: "2026-11-21T08:57:40Z"
    finished_at:
      description: When it reached a status other than V(migrating); null while it runs.
      type: str
      sample: "2026-11-21T08:57:42Z"
    data_bytes:
      description: Bytes copied; null when not known.
      type: int
      sample: 196624
    downtime_ms:
      description: How long the guest was paused (live migration); null when not known.
      type: int
    error:
      description: Why it failed, and what was left where; for an unreadable record, why it cannot be read.
      type: str
    duration_s:
      description: How long a live migration took, in seconds.
      type: float
      returned: when the record has it
    old_flavor:
      description: The flavor before a resize or cold migration.
      type: str
      returned: when the record has it
      sample: web.small
    new_flavor:
      description: The flavor after it.
      type: str
      returned: when the record has it
      sample: web.medium
    cleaned_up:
      description: Whether what a failed move made was removed.
      type: bool
      returned: when the record has it
    leftovers:
      description: What a failed move could not remove.
      type: list
      elements: str
      returned: when the record has it
    progress:
      description:
        - "A running live migration's progress, as last written: C(data_total), C(data_processed),
          C(data_remaining) (bytes), C(dirty_rate), C(iteration), C(downtime_ms), C(elapsed_s), C(updated_at)."
      type: dict
      returned: when the record has it; null once the migration is over
    journals:
      description: The hosts whose journal holds a copy of the record.
      type: list
      elements: str
      sample: [hv1, hv3]
    unreadable_in:
      description: The hosts whose copy of the record cannot be read; empty normally.
      type: list
      elements: str
      sample: []
summary:
  description: Counts over RV(migrations).
  returned: always
  type: dict
  contains:
    total:
      description: Migrations returned.
      type: int
      sample: 2
    matched:
      description: Migrations that passed the filters, before O(limit).
      type: int
      sample: 5
    by_status:
      description: Migrations per status; every status is present, with 0 when none has it.
      type: dict
      sample: {migrating: 0, finished: 0, confirmed: 2, reverted: 0, completed: 0, error: 0, unreadable: 0}
    by_kind:
      description: Migrations per kind (V(unknown) for a record without one); every kind is present.
      type: dict
      sample: {live: 0, cold: 0, resize: 2}
state_dirs:
  description: The state folders whose journals were read, by host name.
  returned: always
  type: dict
  sample: {hv1: /var/lib/vmfleet-lab/hv1/vmfleet, hv3: /var/lib/vmfleet-lab/hv3/vmfleet}
"""

import os

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import history as migration_list
from ansible_collections.vmfleet.compute.plugins.module_utils.module import VmfleetModule


def argument_spec():
    return dict(
        hosts=dict(type="list", elements="raw"),
        state_dirs=dict(type="dict"),
        guest=dict(type="str"),
        host=dict(type="str"),
        source=dict(type="str"),
        destination=dict(type="str"),
        kind=dict(type="list", elements="str", choices=list(states.MIGRATION_KINDS)),
        status=dict(type="list", elements="str", choices=list(migration_list.STATUSES)),
        id=dict(type="str"),
        since=dict(type="str"),
        limit=dict(type="int", default=0),
    )


def run(params):
    folders = migration_list.journal_folders(params["hosts"], params["state_dirs"])
    warnings = ["host %s: state folder %s does not exist: no journal read" % (name, folders[name])
                for name in sorted(folders) if not os.path.isdir(folders[name])]
    filters = dict((field, params[field]) for field in migration_list.FILTERS)
    matched = migration_list.filter_records(migration_list.collect(folders), **dict(filters, limit=0))
    selected = migration_list.filter_records(matched, limit=params["limit"])
    return dict(changed=False, migrations=selected, summary=migration_list.summarize(selected, len(matched)),
                state_dirs=folders, warnings=warnings)


def main():
    module = VmfleetModule(argument_spec(), needs_libvirt=False, required_one_of=[("hosts", "state_dirs")])
    module.run(run, module.params)


if __name__ == "__main__":
    main()
