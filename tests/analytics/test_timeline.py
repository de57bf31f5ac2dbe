"""The case timeline's order and its cost on a large case."""

from __future__ import annotations

from typing import Any

import pytest

from palermo.analytics import timeline as tl
from palermo.analytics.tables import create_analysis_tables
from palermo.ingest.schema import stmt_order_sql

from .conftest import CASE


def _calls(load: Any, n: int) -> None:
    for i in range(n):  # two calls a minute: ties at every time, lines 9 and 10 share one
        load.add(
            "calls", 1, ts=f"2025-01-01 10:{i // 2:02d}:00", caller="+13055550111", callee="+13055550122"
        )


def test_the_first_events_are_those_of_sorting_them_all(load: Any, con: Any) -> None:
    _calls(load, 40)
    create_analysis_tables(con)
    events = tl.timeline(con, CASE, limit=9)
    every = tl.timeline(con, CASE, limit=1000)
    assert [e.stmt_id for e in events] == [e.stmt_id for e in every[:9]]
    assert [e.stmt_id for e in every[:4]] == ["1:line:2", "1:line:3", "1:line:4", "1:line:5"]
    assert tl.timeline(con, CASE, limit=0) == []


def test_only_the_events_up_to_the_cut_off_get_the_exhibit_order_key(
    load: Any, con: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exhibit-order key is a regular expression per row: computed for every event of a large
    case it made the timeline some twelve times slower. Rows after the n-th event's time must not be
    keyed at all (here keying one raises)."""
    _calls(load, 40)
    create_analysis_tables(con)

    def key_or_fail(column: str) -> str:
        late = "CAST(split_part(" + column + ", ':', 3) AS INTEGER) > 12"
        fail = "error('keyed an event after the cut-off')"
        return f"CASE WHEN {late} THEN {fail} ELSE {stmt_order_sql(column)} END"

    monkeypatch.setattr(tl, "stmt_order_sql", key_or_fail)
    events = tl.timeline(con, CASE, limit=9)  # lines 2-10; line 11 shares line 10's minute
    assert [e.stmt_id for e in events][-1] == "1:line:10"
