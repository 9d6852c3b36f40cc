# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report of a host drain: per guest from, to, kind, duration, downtime,
data, attempts and result; a summary; and the same as a plain-text table for
people (the dict is the JSON AWX keeps)."""

from __future__ import annotations

import time

from ansible_collections.vmfleet.compute.plugins.module_utils import states

COLUMNS = ("GUEST", "FROM", "TO", "KIND", "RESULT", "TIME s", "DOWNTIME ms", "DATA MiB", "TRIES")


class DrainReport(object):
    """What a drain did (or, in check mode, plans), per guest and in sum."""

    def __init__(self, host_name, items, settled, cordoned, title=None):
        self.host, self.items, self.settled, self.cordoned = host_name, items, settled, cordoned
        self.title = title  # the table's first words; default "drain of <host>"
        self.remaining, self.result, self.duration = None, None, None

    def finish(self, result, started):
        self.result, self.duration = result, round(time.monotonic() - started, 2)
        return self.to_dict()

    def to_dict(self):
        guests = [item.to_dict(self.host) for item in self.items]
        moved = [g for g in guests if g["result"] == states.GUEST_MIGRATED]
        downtimes = [g["downtime_ms"] for g in moved if g["downtime_ms"] is not None]
        return {
            "host": self.host,
            "result": self.result,
            "cordoned_now": self.cordoned,
            "guests": guests,
            "settled": self.settled,
            "remaining": self.remaining,
            "summary": {
                "guests": len(guests),
                "migrated": len(moved),
                "live": len([g for g in moved if g["kind"] == states.LIVE]),
                "cold": len([g for g in moved if g["kind"] == states.COLD]),
                "failed": len([g for g in guests if g["result"] == states.GUEST_FAILED]),
                "not_moved": len([g for g in guests if g["result"] == states.GUEST_NOT_MOVED]),
                "retried": len([g for g in guests if len(g["attempts"]) > 1]),
                "duration_s": self.duration,
                "data_bytes": sum(g["data_bytes"] or 0 for g in moved),
                "max_downtime_ms": max(downtimes) if downtimes else None,
            },
            "table": render_table(self.host, self.result, guests, title=self.title),
        }


def render_table(host, result, guests, title=None):
    """The report as lines of text: one row per guest, then why the failed ones failed."""
    rows = [COLUMNS]
    for guest in guests:
        rows.append((guest["guest"], guest["from"], guest["to"] or "-", guest["kind"], guest["result"],
                     _figure(guest["duration_s"]), _figure(guest["downtime_ms"]),
                     _figure(guest["data_bytes"] / 1048576.0 if guest["data_bytes"] is not None else None),
                     str(len(guest["attempts"]))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ["%s: %s" % (title or "drain of %s" % host, result)]
    lines.extend("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)
    for guest in guests:
        why = guest.get("error") or guest.get("reason")
        if why and guest["result"] != states.GUEST_MIGRATED:
            lines.append("%s: %s" % (guest["guest"], why))
    return lines


def _figure(value):
    if value is None:
        return "-"
    return "%d" % value if float(value).is_integer() else "%.1f" % value
