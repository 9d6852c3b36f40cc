# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drain report: the dict AWX keeps, its summary, and the text table for people."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.vmfleet.compute.plugins.module_utils.maintenance.drain_plan import DrainItem
from ansible_collections.vmfleet.compute.plugins.module_utils.maintenance.drain_report import (
    COLUMNS, DrainReport, render_table)
from ansible_collections.vmfleet.compute.plugins.module_utils.states import COLD, LIVE

MIB = 1048576


def item(name, kind=LIVE, result=None, destination="hv2", attempts=1, refusal=None, **outcome):
    """A DrainItem as the executor leaves it: ``attempts`` tries, the last one with ``result``."""
    drained = DrainItem(name, kind, destination=None if refusal else destination, refusal=refusal)
    drained.result = result
    for number in range(attempts if result else 0):
        drained.attempts.append({"host": "hv%d" % (number + 2), "result": result if number == attempts - 1 else "x"})
    drained.outcome.update(outcome)
    return drained


def mixed_report():
    items = [
        item("web1", result="migrated", duration_s=12.25, downtime_ms=38, data_bytes=3 * MIB),
        item("web2", result="migrated", attempts=2, duration_s=40, downtime_ms=120, data_bytes=MIB // 2),
        item("db1", COLD, result="migrated", duration_s=61, downtime_ms=None, data_bytes=None),
        item("batch", result="failed", attempts=3, error="migration job aborted on hv4"),
        item("gpu", refusal="gpu has host devices (0000:3b:00.1)"),
    ]
    report = DrainReport("hv1", items, settled=["old-migration"], cordoned=True)
    report.remaining = ["batch", "gpu"]
    return report.finish("failed", time.monotonic())


def test_the_summary_counts_by_result_and_kind_and_sums_only_what_moved():
    report = mixed_report()
    assert report["host"] == "hv1" and report["result"] == "failed" and report["cordoned_now"] is True
    assert report["settled"] == ["old-migration"] and report["remaining"] == ["batch", "gpu"]
    summary = dict(report["summary"])
    assert 0 <= summary.pop("duration_s") < 5
    assert summary == {"guests": 5, "migrated": 3, "live": 2, "cold": 1, "failed": 1, "not_moved": 1,
                       "retried": 2, "data_bytes": 3 * MIB + MIB // 2, "max_downtime_ms": 120}


def test_each_guest_says_from_to_kind_result_and_why():
    guests = dict((g["guest"], g) for g in mixed_report()["guests"])
    assert (guests["web2"]["from"], guests["web2"]["to"], guests["web2"]["kind"]) == ("hv1", "hv2", LIVE)
    assert [a["host"] for a in guests["web2"]["attempts"]] == ["hv2", "hv3"]
    assert guests["batch"]["result"] == "failed" and guests["batch"]["error"] == "migration job aborted on hv4"
    assert guests["gpu"]["result"] == "not moved" and guests["gpu"]["to"] is None
    assert guests["gpu"]["reason"] == "gpu has host devices (0000:3b:00.1)"


def test_a_plan_has_no_downtime_and_no_data_yet():
    report = DrainReport("hv1", [item("a"), item("b", COLD)], settled=[], cordoned=False).finish(
        "planned", time.monotonic())
    assert [g["result"] for g in report["guests"]] == ["planned", "planned"]
    assert report["summary"]["migrated"] == 0 and report["summary"]["max_downtime_ms"] is None
    assert report["summary"]["data_bytes"] == 0


def test_to_dict_before_finish_has_no_result_nor_duration():
    report = DrainReport("hv1", [], settled=[], cordoned=False).to_dict()
    assert (report["result"], report["summary"]["duration_s"], report["remaining"]) == (None, None, None)
    assert report["table"] == ["drain of hv1: None", "  ".join(COLUMNS)]


def test_the_table_aligns_columns_shows_dashes_for_unknowns_and_lists_why_guests_stayed():
    assert mixed_report()["table"] == [
        "drain of hv1: failed",
        "GUEST  FROM  TO   KIND  RESULT     TIME s  DOWNTIME ms  DATA MiB  TRIES",
        "web1   hv1   hv2  live  migrated   12.2    38           3         1",
        "web2   hv1   hv2  live  migrated   40      120          0.5       2",
        "db1    hv1   hv2  cold  migrated   61      -            -         1",
        "batch  hv1   hv2  live  failed     -       -            -         3",
        "gpu    hv1   -    live  not moved  -       -            -         0",
        "batch: migration job aborted on hv4",
        "gpu: gpu has host devices (0000:3b:00.1)",
    ]


def test_a_migrated_guest_with_an_earlier_error_gets_no_why_line():
    guests = [dict(item("vm1", result="migrated").to_dict("hv1"), error="first try timed out")]
    assert render_table("hv1", "drained", guests)[-1].startswith("vm1    hv1   hv2")


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20)
figures = st.one_of(st.none(), st.integers(0, 10 ** 7), st.floats(0, 10 ** 6, allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(names, st.sampled_from(["migrated", "failed", None]), figures, figures,
                          st.one_of(st.none(), st.integers(0, 10 ** 12)), st.integers(1, 4)),
                max_size=8, unique_by=lambda row: row[0]))
def test_every_table_row_starts_each_cell_where_its_header_starts(rows):
    items = [item(name, result=result, attempts=attempts, duration_s=duration, downtime_ms=downtime,
                  data_bytes=data, error="boom" if result == "failed" else None)
             for name, result, duration, downtime, data, attempts in rows]
    report = DrainReport("hv1", items, settled=[], cordoned=False).finish("drained", time.monotonic())
    table = report["table"]
    header = table[1]
    starts = [header.index(column) for column in COLUMNS]
    body = table[2:2 + len(rows)]
    for line, guest in zip(body, report["guests"]):
        cells = [line[start:end].strip() for start, end in zip(starts, starts[1:] + [None])]
        assert cells[0] == guest["guest"] and cells[4] == guest["result"]
        assert cells[8] == str(len(guest["attempts"]))
        for cell, value in ((cells[5], guest["duration_s"]), (cells[6], guest["downtime_ms"])):
            assert cell == "-" if value is None else abs(float(cell) - value) <= 0.05 + 1e-9 * value
    failed = [g["guest"] for g in report["guests"] if g["result"] == "failed"]
    assert table[2 + len(rows):] == ["%s: boom" % name for name in failed]
    assert report["summary"]["failed"] == len(failed)
    assert report["summary"]["migrated"] + len(failed) + report["summary"]["not_moved"] <= len(rows)
