# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Import the state folders of earlier vmfleet.compute versions into the fleet state store, once.

    python3 tools/import_state_folders.py [--url URL] [--dry-run] HOST=FOLDER [HOST=FOLDER ...]

The store is --url, else VMFLEET_STATE_URL, else the default SQLite file
(docs/state-store.md). Prints, per host, what was imported (or, with
--dry-run, would be); exits 1 with the reason when it cannot. What is
imported, and when a folder is refused: plugins/module_utils/state/import_folders.py.
Runs from a checkout or from the installed collection (it finds
``ansible_collections`` above itself).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _make_collection_importable():
    """Installed (.../ansible_collections/vmfleet/compute/tools): the folder above ansible_collections; a
    checkout: the link tests/conftest.py keeps in .build/collections."""
    parts = COLLECTION_ROOT.split(os.sep)
    if parts[-3:-2] == ["ansible_collections"]:
        sys.path.insert(0, os.sep.join(parts[:-3]) or os.sep)
    else:
        sys.path.insert(0, os.path.join(COLLECTION_ROOT, "tests"))
        import conftest  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--url", help="the store's URL (default: VMFLEET_STATE_URL, else the default SQLite file)")
    parser.add_argument("--dry-run", action="store_true", help="count what would be imported, change nothing")
    parser.add_argument("folders", nargs="+", metavar="HOST=FOLDER")
    args = parser.parse_args(argv)
    _make_collection_importable()
    # pylint: disable=import-outside-toplevel
    from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput, VmfleetError
    from ansible_collections.vmfleet.compute.plugins.module_utils.state import open_store
    from ansible_collections.vmfleet.compute.plugins.module_utils.state.import_folders import import_folders
    try:
        folders = {}
        for item in args.folders:
            host, sep, folder = item.partition("=")
            if not sep or not host:
                raise InvalidInput("folders", item, "HOST=FOLDER")
            folders[host] = folder
        with open_store(args.url) as store:
            print(json.dumps(import_folders(store, folders, args.dry_run), indent=2, sort_keys=True))
    except VmfleetError as exc:
        print("import_state_folders: %s" % exc.message, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
