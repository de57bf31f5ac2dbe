"""YAML mappings: other layouts through the same engine, and strict validation of the mapping itself."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from palermo.errors import ImportDataError
from palermo.ingest.mapping import builtin_mappings, load_mapping
from palermo.ingest.service import ingest


def test_custom_mapping_reads_semicolons_day_first_dates_and_decimal_commas(
    con: duckdb.DuckDBPyConnection, fx: Path
) -> None:
    ingest(con, "C-1", 1, fx / "otherbank.csv", "mapping", {"mapping": str(fx / "otherbank.yaml")})
    row = con.execute(
        "SELECT CAST(ts AS DATE)::VARCHAR, from_account, to_account, amount, currency FROM payments "
        "WHERE locator = 'line:2'"
    ).fetchone()
    assert row == ("2025-03-14", "NL91ABNA0417164300", "GB29NWBK60161331926819", Decimal("189.50"), "EUR")


def test_built_in_mappings_cover_the_research_data_sets() -> None:
    assert {
        "vast2008_cdr",
        "caviar_edges",
        "caviar_phase",
        "montagna_meetings",
        "montagna_phone",
        "amlsim_transactions",
    } <= set(builtin_mappings())


def test_unknown_key_in_a_mapping_is_an_error_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntarget: calls\nfields:\n  caller: {column: a, typo: phone}\n")
    with pytest.raises(ImportDataError, match=r"bad.yaml: fields.caller.typo"):
        load_mapping(bad)


def test_unknown_target_column_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntarget: calls\nfields:\n  weight: {column: w, type: int}\n")
    with pytest.raises(ImportDataError, match=r"calls has no column 'weight'"):
        load_mapping(bad)


def test_mapping_naming_a_missing_source_column_is_refused(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    with pytest.raises(
        ImportDataError, match=r"needs column\(s\) Cell Tower, Datetime, Duration\(seconds\), From, To"
    ):
        ingest(con, "C-1", 1, fx / "cdr_ok.csv", "mapping", {"mapping": "vast2008_cdr"})


def test_repeat_turns_a_weighted_edge_into_that_many_statements(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    edges = tmp_path / "edges.csv"
    edges.write_text("source,target,weight\nA,B,3\nB,C,1\n")
    ingest(con, "C-1", 1, edges, "mapping", {"mapping": "montagna_phone"})
    assert con.execute("SELECT stmt_id FROM calls ORDER BY stmt_id").fetchall() == [
        ("1:line:2:1",),
        ("1:line:2:2",),
        ("1:line:2:3",),
        ("1:line:3:1",),
    ]


def test_matrix_mapping_reads_cells_and_skips_zeros(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    matrix = tmp_path / "phase.csv"
    matrix.write_text('"players","1","2"\n"1",0,2\n"2",1,0\n')
    ingest(con, "C-1", 1, matrix, "mapping", {"mapping": "caviar_phase"})
    assert con.execute("SELECT caller, callee, count(*) FROM calls GROUP BY ALL ORDER BY 1").fetchall() == [
        ("1", "2", 2),
        ("2", "1", 1),
    ]


def test_one_file_through_two_mappings_is_two_imports(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    edges = tmp_path / "edges.csv"
    edges.write_text("source,target,weight\nA,B,2\n")
    ingest(con, "C-1", 1, edges, "mapping", {"mapping": "montagna_phone"})
    second = ingest(con, "C-1", 1, edges, "mapping", {"mapping": "montagna_meetings"})
    assert (second.adapter, second.status) == ("mapping:montagna_meetings", "imported")
    assert ingest(con, "C-1", 1, edges, "mapping", {"mapping": "montagna_phone"}).status == "already_imported"
