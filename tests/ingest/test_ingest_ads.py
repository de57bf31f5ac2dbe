"""Online ads: one JSON object per line; phones, emails and image hashes are read from ``ads`` itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from palermo.errors import ImportDataError
from palermo.ingest.service import ingest


def test_ads_keep_text_price_and_normalised_contact(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    ingest(con, "C-1", 3, fx / "ads.jsonl", "ads_jsonl")
    row = con.execute(
        "SELECT site, city, phone, email, price, image_hashes, age_claimed FROM ads "
        "WHERE locator = 'jsonl:line:1'"
    ).fetchone()
    assert row == (
        "escortads.example",
        "Springfield",
        "+12025550178",
        "velar.boss@example.org",
        150.0,
        ["ab12cd", "ef34"],
        19,
    )


def test_blank_lines_are_skipped_and_locators_stay_physical(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    ingest(con, "C-1", 3, fx / "ads.jsonl", "ads_jsonl")
    assert [r[0] for r in con.execute("SELECT locator FROM ads ORDER BY ts").fetchall()] == [
        "jsonl:line:1",
        "jsonl:line:2",
        "jsonl:line:4",
    ]


def test_one_image_reused_in_two_cities_is_one_hash(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    ingest(con, "C-1", 3, fx / "ads.jsonl", "ads_jsonl")
    hits = con.execute(
        "SELECT count(*), count(DISTINCT city) FROM ads WHERE list_contains(image_hashes, 'ab12cd')"
    ).fetchone()
    assert hits == (2, 2)


def test_ad_phones_and_emails_are_mentions_without_copies(
    con: duckdb.DuckDBPyConnection, mentions: Any, fx: Path
) -> None:
    ingest(con, "C-1", 3, fx / "ads.jsonl", "ads_jsonl")
    found = mentions(con, "C-1", "locator = 'jsonl:line:1'")
    assert found == [
        ("email", "velar.boss@example.org", None, "ads.email", "jsonl:line:1"),
        ("phone", "+12025550178", None, "ads.phone", "jsonl:line:1"),
    ]
    assert con.execute("SELECT count(*) FROM identifiers").fetchone() == (0,)


def test_bad_ads_are_reported_by_line(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    with pytest.raises(ImportDataError) as err:
        ingest(con, "C-1", 4, fx / "ads_bad.jsonl", "ads_jsonl")
    text = str(err.value)
    assert "ads_bad.jsonl:2: posted_at: not an ISO 8601 time" in text
    assert "ads_bad.jsonl:2: price: not a number" in text
    assert "ads_bad.jsonl:3: (line): not valid JSON" in text
    assert "ads_bad.jsonl:4: age_claimed: not a whole number" in text


def test_skipping_bad_ads_keeps_lines_one_and_five(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    report = ingest(con, "C-1", 4, fx / "ads_bad.jsonl", "ads_jsonl", skip_bad_rows=True)
    assert [r[0] for r in con.execute("SELECT locator FROM ads ORDER BY locator").fetchall()] == [
        "jsonl:line:1",
        "jsonl:line:5",
    ]
    assert report.rows_bad == 3


@pytest.mark.parametrize("fast", [True, False])
def test_an_ads_unreadable_phone_or_email_is_a_bad_row_not_an_ad_without_one(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, fast: bool
) -> None:
    """Before, ``call me`` and ``mira at example`` were stored as NULL: the ad lost its only contact."""
    from palermo.ingest.ads import AdsJsonlAdapter

    path = tmp_path / "ads.jsonl"
    path.write_text(
        '{"ad_id": "a1", "posted_at": "2025-03-10T20:00:00", "text": "x", "phone": "call me"}\n'
        '{"ad_id": "a2", "posted_at": "2025-03-10T20:00:00", "text": "x", "phone": "2025550178"}\n'
        '{"ad_id": "a3", "posted_at": "2025-03-10T20:00:00", "text": "x", "email": "mira at example"}\n'
        '{"ad_id": "a4", "posted_at": "2025-03-10T20:00:00", "text": "x", "phone": " ", "email": ""}\n'
        '{"ad_id": "a5", "posted_at": "2025-03-10T20:00:00", "text": "x", '
        '"phone": "Private", "email": "n/a"}\n',
        encoding="utf-8",
    )
    adapter = AdsJsonlAdapter(fast=fast)
    with pytest.raises(ImportDataError) as err:
        ingest(con, "C-1", 1, path, adapter)
    text = str(err.value)
    assert "ads.jsonl:1: phone: cannot read the value as a phone number" in text
    assert "ads.jsonl:3: email: cannot read the value as an e-mail address" in text
    assert "2 bad row(s)" in text and "call me" not in text and "mira at" not in text
    assert con.execute("SELECT count(*) FROM ads").fetchone() == (0,)
    report = ingest(con, "C-1", 1, path, adapter, skip_bad_rows=True)
    assert report.rows_bad == 2
    assert con.execute("SELECT locator, phone, email FROM ads ORDER BY 1").fetchall() == [
        ("jsonl:line:2", "+12025550178", None),
        ("jsonl:line:4", None, None),
        ("jsonl:line:5", None, None),  # placeholders are no value, not bad rows
    ]
