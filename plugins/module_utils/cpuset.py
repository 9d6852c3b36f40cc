# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CPU list syntax shared by libvirt (``cpuset="0-3,^2"``) and Nova
(``cpu_dedicated_set = "4-12,^8,15"``).

One parser for both, so that a set written in an inventory and a set read
from domain XML mean exactly the same thing.
"""

from __future__ import annotations

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput


def parse_cpuset(text, field="cpuset"):
    """Return the sorted list of CPU ids that ``text`` names.

    Accepts ``"0-3,8,^2"``, a single int, a list of ints, or None/"" (empty).
    Exclusions (``^N`` or ``^N-M``) apply to the whole set, whatever their
    position, as libvirt and Nova both do.
    """
    if text is None:
        return []
    if isinstance(text, bool):
        raise InvalidInput(field, text, "a CPU list such as '0-3,^2,8'")
    if isinstance(text, int):
        return _checked([text], field, text)
    if isinstance(text, (list, tuple, set, frozenset)):
        ids = []
        for item in text:
            ids.extend(parse_cpuset(item, field))
        return sorted(set(ids))
    include, exclude = set(), set()
    for raw in str(text).split(","):
        part = raw.strip()
        if not part:
            continue
        target = include
        if part.startswith("^"):
            target = exclude
            part = part[1:].strip()
        target.update(_parse_range(part, field, text))
    return sorted(include - exclude)


def _parse_range(part, field, whole):
    allowed = "a CPU list such as '0-3,^2,8' (ranges low-high, '^' excludes)"
    if "-" in part:
        low, sep, high = part.partition("-")
        try:
            low_id, high_id = int(low), int(high)
        except ValueError:
            raise InvalidInput(field, whole, allowed)
        if low_id > high_id:
            raise InvalidInput(field, whole, allowed + "; range %s is reversed" % part)
        return _checked(range(low_id, high_id + 1), field, whole)
    try:
        return _checked([int(part)], field, whole)
    except ValueError:
        raise InvalidInput(field, whole, allowed)


def _checked(ids, field, whole):
    ids = list(ids)
    if any(i < 0 for i in ids):
        raise InvalidInput(field, whole, "CPU ids of 0 or more")
    return ids


def format_cpuset(ids):
    """Render CPU ids in the compact libvirt form: ``[0,1,2,5]`` -> ``"0-2,5"``."""
    ordered = sorted(set(int(i) for i in ids))
    parts = []
    start = prev = None
    for cpu in ordered:
        if start is None:
            start = prev = cpu
        elif cpu == prev + 1:
            prev = cpu
        else:
            parts.append(_span(start, prev))
            start = prev = cpu
    if start is not None:
        parts.append(_span(start, prev))
    return ",".join(parts)


def _span(start, end):
    return str(start) if start == end else "%d-%d" % (start, end)
