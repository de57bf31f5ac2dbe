"""The real research data sets import through the ordinary mapping adapter, with the expected counts.

Counts: data lines of each file, and for weighted edge lists the sum of the weights (one statement
per intercepted communication, call or meeting).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from palermo.ingest.service import ingest

pytestmark = pytest.mark.shared


def test_caviar_full_network_gives_one_call_per_intercepted_communication(
    con: duckdb.DuckDBPyConnection, shared_dir: Path
) -> None:
    report = ingest(
        con,
        "CAVIAR",
        1,
        shared_dir / "datasets/networks/caviar/full.csv",
        "mapping",
        {"mapping": "caviar_edges"},
    )
    assert report.rows_ok == 2634 and report.rows_bad == 0
    assert con.execute("SELECT count(DISTINCT locator) FROM calls").fetchone() == (205,)
    assert con.execute(
        "SELECT count(*) FROM (SELECT caller FROM calls UNION SELECT callee FROM calls)"
    ).fetchone() == (110,)


def test_caviar_phase_matrix_gives_its_nonzero_cells(
    con: duckdb.DuckDBPyConnection, shared_dir: Path
) -> None:
    report = ingest(
        con,
        "CAVIAR",
        2,
        shared_dir / "datasets/networks/caviar/phase1.csv",
        "mapping",
        {"mapping": "caviar_phase"},
    )
    assert report.rows_ok == 59
    assert con.execute("SELECT count(*) FROM calls WHERE caller = '1' AND callee = '89'").fetchone() == (4,)


def test_montagna_meetings_and_phone_calls(con: duckdb.DuckDBPyConnection, shared_dir: Path) -> None:
    folder = shared_dir / "datasets/networks/montagna"
    meetings = ingest(
        con, "MONTAGNA", 1, folder / "meetings.csv", "mapping", {"mapping": "montagna_meetings"}
    )
    phone = ingest(con, "MONTAGNA", 2, folder / "phone.csv", "mapping", {"mapping": "montagna_phone"})
    assert (meetings.rows_ok, phone.rows_ok) == (456, 276)
    assert (
        con.execute("SELECT count(*) FROM calls WHERE kind = 'meeting' AND caller = 'N0'").fetchone()[0] > 0
    )


def test_vast_2008_call_records(con: duckdb.DuckDBPyConnection, shared_dir: Path) -> None:
    report = ingest(
        con, "VAST", 1, shared_dir / "datasets/cdr/vast2008-mc3.csv", "mapping", {"mapping": "vast2008_cdr"}
    )
    assert report.rows_ok == 9834 and report.rows_bad == 0
    first = con.execute(
        "SELECT CAST(ts AS VARCHAR), caller, callee, duration_s, cell_id FROM calls WHERE locator = 'line:2'"
    ).fetchone()
    assert first == ("2006-06-01 00:08:00", "349", "23", 1634, "1")


def test_amlsim_transfers(con: duckdb.DuckDBPyConnection, mentions: Any, shared_dir: Path) -> None:
    report = ingest(
        con,
        "AML",
        1,
        shared_dir / "datasets/aml/amlsim-20k/transactions.csv",
        "mapping",
        {"mapping": "amlsim_transactions"},
    )
    assert report.rows_ok == 120558 and report.rows_bad == 0
    assert len(mentions(con, "AML", "kind = 'account'")) == 2 * 120558
