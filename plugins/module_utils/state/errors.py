# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the fleet state store raises: each names the store by its redacted URL
(never a password) and says what to check or do."""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError


class StoreError(VmfleetError):
    """The state store failed; ``store`` is its URL without the password."""

    def __init__(self, message, store=None, **details):
        super().__init__(message, store=store, **details)


class StoreUnreachable(StoreError):
    """The database could not be opened: raised before anything changed."""


class StoreBusy(StoreError):
    """A lock of the store (a host's claim section, the fleet section, a drain) was not granted in time."""


class SchemaTooNew(StoreError):
    """The database was written by a newer collection than this one: it is left alone."""

    def __init__(self, store, found, known):
        super().__init__(
            "the fleet state store %s has schema version %s, newer than the %s this collection knows: "
            "upgrade the vmfleet.compute collection on this controller (or execution environment) to the "
            "version the other controllers run; nothing was changed" % (store, found, known),
            store=store, schema_version=found, known_version=known)


class MissingDependency(StoreError):
    """A Python package the chosen backend needs is not installed where the module runs."""
