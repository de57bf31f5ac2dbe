"""Repeated header names: a column an adapter reads must be named once, or the file is refused.

DuckDB reads ``amount,…,amount`` as ``amount`` and ``amount_1`` (and ``Amount`` or `` amount`` as a
repeat too), so without a check the first column would win silently. Every test checks that the
file and the repeated name are named, with the positions, and that nothing was stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest

from palermo.errors import ImportDataError
from palermo.ingest.bank import BankCsvAdapter
from palermo.ingest.cdr import CdrCsvAdapter
from palermo.ingest.service import ingest

BANK = (
    "date,time,account_iban,account_holder,counterparty_iban,counterparty_name,amount,currency,"
    "direction,channel,description,city,balance"
)
ROW = (
    "2025-03-02,23:41:07,NL91ABNA0417164300,Mara Velden,,HOTEL STELLA,189.50,EUR,debit,card,room 12,"
    "Rotterdam,1"
)


def _stored(con: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    row = con.execute(
        "SELECT (SELECT count(*) FROM payments), (SELECT count(*) FROM calls), "
        "(SELECT count(*) FROM messages), (SELECT count(*) FROM imports)"
    ).fetchone()
    assert row is not None
    return tuple(row)


def _refused(con: duckdb.DuckDBPyConnection, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ImportDataError) as caught:
        ingest(con, *args, **kwargs)
    assert _stored(con) == (0, 0, 0, 0)
    return str(caught.value)


@pytest.mark.parametrize("fast", [True, False], ids=["one-pass", "staged"])
@pytest.mark.parametrize("second", ["amount", "Amount", " amount "])
def test_a_bank_statement_with_two_amount_columns_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, fast: bool, second: str
) -> None:
    book = tmp_path / "stmt.csv"
    book.write_text(f"{BANK},{second}\n{ROW},9999.00\n", encoding="utf-8")
    text = _refused(con, "C-1", 1, book, BankCsvAdapter(fast=fast))
    assert text.startswith("stmt.csv:1: ")
    assert "'amount' 2 times (columns 7 ('amount'), 14 (" in text and repr(second) in text


def test_a_repeated_column_the_adapter_does_not_read_is_tolerated(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    book = tmp_path / "stmt.csv"
    book.write_text(f"{BANK},notes,notes\n{ROW},a,b\n", encoding="utf-8")
    assert ingest(con, "C-1", 1, book, "bank_csv").rows_ok == 1


def test_a_real_column_called_like_a_renamed_one_is_no_repeat(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    book = tmp_path / "stmt.csv"
    book.write_text(f"{BANK},amount_1\n{ROW},9999.00\n", encoding="utf-8")
    ingest(con, "C-1", 1, book, "bank_csv")
    assert con.execute("SELECT CAST(amount AS VARCHAR) FROM payments").fetchall() == [("189.50",)]


@pytest.mark.parametrize("fast", [True, False], ids=["one-pass", "staged"])
def test_a_cdr_with_two_caller_columns_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, fast: bool
) -> None:
    calls = tmp_path / "calls.csv"
    calls.write_text(
        "record_id,caller,start_time,caller,callee,duration_s,type,cell_id,cell_city\n"
        "r1,2025550143,2025-03-14T22:41:07,2025550199,2025550178,65,voice,C-1,Springfield\n",
        encoding="utf-8",
    )
    text = _refused(con, "C-1", 1, calls, CdrCsvAdapter(fast=fast), {"region": "US"})
    assert "calls.csv:1:" in text and "'caller' 2 times (columns 2 ('caller'), 4 ('caller'))" in text


def test_a_phone_export_with_two_body_columns_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    messages = tmp_path / "messages.csv"
    messages.write_text(
        "id,timestamp,from,to,body,app,direction,BODY\nm1,2025-03-20T23:10:00,1,2,ok,sms,in,pay tonight\n",
        encoding="utf-8",
    )
    text = _refused(con, "C-1", 1, messages, "phone_csv")
    assert "messages.csv:1:" in text and "'body' 2 times (columns 5 ('body'), 8 ('BODY'))" in text


def test_a_mapping_column_named_twice_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, fx: Path
) -> None:
    book = tmp_path / "other.csv"
    lines = (fx / "otherbank.csv").read_text(encoding="utf-8").splitlines()
    book.write_text(
        "\n".join([lines[0] + ";Amount (EUR)", *(line + ";1,00" for line in lines[1:])]) + "\n",
        encoding="utf-8",
    )
    text = _refused(con, "C-1", 1, book, "mapping", {"mapping": str(fx / "otherbank.yaml")})
    assert "other.csv:1:" in text and "'Amount (EUR)' 2 times (columns 6 (" in text and ", 8 (" in text


def test_a_mapping_cannot_read_a_name_the_csv_reader_made_up(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """``x_1`` is DuckDB's name for a second ``x``, not a column of the file."""
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "name: m\ntarget: calls\nfields:\n"
        "  caller: {column: x, type: phone}\n  callee: {column: x_1, type: phone}\n",
        encoding="utf-8",
    )
    edges = tmp_path / "edges.csv"
    edges.write_text("x,y,x\n2025550143,a,2025550178\n", encoding="utf-8")
    text = _refused(con, "C-1", 1, edges, "mapping", {"mapping": str(mapping)})
    assert "edges.csv:1:" in text and "'x' 2 times (columns 1 ('x'), 3 ('x'))" in text
    mapping.write_text(mapping.read_text().replace("column: x,", "column: y,"), encoding="utf-8")
    text = _refused(con, "C-1", 1, edges, "mapping", {"mapping": str(mapping)})
    assert "edges.csv:1:" in text and "no column 'x_1'" in text and "column 3" in text


def test_a_matrix_with_a_column_id_twice_is_refused(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    matrix = tmp_path / "phase.csv"
    matrix.write_text("players,5,7,5\n5,0,2,0\n7,2,0,1\n", encoding="utf-8")
    text = _refused(con, "C-1", 1, matrix, "mapping", {"mapping": "caviar_phase"})
    assert "phase.csv:1:" in text and "'5' 2 times (columns 2 ('5'), 4 ('5'))" in text


def _workbook(path: Path, header: list[str], row: list[object]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(header)
    ws.append(row)
    wb.save(path)
    return path


def test_a_workbook_with_two_amount_columns_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    book = _workbook(tmp_path / "stmt.xlsx", [*BANK.split(","), "AMOUNT"], [*ROW.split(","), "9999.00"])
    text = _refused(con, "C-1", 1, book, "bank_xlsx")
    assert "stmt.xlsx:1:" in text and "'amount' 2 times (columns 7 ('amount'), 14 ('AMOUNT'))" in text


def test_a_workbook_with_a_repeated_unread_column_keeps_each_cell_in_its_column(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    header = [*BANK.split(","), "notes", "notes"]
    book = _workbook(tmp_path / "stmt.xlsx", header, [*ROW.split(","), "a", "b"])
    ingest(con, "C-1", 1, book, "bank_xlsx")
    assert con.execute("SELECT to_name, CAST(amount AS VARCHAR) FROM payments").fetchall() == [
        ("HOTEL STELLA", "189.50")
    ]
