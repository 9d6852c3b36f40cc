# -*- coding: utf-8 -*-
"""Make the checkout importable as ``ansible_collections.vmfleet.compute``.

The collection's code imports itself by its full name (as Ansible loads it).
The Makefile links the repository into ``.build/collections``; this does the
same for a bare ``pytest`` run, so tests never depend on an installed copy.
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, ".build", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "vmfleet", "compute")

if not os.path.exists(LINK):
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    os.symlink(os.path.relpath(ROOT, os.path.dirname(LINK)), LINK)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
