"""Ingest through the workspace: evidence comes from the case store, and the CLI drives the same path."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from palermo.cli.main import app
from palermo.errors import ImportDataError, NotFoundError
from palermo.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    key = tmp_path / "keys" / "master.key"
    monkeypatch.setenv("PALERMO_MASTER_KEY_FILE", str(key))
    workspace = Workspace.init(tmp_path / "ws", master_key_file=key)
    workspace.cases.create("C-1", "Synthetic ring")
    workspace.cases.create("C-2", "Other case")
    yield workspace
    workspace.close()


def _add(ws: Any, case_ref: str, path: Path) -> int:
    return int(ws.evidence.add(case_ref, path, source="test", acquired_by="analyst").id)


def test_analytics_ingests_the_stored_evidence_file(ws: Any, fx: Path) -> None:
    evidence_id = _add(ws, "C-1", fx / "cdr_ok.csv")
    analytics = ws.analytics
    report = analytics.ingest("C-1", evidence_id, "cdr_csv", {"region": "US"})
    assert (report.rows_ok, report.evidence_id) == (3, evidence_id)
    assert [r.evidence_id for r in analytics.imports("C-1")] == [evidence_id]
    analytics.close()


def test_evidence_of_another_case_is_refused(ws: Any, fx: Path) -> None:
    evidence_id = _add(ws, "C-2", fx / "cdr_ok.csv")
    analytics = ws.analytics
    with pytest.raises(NotFoundError, match="belongs to case C-2"):
        analytics.ingest("C-1", evidence_id, "cdr_csv")
    analytics.close()


def test_cli_ingest_reports_json(ws: Any, fx: Path) -> None:
    evidence_id = _add(ws, "C-1", fx / "ads.jsonl")
    result = CliRunner().invoke(
        app, ["ingest", "C-1", str(evidence_id), "--adapter", "ads_jsonl", "--json", "-w", str(ws.path)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["tables"] == {"ads": 3}


def test_cli_bad_rows_raise_an_input_error_naming_the_original_file_and_line(ws: Any, fx: Path) -> None:
    evidence_id = _add(ws, "C-1", fx / "cdr_bad.csv")
    result = CliRunner().invoke(app, ["ingest", "C-1", str(evidence_id), "-a", "cdr_csv", "-w", str(ws.path)])
    assert isinstance(result.exception, ImportDataError) and result.exception.exit_code == 2
    assert "cdr_bad.csv:3: start_time" in str(result.exception)


def test_cli_lists_adapters_and_mappings() -> None:
    result = CliRunner().invoke(app, ["ingest", "adapters", "--json"])
    listed = json.loads(result.stdout)
    assert "bank_csv" in {a["name"] for a in listed["adapters"]} and "vast2008_cdr" in listed["mappings"]


def _tables(analytics: Any) -> dict[str, list[tuple[Any, ...]]]:
    con = analytics.connect()
    return {
        t: con.execute(f"SELECT * EXCLUDE (evidence_id, stmt_id, import_id) FROM {t} ORDER BY ALL").fetchall()
        for t in ("payments", "calls", "ads")
    }


def test_several_exhibits_imported_side_by_side_match_one_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fx: Path
) -> None:
    files = [("bank_ok.csv", "bank_csv"), ("cdr_ok.csv", "cdr_csv"), ("ads.jsonl", "ads_jsonl")]
    found = []
    for name, parallel in (("serial", False), ("parallel", True)):
        key = tmp_path / name / "master.key"
        monkeypatch.setenv("PALERMO_MASTER_KEY_FILE", str(key))
        workspace = Workspace.init(tmp_path / name / "ws", master_key_file=key)
        workspace.cases.create("C-1", "Synthetic ring")
        jobs = [(_add(workspace, "C-1", fx / f), adapter, None) for f, adapter in files]
        analytics = workspace.analytics
        if parallel:
            reports = analytics.ingest_many("C-1", jobs, workers=3)
            assert [r.evidence_id for r in reports] == [e for e, _, _ in jobs]  # in the order asked
            assert {r.status for r in reports} == {"imported"}
            again = analytics.ingest_many("C-1", jobs)
            assert {r.status for r in again} == {"already_imported"}
        else:
            for evidence_id, adapter, _ in jobs:
                analytics.ingest("C-1", evidence_id, adapter)
        found.append(_tables(analytics))
        analytics.close()
        workspace.close()
    assert found[0] == found[1] and all(found[0].values())


def test_a_bad_exhibit_among_several_fails_alone(ws: Any, fx: Path) -> None:
    good = _add(ws, "C-1", fx / "cdr_ok.csv")
    bad = _add(ws, "C-1", fx / "cdr_bad.csv")
    analytics = ws.analytics
    with pytest.raises(ImportDataError, match=r"cdr_bad\.csv:3"):
        analytics.ingest_many("C-1", [(bad, "cdr_csv", None), (good, "cdr_csv", None)])
    assert [r.evidence_id for r in analytics.imports("C-1")] == [good]  # the good one is kept, whole
    assert analytics.connect().execute("SELECT count(*) FROM calls").fetchone() == (3,)
    analytics.close()


def test_an_exhibit_named_twice_is_imported_once(ws: Any, fx: Path) -> None:
    evidence_id = _add(ws, "C-1", fx / "cdr_ok.csv")
    analytics = ws.analytics
    reports = analytics.ingest_many("C-1", [(evidence_id, "cdr_csv", None), (evidence_id, "cdr_csv", None)])
    assert [r.status for r in reports] == ["imported", "already_imported"]
    assert analytics.connect().execute("SELECT count(*) FROM calls").fetchone() == (3,)
    analytics.close()


def test_cli_ingests_several_exhibits_side_by_side(ws: Any, fx: Path, tmp_path: Path) -> None:
    second = tmp_path / "cdr_second.csv"
    second.write_text(
        (fx / "cdr_ok.csv").read_text(encoding="utf-8").replace("r1,", "r9,").replace("C-101", "C-909"),
        encoding="utf-8",
    )
    ids = [_add(ws, "C-1", fx / "cdr_ok.csv"), _add(ws, "C-1", second)]
    args = ["ingest", "C-1", *map(str, ids), "-a", "cdr_csv", "--region", "US", "--json", "-w", str(ws.path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    reports = json.loads(result.stdout)
    assert [(r["evidence_id"], r["status"], r["rows_ok"]) for r in reports] == [
        (ids[0], "imported", 3),
        (ids[1], "imported", 3),
    ]
    again = json.loads(CliRunner().invoke(app, args).stdout)
    assert [r["status"] for r in again] == ["already_imported", "already_imported"]


def test_cli_keeps_the_good_exhibits_when_one_of_several_fails(ws: Any, fx: Path) -> None:
    good, bad = _add(ws, "C-1", fx / "bank_ok.csv"), _add(ws, "C-1", fx / "bank_bad.csv")
    args = ["ingest", "C-1", str(good), str(bad), "-a", "bank_csv", "--json", "-w", str(ws.path)]
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, ImportDataError) and result.exception.exit_code == 2
    assert "bank_bad.csv:3" in str(result.exception)
    # the exhibit that was imported is still reported, and the failed one says why
    entries = json.loads(result.stdout)
    assert [(e["evidence_id"], e["status"]) for e in entries] == [(good, "imported"), (bad, "failed")]
    assert "bank_bad.csv:3" in entries[1]["error"] and entries[0]["rows_ok"] > 0
    analytics = ws.analytics
    assert [r.evidence_id for r in analytics.imports("C-1")] == [good]
    analytics.close()
