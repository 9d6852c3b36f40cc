# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet state store option (module_utils/state/url.py STATE_URL_ARGSPEC; docs/state-store.md)."""

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  state_url:
    description:
      - The fleet state store, where cordons, claims in flight, the migration journal and drains are kept
        for every controller to see (docs/state-store.md).
      - V(sqlite:///ABSOLUTE/PATH.db) (or an absolute path) for a SQLite file on the machine that runs the
        module, for one controller; V(postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE) for AWX, execution
        environments and several controllers.
      - When not given, the environment variable E(VMFLEET_STATE_URL) is used (an AWX custom credential
        injects it), then the SQLite file C(/var/lib/vmfleet/state.db) for root, else
        C(~/.local/state/vmfleet/state.db).
      - The password is never shown in a result, an error or a log line.
    type: str
requirements:
  - psycopg (3) for a PostgreSQL store
"""
