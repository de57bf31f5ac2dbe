"""Small hand-made cases in a real DuckDB file, built with the ingest schema.

Rows are inserted straight into the ingest tables (as an adapter would write them) so the analysis
can be tested without files; the scenario-based tests go through the real adapters instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from palermo.ingest.schema import columns_of, create_schema
from palermo.scenario import Scenario, generate
from palermo.scenario.demo_case import build_demo_case
from palermo.workspace import Workspace

CASE = "TEST-1"
Rows = Callable[..., None]


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh workspace DuckDB file with the ingest tables."""
    connection = duckdb.connect(str(tmp_path / "analytics.duckdb"))
    create_schema(connection)
    yield connection
    connection.close()


class Loader:
    """Appends rows to an ingest table with automatic provenance (evidence id, line locator)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, case_ref: str = CASE) -> None:
        self.con = con
        self.case_ref = case_ref
        self.lines: dict[int, int] = {}

    def add(self, table: str, evidence_id: int, **values: Any) -> str:
        line = self.lines.get(evidence_id, 1) + 1
        self.lines[evidence_id] = line
        locator = f"line:{line}"
        stmt_id = f"{evidence_id}:{locator}"
        row = {"case_ref": self.case_ref, "evidence_id": evidence_id, "locator": locator, "stmt_id": stmt_id}
        row.update(values)
        cols = columns_of(table)
        self.con.execute(
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
            [row.get(c) for c in cols],
        )
        return stmt_id


@pytest.fixture
def load(con: duckdb.DuckDBPyConnection) -> Loader:
    return Loader(con)


def ingested_demo(root: Path, key: Path) -> tuple[Workspace, Scenario, str]:
    """A workspace under ``root`` holding the seed-7 demo case with every exhibit imported (not analysed).

    Shared by the module-scoped fixtures that exercise the analysis through the front door, so the
    case is built the one way the demo builds it. The caller closes the workspace.
    """
    ws = Workspace.init(root / "ws", master_key_file=key)
    scenario = generate(seed=7, scale=1)
    files = scenario.write(root / "files")
    case_ref = build_demo_case(ws, scenario, files)
    by_name = {s.path.name: s for s in files.sources}
    for item in ws.evidence.list(case_ref):
        source = by_name[item.original_filename]
        ws.analytics.ingest(case_ref, item.id, source.adapter, source.options)
    return ws, scenario, case_ref
