"""``--explain`` lists statements by exhibit, then in the exhibit's own order (``line:9`` before ``line:10``).

Text order put ``line:10`` before ``line:9`` and, with the limit, could leave out the first lines of
an exhibit in favour of later ones.
"""

from __future__ import annotations

from typing import Any

import duckdb

from palermo.analytics.explain import explain
from palermo.analytics.graph import build_edges
from palermo.analytics.resolve import resolve

CASE = "TEST-1"
A, B = "+15550101", "+15550102"


def _calls(load: Any) -> None:
    """Twelve calls between A and B in exhibit 10 (lines 2-13), then three in exhibit 2 (lines 2-4)."""
    for evidence_id, count in ((10, 12), (2, 3)):
        for i in range(count):
            load.add("calls", evidence_id, ts=f"2025-01-01 10:{i:02d}", caller=A, callee=B, kind="voice")


def _edge(con: duckdb.DuckDBPyConnection) -> str:
    resolve(con, CASE)
    build_edges(con, CASE)
    row = con.execute("SELECT edge_id FROM edges WHERE case_ref = ? AND kind = 'call'", [CASE]).fetchone()
    assert row is not None
    return str(row[0])


EXPECTED = [f"2:line:{n}" for n in range(2, 5)] + [f"10:line:{n}" for n in range(2, 14)]


def test_an_edge_lists_its_statements_by_exhibit_then_line_number(
    con: duckdb.DuckDBPyConnection, load: Any
) -> None:
    _calls(load)
    x = explain(con, CASE, _edge(con))
    assert [s["stmt_id"] for s in x.statements] == EXPECTED


def test_the_limit_keeps_an_exhibits_first_lines(con: duckdb.DuckDBPyConnection, load: Any) -> None:
    _calls(load)
    x = explain(con, CASE, _edge(con), limit=6)
    assert [s["stmt_id"] for s in x.statements] == EXPECTED[:6]


def test_an_entity_lists_its_mentions_by_exhibit_then_line_number(
    con: duckdb.DuckDBPyConnection, load: Any
) -> None:
    _calls(load)
    _edge(con)
    row = con.execute("SELECT entity_id FROM entity_members WHERE member_key = ?", [f"phone:{A}"]).fetchone()
    assert row is not None
    x = explain(con, CASE, str(row[0]))
    assert [s["stmt_id"] for s in x.statements] == EXPECTED


def test_the_order_reads_every_number_in_a_locator() -> None:
    from palermo.ingest.schema import stmt_order_sql

    ids = [
        "3:line:10",
        "3:line:9:10",
        "3:line:9",
        "3:line:9:2",
        "3:json:$.messages[10]",
        "3:json:$.messages[9]",
        "3:sheet:Statement!row:11",
        "3:sheet:Statement!row:2",
        "3:jsonl:line:7:payment",
        "3:ftm-entity-b",
        "3:ftm-entity-a",
    ]
    rows = duckdb.sql(f"SELECT s FROM (SELECT unnest(?) AS s) ORDER BY {stmt_order_sql('s')}", params=[ids])
    assert [r[0] for r in rows.fetchall()] == [
        "3:ftm-entity-a",
        "3:ftm-entity-b",
        "3:json:$.messages[9]",
        "3:json:$.messages[10]",
        "3:jsonl:line:7:payment",
        "3:line:9",
        "3:line:9:2",
        "3:line:9:10",
        "3:line:10",
        "3:sheet:Statement!row:2",
        "3:sheet:Statement!row:11",
    ]
