"""FollowTheMoney streams: import keeps entities as given; export round-trips them for Aleph."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from palermo.analytics.resolve import resolve
from palermo.errors import ImportDataError
from palermo.ingest.ftm import export_entities
from palermo.ingest.service import ingest


def _entities(path: Path) -> dict[str, dict[str, object]]:
    return {e["id"]: e for e in map(json.loads, path.read_text().splitlines())}


def test_import_keeps_schema_caption_and_properties(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    ingest(con, "C-1", 4, fx / "entities.ftm.json", "ftm")
    row = con.execute(
        "SELECT schema, caption, properties->>'$.name[0]' FROM ftm_entities WHERE entity_id = 'p-velar'"
    ).fetchone()
    assert row == ("Person", "Velar Tosk", "Velar Tosk")


def test_import_lifts_phones_emails_and_accounts_into_identifiers(
    con: duckdb.DuckDBPyConnection, fx: Path
) -> None:
    ingest(con, "C-1", 4, fx / "entities.ftm.json", "ftm")
    found = set(con.execute("SELECT kind, norm FROM identifiers").fetchall())
    assert found == {  # the Call's numbers are in ``calls``, not copied here
        ("phone", "+12025550178"),
        ("email", "velar.boss@example.org"),
        ("account", "NL91ABNA0417164300"),
        ("account", "GB29NWBK60161331926819"),
    }
    assert con.execute("SELECT caller, callee FROM calls").fetchall() == [("+12025550178", "+12025550199")]


def test_people_of_a_stream_that_also_holds_payments_are_resolved(
    con: duckdb.DuckDBPyConnection, fx: Path
) -> None:
    """The stream fills ``payments`` and ``calls`` too; its Person's e-mail must still reach
    resolution (an earlier reading skipped ``identifiers`` for any evidence in those tables)."""
    ingest(con, "C-1", 4, fx / "entities.ftm.json", "ftm")
    resolve(con, "C-1")
    members = con.execute(
        "SELECT m.member_key FROM entity_members m JOIN entity_members e USING (case_ref, entity_id) "
        "WHERE e.member_key = 'email:velar.boss@example.org' ORDER BY 1"
    ).fetchall()
    assert ("phone:+12025550178",) in members and ("email:velar.boss@example.org",) in members


def test_round_trip_returns_the_same_entities(
    con: duckdb.DuckDBPyConnection, fx: Path, tmp_path: Path
) -> None:
    ingest(con, "C-1", 4, fx / "entities.ftm.json", "ftm")
    out = tmp_path / "out.ftm.json"
    export_entities(con, "C-1", out, statements=False)
    original = _entities(fx / "entities.ftm.json")
    exported = _entities(out)
    assert exported == original


def test_export_turns_payments_into_payment_entities(
    con: duckdb.DuckDBPyConnection, fx: Path, tmp_path: Path
) -> None:
    ingest(con, "C-1", 1, fx / "bank_ok.csv", "bank_csv")
    out = tmp_path / "out.ftm.json"
    export_entities(con, "C-1", out)
    payments = [e for e in _entities(out).values() if e["schema"] == "Payment"]
    assert len(payments) == 4
    assert {p["properties"]["recordId"][0] for p in payments} == {f"evidence:1:line:{n}" for n in range(2, 6)}


def test_unknown_schema_and_missing_id_are_bad_lines(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    with pytest.raises(ImportDataError) as err:
        ingest(con, "C-1", 5, fx / "entities_bad.ftm.json", "ftm")
    assert "entities_bad.ftm.json:2: schema" in str(err.value)
    assert "entities_bad.ftm.json:3: schema" in str(err.value)


def test_payment_entities_become_payments_between_their_accounts(
    con: duckdb.DuckDBPyConnection, fx: Path
) -> None:
    ingest(con, "C-1", 4, fx / "entities.ftm.json", "ftm")
    row = con.execute(
        "SELECT CAST(ts AS DATE)::VARCHAR, from_account, from_name, to_account, to_name, amount, "
        "description, stmt_id FROM payments"
    ).fetchone()
    assert row == (
        "2025-03-01",
        "NL91ABNA0417164300",
        "Velar Tosk",
        "GB29NWBK60161331926819",
        "Stella Hospitality Ltd",
        Decimal("2500.00"),
        "rent",
        "4:jsonl:line:6:payment",
    )


def test_call_entities_become_calls(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    ingest(con, "C-1", 4, fx / "entities.ftm.json", "ftm")
    assert con.execute("SELECT caller, callee, duration_s FROM calls").fetchall() == [
        ("+12025550178", "+12025550199", 61)
    ]


def _stream(path: Path, *entities: Mapping[str, object]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in entities), encoding="utf-8")
    return path


PERSON = {"id": "p-1", "schema": "Person", "properties": {"name": ["Ana Rell"]}}


def _payment(*dates: str) -> dict[str, object]:
    return {"id": "pay-1", "schema": "Payment", "properties": {"amount": ["25"], "date": list(dates)}}


def test_a_date_ftm_cannot_read_is_a_bad_row_not_a_lost_value(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """FtM drops ``03/04/2015`` while building the entity: the payment would have had no date."""
    stream = _stream(tmp_path / "pay.ftm.json", PERSON, _payment("03/04/2015"))
    with pytest.raises(ImportDataError) as caught:
        ingest(con, "C-1", 5, stream, "ftm")
    text = str(caught.value)
    assert (
        "pay.ftm.json:2: properties.date: cannot read the value (10 characters: digits and /) as a date"
        in text
    )
    assert "03/04" not in text
    assert con.execute(
        "SELECT (SELECT count(*) FROM ftm_entities) + (SELECT count(*) FROM payments) "
        "+ (SELECT count(*) FROM imports)"
    ).fetchone() == (0,)


def test_a_line_with_an_unreadable_date_is_skipped_on_request(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    born = {"id": "p-2", "schema": "Person", "properties": {"name": ["Ivo"], "birthDate": ["1990-13-01"]}}
    stream = _stream(tmp_path / "pay.ftm.json", PERSON, born, _payment("2025-02-30", "2025-03-01"))
    report = ingest(con, "C-1", 5, stream, "ftm", skip_bad_rows=True)
    assert (report.status, report.rows_bad) == ("partial", 2)
    assert report.bad_rows == [
        "pay.ftm.json:2: properties.birthDate: cannot read the value (10 characters: digits and -) as a date "
        "(FollowTheMoney reads ISO 8601, whole or partial: 2015, 2015-03, 2015-03-04T10:30)",
        "pay.ftm.json:3: properties.date: cannot read the value (10 characters: digits and -) as a date "
        "(FollowTheMoney reads ISO 8601, whole or partial: 2015, 2015-03, 2015-03-04T10:30)",
    ]
    assert con.execute("SELECT entity_id FROM ftm_entities").fetchall() == [("p-1",)]
    assert con.execute("SELECT count(*) FROM payments").fetchone() == (0,)


@pytest.mark.parametrize("date", ["2015", "2015-03", "2015-03-04", "2015-03-04T10:30:00", ""])
def test_partial_and_blank_dates_are_read_as_ftm_reads_them(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, date: str
) -> None:
    stream = _stream(tmp_path / "pay.ftm.json", _payment(date))
    assert ingest(con, "C-1", 5, stream, "ftm").status == "imported"
    stored = con.execute("SELECT properties->'$.date' FROM ftm_entities").fetchone()
    assert stored is not None and json.loads(stored[0] or "null") == ([date] if date else None)


@pytest.mark.parametrize(
    ("given", "held"),
    [
        ("2021-03-04T05:06:07", "2021-03-04T05:06:07"),
        ("2021-03-04T05:06:07Z", "2021-03-04T05:06:07"),  # FtM alone: 2021-03-04T05:06
        ("2021-03-04T05:06:07+02:00", "2021-03-04T03:06:07"),
        ("2021-03-04T05:06:07.123+02:00", "2021-03-04T03:06:07"),  # FtM alone: 05:06:07, zone lost
        ("2021-03-04T05:06", "2021-03-04T05:06"),  # a time to the minute stays one
        ("2021-03-04T05:06Z", "2021-03-04T05:06"),  # FtM alone: 2021-03-04T05, the minutes lost
        ("2021-03-04T05:06+02:00", "2021-03-04T03:06"),  # FtM alone: 05:06, the zone ignored
        ("2021-03-04 05:06-01:30", "2021-03-04T06:36"),
        ("2021-03", "2021-03"),
    ],
)
def test_ftm_times_keep_the_seconds_they_were_given(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, given: str, held: str
) -> None:
    stream = _stream(
        tmp_path / "s.ftm.json",
        {"id": "c1", "schema": "Call", "properties": {"date": [given], "callerNumber": ["+12025550178"]}},
    )
    ingest(con, "C-1", 4, stream, "ftm")
    assert con.execute("SELECT properties->>'$.date[0]' FROM ftm_entities").fetchone() == (held,)
    if len(held) == 19:
        assert con.execute("SELECT strftime(ts, '%Y-%m-%dT%H:%M:%S') FROM calls").fetchone() == (held,)
    if len(held) == 16:
        assert con.execute("SELECT strftime(ts, '%Y-%m-%dT%H:%M') FROM calls").fetchone() == (held,)


def test_a_time_whose_offset_leaves_the_calendar_is_a_bad_row_not_a_crash(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Before, ``0001-01-01T00:30:00+01:00`` raised OverflowError: a traceback, not exit 2."""
    born = {
        "id": "p-2",
        "schema": "Person",
        "properties": {"name": ["Ivo"], "birthDate": ["0001-01-01T00:30:00+01:00"]},
    }
    stream = _stream(tmp_path / "p.ftm.json", PERSON, born)
    report = ingest(con, "C-1", 5, stream, "ftm", skip_bad_rows=True)
    assert report.bad_rows == [
        "p.ftm.json:2: properties.birthDate: cannot read the value as a date: its UTC offset moves it out of "
        "the years 1 to 9999"
    ]
    assert con.execute("SELECT entity_id FROM ftm_entities").fetchall() == [("p-1",)]


def test_ftm_values_dropped_by_cleaning_are_counted_per_property_without_the_values(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, a phone FtM could not read vanished from the entity and the import said nothing."""
    from palermo.cli.ingest import _render

    stream = _stream(
        tmp_path / "s.ftm.json",
        {
            "id": "p1",
            "schema": "Person",
            "properties": {
                "name": ["Test Person"],
                "phone": ["call Mira", "+12025550178"],
                "email": ["mira at example", "x@example.org"],
                "shoeSize": ["42"],
                "Mira Vell +12025550111": ["x"],
            },
        },
        {"id": "o1", "schema": "Organization", "properties": {"name": ["Org"], "phone": ["ask Boss"]}},
        {"id": "p2", "schema": "Person", "properties": {"name": ["Fine"], "phone": ["+12025550199"]}},
    )
    report = ingest(con, "C-1", 4, stream, "ftm")
    assert report.status == "imported" and report.tables["ftm_entities"] == 3
    assert report.dropped == {"properties.email": 1, "properties.phone": 2, "properties.(not in schema)": 2}
    _render(report)
    out = capsys.readouterr().out
    assert (
        "values dropped: 5 (properties.(not in schema): 2, properties.email: 1, properties.phone: 2)"
        in " ".join(out.split())
    )
    assert "Mira" not in out and "mira at" not in out and "Boss" not in out and "2025550111" not in out


def test_a_clean_ftm_stream_reports_no_dropped_values(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    assert ingest(con, "C-1", 4, fx / "entities.ftm.json", "ftm").dropped == {}


def test_ftm_national_numbers_are_read_with_the_region_not_dropped(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Before, FtM's phone type dropped every number not written with +: a national caller left the
    Call without its caller and the Person without her phone, whatever --region said."""
    stream = _stream(
        tmp_path / "s.ftm.json",
        {
            "id": "p1",
            "schema": "Person",
            "properties": {"name": ["Test Person"], "phone": ["(202) 555-0178"]},
        },
        {
            "id": "c1",
            "schema": "Call",
            "properties": {
                "date": ["2021-03-04"],
                "callerNumber": ["2025550178"],
                "receiverNumber": ["+12025550199"],
            },
        },
    )
    report = ingest(con, "C-1", 4, stream, "ftm", {"region": "US"})
    assert report.dropped == {}
    assert con.execute("SELECT caller, callee FROM calls").fetchall() == [("+12025550178", "+12025550199")]
    assert con.execute("SELECT norm FROM identifiers WHERE kind = 'phone'").fetchall() == [("+12025550178",)]
    assert con.execute(
        "SELECT properties->>'$.phone[0]' FROM ftm_entities WHERE entity_id = 'p1'"
    ).fetchone() == ("+12025550178",)


def test_ftm_payments_and_calls_that_would_lose_a_party_or_misread_an_amount_are_bad_rows(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Before, "1.234,56" was stored as 1.23, "-50" as 50 paid, and a Call whose number FtM could not
    read as a call with no caller."""
    stream = _stream(
        tmp_path / "s.ftm.json",
        {"id": "pay1", "schema": "Payment", "properties": {"date": ["2021-03-04"], "amount": ["1.234,56"]}},
        {"id": "pay2", "schema": "Payment", "properties": {"date": ["2021-03-04"], "amount": ["-50"]}},
        {
            "id": "c1",
            "schema": "Call",
            "properties": {"callerNumber": ["ask Boss"], "receiverNumber": ["+12025550199"]},
        },
        {
            "id": "c2",
            "schema": "Call",
            "properties": {"callerNumber": ["+12025550178"], "duration": ["1:05"]},
        },
        {"id": "pay3", "schema": "Payment", "properties": {"date": ["2021-03-04"], "amount": ["1,234.56"]}},
    )
    with pytest.raises(ImportDataError) as err:
        ingest(con, "C-1", 4, stream, "ftm")
    text = str(err.value)
    assert (
        "s.ftm.json:1: properties.amount: cannot read the value (8 characters: digits and , .) as an amount"
        in text
    )
    assert "s.ftm.json:2: properties.amount: negative amount: the payer and beneficiary" in text
    assert "s.ftm.json:3: properties.callerNumber: cannot read the value as a phone number" in text
    assert (
        "s.ftm.json:4: properties.duration: cannot read the value (4 characters: digits and :) as a number"
        in text
    )
    for value in ("ask Boss", "1.234,56", "-50", "1:05"):
        assert value not in text
    ingest(con, "C-1", 4, stream, "ftm", skip_bad_rows=True)
    assert con.execute("SELECT amount FROM payments").fetchall() == [(Decimal("1234.56"),)]
    assert con.execute("SELECT count(*) FROM calls").fetchone() == (0,)


def test_a_re_exported_stream_carries_only_its_own_marking(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """A Palermo export imported into another case brings its marking ``Note`` (another export's id
    and recipient) with it; exporting that case again writes the new marking, first, and not the old."""
    from palermo.ingest.marking import ExportMarking

    old = ExportMarking("RESTRICTED", "handle with care", "first desk", "C-0", "ftm")
    person = {"id": "p-1", "schema": "Person", "properties": {"name": ["Velar Tosk"]}}
    stream = tmp_path / "old.ftm.json"
    stream.write_text(json.dumps(old.ftm_entity()) + "\n" + json.dumps(person) + "\n", encoding="utf-8")
    ingest(con, "C-1", 4, stream, "ftm")
    new = ExportMarking("RESTRICTED", "handle with care", "second desk", "C-1", "ftm")
    out = tmp_path / "new.ftm.json"
    assert export_entities(con, "C-1", out, statements=False, marking=new) == 1
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [e["id"] for e in lines] == [f"palermo-marking-{new.export_id}", "p-1"]
    assert "second desk" in lines[0]["properties"]["name"][0]


def test_ftm_messages_never_repeat_a_value_typed_in_the_wrong_property(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Before, a number or name in a duration or amount was quoted in the bad row."""
    stream = _stream(
        tmp_path / "s.ftm.json",
        {
            "id": "c1",
            "schema": "Call",
            "properties": {"callerNumber": ["+12025550178"], "duration": ["+39 333 123 4567"]},
        },
        {"id": "pay1", "schema": "Payment", "properties": {"date": ["2021-03-04"], "amount": ["Mira Vell"]}},
        {"id": "pay2", "schema": "Payment", "properties": {"date": ["Mira Vell"], "amount": ["5"]}},
    )
    report = ingest(con, "C-1", 4, stream, "ftm", skip_bad_rows=True)
    text = "\n".join(report.bad_rows)
    assert report.rows_bad == 3
    assert "16 characters: digits, spaces and +" in text and "9 characters: letters, spaces" in text
    assert "333" not in text and "Mira" not in text and "Vell" not in text


def test_ftm_calls_read_their_numbers_as_a_cdr_does(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """Before, a Call from ``withheld`` or to a short code or a possible-but-invalid number was a bad
    row asking for --region, while the same call in a CDR was imported."""
    stream = _stream(
        tmp_path / "s.ftm.json",
        {
            "id": "c1",
            "schema": "Call",
            "properties": {
                "date": ["2021-03-04"],
                "callerNumber": ["withheld"],
                "receiverNumber": ["+12025550199"],
            },
        },
        {
            "id": "c2",
            "schema": "Call",
            "properties": {
                "date": ["2021-03-04"],
                "callerNumber": ["+13331234567"],
                "receiverNumber": ["12345"],
            },
        },
    )
    report = ingest(con, "C-1", 4, stream, "ftm")
    assert report.status == "imported"
    assert con.execute("SELECT locator, caller, callee FROM calls ORDER BY 1").fetchall() == [
        ("jsonl:line:1", None, "+12025550199"),
        ("jsonl:line:2", "+13331234567", "12345"),
    ]
    # FtM's phone type keeps neither number in the entity: counted, as every value it drops
    assert report.dropped == {"properties.callerNumber": 1, "properties.receiverNumber": 1}


def test_a_negative_zero_ftm_amount_is_no_contradiction(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    stream = _stream(
        tmp_path / "s.ftm.json",
        {"id": "pay1", "schema": "Payment", "properties": {"date": ["2021-03-04"], "amount": ["-0.00"]}},
    )
    assert ingest(con, "C-1", 4, stream, "ftm").status == "imported"
    assert con.execute("SELECT amount FROM payments").fetchall() == [(Decimal("0.00"),)]


def test_ftm_identifiers_keep_the_number_as_the_exhibit_wrote_it(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Before, ``identifiers.raw`` held the E.164 form written for FtM, not the exhibit's text."""
    stream = _stream(
        tmp_path / "s.ftm.json",
        {
            "id": "p1",
            "schema": "Person",
            "properties": {"name": ["Test Person"], "phone": ["(202) 555-0178"]},
        },
    )
    ingest(con, "C-1", 4, stream, "ftm", {"region": "US"})
    assert con.execute("SELECT raw, norm FROM identifiers").fetchall() == [("(202) 555-0178", "+12025550178")]
