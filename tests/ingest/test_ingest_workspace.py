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
