# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests never touch the user's fleet state store: modules they run without ``state_url`` get a
SQLite file of the test session (the default would be /var/lib/vmfleet/state.db as root)."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest


@pytest.fixture(scope="session", autouse=True)
def session_state_store():
    folder = tempfile.mkdtemp(prefix="vmfleet-unit-state-")
    previous = os.environ.get("VMFLEET_STATE_URL")
    os.environ["VMFLEET_STATE_URL"] = "sqlite://%s" % os.path.join(folder, "state.db")
    yield os.environ["VMFLEET_STATE_URL"]
    if previous is None:
        os.environ.pop("VMFLEET_STATE_URL", None)
    else:
        os.environ["VMFLEET_STATE_URL"] = previous
    shutil.rmtree(folder, ignore_errors=True)
