"""Phone extractions: contacts, messages and calls of a seized device, JSON and CSV."""

from __future__ import annotations

import json
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


def test_csv_contact_with_an_unreadable_email_is_a_bad_row_not_a_contact_without_one(
    con: duckdb.DuckDBPyConnection, fx: Path
) -> None:
    """Before, ``not-an-email`` was stored as no e-mail at all and the contact kept, linked to nothing."""
    with pytest.raises(
        ImportDataError, match=r"phone_contacts.csv:4: email: cannot read the value as an e-mail"
    ):
        ingest(con, "C-1", 11, fx / "phone_contacts.csv", "phone_csv")
    report = ingest(con, "C-1", 11, fx / "phone_contacts.csv", "phone_csv", skip_bad_rows=True)
    assert report.rows_bad == 1 and "not-an-email" not in report.bad_rows[0]
    rows = con.execute("SELECT name, phone, email FROM contacts ORDER BY locator").fetchall()
    assert rows == [
        ("Boss Velar", "+12025550178", "velar.boss@example.org"),
        ("Mira new", "+12025550199", None),
    ]


def test_a_phone_repeated_in_csv_contacts_does_not_multiply_rows(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "id,name,phone,email\nc1,Boss,2025550178,\nc2,Boss 2,2025550178,\nc3,Boss 3,2025550178,\n"
    )
    ingest(con, "C-1", 12, contacts, "phone_csv")
    assert con.execute("SELECT count(*) FROM contacts").fetchone() == (3,)


def test_messages_csv_with_an_unreadable_sender_is_a_bad_row_not_the_owners_message(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Before, ``Mum`` in ``from`` was stored as no sender: the message linked to nobody on that side."""
    path = tmp_path / "messages.csv"
    path.write_text(
        "id,timestamp,from,to,body,app,direction\n"
        "m1,2025-03-20T23:10:00,Mum,2025550143,hi,sms,in\n"
        "m2,2025-03-20T23:12:00,2025550143,2025550178,ok,sms,out\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportDataError, match=r"messages.csv:2: from: cannot read the value as a phone"):
        ingest(con, "C-1", 11, path, "phone_csv")
    ingest(con, "C-1", 11, path, "phone_csv", skip_bad_rows=True)
    assert con.execute("SELECT locator FROM messages").fetchall() == [("line:3",)]


def test_json_unreadable_numbers_and_emails_are_bad_items(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Before, an unreadable ``from`` of an outgoing message became the owner's number, an unreadable
    ``to`` of a call the owner's too, and a contact's unreadable phone an empty contact row."""
    doc = {
        "device": {"owner_phone": "2025550143"},
        "contacts": [
            {"id": "c1", "name": "A", "phones": ["2025550178", "ask Boss"], "emails": []},
            {"id": "c2", "name": "B", "phones": [], "emails": ["b at example"]},
            {"id": "c3", "name": "C", "phones": ["2025550199"], "emails": []},
        ],
        "messages": [
            {
                "id": "m1",
                "timestamp": "2025-03-20T23:10:00",
                "from": "me",
                "to": "2025550178",
                "direction": "out",
            },
            {
                "id": "m2",
                "timestamp": "2025-03-20T23:11:00",
                "from": "2025550178",
                "to": "",
                "direction": "in",
            },
        ],
        "calls": [
            {"timestamp": "2025-03-20T23:10:00", "from": "2025550178", "to": "the boss", "duration_s": 5},
            {"timestamp": "2025-03-20T23:12:00", "from": "2025550178", "duration_s": 5},
            # a placeholder is no number: an unknown party (NULL), not a bad item, not the owner
            {"timestamp": "2025-03-20T23:14:00", "from": "2025550178", "to": "Unknown", "duration_s": 5},
        ],
    }
    path = tmp_path / "device.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ImportDataError) as err:
        ingest(con, "C-1", 11, path, "phone_json")
    text = str(err.value)
    for where in (
        "json:$.contacts[0]: phones[1]",
        "json:$.contacts[1]: emails[0]",
        "json:$.messages[0]: from",
        "json:$.calls[0]: to",
    ):
        assert f"device.json:{where}: cannot read the value" in text
    assert "ask Boss" not in text and "the boss" not in text
    ingest(con, "C-1", 11, path, "phone_json", skip_bad_rows=True)
    assert con.execute("SELECT locator, phone FROM contacts").fetchall() == [
        ("json:$.contacts[2]", "+12025550199")
    ]
    assert con.execute("SELECT locator, sender, recipient FROM messages").fetchall() == [
        ("json:$.messages[1]", "+12025550178", "+12025550143")
    ]
    assert con.execute("SELECT locator, caller, callee FROM calls ORDER BY 1").fetchall() == [
        ("json:$.calls[1]", "+12025550178", "+12025550143"),
        ("json:$.calls[2]", "+12025550178", None),
    ]


def test_a_device_owner_option_that_is_no_phone_number_is_refused(
    con: duckdb.DuckDBPyConnection, fx: Path
) -> None:
    with pytest.raises(ImportDataError, match=r"option device_owner.*phone number"):
        ingest(con, "C-1", 11, fx / "phone_messages.csv", "phone_csv", {"device_owner": "Mira"})


def test_csv_emails_are_read_as_the_json_export_reads_them(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Before, ``<Mira@Example.org>`` and ``mailto:…`` were stored as no e-mail in a CSV (JSON read them)."""
    path = tmp_path / "contacts.csv"
    path.write_text(
        "id,name,phone,email\nc1,A,,<Mira@Example.org>\nc2,B,, mailto:Boss@Example.org \n", encoding="utf-8"
    )
    ingest(con, "C-1", 11, path, "phone_csv")
    assert con.execute("SELECT email FROM contacts ORDER BY locator").fetchall() == [
        ("mira@example.org",),
        ("boss@example.org",),
    ]


def _device(tmp_path: Path, **parts: object) -> Path:
    doc = {"device": {"owner_phone": "2025550143"}, "contacts": [], "messages": [], "calls": [], **parts}
    path = tmp_path / "device.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_json_a_withheld_party_is_unknown_never_the_owner(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Before, an incoming call from ``withheld`` was stored as the owner calling herself."""
    at = "2025-03-21T02:00:00"
    path = _device(
        tmp_path,
        calls=[
            {"timestamp": at, "from": "withheld", "to": "2025550143", "duration_s": 5},
            {"timestamp": at, "to": "2025550178", "duration_s": 5},  # left out: the owner's side
            {"timestamp": at, "from": "2025550143", "duration_s": 5},  # never the owner on both sides
        ],
        messages=[
            {"timestamp": at, "from": "Private", "to": None, "direction": "in"},
            {"timestamp": at, "from": "", "to": "withheld", "direction": "out"},
        ],
    )
    ingest(con, "C-1", 11, path, "phone_json")
    owner = "+12025550143"
    assert con.execute("SELECT locator, caller, callee FROM calls ORDER BY 1").fetchall() == [
        ("json:$.calls[0]", None, owner),
        ("json:$.calls[1]", owner, "+12025550178"),
        ("json:$.calls[2]", owner, None),
    ]
    assert con.execute("SELECT locator, sender, recipient FROM messages ORDER BY 1").fetchall() == [
        ("json:$.messages[0]", None, owner),
        ("json:$.messages[1]", owner, None),
    ]


def test_json_an_unreadable_owner_phone_fails_the_import_even_when_skipping_bad_rows(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Before, it was one skippable bad row, and every message was then stored without the owner."""
    path = _device(
        tmp_path,
        messages=[{"timestamp": "2025-03-20T23:12:00", "to": "2025550178", "direction": "out"}],
    )
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["device"]["owner_phone"] = "ask Mira"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(
        ImportDataError, match=r"device.json:json:\$.device.owner_phone: cannot read the value"
    ) as err:
        ingest(con, "C-1", 11, path, "phone_json", skip_bad_rows=True)
    assert "Mira" not in str(err.value)
    assert con.execute("SELECT count(*) FROM messages").fetchone() == (0,)


def test_json_contact_bad_rows_name_the_index_in_the_file(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Before, the index counted after placeholders were left out (``phones[0]`` for the second)."""
    path = _device(tmp_path, contacts=[{"id": "c", "name": "X", "phones": ["withheld", "call me"]}])
    report = ingest(con, "C-1", 11, path, "phone_json", skip_bad_rows=True)
    assert report.bad_rows == [
        "device.json:json:$.contacts[0]: phones[1]: cannot read the value as a phone number "
        "(it has no digits); the value is not shown"
    ]


def test_csv_reads_a_tab_only_number_as_blank_as_json_does(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Before, a tab-only ``from`` was refused as an unreadable phone and ``N/A<tab>`` was no
    placeholder in a CSV, while the JSON export's ``strip()`` read both as no value."""
    path = tmp_path / "messages.csv"
    path.write_text(
        "id,timestamp,from,to,body,app,direction\nm1,2025-03-20T23:12:00,\t,N/A\t,hi,sms,in\n",
        encoding="utf-8",
    )
    ingest(con, "C-1", 11, path, "phone_csv", {"device_owner": "2025550143"})
    assert con.execute("SELECT sender, recipient FROM messages").fetchall() == [(None, None)]


def test_json_times_with_a_zone_are_stored_in_utc(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """Before, the zone was dropped (``23:10+02:00`` stored as 23:10), unlike FtM's UTC."""
    path = _device(
        tmp_path,
        calls=[
            {"timestamp": "2025-03-20T23:10:00+02:00", "from": "2025550178", "duration_s": 5},
            {"timestamp": "2025-03-20T23:10:00", "from": "2025550178", "duration_s": 5},
            {"timestamp": "0001-01-01T00:30:00+01:00", "from": "2025550178", "duration_s": 5},
        ],
    )
    report = ingest(con, "C-1", 11, path, "phone_json", skip_bad_rows=True)
    assert [r[0].isoformat() for r in con.execute("SELECT ts FROM calls ORDER BY locator").fetchall()] == [
        "2025-03-20T21:10:00",
        "2025-03-20T23:10:00",
    ]
    assert report.bad_rows == ["device.json:json:$.calls[2]: timestamp: missing or not an ISO 8601 time"]
