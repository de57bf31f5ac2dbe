"""The one-pass reader and the careful path must give the same tables and the same errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from palermo.errors import ImportDataError
from palermo.ingest.ads import AdsJsonlAdapter
from palermo.ingest.bank import BankCsvAdapter
from palermo.ingest.cdr import CdrCsvAdapter
from palermo.ingest.cdr import spec as cdr_spec
from palermo.ingest.scan import scan_csv
from palermo.ingest.service import ingest
from palermo.ingest.spec import TableSpec
from palermo.ingest.staging import Staged
from palermo.scenario import generate

TABLES = ("payments", "calls", "ads", "identifiers")


def _tables(path: Path, adapter: Any, options: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    con = duckdb.connect()
    report = ingest(con, "C-1", 7, path, adapter, options)
    assert report.status == "imported"
    out = {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES}
    con.close()
    return out


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict[str, Any]]]:
    files = generate(seed=3, scale=1).write(tmp_path_factory.mktemp("scenario"))
    wanted = ("bank_csv", "cdr_csv", "ads_jsonl")
    return {s.adapter: (s.path, s.options) for s in files.sources if s.adapter in wanted}


@pytest.mark.parametrize("kind", [BankCsvAdapter, CdrCsvAdapter, AdsJsonlAdapter])
def test_both_paths_give_identical_tables_on_a_scenario_file(
    scenario: dict[str, tuple[Path, dict[str, Any]]], kind: Any
) -> None:
    path, options = scenario[kind().name]
    fast = _tables(path, kind(fast=True), options)
    careful = _tables(path, kind(fast=False), options)
    assert sum(len(rows) for rows in fast.values()) > 100
    assert fast == careful


@pytest.mark.parametrize(("kind", "name"), [(BankCsvAdapter, "bank_ok.csv"), (CdrCsvAdapter, "cdr_ok.csv")])
def test_both_paths_give_identical_tables_on_the_fixtures(fx: Path, kind: Any, name: str) -> None:
    assert _tables(fx / name, kind(fast=True), {}) == _tables(fx / name, kind(fast=False), {})


def test_a_quoted_line_break_gives_the_same_line_numbers_on_both_paths(tmp_path: Path, fx: Path) -> None:
    lines = (fx / "cdr_ok.csv").read_text().splitlines()
    cells = lines[1].split(",")
    cells[-1] = '"Spring\nfield"'
    path = tmp_path / "calls.csv"
    path.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    fast = _tables(path, CdrCsvAdapter(fast=True), {})
    assert fast == _tables(path, CdrCsvAdapter(fast=False), {})
    assert {r[2] for r in fast["calls"]} == {"line:2", "line:4", "line:5"}


@pytest.mark.parametrize(
    ("kind", "name"),
    [(BankCsvAdapter, "bank_bad.csv"), (CdrCsvAdapter, "cdr_bad.csv"), (AdsJsonlAdapter, "ads_bad.jsonl")],
)
def test_a_bad_file_fails_with_the_same_message_on_both_paths(fx: Path, kind: Any, name: str) -> None:
    messages = []
    for fast in (True, False):
        with pytest.raises(ImportDataError) as err:
            ingest(duckdb.connect(), "C-1", 7, fx / name, kind(fast=fast), {})
        messages.append(str(err.value))
    assert messages[0] == messages[1]
    assert f"{name}:" in messages[0]


def test_the_fast_path_leaves_no_staging_tables_behind(fx: Path) -> None:
    con = duckdb.connect()
    ingest(con, "C-1", 7, fx / "cdr_ok.csv", CdrCsvAdapter(fast=True), {})
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM duckdb_views() WHERE temporary AND NOT internal").fetchone() == (
        0,
    )


def _prepare_cdr(_con: Any, staged: Staged) -> tuple[TableSpec, Staged]:
    return cdr_spec("US"), staged


def test_a_clean_file_takes_the_fast_path(fx: Path) -> None:
    assert scan_csv(duckdb.connect(), fx / "cdr_ok.csv", {}, _prepare_cdr) is not None


def test_a_file_with_a_bad_value_goes_the_careful_way(fx: Path) -> None:
    assert scan_csv(duckdb.connect(), fx / "cdr_bad.csv", {}, _prepare_cdr) is None


ODD_ADS = (
    '{"ad_id": "a1", "posted_at": "2025-03-10T20:00:00", "text": "t", "Phone": "2025550178", '
    '"phone": "2025550199", "extra": {"k": 1}, "price": 1.5e2}\n'
    '{"ad_id": 7, "posted_at": "2025-03-10 20:00:00", "text": {"nested": [1]}, "price": "150", '
    '"image_hashes": ["AB", " cd ", ""], "age_claimed": 19.0, "email": "X@Y.COM"}\n'
    '{"ad_id": "a3", "posted_at": "2025-03-10T20:00:00", "text": "dup", "text": "second", "title": null}\n'
)


def test_ads_with_odd_but_valid_values_give_identical_tables_on_both_paths(tmp_path: Path) -> None:
    path = tmp_path / "ads.jsonl"
    path.write_text(ODD_ADS)
    fast = _tables(path, AdsJsonlAdapter(fast=True), {})
    assert len(fast["ads"]) == 3
    assert fast == _tables(path, AdsJsonlAdapter(fast=False), {})


@pytest.mark.parametrize(
    "tail", ["\n", "\n[1, 2]\n", "null\n", '{"ad_id": "b", "text": "x", "posted_at": "2025-03-1']
)
def test_ads_that_are_not_clean_go_the_careful_way(tmp_path: Path, tail: str) -> None:
    path = tmp_path / "ads.jsonl"
    path.write_text(ODD_ADS + tail)
    assert not AdsJsonlAdapter(fast=True)._scan(duckdb.connect(), path, "t_parsed")


def test_line_numbers_hold_when_the_connection_does_not_keep_insertion_order(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    rows = (
        f"r{i},2025-03-14T22:41:07,202555{i % 10000:04d},2025550178,{i},voice,C-1,X" for i in range(300_000)
    )
    path.write_text(
        "record_id,start_time,caller,callee,duration_s,type,cell_id,cell_city\n" + "\n".join(rows) + "\n"
    )
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute("SET preserve_insertion_order = false")
    ingest(con, "C-1", 7, path, "cdr_csv", {})
    wrong = con.execute("SELECT count(*) FROM calls WHERE locator <> 'line:' || (duration_s + 2)").fetchone()
    assert wrong == (0,)
    assert con.execute("SELECT current_setting('preserve_insertion_order')").fetchone() == (False,)


CALL_ME = (
    "record_id,start_time,caller,callee,duration_s,type,cell_id,cell_city\n"
    "r1,2025-03-14T22:41:07,call me,+12025550178,65,voice,C-1,X\n"
    "r2,2025-03-14T22:45:00,+12025550143,+12025550178,5,voice,C-1,X\n"
)


def test_a_file_whose_only_problem_is_an_unreadable_phone_goes_the_careful_way(tmp_path: Path) -> None:
    """The one-pass reader learns a phone is unreadable only once the distinct phones are normalised;
    without that check it stored the call with caller NULL (every other check passes this file)."""
    path = tmp_path / "calls.csv"
    path.write_text(CALL_ME)
    assert scan_csv(duckdb.connect(), path, {}, _prepare_cdr) is None
    con = duckdb.connect()
    with pytest.raises(
        ImportDataError, match=r"calls.csv:2: caller: cannot read the value as a phone number"
    ):
        ingest(con, "C-1", 7, path, CdrCsvAdapter(fast=True), {})
    report = ingest(con, "C-1", 7, path, CdrCsvAdapter(fast=True), {}, skip_bad_rows=True)
    assert report.rows_bad == 1
    assert con.execute("SELECT locator, caller FROM calls").fetchall() == [("line:3", "+12025550143")]


@pytest.mark.parametrize("fast", [True, False])
def test_tabs_around_a_phone_are_blank_as_spaces_are(tmp_path: Path, fast: bool) -> None:
    """Before, a tab-only caller was an unreadable phone and ``N/A<tab>`` no placeholder in a CSV,
    while phone_json's ``strip()`` read both as no value: now a tab is blank as a space is."""
    path = tmp_path / "calls.csv"
    path.write_text(
        "record_id,start_time,caller,callee,duration_s,type,cell_id,cell_city\n"
        "r1,2025-03-14T22:41:07,\t,+12025550178,65,voice,C-1,X\n"
        "r2,2025-03-14T22:45:00,N/A\t,\t+12025550143\t,5,voice,C-1,X\n"
    )
    con = duckdb.connect()
    report = ingest(con, "C-1", 7, path, CdrCsvAdapter(fast=fast), {}, skip_bad_rows=True)
    assert report.bad_rows == ["calls.csv:2: caller: missing value"]  # blank, as "   " is
    assert con.execute("SELECT locator, caller, callee FROM calls ORDER BY 1").fetchall() == [
        ("line:3", None, "+12025550143")
    ]


@pytest.mark.parametrize("fast", [True, False])
def test_a_time_with_a_zone_is_stored_in_utc_and_one_without_as_written(tmp_path: Path, fast: bool) -> None:
    """Before, ``TRY_CAST(… AS TIMESTAMP)`` dropped the offset: ``22:41:07+02:00`` was stored as 22:41,
    two hours off the same call in an FtM stream (which holds UTC). The session's zone plays no part."""
    path = tmp_path / "calls.csv"
    path.write_text(
        "record_id,start_time,caller,callee,duration_s,type,cell_id,cell_city\n"
        "r1,2025-03-14T22:41:07+02:00,+12025550143,+12025550178,5,voice,C-1,X\n"
        "r2,2025-03-14T22:41:07Z,+12025550143,+12025550178,5,voice,C-1,X\n"
        "r3,2025-03-14T22:41:07.5-01:30,+12025550143,+12025550178,5,voice,C-1,X\n"
        "r4,2025-03-14 22:41:07,+12025550143,+12025550178,5,voice,C-1,X\n"
        "r5,2025-03-14,+12025550143,+12025550178,5,voice,C-1,X\n"
    )
    con = duckdb.connect()
    con.execute("SET TimeZone = 'America/New_York'")
    ingest(con, "C-1", 7, path, CdrCsvAdapter(fast=fast), {})
    assert [r[0].isoformat() for r in con.execute("SELECT ts FROM calls ORDER BY locator").fetchall()] == [
        "2025-03-14T20:41:07",
        "2025-03-14T22:41:07",
        "2025-03-15T00:11:07.500000",
        "2025-03-14T22:41:07",
        "2025-03-14T00:00:00",
    ]


@pytest.mark.parametrize("fast", [True, False])
def test_ads_times_with_a_zone_are_stored_in_utc(tmp_path: Path, fast: bool) -> None:
    path = tmp_path / "ads.jsonl"
    path.write_text(
        '{"ad_id": "a1", "posted_at": "2025-03-10T20:00:00+01:00", "text": "t"}\n'
        '{"ad_id": "a2", "posted_at": "2025-03-10T20:00:00", "text": "t"}\n'
    )
    con = duckdb.connect()
    ingest(con, "C-1", 7, path, AdsJsonlAdapter(fast=fast), {})
    assert [r[0].isoformat() for r in con.execute("SELECT ts FROM ads ORDER BY locator").fetchall()] == [
        "2025-03-10T19:00:00",
        "2025-03-10T20:00:00",
    ]
