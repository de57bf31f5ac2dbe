"""Statements that tie on time come out in exhibit order, their numbers read as numbers.

Text order puts ``1:line:10`` before ``1:line:2``: a timeline of one night's calls, or an FtM stream
handed to a partner, then jumps about the exhibit it is supposed to follow row by row.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from palermo.analytics.tables import create_analysis_tables
from palermo.analytics.timeline import timeline
from palermo.ingest.ftm_export import export_entities

from .conftest import CASE

AT = datetime(2025, 3, 1, 22, 0)


def _calls(load: Any, n: int = 11) -> list[str]:
    """``n`` calls of one exhibit, all at the same minute; their ids in row order."""
    return [
        load.add("calls", 1, ts=AT, caller="+13055550100", callee=f"+1305555{i:04d}", duration_s=i)
        for i in range(n)
    ]


def test_timeline_ties_follow_the_exhibits_rows(con: Any, load: Any) -> None:
    create_analysis_tables(con)
    ids = _calls(load)
    assert ids[8:] == ["1:line:10", "1:line:11", "1:line:12"]  # text order would put them first
    assert [e.stmt_id for e in timeline(con, CASE)] == ids


def test_timeline_limit_keeps_the_first_rows_of_a_tie(con: Any, load: Any) -> None:
    create_analysis_tables(con)
    ids = _calls(load)
    assert [e.stmt_id for e in timeline(con, CASE, limit=3)] == ids[:3]


def test_ftm_export_writes_statements_in_the_exhibits_row_order(con: Any, load: Any, tmp_path: Path) -> None:
    ids = _calls(load)
    out = tmp_path / "case.ftm.json"
    export_entities(con, CASE, out)
    records = [
        e["properties"]["recordId"][0]
        for e in map(json.loads, out.read_text().splitlines())
        if e["schema"] == "Call"
    ]
    assert records == [f"evidence:{s}" for s in ids]
