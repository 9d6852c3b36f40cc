#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: migration_info
short_description: List the fleet's migrations from the migration journal, like nova migration-list
version_added: 0.1.0
description:
  - Reads the migration journal in the fleet state store (O(state_url); one record per live migration, cold
    migration or resize, written as the move goes by M(vmfleet.compute.live_migrate), M(vmfleet.compute.resize)
    and the drains of M(vmfleet.compute.host_maintenance), from any controller) and returns the migrations,
    newest first, with the filters given.
  - Connects to no libvirt daemon and changes nothing, but for importing state folders of an earlier version
    once (O(state_dirs)).
author:
  - vmfleet.compute contributors (@vmfleet)
extends_documentation_fragment:
  - vmfleet.compute.fleet_state
options:
  hosts:
    description:
      - Only the migrations out of or into these hosts, each given as its facts (M(vmfleet.compute.hypervisor_info)'s
        C(hypervisor) or its registered result) or its entry (the filter C(vmfleet.compute.inventory_host)).
        Empty lists the whole fleet's.
      - A host given with a state folder of an earlier version (C(state_dir)) has it imported into the store once.
    type: list
    elements: raw
  state_dirs:
    description:
      - "State folders of an earlier version, by host name: C({hv1: /var/lib/vmfleet/state}); each is imported
        into the store once (docs/state-store.md), so no journal recorded there is lost."
    type: dict
  guest:
    description: Only the migrations of this guest.
    type: str
  host:
    description: Only the migrations from or to this host.
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
        V(confirmed) or V(reverted); V(completed) for a finished live or cold migration; V(error) when it failed.
    type: list
    elements: str
    choices: [migrating, finished, confirmed, reverted, completed, error]
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
  - With the default SQLite store the journal is on the machine that runs the module; AWX and several
    controllers share a PostgreSQL store (docs/state-store.md).
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

- name: The last three resizes of db1, from the fleet's PostgreSQL store
  vmfleet.compute.migration_info:
    state_url: "{{ vmfleet_state_url }}"
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
      migration's C(storage) mode and C(claim_id), are returned as they are).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The migration's id (the name of its record file).
      type: str
      sample: 0306611b-0869-4a1d-ba4e-693201d09e89
    guest:
      description: The guest moved.
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
      choices: [migrating, finished, confirmed, reverted, completed, error]
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
      description: Why it failed, and what was left where.
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
      sample: {migrating: 0, finished: 0, confirmed: 2, reverted: 0, completed: 0, error: 0}
    by_kind:
      description: Migrations per kind (V(unknown) for a record without one); every kind is present.
      type: dict
      sample: {live: 0, cold: 0, resize: 2}
store:
  description: The fleet state store read, in words (never its URL, which may hold a password).
  returned: always
  type: str
  sample: SQLite file /var/lib/vmfleet/state.db
imported:
  description: The state folders of an earlier version imported by this task, by host name; empty normally.
  returned: always
  type: dict
"""

from ansible_collections.vmfleet.compute.plugins.module_utils import states
from ansible_collections.vmfleet.compute.plugins.module_utils.migration import history as migration_list
from ansible_collections.vmfleet.compute.plugins.module_utils.module import VmfleetModule
from ansible_collections.vmfleet.compute.plugins.module_utils.state import import_folders
from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store
from ansible_collections.vmfleet.compute.plugins.module_utils.state.url import STATE_URL_ARGSPEC


def argument_spec():
    return dict(
        hosts=dict(type="list", elements="raw"),
        state_dirs=dict(type="dict"),
        **STATE_URL_ARGSPEC,
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
    with open_store(params["state_url"]) as store:
        imported = {}
        for name, folder in sorted(migration_list.legacy_folders(params["hosts"], params["state_dirs"]).items()):
            outcome = import_folders.import_folder(store, name, import_folders.checked_folder(name, folder))
            if outcome.get("imported"):
                imported[name] = folder
        filters = dict((field, params[field]) for field in migration_list.FILTERS)
        records = migration_list.collect(store, migration_list.host_names(params["hosts"]), **filters)
        where = store.url.describe()
    matched = migration_list.filter_records(records, **dict(filters, limit=0))
    selected = migration_list.filter_records(matched, limit=params["limit"])
    return dict(changed=bool(imported), migrations=selected,
                summary=migration_list.summarize(selected, len(matched)), store=where, imported=imported)


def main():
    module = VmfleetModule(argument_spec(), needs_libvirt=False)
    module.run(run, module.params)


if __name__ == "__main__":
    main()
