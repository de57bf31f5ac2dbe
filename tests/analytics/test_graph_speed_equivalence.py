"""The faster network build writes exactly what the straightforward one wrote.

``build_edges`` prefilters cell-hours with one entity before the distinct (cell, hour, entity) set
and inserts without preserving insertion order; both are speed-ups only. These tests rebuild a small
synthetic case the slow way (the pre-speed-up ``cells`` SQL, insertion order kept) and compare the
stored rows with EXCEPT ALL both ways, and check the session setting is put back as it was.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from palermo.analytics import graph
from palermo.analytics.graph import EDGE_SQL, build_edges
from palermo.analytics.resolve import resolve

CASE = "TEST-1"

#: The ``cells`` CTE as it was before the ``busy`` prefilter: distinct over every call.
_PLAIN_SEEN = "  seen AS (SELECT DISTINCT cell_id, hr, entity_id FROM cell),\n"
_SETTING = "SELECT value, scope FROM duckdb_settings() WHERE name = 'preserve_insertion_order'"


def _plain_cells_sql() -> str:
    sql = EDGE_SQL["cells"]
    start, end = sql.index("  busy AS ("), sql.index("  small AS (")
    return sql[:start] + _PLAIN_SEEN + sql[end:]


def _synthetic_case(load: Any) -> None:
    """Made-up phones, accounts and ads covering every co-location branch.

    +1555010x meet in two cell-hours (kept), +1555020x in one (dropped by the two-place rule), eleven
    phones crowd one cell-hour (a crowd, not a meeting), +15550300 is alone in its cell-hours, and
    two ad phones share a photo and a city-day.
    """
    pair, once = ["+15550100", "+15550101"], ["+15550200", "+15550201"]
    crowd = [f"+155504{i:02d}" for i in range(11)]
    everyone = pair + once + crowd + ["+15550300"]
    for i, a in enumerate(everyone):
        load.add("calls", 1, ts="2025-02-01 08:00", caller=a, callee=everyone[i - 1], kind="voice")
    for cell, hour in (("C1", 10), ("C2", 11)):
        for a, b in (pair, pair[::-1]):
            load.add("calls", 1, ts=f"2025-02-02 {hour}:05", caller=a, callee=b, kind="voice", cell_id=cell)
    for a, b in (once, once[::-1]):
        load.add("calls", 1, ts="2025-02-02 12:10", caller=a, callee=b, kind="voice", cell_id="C3")
    for a in crowd:
        load.add("calls", 1, ts="2025-02-02 13:20", caller=a, callee=pair[0], kind="voice", cell_id="C4")
    for minute in (1, 30, 59):
        load.add(
            "calls", 1, ts=f"2025-02-02 14:{minute:02d}", caller="+15550300", callee=pair[1], cell_id="C5"
        )
    for i in range(3):
        load.add(
            "payments",
            2,
            ts=f"2025-02-03 09:0{i}",
            from_account="DE00SYN1",
            to_account="DE00SYN2",
            amount=10 + i,
            currency="EUR",
        )
    load.add("payments", 2, ts="2025-02-03 10:00", from_account="DE00SYN2", to_account="DE00SYN3", amount=5)
    for day, phone, images in (
        (1, "+15550100", ["img-a", "img-b"]),
        (1, "+15550101", ["img-a"]),
        (2, "+15550100", ["img-c"]),
        (2, "+15550101", ["img-a", "img-c"]),
    ):
        load.add(
            "ads",
            3,
            ts=f"2025-02-0{day} 20:00",
            site="synthetic",
            city="Testville",
            phone=phone,
            image_hashes=images,
        )


def _snapshot(con: duckdb.DuckDBPyConnection, tag: str) -> None:
    for table in ("edges", "edge_statements"):
        con.execute(f"CREATE OR REPLACE TABLE {tag}_{table} AS FROM {table}")


def _differences(con: duckdb.DuckDBPyConnection, a: str, b: str) -> dict[str, tuple[int, int]]:
    out = {}
    for table in ("edges", "edge_statements"):
        one_way = con.execute(f"SELECT count(*) FROM (FROM {a}_{table} EXCEPT ALL FROM {b}_{table})")
        left = one_way.fetchone()
        other = con.execute(f"SELECT count(*) FROM (FROM {b}_{table} EXCEPT ALL FROM {a}_{table})").fetchone()
        out[table] = (left[0] if left else -1, other[0] if other else -1)
    return out


@pytest.fixture
def case(con: duckdb.DuckDBPyConnection, load: Any) -> duckdb.DuckDBPyConnection:
    _synthetic_case(load)
    resolve(con, CASE)
    return con


def test_fast_build_writes_the_same_rows_as_the_plain_build(
    case: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_edges(case, CASE)
    _snapshot(case, "fast")
    kinds = {k for (k,) in case.execute("SELECT DISTINCT kind FROM edges").fetchall()}
    assert {"call", "payment", "shared_image", "co_location"} <= kinds

    with monkeypatch.context() as patch:
        patch.setitem(graph.EDGE_SQL, "cells", _plain_cells_sql())
        patch.setattr(graph, "_unordered_inserts", lambda con: lambda: None)
        build_edges(case, CASE)
    _snapshot(case, "plain")
    assert _differences(case, "fast", "plain") == {"edges": (0, 0), "edge_statements": (0, 0)}
    assert case.execute("SELECT count(*) FROM plain_edge_statements").fetchone() == (
        case.execute("SELECT count(*) FROM fast_edge_statements").fetchone()
    )


def test_cells_prefilter_keeps_the_meetings_and_drops_the_rest(case: duckdb.DuckDBPyConnection) -> None:
    build_edges(case, CASE)
    rows = case.execute(
        """SELECT DISTINCT m.value FROM edges e JOIN edge_statements s USING (case_ref, edge_id)
           JOIN entity_members m ON m.case_ref = e.case_ref AND m.entity_id IN (e.src, e.dst)
           WHERE e.kind = 'co_location' AND s.source = 'calls' AND m.kind = 'phone' ORDER BY 1"""
    ).fetchall()
    assert [r[0] for r in rows] == ["+15550100", "+15550101"]


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ([], ("true", "GLOBAL")),
        (["SET SESSION preserve_insertion_order = true"], ("true", "LOCAL")),
        (["SET GLOBAL preserve_insertion_order = false"], ("false", "GLOBAL")),
    ],
)
def test_insertion_order_setting_is_put_back(
    case: duckdb.DuckDBPyConnection, setup: list[str], expected: tuple[str, str]
) -> None:
    for sql in setup:
        case.execute(sql)
    other = case.cursor()
    before_other = other.execute(_SETTING).fetchone()
    build_edges(case, CASE)
    assert case.execute(_SETTING).fetchone() == expected
    assert other.execute(_SETTING).fetchone() == before_other
    case.execute("RESET GLOBAL preserve_insertion_order")


def test_same_rows_when_insertion_order_is_already_off(case: duckdb.DuckDBPyConnection) -> None:
    build_edges(case, CASE)
    _snapshot(case, "default")
    case.execute("SET GLOBAL preserve_insertion_order = false")
    try:
        build_edges(case, CASE)
    finally:
        case.execute("RESET GLOBAL preserve_insertion_order")
    _snapshot(case, "global_off")
    assert _differences(case, "default", "global_off") == {"edges": (0, 0), "edge_statements": (0, 0)}
