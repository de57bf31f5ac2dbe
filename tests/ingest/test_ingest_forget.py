"""``forget``: undoing one import, so an exhibit read the wrong way can be read again.

Every test goes through a real workspace (case store + DuckDB) or a real DuckDB file; failures are
real ones (a write-write conflict in DuckDB, a case store that refuses the audit record), not
stand-ins for Palermo's own code.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from palermo.cli.main import app
from palermo.errors import InputError, NotFoundError
from palermo.ingest.schema import EVIDENCE_TABLES, create_schema, ddl
from palermo.ingest.service import forget, ingest
from palermo.workspace import Workspace

HEADER = (
    "date;time;account_iban;account_holder;counterparty_iban;counterparty_name;amount;currency;direction;"
    "channel;description;city;balance"
)
#: A continental statement: read by ``bank_csv`` without ``decimal_comma`` two of its three amounts are
#: bad rows; with it, all three are read.
ROWS = (
    "2025-03-01;09:15:00;NL91ABNA0417164300;Mara Velden;DE89370400440532013000;Oskar Brandt;2177,89;EUR;"
    "credit;transfer;salary;Amsterdam;1",
    "2025-03-02;23:41:07;NL91ABNA0417164300;Mara Velden;GB29NWBK60161331926819;Tomas Kell;1.234,56;EUR;"
    "debit;card;room 12;Rotterdam;1",
    "2025-03-03;10:00:00;NL91ABNA0417164300;Mara Velden;GB29NWBK60161331926819;Tomas Kell;-15;EUR;"
    "debit;p2p;rent;Amsterdam;1",
)
#: The same statement read through a YAML mapping: a second import of the same exhibit, writing the
#: same table with the same statement ids (``<evidence>:line:N``).
MAPPING = """name: contbank
description: continental statement → payments
target: payments
source: {format: csv, delimiter: ";"}
fields:
  ts: {column: date, type: timestamp, format: "%Y-%m-%d", required: true}
  from_account: {column: account_iban, type: account}
  from_name: {column: account_holder}
  to_account: {column: counterparty_iban, type: account}
  to_name: {column: counterparty_name}
  amount: {column: amount, type: decimal, decimal_comma: true, required: true}
  currency: {const: EUR}
"""
WRONG = {"delimiter": ";"}
RIGHT = {"delimiter": ";", "decimal_comma": "true"}


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    key = tmp_path / "keys" / "master.key"
    monkeypatch.setenv("PALERMO_MASTER_KEY_FILE", str(key))
    workspace = Workspace.init(tmp_path / "ws", master_key_file=key)
    workspace.cases.create("C-1", "Synthetic ring")
    workspace.cases.create("C-2", "Other case")
    yield workspace
    workspace.close()


@pytest.fixture
def statement(tmp_path: Path) -> Path:
    path = tmp_path / "statement.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    path = tmp_path / "contbank.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    return path


def _add(ws: Any, case_ref: str, path: Path) -> int:
    return int(ws.evidence.add(case_ref, path, source="test", acquired_by="analyst").id)


def _snapshot(con: Any, *, with_import_ids: bool = True) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every evidence table and every import record, as sorted tuples."""
    skip = "" if with_import_ids else " EXCLUDE (import_id)"
    out = {t: con.execute(f"SELECT *{skip} FROM {t} ORDER BY ALL").fetchall() for t in EVIDENCE_TABLES}
    out["imports"] = con.execute(
        "SELECT import_id, case_ref, evidence_id, adapter, sha256, options_json, rows_ok, rows_bad, status "
        "FROM imports ORDER BY import_id"
    ).fetchall()
    return out


def _forgets(ws: Any) -> list[Any]:
    return [e for e in ws.audit.events() if e.action == "ingest.forget"]


def test_forget_removes_every_row_of_the_import_and_nothing_else(
    ws: Any, fx: Path, statement: Path, mapping: Path
) -> None:
    """Another import of the same exhibit (same table, same statement ids), another exhibit of the case
    and another case's import keep every row; the forgotten import leaves none, and its record goes."""
    exhibit = _add(ws, "C-1", statement)
    phone = _add(ws, "C-1", fx / "phone_device.json")
    other_case = _add(ws, "C-2", fx / "cdr_ok.csv")
    analytics = ws.analytics
    con = analytics.connect()
    kept = analytics.ingest("C-1", exhibit, "mapping", {"mapping": str(mapping)})
    analytics.ingest("C-1", phone, "phone_json", {"region": "US"})
    analytics.ingest("C-2", other_case, "cdr_csv", {"region": "US"})
    before = _snapshot(con)
    wrong = analytics.ingest("C-1", exhibit, "bank_csv", WRONG, skip_bad_rows=True)
    assert (wrong.status, wrong.rows_ok, kept.rows_ok) == ("partial", 1, 3)
    shared = con.execute(
        "SELECT count(*) FROM payments a JOIN payments b USING (stmt_id) "
        "WHERE a.import_id = ? AND b.import_id = ?",
        [wrong.import_id, kept.import_id],
    ).fetchone()
    assert shared == (1,)  # only the import id tells the two imports' rows apart

    report = analytics.forget("C-1", wrong.import_id)

    assert _snapshot(con) == before
    assert (report.import_id, report.evidence_id, report.adapter) == (wrong.import_id, exhibit, "bank_csv")
    assert (report.tables, report.rows_removed, report.options) == (wrong.tables, wrong.rows_ok, WRONG)
    analytics.close()


def test_every_table_an_import_wrote_is_emptied_of_it(ws: Any, fx: Path) -> None:
    """A phone extraction writes calls, messages, contacts and ``identifiers`` (the device's own number):
    all of them lose the import's rows, and the counts removed are the counts it wrote."""
    phone = _add(ws, "C-1", fx / "phone_device.json")
    analytics = ws.analytics
    con = analytics.connect()
    written = analytics.ingest("C-1", phone, "phone_json", {"region": "US"})
    assert "identifiers" in written.tables and len(written.tables) >= 3
    report = analytics.forget("C-1", int(written.import_id or 0))
    assert report.tables == written.tables
    assert all(con.execute(f"SELECT count(*) FROM {t}").fetchone() == (0,) for t in EVIDENCE_TABLES)
    assert analytics.imports("C-1") == []
    analytics.close()


def test_the_exhibit_can_be_imported_again_with_other_options(ws: Any, statement: Path) -> None:
    """Idempotency blocks a second import of the same exhibit; after ``forget`` it is read again, and
    the result is exactly a fresh import's."""
    exhibit = _add(ws, "C-1", statement)
    analytics = ws.analytics
    con = analytics.connect()
    wrong = analytics.ingest("C-1", exhibit, "bank_csv", WRONG, skip_bad_rows=True)
    assert analytics.ingest("C-1", exhibit, "bank_csv", RIGHT).status == "already_imported"

    analytics.forget("C-1", int(wrong.import_id or 0))
    again = analytics.ingest("C-1", exhibit, "bank_csv", RIGHT)

    fresh_con = duckdb.connect()
    stored = ws.evidence.path_of(exhibit)
    fresh = ingest(fresh_con, "C-1", exhibit, stored, "bank_csv", RIGHT, display_name=statement.name)
    assert (again.status, again.rows_ok, again.rows_bad, again.tables) == (
        fresh.status,
        fresh.rows_ok,
        fresh.rows_bad,
        fresh.tables,
    )
    assert again.rows_ok == 3
    mine, theirs = _snapshot(con, with_import_ids=False), _snapshot(fresh_con, with_import_ids=False)
    assert {t: mine[t] for t in EVIDENCE_TABLES} == {t: theirs[t] for t in EVIDENCE_TABLES}
    assert [(r.adapter, r.options, r.rows_ok) for r in analytics.imports("C-1")] == [("bank_csv", RIGHT, 3)]
    fresh_con.close()
    analytics.close()


def test_a_conflict_midway_leaves_every_table_as_it_was(ws: Any, fx: Path, statement: Path) -> None:
    """A real failure after the rows are deleted (another transaction holds the import record):
    the deletes are rolled back, nothing is audited, and forgetting works once the other is gone."""
    exhibit = _add(ws, "C-1", statement)
    phone = _add(ws, "C-1", fx / "phone_device.json")
    analytics = ws.analytics
    con = analytics.connect()
    analytics.ingest("C-1", exhibit, "bank_csv", RIGHT)
    target = analytics.ingest("C-1", phone, "phone_json", {"region": "US"})
    before = _snapshot(con)
    other = con.cursor()
    other.execute("BEGIN TRANSACTION")
    other.execute("DELETE FROM imports WHERE import_id = ?", [target.import_id])  # not committed
    with pytest.raises(duckdb.TransactionException, match=r"[Cc]onflict"):
        analytics.forget("C-1", int(target.import_id or 0))
    other.execute("ROLLBACK")
    other.close()
    assert _snapshot(con) == before
    assert _forgets(ws) == []
    assert analytics.forget("C-1", int(target.import_id or 0)).tables == target.tables
    assert len(_forgets(ws)) == 1
    analytics.close()


def test_an_audit_log_that_refuses_the_record_forgets_nothing(ws: Any, statement: Path) -> None:
    """The audit record is written before DuckDB commits: when the case store refuses it, the rows stay."""
    exhibit = _add(ws, "C-1", statement)
    analytics = ws.analytics
    con = analytics.connect()
    done = analytics.ingest("C-1", exhibit, "bank_csv", RIGHT)
    before = _snapshot(con)
    with ws.ctx.db.transaction() as session:
        session.execute(
            text(
                "CREATE TRIGGER no_forget BEFORE INSERT ON audit_events WHEN NEW.action = 'ingest.forget' "
                "BEGIN SELECT RAISE(ABORT, 'audit store refuses'); END"
            )
        )
    with pytest.raises(Exception, match="audit store refuses"):
        analytics.forget("C-1", int(done.import_id or 0))
    assert _snapshot(con) == before
    with ws.ctx.db.transaction() as session:
        session.execute(text("DROP TRIGGER no_forget"))
    assert analytics.forget("C-1", int(done.import_id or 0)).rows_removed == 3
    analytics.close()


def test_forgetting_is_audited_with_counts_and_never_values(ws: Any, statement: Path) -> None:
    exhibit = _add(ws, "C-1", statement)
    analytics = ws.analytics
    done = analytics.ingest("C-1", exhibit, "bank_csv", RIGHT)
    analytics.forget("C-1", int(done.import_id or 0), actor="analyst.one")
    analytics.close()
    (event,) = _forgets(ws)
    assert (event.actor, event.object_type, event.case_id) == ("analyst.one", "case", ws.cases.get("C-1").id)
    assert event.detail["import_id"] == done.import_id and event.detail["evidence_id"] == exhibit
    assert event.detail["rows_removed"] == {"payments": 3}
    written = json.dumps(event.detail)
    assert not any(value in written for value in ("NL91", "Mara", "Tomas", "2177", "salary"))
    assert [e.action for e in ws.audit.events("C-1")][-1] == "ingest.forget"  # in the case's log
    assert ws.audit.verify() == []


def test_unknown_case_unknown_import_and_another_cases_import_are_refused(ws: Any, fx: Path) -> None:
    theirs = _add(ws, "C-2", fx / "cdr_ok.csv")
    analytics = ws.analytics
    con = analytics.connect()
    done = analytics.ingest("C-2", theirs, "cdr_csv", {"region": "US"})
    before = _snapshot(con)
    with pytest.raises(NotFoundError, match="NOPE"):
        analytics.forget("NOPE", int(done.import_id or 0))
    with pytest.raises(NotFoundError, match="no import 999 in case C-1"):
        analytics.forget("C-1", 999)
    with pytest.raises(NotFoundError, match="belongs to case C-2, not to C-1"):
        analytics.forget("C-1", int(done.import_id or 0))
    assert _snapshot(con) == before and _forgets(ws) == []
    analytics.close()


def _cli(ws: Any, *args: str) -> Any:
    return CliRunner().invoke(app, ["ingest", *args, "-w", str(ws.path)])


def test_cli_forgets_and_the_exhibit_is_imported_again(ws: Any, statement: Path) -> None:
    exhibit = _add(ws, "C-1", statement)
    ws.close()  # the CLI opens the workspace itself
    first = _cli(ws, "C-1", str(exhibit), "-a", "bank_csv", "-o", "delimiter=;", "--skip-bad-rows", "--json")
    assert first.exit_code == 0, first.output
    import_id = json.loads(first.stdout)["import_id"]

    shown = _cli(ws, "forget", "C-1", str(import_id))
    assert shown.exit_code == 0, shown.output
    assert f"Forgot import {import_id} of C-1 (evidence {exhibit}, bank_csv" in shown.stdout
    assert f"palermo ingest C-1 {exhibit} --adapter NAME" in shown.stdout
    assert json.loads(_cli(ws, "imports", "C-1", "--json").stdout) == []

    again = _cli(
        ws, "C-1", str(exhibit), "-a", "bank_csv", "-o", "delimiter=;", "-o", "decimal_comma=true", "--json"
    )
    assert again.exit_code == 0, again.output
    assert (json.loads(again.stdout)["status"], json.loads(again.stdout)["rows_ok"]) == ("imported", 3)
    second = json.loads(again.stdout)["import_id"]
    as_json = _cli(ws, "forget", "C-1", str(second), "--json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["tables"] == {"payments": 3}


def test_cli_shows_no_device_owners_number_among_the_options(ws: Any, fx: Path) -> None:
    """``device_owner`` is the seized phone's own number, and its owner may be a victim: the import
    list and forget show the option, never the number (nobody is analysed, so nobody may be named)."""
    exhibit = _add(ws, "C-1", fx / "phone_messages.csv")
    ws.close()
    done = _cli(ws, "C-1", str(exhibit), "-a", "phone_csv", "-o", "device_owner=(202) 555-0143", "--json")
    assert done.exit_code == 0, done.output
    listed = _cli(ws, "imports", "C-1", "--json")
    assert json.loads(listed.stdout)[0]["options"] == {"device_owner": "[number withheld]"}
    # the import is in the case's audit trail with the option's name, never its value
    again = Workspace.open(ws.path)
    try:
        [event] = [e for e in again.audit.events("C-1") if e.action == "ingest.import"]
    finally:
        again.close()
    assert event.object_id == str(exhibit) and event.detail["options"] == ["device_owner"]
    assert event.detail["rows_ok"] == 2 and "555" not in json.dumps(event.detail)
    import_id = json.loads(done.stdout)["import_id"]
    shown = _cli(ws, "forget", "C-1", str(import_id))
    assert shown.exit_code == 0 and "555" not in shown.stdout and "[number withheld]" in shown.stdout


def test_cli_refuses_unknown_ids_as_bad_input(ws: Any, fx: Path) -> None:
    theirs = _add(ws, "C-2", fx / "cdr_ok.csv")
    ws.close()
    done = _cli(ws, "C-2", str(theirs), "-a", "cdr_csv", "--json")
    import_id = json.loads(done.stdout)["import_id"]
    for args, message in (
        (("forget", "NOPE", str(import_id)), "NOPE"),
        (("forget", "C-1", "999"), "no import 999"),
        (("forget", "C-1", str(import_id)), "belongs to case C-2"),
    ):
        result = _cli(ws, *args)
        assert isinstance(result.exception, NotFoundError), result.output
        assert result.exception.exit_code == 2 and message in str(result.exception)
    assert [r["import_id"] for r in json.loads(_cli(ws, "imports", "C-2", "--json").stdout)] == [import_id]


def _old_layout(con: Any) -> None:
    """The analytics tables as they were before rows carried their import id."""
    con.execute(ddl().replace(", import_id BIGINT", ""))


def test_rows_from_before_import_ids_are_given_their_import_when_it_is_the_only_one(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    _old_layout(con)
    record = (
        "INSERT INTO imports (case_ref, evidence_id, adapter, sha256, rows_ok, rows_bad, status, started_at, "
        "finished_at) VALUES ('C-1', ?, ?, 'x', 1, 0, 'imported', now(), now()) RETURNING import_id"
    )
    alone = con.execute(record, [1, "cdr_csv"]).fetchone()[0]
    first = con.execute(record, [2, "bank_csv"]).fetchone()[0]
    second = con.execute(record, [2, "mapping:contbank"]).fetchone()[0]
    for evidence_id, n in ((1, 3), (2, 2)):
        for line in range(n):
            con.execute(
                "INSERT INTO calls (case_ref, evidence_id, locator, stmt_id) VALUES ('C-1', ?, ?, ?)",
                [evidence_id, f"line:{line}", f"{evidence_id}:line:{line}"],
            )
    create_schema(con)
    assert con.execute(
        "SELECT evidence_id, import_id, count(*) FROM calls GROUP BY ALL ORDER BY 1"
    ).fetchall() == [
        (1, alone, 3),
        (2, None, 2),  # two imports read evidence 2: nobody can say whose rows these are
    ]
    with pytest.raises(InputError, match=rf"import\(s\) {second} read it too.*nothing forgotten"):
        forget(con, "C-1", first)
    assert con.execute("SELECT count(*) FROM calls").fetchone() == (5,)
    assert forget(con, "C-1", alone).tables == {"calls": 3}
    assert con.execute("SELECT DISTINCT evidence_id FROM calls").fetchall() == [(2,)]
    con.close()


def _element(ws: Any) -> int:
    """An element of a charge of C-1, for accepting leads into the proof matrix."""
    ws.parties.add_defendant("C-1", "D. Roe")
    ws.parties.add_victim("C-1", "V1", age_at_offence=30)
    return int(ws.charges.add("C-1", "us-18-usc-1589", "D. Roe", ["V1"], 1).elements[0].id)


def _indicator_lead(ws: Any, exhibit: int, import_ids: list[int] | None, summary: str) -> int:
    """A lead as the indicator runner proposes it: its hit's exhibits and the imports behind it."""
    return int(
        ws.leads.propose(
            "C-1",
            summary=summary,
            origin="indicator:F_TEST",
            evidence_id=exhibit,
            locator="line:2",
            detail={"hit_id": f"hit:{summary}", "evidence_ids": [exhibit]},
            import_ids=import_ids,
        ).id
    )


def _lead_cli(ws: Any, *args: str) -> Any:
    return CliRunner().invoke(app, [*args, "-w", str(ws.path)], env={"COLUMNS": "250"})


def test_cli_forget_withdraws_the_leads_it_alone_supported_and_flags_accepted_ones(
    ws: Any, statement: Path, mapping: Path, tmp_path: Path
) -> None:
    """Forgetting the bank_csv reading of a statement also read through a mapping: a lead only the
    forgotten import supported is withdrawn, one the mapping's rows also support stays proposed, an
    accepted one that lost part of its support is flagged (and shown so in ``lead list`` and the proof
    matrix) until a person confirms it; a lead a person added is untouched."""
    exhibit = _add(ws, "C-1", statement)
    element = _element(ws)
    analytics = ws.analytics
    forgotten = int(analytics.ingest("C-1", exhibit, "bank_csv", RIGHT).import_id or 0)
    kept = int(analytics.ingest("C-1", exhibit, "mapping", {"mapping": str(mapping)}).import_id or 0)
    analytics.close()
    alone = _indicator_lead(ws, exhibit, [forgotten], "alone")
    both = _indicator_lead(ws, exhibit, [forgotten, kept], "both")
    accepted = _indicator_lead(ws, exhibit, [forgotten, kept], "accepted")
    ws.leads.accept(accepted, element_id=element, author="prosecutor")
    by_hand = int(
        ws.leads.propose("C-1", summary="seen at the flat", origin="person:jsmith", evidence_id=exhibit).id
    )
    interview = tmp_path / "interview.txt"
    interview.write_text("Interview notes (synthetic).\n", encoding="utf-8")
    # ``lead add --origin indicator:…`` on an exhibit never imported: nothing of it can be forgotten
    hand_indicator = int(
        ws.leads.propose(
            "C-1",
            summary="funnel, from the interview",
            origin="indicator:FUNNEL_ACCOUNT",
            evidence_id=_add(ws, "C-1", interview),
        ).id
    )
    ws.close()

    shown = _cli(ws, "forget", "C-1", str(forgotten))
    assert shown.exit_code == 0, shown.output
    assert f"Lead(s) {alone} withdrawn" in shown.stdout
    assert f"Accepted lead(s) {accepted} flagged for review" in shown.stdout

    listed = {x["id"]: x for x in json.loads(_lead_cli(ws, "lead", "list", "C-1", "--json").stdout)}
    why = f"import {forgotten} (evidence {exhibit}) forgotten"
    assert listed[alone]["status"] == "withdrawn" and why in listed[alone]["reason"]
    assert (listed[both]["status"], listed[both]["flag"]) == ("proposed", None)
    assert listed[accepted]["status"] == "accepted" and why in listed[accepted]["flag"]
    assert listed[accepted]["import_ids"] == [kept]  # what is left behind it
    assert (listed[by_hand]["status"], listed[by_hand]["flag"]) == ("proposed", None)
    assert (listed[hand_indicator]["status"], listed[hand_indicator]["import_ids"]) == ("proposed", None)
    assert listed[both]["import_ids"] == [kept]  # the forgotten import no longer counts for it
    flagged = json.loads(_lead_cli(ws, "lead", "list", "C-1", "--flagged", "--json").stdout)
    assert [x["id"] for x in flagged] == [accepted]
    text_list = _lead_cli(ws, "lead", "list", "C-1").stdout
    assert "accepted, flagged" in text_list and "withdrawn" in text_list
    matrix = _lead_cli(ws, "proof", "matrix", "C-1").stdout
    assert f"lead {accepted}: REVIEW, evidence removed" in " ".join(matrix.split())
    assert "1 element(s) on links flagged for review" in " ".join(matrix.split())
    gaps = json.loads(_lead_cli(ws, "proof", "gaps", "C-1", "--json").stdout)
    assert any(f"lead {accepted}" in g["missing"] for g in gaps)
    # ``case show`` says why the charge is not ready, in text and JSON
    [charge] = json.loads(_lead_cli(ws, "case", "show", "C-1", "--json").stdout)["readiness"]
    assert (charge["ready"], charge["to_review"]) == (False, 1)
    shown_case = " ".join(_lead_cli(ws, "case", "show", "C-1").stdout.split())
    assert "1 on links flagged for review (not ready until confirmed)" in shown_case
    refused = _lead_cli(ws, "lead", "accept", str(alone), "--author", "prosecutor", "--element", str(element))
    assert isinstance(refused.exception, InputError) and "already withdrawn" in str(refused.exception)

    confirmed = _lead_cli(
        ws, "lead", "confirm", str(accepted), "--author", "prosecutor", "--note", "the statement shows it"
    )
    assert confirmed.exit_code == 0, confirmed.output
    assert json.loads(_lead_cli(ws, "lead", "list", "C-1", "--flagged", "--json").stdout) == []
    again = Workspace.open(ws.path)
    try:
        actions = [(e.action, e.object_id) for e in again.audit.events("C-1") if e.action.startswith("lead.")]
        forget_event = next(e for e in again.audit.events("C-1") if e.action == "ingest.forget")
    finally:
        again.close()
    assert ("lead.withdraw", str(alone)) in actions and ("lead.flag", str(accepted)) in actions
    assert actions[-1] == ("lead.confirm", str(accepted))
    assert (forget_event.detail["leads_withdrawn"], forget_event.detail["leads_flagged"]) == (
        [alone],
        [accepted],
    )


def test_leads_made_before_support_was_recorded_are_judged_by_their_exhibits(
    ws: Any, statement: Path, fx: Path
) -> None:
    """A lead with no recorded imports (proposed before leads recorded them) lost its rows when no
    import of its exhibit is left: withdrawn then, and not while another exhibit's import goes."""
    exhibit = _add(ws, "C-1", statement)
    phone = _add(ws, "C-1", fx / "phone_device.json")
    analytics = ws.analytics
    bank = int(analytics.ingest("C-1", exhibit, "bank_csv", RIGHT).import_id or 0)
    calls = int(analytics.ingest("C-1", phone, "phone_json", {"region": "US"}).import_id or 0)
    legacy = _indicator_lead(ws, exhibit, None, "legacy")
    assert analytics.forget("C-1", calls).leads_withdrawn == []
    assert ws.leads.get(legacy).status == "proposed"
    assert analytics.forget("C-1", bank).leads_withdrawn == [legacy]
    assert ws.leads.get(legacy).status == "withdrawn"
    analytics.close()


def test_a_lead_change_the_case_store_refuses_forgets_nothing(ws: Any, statement: Path) -> None:
    """Withdrawing a lead is part of the forget: when the case store refuses it, DuckDB rolls back
    too, so the rows, the import record and the lead all stay as they were."""
    exhibit = _add(ws, "C-1", statement)
    analytics = ws.analytics
    con = analytics.connect()
    done = int(analytics.ingest("C-1", exhibit, "bank_csv", RIGHT).import_id or 0)
    lead = _indicator_lead(ws, exhibit, [done], "refused")
    before = _snapshot(con)
    with ws.ctx.db.transaction() as session:
        session.execute(
            text(
                "CREATE TRIGGER no_withdraw BEFORE INSERT ON audit_events WHEN NEW.action = 'lead.withdraw' "
                "BEGIN SELECT RAISE(ABORT, 'case store refuses'); END"
            )
        )
    with pytest.raises(Exception, match="case store refuses"):
        analytics.forget("C-1", done)
    assert _snapshot(con) == before and _forgets(ws) == []
    assert ws.leads.get(lead).status == "proposed"
    with ws.ctx.db.transaction() as session:
        session.execute(text("DROP TRIGGER no_withdraw"))
    assert analytics.forget("C-1", done).leads_withdrawn == [lead]
    analytics.close()


def test_leads_a_forget_left_behind_are_put_right_by_the_next_analysis(ws: Any, statement: Path) -> None:
    """The two stores cannot commit as one: were the case store's COMMIT to fail after DuckDB's, the
    rows would be gone and the leads unchanged. Proposing leads (every analysis) reconciles them
    with the imports that are left first, so that state does not last."""
    from palermo.analytics.indicators.runner import reconcile_leads

    exhibit = _add(ws, "C-1", statement)
    analytics = ws.analytics
    con = analytics.connect()
    done = int(analytics.ingest("C-1", exhibit, "bank_csv", RIGHT).import_id or 0)
    lead = _indicator_lead(ws, exhibit, [done], "left behind")
    forget(con, "C-1", done)  # DuckDB's side only: what a failed case-store COMMIT would leave
    assert ws.leads.get(lead).status == "proposed"
    assert reconcile_leads(con, "C-1", ws).withdrawn == [lead]
    assert ws.leads.get(lead).status == "withdrawn"
    # the analysis cannot tell a forget from a rebuilt analytics database: it says what it knows
    assert f"import {done} no longer in the analytics database" in (ws.leads.get(lead).reason or "")
    analytics.close()


def _legacy_exhibit(ws: Any, statement: Path, mapping: Path) -> tuple[int, int, int]:
    """An exhibit read by two imports before rows carried their import: ``import_id`` NULL on its rows."""
    exhibit = _add(ws, "C-1", statement)
    analytics = ws.analytics
    con = analytics.connect()
    first = int(analytics.ingest("C-1", exhibit, "bank_csv", RIGHT).import_id or 0)
    second = int(analytics.ingest("C-1", exhibit, "mapping", {"mapping": str(mapping)}).import_id or 0)
    con.execute("UPDATE payments SET import_id = NULL WHERE evidence_id = ?", [exhibit])
    analytics.close()
    return exhibit, first, second


def test_cli_forgets_a_legacy_exhibit_whole_when_asked_to(ws: Any, statement: Path, mapping: Path) -> None:
    """The refusal names ``--whole-exhibit``; with it, both imports and every row of the exhibit go,
    in one transaction, audited, and the exhibit can be imported again."""
    exhibit, first, second = _legacy_exhibit(ws, statement, mapping)
    lead = _indicator_lead(ws, exhibit, [first, second], "legacy rows")
    ws.close()
    refused = _cli(ws, "forget", "C-1", str(first))
    assert isinstance(refused.exception, InputError) and refused.exception.exit_code == 2
    assert f"palermo ingest forget C-1 {first} --whole-exhibit" in str(refused.exception)
    assert len(json.loads(_cli(ws, "imports", "C-1", "--json").stdout)) == 2

    shown = _cli(ws, "forget", "C-1", str(first), "--whole-exhibit", "--json")
    assert shown.exit_code == 0, shown.output
    report = json.loads(shown.stdout)
    assert (report["also_forgotten"], report["tables"]) == ([second], {"payments": 6})
    assert report["leads_withdrawn"] == [lead]
    assert json.loads(_cli(ws, "imports", "C-1", "--json").stdout) == []
    again = _cli(ws, "C-1", str(exhibit), "-a", "bank_csv", "-o", "delimiter=;", "-o", "decimal_comma=true")
    assert again.exit_code == 0, again.output
    opened = Workspace.open(ws.path)
    try:
        event = next(e for e in opened.audit.events("C-1") if e.action == "ingest.forget")
        rows = opened.analytics.connect().execute("SELECT count(*), min(import_id) FROM payments").fetchone()
        opened.analytics.close()
    finally:
        opened.close()
    assert (event.detail["import_id"], event.detail["also_forgotten"]) == (first, [second])
    assert rows[0] == 3 and rows[1] is not None


def test_forgetting_a_whole_exhibit_leaves_the_cases_other_rows(tmp_path: Path) -> None:
    """``whole_exhibit`` takes every row of that exhibit in that case, attributed or not, and nothing
    of another exhibit or another case."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    create_schema(con)
    record = (
        "INSERT INTO imports (case_ref, evidence_id, adapter, sha256, rows_ok, rows_bad, status, started_at, "
        "finished_at) VALUES (?, ?, ?, 'x', 1, 0, 'imported', now(), now()) RETURNING import_id"
    )
    first = con.execute(record, ["C-1", 2, "bank_csv"]).fetchone()[0]
    second = con.execute(record, ["C-1", 2, "mapping:contbank"]).fetchone()[0]
    other = con.execute(record, ["C-1", 3, "cdr_csv"]).fetchone()[0]
    theirs = con.execute(record, ["C-2", 2, "cdr_csv"]).fetchone()[0]
    for case_ref, evidence_id, import_id in (
        ("C-1", 2, None),
        ("C-1", 2, second),
        ("C-1", 3, other),
        ("C-2", 2, theirs),
    ):
        con.execute(
            "INSERT INTO calls (case_ref, evidence_id, locator, stmt_id, import_id) "
            "VALUES (?, ?, 'line:1', ?, ?)",
            [case_ref, evidence_id, f"{evidence_id}:line:1", import_id],
        )
    with pytest.raises(InputError, match="--whole-exhibit"):
        forget(con, "C-1", first)
    report = forget(con, "C-1", first, whole_exhibit=True)
    assert (report.tables, report.also_forgotten) == ({"calls": 2}, [second])
    assert con.execute("SELECT case_ref, evidence_id FROM calls ORDER BY ALL").fetchall() == [
        ("C-1", 3),
        ("C-2", 2),
    ]
    assert [r[0] for r in con.execute("SELECT import_id FROM imports ORDER BY 1").fetchall()] == [
        other,
        theirs,
    ]
    con.close()


def _interview(ws: Any, tmp_path: Path) -> int:
    """An exhibit that is never imported into the analytics (a typed interview)."""
    path = tmp_path / "interview.txt"
    path.write_text("Interview notes (synthetic).\n", encoding="utf-8")
    return _add(ws, "C-1", path)


def _hit(exhibit: int, stmt_ids: tuple[str, ...], name: str = "F_TEST") -> Any:
    """A hit as ``store_hits`` makes it, on the rows named (or, without them, on the exhibit)."""
    from palermo.analytics.indicators.runner import IndicatorHit

    return IndicatorHit(
        hit_id=f"hit:{name}",
        indicator_id=name,
        title="Test indicator",
        severity="medium",
        subject_kind="account",
        subject="NL91ABNA0417164300",
        entity_id=None,
        score=1.0,
        detail="test",
        supports=(),
        stmt_ids=stmt_ids,
        evidence_ids=(exhibit,),
        locators=tuple(s.split(":", 1)[1] for s in stmt_ids),
    )


def test_a_lead_a_person_added_with_an_indicator_origin_is_never_withdrawn_or_flagged(
    ws: Any, statement: Path, tmp_path: Path
) -> None:
    """``palermo lead add --origin indicator:…`` on an interview (never imported): neither a forget
    of another exhibit's import nor the analysis counts its exhibit as forgotten."""
    from palermo.analytics.indicators.runner import reconcile_leads

    exhibit, interview = _add(ws, "C-1", statement), _interview(ws, tmp_path)
    element = _element(ws)
    analytics = ws.analytics
    con = analytics.connect()
    done = int(analytics.ingest("C-1", exhibit, "bank_csv", RIGHT).import_id or 0)
    proposed, accepted = (
        int(
            ws.leads.propose(
                "C-1", summary=s, origin="indicator:FUNNEL_ACCOUNT", evidence_id=interview, element_id=element
            ).id
        )
        for s in ("proposed by hand", "accepted by hand")
    )
    ws.leads.accept(accepted, author="prosecutor")
    assert reconcile_leads(con, "C-1", ws).withdrawn == []  # what every analysis runs first
    report = analytics.forget("C-1", done)
    assert (report.leads_withdrawn, report.leads_flagged) == ([], [])
    assert (ws.leads.get(proposed).status, ws.leads.get(accepted).flag) == ("proposed", None)
    analytics.close()


def test_the_analysis_fills_in_the_imports_of_older_leads_and_infers_no_loss(
    ws: Any, statement: Path, tmp_path: Path
) -> None:
    """A runner's lead made before imports were recorded: the analysis gives it the imports its
    exhibit has now (audited), and one whose exhibit has none stays as it is, not withdrawn."""
    from palermo.analytics.indicators.runner import reconcile_leads

    exhibit, interview = _add(ws, "C-1", statement), _interview(ws, tmp_path)
    analytics = ws.analytics
    con = analytics.connect()
    done = int(analytics.ingest("C-1", exhibit, "bank_csv", RIGHT).import_id or 0)
    filled = _indicator_lead(ws, exhibit, None, "filled")
    never = _indicator_lead(ws, interview, None, "never imported")
    assert reconcile_leads(con, "C-1", ws).withdrawn == []
    assert (ws.leads.get(filled).import_ids, ws.leads.get(filled).status) == ([done], "proposed")
    assert (ws.leads.get(never).import_ids, ws.leads.get(never).status) == (None, "proposed")
    audited = [e for e in ws.audit.events("C-1") if e.action == "lead.support"]
    assert [(e.object_id, e.detail["import_ids"]) for e in audited] == [(str(filled), [done])]
    assert analytics.forget("C-1", done).leads_withdrawn == [filled]
    assert ws.leads.get(never).status == "proposed"
    analytics.close()


def test_a_proposed_leads_imports_follow_its_support_through_forget_and_reimport(
    ws: Any, statement: Path, mapping: Path
) -> None:
    """Lead on [A, B]; forget A → still proposed, on [B]; the exhibit read again as C and the hit
    found again → on [B, C]; forget B → still proposed (C supports it), and no second lead."""
    from palermo.analytics.indicators.runner import propose_leads

    exhibit = _add(ws, "C-1", statement)
    analytics = ws.analytics
    con = analytics.connect()
    first = int(analytics.ingest("C-1", exhibit, "bank_csv", RIGHT).import_id or 0)
    second = int(analytics.ingest("C-1", exhibit, "mapping", {"mapping": str(mapping)}).import_id or 0)
    hit = _hit(exhibit, (f"{exhibit}:line:2",))
    assert propose_leads(con, "C-1", [hit], ws) == 1
    [lead] = ws.leads.list("C-1")
    assert lead.import_ids == [first, second]
    assert lead.detail["import_evidence"] == {str(first): exhibit, str(second): exhibit}

    assert analytics.forget("C-1", first).leads_withdrawn == []
    assert (ws.leads.get(lead.id).status, ws.leads.get(lead.id).import_ids) == ("proposed", [second])
    third = int(analytics.ingest("C-1", exhibit, "bank_csv", RIGHT).import_id or 0)
    assert propose_leads(con, "C-1", [hit], ws) == 0
    assert ws.leads.get(lead.id).import_ids == [second, third]
    assert analytics.forget("C-1", second).leads_withdrawn == []
    assert (ws.leads.get(lead.id).status, ws.leads.get(lead.id).import_ids) == ("proposed", [third])
    assert propose_leads(con, "C-1", [hit], ws) == 0 and len(ws.leads.list("C-1")) == 1
    support = [e.detail["import_ids"] for e in ws.audit.events("C-1") if e.action == "lead.support"]
    assert support == [[second], [second, third], [third]]
    analytics.close()


def test_an_accepted_lead_is_not_flagged_for_imports_forgotten_before_it_was_accepted(
    ws: Any, statement: Path, mapping: Path
) -> None:
    """A lead still recording an import forgotten before anyone accepted it (as leads proposed
    before the reconciliation narrowed them do): the reviewer saw it without those rows, so the
    analysis drops the import from it and does not flag it; a later forget does."""
    from palermo.analytics.indicators.runner import reconcile_leads

    exhibit = _add(ws, "C-1", statement)
    element = _element(ws)
    analytics = ws.analytics
    con = analytics.connect()
    first = int(analytics.ingest("C-1", exhibit, "bank_csv", RIGHT).import_id or 0)
    second = int(analytics.ingest("C-1", exhibit, "mapping", {"mapping": str(mapping)}).import_id or 0)
    analytics.forget("C-1", first)
    lead = _indicator_lead(ws, exhibit, [first, second], "accepted after the forget")
    ws.leads.accept(lead, element_id=element, author="prosecutor")
    assert reconcile_leads(con, "C-1", ws).flagged == []
    assert (ws.leads.get(lead).flag, ws.leads.get(lead).import_ids) == (None, [second])
    [support] = [e.detail for e in ws.audit.events("C-1") if e.action == "lead.support"]
    assert (support["lost"], support["reason"]) == (
        [f"import {first}"],
        "forgotten before the lead was accepted",
    )
    assert analytics.forget("C-1", second).leads_flagged == [lead]
    analytics.close()


def _old_forget_record(ws: Any, import_id: int, evidence_id: int | None) -> None:
    """The ``ingest.forget`` audit record a forget of an import of the same id left in an
    ``analytics.duckdb`` since deleted (a rebuilt one numbers its imports from 1 again)."""
    from palermo.store import repository

    detail: dict[str, Any] = {"import_id": import_id, "also_forgotten": []}
    if evidence_id is not None:
        detail["evidence_id"] = evidence_id
    with ws.ctx.db.transaction() as session:
        case = repository.case_by_ref(session, "C-1")
        ws.ctx.audit.record(
            session,
            actor="fixture",
            action="ingest.forget",
            object_type="case",
            object_id=case.id,
            case_id=case.id,
            detail=detail,
        )


@pytest.mark.parametrize("old_exhibit", ["same", "none"])
def test_an_old_forget_of_the_same_import_id_does_not_stop_an_accepted_lead_being_flagged(
    ws: Any, statement: Path, old_exhibit: str
) -> None:
    """A forget record of import N (of the same exhibit, or naming none) from before the lead was
    accepted, left by an analytics database since rebuilt: forgetting today's import N after the
    acceptance still flags the lead, since that forget is the one removing it now."""
    exhibit = _add(ws, "C-1", statement)
    element = _element(ws)
    analytics = ws.analytics
    analytics.connect()
    done = int(analytics.ingest("C-1", exhibit, "bank_csv", RIGHT).import_id or 0)
    _old_forget_record(ws, done, exhibit if old_exhibit == "same" else None)
    lead = int(
        ws.leads.propose(
            "C-1",
            summary="found in import N",
            origin="indicator:F_TEST",
            evidence_id=exhibit,
            locator="line:2",
            detail={"hit_id": "hit:N", "evidence_ids": [exhibit]},
            import_ids=[done],
            import_evidence={done: exhibit},
        ).id
    )
    ws.leads.accept(lead, element_id=element, author="prosecutor")
    assert analytics.forget("C-1", done).leads_flagged == [lead]
    assert ws.leads.get(lead).flag == (
        f"its evidence was removed: import {done} (evidence {exhibit}) forgotten (palermo ingest forget)"
    )
    analytics.close()


def test_an_old_forget_of_another_exhibits_import_with_the_same_id_does_not_stop_a_flag(
    ws: Any, statement: Path, tmp_path: Path
) -> None:
    """The analysis putting right a forget whose case-store commit failed: the only forget record of
    import N is of another exhibit, from before the acceptance (an analytics database since
    rebuilt), so it is no reason to think this lead's import N was gone when it was accepted. The
    flag says the import is no longer in the analytics database, not that it was forgotten: no
    record of that forget exists."""
    from palermo.analytics.indicators.runner import reconcile_leads

    exhibit = _add(ws, "C-1", statement)
    other = _interview(ws, tmp_path)
    element = _element(ws)
    analytics = ws.analytics
    con = analytics.connect()
    done = int(analytics.ingest("C-1", exhibit, "bank_csv", RIGHT).import_id or 0)
    _old_forget_record(ws, done, other)
    lead = int(
        ws.leads.propose(
            "C-1",
            summary="found in import N",
            origin="indicator:F_TEST",
            evidence_id=exhibit,
            locator="line:2",
            detail={"hit_id": "hit:N", "evidence_ids": [exhibit]},
            import_ids=[done],
            import_evidence={done: exhibit},
        ).id
    )
    ws.leads.accept(lead, element_id=element, author="prosecutor")
    forget(con, "C-1", done)  # DuckDB's side only: what a failed case-store COMMIT would leave
    assert reconcile_leads(con, "C-1", ws).flagged == [lead]
    assert ws.leads.get(lead).flag == (
        f"its evidence was removed: import {done} no longer in the analytics database"
    )
    analytics.close()


def test_hits_sharing_a_lead_made_before_hit_ids_were_keyed_widen_it_with_all_their_imports(
    ws: Any, statement: Path, tmp_path: Path
) -> None:
    """Two hits of one indicator and subject, keyed apart now, whose lead was recorded under the
    unkeyed id: the lead is supported by the imports of both, not of whichever came last."""
    import dataclasses

    from palermo.analytics.indicators.runner import _unkeyed_hit_id, propose_leads
    from palermo.analytics.tables import create_analysis_tables

    exhibit = _add(ws, "C-1", statement)
    path = tmp_path / "other.csv"
    path.write_text("\n".join([HEADER, ROWS[0]]) + "\n", encoding="utf-8")
    second_exhibit = _add(ws, "C-1", path)
    analytics = ws.analytics
    con = analytics.connect()
    first = int(analytics.ingest("C-1", exhibit, "bank_csv", RIGHT).import_id or 0)
    second = int(analytics.ingest("C-1", second_exhibit, "bank_csv", RIGHT).import_id or 0)
    lead = _indicator_lead(ws, exhibit, [], "led before keys")
    one = _hit(exhibit, (f"{exhibit}:line:2",))
    two = dataclasses.replace(_hit(second_exhibit, (f"{second_exhibit}:line:2",)), hit_id="hit:F_TEST:other")
    create_analysis_tables(con)
    con.execute(
        "INSERT INTO indicator_leads VALUES (?, ?, ?)",
        ["C-1", _unkeyed_hit_id("C-1", "F_TEST", one.subject), str(lead)],
    )
    assert propose_leads(con, "C-1", [one, two], ws) == 0
    assert ws.leads.get(lead).import_ids == [first, second]
    analytics.close()


def test_the_analysis_repairs_leads_even_when_the_cases_last_import_was_forgotten(
    ws: Any, statement: Path, tmp_path: Path
) -> None:
    """The forget of the case's only import whose case-store COMMIT failed: the analysis refuses
    (nothing is imported) but has withdrawn the lead first; with another import left, it says what
    it put right in its summary and on the command line."""
    exhibit = _add(ws, "C-1", statement)
    other = tmp_path / "other.csv"
    other.write_text("\n".join([HEADER, ROWS[0]]) + "\n", encoding="utf-8")
    second = _add(ws, "C-1", other)
    element = _element(ws)
    analytics = ws.analytics
    con = analytics.connect()
    done = int(analytics.ingest("C-1", exhibit, "bank_csv", RIGHT).import_id or 0)
    lead = _indicator_lead(ws, exhibit, [done], "last import")
    forget(con, "C-1", done)  # DuckDB's side only: what a failed case-store COMMIT would leave
    with pytest.raises(NotFoundError, match="nothing has been imported"):
        analytics.analyze("C-1")
    assert ws.leads.get(lead).status == "withdrawn"

    kept = int(analytics.ingest("C-1", second, "bank_csv", RIGHT).import_id or 0)
    gone = int(analytics.ingest("C-1", exhibit, "bank_csv", RIGHT).import_id or 0)
    withdrawn = _indicator_lead(ws, exhibit, [gone], "withdrawn")
    flagged = _indicator_lead(ws, second, [kept, gone], "flagged")
    ws.leads.accept(flagged, element_id=element, author="prosecutor")
    forget(con, "C-1", gone)
    analytics.close()
    ws.close()
    shown = CliRunner().invoke(app, ["analyze", "C-1", "-w", str(ws.path)], env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    assert f"Lead(s) {withdrawn} withdrawn" in shown.stdout
    assert f"Accepted lead(s) {flagged} flagged for review" in shown.stdout
    as_json = CliRunner().invoke(app, ["analyze", "C-1", "--json", "-w", str(ws.path)])
    summary = json.loads(as_json.stdout)["summary"]
    assert (summary["leads_withdrawn"], summary["leads_flagged"]) == ([], [])  # nothing left to repair


def test_a_second_confirmation_keeps_the_first_reviewers_note(
    ws: Any, statement: Path, mapping: Path
) -> None:
    """Flagged, confirmed, flagged again, confirmed again: both notes stay on the lead, and each
    confirmation's audit record holds its note's hash (not the note: it is free text)."""
    import hashlib

    exhibit = _add(ws, "C-1", statement)
    element = _element(ws)
    analytics = ws.analytics
    first = int(analytics.ingest("C-1", exhibit, "bank_csv", RIGHT).import_id or 0)
    second = int(analytics.ingest("C-1", exhibit, "mapping", {"mapping": str(mapping)}).import_id or 0)
    lead = _indicator_lead(ws, exhibit, [first, second], "twice")
    ws.leads.accept(lead, element_id=element, author="prosecutor")
    analytics.forget("C-1", first)
    ws.leads.confirm(lead, author="first reviewer", note="note one")
    analytics.forget("C-1", second)
    reason = ws.leads.confirm(lead, author="second reviewer", note="note two").reason or ""
    assert "first reviewer" in reason and "note one" in reason
    assert "second reviewer" in reason and "note two" in reason
    hashes = [e.detail["note_sha256"] for e in ws.audit.events("C-1") if e.action == "lead.confirm"]
    assert hashes == [hashlib.sha256(n.encode()).hexdigest() for n in ("note one", "note two")]
    analytics.close()


def test_support_errs_towards_more_imports_for_rows_without_one_and_hits_without_rows(
    ws: Any, statement: Path, mapping: Path, tmp_path: Path
) -> None:
    """Rows written before rows carried their import (``import_id`` NULL) count for every import of
    their exhibit; a hit naming an exhibit without listing its statements, likewise."""
    from palermo.analytics.indicators.runner import _support

    exhibit = _add(ws, "C-1", statement)
    analytics = ws.analytics
    con = analytics.connect()
    first = int(analytics.ingest("C-1", exhibit, "bank_csv", RIGHT).import_id or 0)
    second = int(analytics.ingest("C-1", exhibit, "mapping", {"mapping": str(mapping)}).import_id or 0)
    named = _hit(exhibit, (f"{exhibit}:line:2",), "NAMED")
    bare = _hit(exhibit, (), "BARE")
    con.execute(
        "DELETE FROM payments WHERE import_id = ? AND stmt_id = ?", [second, f"{exhibit}:line:2"]
    )  # only the first import's row is behind the named statement …
    assert _support(con, "C-1", [named]) == {"hit:NAMED": [first]}
    con.execute("UPDATE payments SET import_id = NULL WHERE evidence_id = ?", [exhibit])  # … until unknown
    assert _support(con, "C-1", [named, bare]) == {"hit:NAMED": [first, second], "hit:BARE": [first, second]}
    analytics.close()


def test_the_import_audit_counts_dropped_ftm_values_by_property_never_the_values(
    ws: Any, tmp_path: Path
) -> None:
    """FtM's cleaning drops values it cannot read; the count used to live only in the terminal. The
    audit keeps it per property (names outside the schema grouped), with no value in it."""
    stream = tmp_path / "people.ftm.json"
    stream.write_text(
        json.dumps(
            {
                "id": "p1",
                "schema": "Person",
                "properties": {"name": ["Test Person"], "phone": ["call Mira"], "Mira 3055550199": ["x"]},
            }
        )
        + "\n",
        encoding="utf-8",
    )
    exhibit = _add(ws, "C-1", stream)
    ws.close()
    done = _cli(ws, "C-1", str(exhibit), "-a", "ftm", "--json")
    assert done.exit_code == 0, done.output
    again = Workspace.open(ws.path)
    try:
        [event] = [e for e in again.audit.events("C-1") if e.action == "ingest.import"]
    finally:
        again.close()
    assert event.detail["dropped"] == {"properties.(not in schema)": 1, "properties.phone": 1}
    assert "Mira" not in json.dumps(event.detail) and "555" not in json.dumps(event.detail)
