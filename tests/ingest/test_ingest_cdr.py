"""Call-detail records: numbers as dialled become E.164, bad records are named by line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from palermo.errors import ImportDataError
from palermo.ingest.service import ingest


def test_mixed_number_formats_become_one_e164_number(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    ingest(con, "C-1", 1, fx / "cdr_ok.csv", "cdr_csv", {"region": "US"})
    callers = {r[0] for r in con.execute("SELECT caller FROM calls").fetchall()}
    assert callers == {"+12025550143"}


def test_calls_keep_time_duration_kind_and_cell(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    ingest(con, "C-1", 1, fx / "cdr_ok.csv", "cdr_csv", {"region": "US"})
    row = con.execute(
        "SELECT CAST(ts AS VARCHAR), callee, duration_s, kind, cell_id, city, stmt_id FROM calls "
        "WHERE locator = 'line:3'"
    ).fetchone()
    assert row == ("2025-03-14 23:02:00", "+12025550178", 0, "sms", "C-101", "Springfield", "1:line:3")


def test_every_call_yields_caller_and_callee_mentions(
    con: duckdb.DuckDBPyConnection, mentions: Any, fx: Path
) -> None:
    ingest(con, "C-1", 1, fx / "cdr_ok.csv", "cdr_csv", {"region": "US"})
    found = mentions(con, "C-1")
    assert len(found) == 6 and {(kind, source) for kind, _, _, source, _ in found} == {
        ("phone", "calls.caller"),
        ("phone", "calls.callee"),
    }
    assert con.execute("SELECT count(*) FROM identifiers").fetchone() == (0,)


def test_bad_records_list_time_phone_duration_and_type_problems(
    con: duckdb.DuckDBPyConnection, fx: Path
) -> None:
    with pytest.raises(ImportDataError) as err:
        ingest(con, "C-1", 1, fx / "cdr_bad.csv", "cdr_csv")
    text = str(err.value)
    assert "cdr_bad.csv:3: start_time: cannot read the value (9 characters: letters) as timestamp" in text
    assert "cdr_bad.csv:4: caller: missing value" in text
    assert "cdr_bad.csv:5: duration_s: cannot read the value (4 characters: letters) as int" in text
    assert "cdr_bad.csv:5: type: the value (3 characters: letters) is not one of voice/sms" in text
    assert "yesterday" not in text and "long" not in text and "fax" not in text
    assert "3 bad row(s)" in text


def test_skipping_bad_records_keeps_the_two_good_ones(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    report = ingest(con, "C-1", 1, fx / "cdr_bad.csv", "cdr_csv", skip_bad_rows=True)
    assert [r[0] for r in con.execute("SELECT locator FROM calls ORDER BY locator").fetchall()] == [
        "line:2",
        "line:6",
    ]
    assert len(report.bad_rows) == 4


@pytest.mark.parametrize("fast", [True, False])
def test_a_caller_or_callee_that_is_no_phone_number_is_a_bad_row_not_a_call_without_a_party(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, fast: bool
) -> None:
    """Before, ``see notes`` was stored as a NULL caller: the call stayed, cut off from its caller.
    An explicit placeholder (``withheld``, ``N/A``) is no number, not a bad row: the call is kept
    with that party unknown, as real CDRs need."""
    from palermo.ingest.cdr import CdrCsvAdapter

    path = tmp_path / "cdr.csv"
    path.write_text(
        "record_id,start_time,caller,callee,duration_s,type,cell_id,cell_city\n"
        "r1,2025-03-14T22:41:07,see notes,2025550178,65,voice,C-101,Springfield\n"
        "r2,2025-03-14T22:45:00,2025550143,2025550178,65,voice,C-101,Springfield\n"
        "r3,2025-03-14T22:50:00,2025550143,ask Mira,65,voice,C-101,Springfield\n"
        "r4,2025-03-14T22:55:00,2025550143,  ,65,voice,C-101,Springfield\n"
        "r5,2025-03-14T23:00:00,Withheld,2025550178,12,voice,C-101,Springfield\n"
        "r6,2025-03-14T23:05:00,2025550143, N/A ,12,voice,C-101,Springfield\n",
        encoding="utf-8",
    )
    adapter = CdrCsvAdapter(fast=fast)
    with pytest.raises(ImportDataError) as err:
        ingest(con, "C-1", 1, path, adapter)
    text = str(err.value)
    assert "cdr.csv:2: caller: cannot read the value as a phone number" in text
    assert "cdr.csv:4: callee: cannot read the value as a phone number" in text
    assert "cdr.csv:5: callee: missing value" in text  # blank is missing, as before
    assert "cdr.csv:6" not in text and "cdr.csv:7" not in text  # placeholders are no number
    assert "see notes" not in text and "Mira" not in text  # the value is never repeated
    report = ingest(con, "C-1", 1, path, adapter, skip_bad_rows=True)
    assert report.rows_bad == 3
    assert con.execute("SELECT locator, caller, callee FROM calls ORDER BY locator").fetchall() == [
        ("line:3", "+12025550143", "+12025550178"),
        ("line:6", None, "+12025550178"),
        ("line:7", "+12025550143", None),
    ]


@pytest.mark.parametrize("fast", [True, False])
def test_bad_row_messages_describe_a_value_never_repeat_it(tmp_path: Path, fast: bool) -> None:
    """Before, a number or a name in the wrong column was quoted (``cannot read +39 333 … as
    timestamp``, ``value Mira Vell is not one of voice/sms``): the summary then held a victim's data."""
    from palermo.ingest.cdr import CdrCsvAdapter

    path = tmp_path / "calls.csv"
    path.write_text(
        "record_id,start_time,caller,callee,duration_s,type,cell_id,cell_city\n"
        "r1,+39 333 123 4567,+12025550143,+12025550178,Mira Vell,Mira Vell,C-1,X\n"
    )
    with pytest.raises(ImportDataError) as err:
        ingest(duckdb.connect(), "C-1", 1, path, CdrCsvAdapter(fast=fast))
    text = str(err.value)
    assert "start_time: cannot read the value (16 characters: digits, spaces and +) as timestamp" in text
    assert "duration_s: cannot read the value (9 characters: letters, spaces) as int" in text
    assert "type: the value (9 characters: letters, spaces) is not one of voice/sms" in text
    assert "333" not in text and "Mira" not in text
