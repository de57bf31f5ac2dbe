"""Phone extractions: contacts, messages and calls of a seized device, JSON and CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from palermo.errors import ImportDataError
from palermo.ingest.service import ingest


def test_contact_with_two_phones_and_an_email_gives_three_rows(
    con: duckdb.DuckDBPyConnection, fx: Path
) -> None:
    ingest(con, "C-1", 7, fx / "phone_device.json", "phone_json")
    found = con.execute(
        "SELECT stmt_id, phone, email FROM contacts WHERE locator = 'json:$.contacts[0]' ORDER BY stmt_id"
    ).fetchall()
    assert found == [
        ("7:json:$.contacts[0]:email0", None, "velar.boss@example.org"),
        ("7:json:$.contacts[0]:phone0", "+12025550178", None),
        ("7:json:$.contacts[0]:phone1", "+12025550179", None),
    ]


def test_contact_phones_become_identifiers_with_the_saved_name(
    con: duckdb.DuckDBPyConnection, mentions: Any, fx: Path
) -> None:
    ingest(con, "C-1", 7, fx / "phone_device.json", "phone_json")
    names = {name for _, _, name, _, _ in mentions(con, "C-1", "norm = '+12025550199' AND name IS NOT NULL")}
    assert names == {"Mira new"}


def test_outgoing_message_without_sender_is_from_the_owner(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    ingest(con, "C-1", 7, fx / "phone_device.json", "phone_json")
    row = con.execute(
        "SELECT sender, recipient, device_owner FROM messages WHERE locator = 'json:$.messages[1]'"
    ).fetchone()
    assert row == ("+12025550143", "+12025550178", "+12025550143")


def test_call_log_entries_become_calls(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    ingest(con, "C-1", 7, fx / "phone_device.json", "phone_json")
    assert con.execute("SELECT caller, callee, duration_s FROM calls").fetchall() == [
        ("+12025550178", "+12025550143", 42)
    ]


def test_bad_message_is_named_by_its_json_path(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    with pytest.raises(ImportDataError, match=r"phone_bad.json:json:\$.messages\[1\]: timestamp"):
        ingest(con, "C-1", 8, fx / "phone_bad.json", "phone_json")


def test_invalid_json_names_the_line(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"device": {}\n, "contacts": [}\n')
    with pytest.raises(ImportDataError, match=r"broken.json:2: not valid JSON"):
        ingest(con, "C-1", 9, broken, "phone_json")


def test_csv_messages_take_the_owner_from_the_option(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    ingest(con, "C-1", 10, fx / "phone_messages.csv", "phone_csv", {"device_owner": "(202) 555-0143"})
    rows = con.execute("SELECT locator, sender, app, device_owner FROM messages ORDER BY locator").fetchall()
    assert rows == [
        ("line:2", "+12025550178", "whatsapp", "+12025550143"),
        ("line:3", "+12025550143", "sms", "+12025550143"),
    ]


def test_csv_messages_fill_the_owners_side_the_export_leaves_empty(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Forensic tools write only the other party's number; the owner is the other side, so the
    message still links her phone to theirs (as the JSON export does), whatever the direction's case."""
    messages = tmp_path / "messages.csv"
    messages.write_text(
        "id,timestamp,from,to,body,app,direction\n"
        "m1,2025-03-20T23:10:00,2025550178,,pay tonight,whatsapp,Incoming\n"
        "m2,2025-03-20T23:12:00,,2025550178,ok,sms,OUT\n"
        "m3,2025-03-20T23:13:00,2025550199,2025550178,fwd,sms,in\n",
        encoding="utf-8",
    )
    ingest(con, "C-1", 13, messages, "phone_csv", {"device_owner": "(202) 555-0143"})
    rows = con.execute("SELECT locator, sender, recipient FROM messages ORDER BY locator").fetchall()
    assert rows == [
        ("line:2", "+12025550178", "+12025550143"),
        ("line:3", "+12025550143", "+12025550178"),
        ("line:4", "+12025550199", "+12025550178"),
    ]


def test_csv_contacts_drop_invalid_emails_but_keep_the_contact(
    con: duckdb.DuckDBPyConnection, fx: Path
) -> None:
    ingest(con, "C-1", 11, fx / "phone_contacts.csv", "phone_csv")
    rows = con.execute("SELECT name, phone, email FROM contacts ORDER BY locator").fetchall()
    assert rows[0] == ("Boss Velar", "+12025550178", "velar.boss@example.org")
    assert rows[2] == ("bad mail", None, None)


def test_a_phone_repeated_in_csv_contacts_does_not_multiply_rows(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "id,name,phone,email\nc1,Boss,2025550178,\nc2,Boss 2,2025550178,\nc3,Boss 3,2025550178,\n"
    )
    ingest(con, "C-1", 12, contacts, "phone_csv")
    assert con.execute("SELECT count(*) FROM contacts").fetchone() == (3,)
