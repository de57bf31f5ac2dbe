"""The import service: idempotent, atomic, and adapters found by name."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import duckdb
import pytest

from palermo.errors import NotFoundError
from palermo.ingest.base import Adapter, BadRow, Batch, get_adapter, list_adapters
from palermo.ingest.phone import cols
from palermo.ingest.schema import create_schema
from palermo.ingest.service import ingest, list_imports

COUNTS = (
    "SELECT (SELECT count(*) FROM calls), (SELECT count(*) FROM identifiers), (SELECT count(*) FROM imports)"
)


def test_same_evidence_twice_adds_nothing(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    ingest(con, "C-1", 1, fx / "cdr_ok.csv", "cdr_csv")
    before = con.execute(COUNTS).fetchone()
    again = ingest(con, "C-1", 1, fx / "cdr_ok.csv", "cdr_csv")
    assert again.status == "already_imported" and con.execute(COUNTS).fetchone() == before


def test_same_file_under_another_evidence_id_adds_nothing(
    con: duckdb.DuckDBPyConnection, fx: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.csv"
    shutil.copy(fx / "cdr_ok.csv", copy)
    ingest(con, "C-1", 1, fx / "cdr_ok.csv", "cdr_csv")
    assert ingest(con, "C-1", 2, copy, "cdr_csv").status == "already_imported"


def test_same_file_in_another_case_is_imported(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    ingest(con, "C-1", 1, fx / "cdr_ok.csv", "cdr_csv")
    assert ingest(con, "C-2", 9, fx / "cdr_ok.csv", "cdr_csv").rows_ok == 3


class _FailsHalfway:
    """A real adapter that writes a batch and then breaks, as a crashing plug-in would."""

    name = "fails_halfway"
    description = "test adapter"

    def read(self, path: Path, *, evidence_id: int, options: Mapping[str, Any]) -> Iterator[Batch | BadRow]:
        row = (evidence_id, "line:2", f"{evidence_id}:line:2", None, "+1", "+2", 1, "voice", None, None)
        yield Batch("calls", cols("calls"), [row])
        raise RuntimeError("disk on fire")


def test_failure_mid_import_leaves_tables_as_before(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    ingest(con, "C-1", 1, fx / "cdr_ok.csv", "cdr_csv")
    before = con.execute(COUNTS).fetchone()
    with pytest.raises(RuntimeError):
        ingest(con, "C-1", 2, fx / "ads.jsonl", _FailsHalfway())
    assert con.execute(COUNTS).fetchone() == before


def test_failed_import_can_be_run_again(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    with pytest.raises(RuntimeError):
        ingest(con, "C-1", 2, fx / "cdr_ok.csv", _FailsHalfway())
    assert ingest(con, "C-1", 2, fx / "cdr_ok.csv", "cdr_csv").status == "imported"


def test_staging_tables_are_dropped_after_import(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    ingest(con, "C-1", 1, fx / "bank_ok.csv", "bank_csv")
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone() == (0,)


def test_imports_are_listed_with_counts_and_options(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    ingest(con, "C-1", 1, fx / "cdr_ok.csv", "cdr_csv", {"region": "US"})
    [record] = list_imports(con, "C-1")
    assert (record.adapter, record.rows_ok, record.options, record.status) == (
        "cdr_csv",
        3,
        {"region": "US"},
        "imported",
    )


def test_database_path_works_as_well_as_a_connection(fx: Path, tmp_path: Path) -> None:
    db = tmp_path / "analytics.duckdb"
    ingest(db, "C-1", 1, fx / "cdr_ok.csv", "cdr_csv")
    with duckdb.connect(str(db)) as check:
        assert check.execute("SELECT count(*) FROM calls").fetchone() == (3,)


def test_unknown_adapter_names_the_known_ones() -> None:
    with pytest.raises(NotFoundError, match="bank_csv"):
        get_adapter("telepathy")


def test_every_built_in_adapter_follows_the_protocol() -> None:
    adapters = list_adapters()
    assert {a.name for a in adapters} >= {
        "bank_csv",
        "bank_xlsx",
        "cdr_csv",
        "phone_json",
        "phone_csv",
        "ads_jsonl",
        "ftm",
        "mapping",
    }
    assert all(isinstance(a, Adapter) for a in adapters)


def test_staged_adapter_also_reads_without_a_connection(fx: Path) -> None:
    items = list(get_adapter("cdr_csv").read(fx / "cdr_ok.csv", evidence_id=3, options={}))
    calls = [i for i in items if isinstance(i, Batch) and i.table == "calls"]
    assert [r[1] for r in calls[0].rows] == ["line:2", "line:3", "line:4"]


def test_old_workspaces_lose_only_the_identifier_copies_the_analysis_ignored(fx: Path) -> None:
    """Before ``identifiers`` was narrowed, imports copied every call's numbers into it; opening
    such a database drops those copies once, and keeps what a FollowTheMoney stream lifted."""
    from palermo.ingest.schema import ddl

    con = duckdb.connect()
    con.execute(ddl())  # the old layout: no analytics_meta yet
    ident = "INSERT INTO identifiers VALUES ('C-1', ?, 'line:2', ?, 'phone', '555', '+15555', NULL)"
    imports = (
        "INSERT INTO imports (case_ref, evidence_id, adapter, sha256, rows_ok, rows_bad, status, started_at, "
        "finished_at) VALUES ('C-1', ?, ?, 'x', 1, 0, 'imported', now(), now())"
    )
    con.execute(imports, [1, "cdr_csv"])
    con.execute(imports, [2, "ftm"])
    con.execute(
        "INSERT INTO calls (case_ref, evidence_id, locator, stmt_id) VALUES ('C-1', 1, 'line:2', '1:line:2')"
    )
    con.execute(
        "INSERT INTO calls (case_ref, evidence_id, locator, stmt_id) VALUES ('C-1', 2, 'l:1', '2:l:1')"
    )
    con.execute(ident, [1, "1:line:2:caller"])
    con.execute(ident, [2, "2:line:2:phone0"])
    create_schema(con)
    assert con.execute("SELECT evidence_id FROM identifiers").fetchall() == [(2,)]
    con.execute(ident, [1, "1:line:2:custom"])  # written after the change: kept from now on
    create_schema(con)
    assert con.execute("SELECT count(*) FROM identifiers").fetchone() == (2,)
    con.close()
