"""Ingest re-checks the exhibit's SHA-256: an original altered after acquisition is never imported."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from palermo.errors import IntegrityError
from palermo.ingest.service import ingest
from palermo.store.blobs import hash_file
from palermo.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    key = tmp_path / "keys" / "master.key"
    monkeypatch.setenv("PALERMO_MASTER_KEY_FILE", str(key))
    workspace = Workspace.init(tmp_path / "ws", master_key_file=key)
    workspace.cases.create("C-1", "Synthetic ring")
    yield workspace
    workspace.close()


def _alter_stored_original(ws: Workspace, evidence_id: int) -> None:
    """What someone with file-system access could do: make the read-only blob writable and edit it."""
    blob = ws.evidence.path_of(evidence_id)
    blob.chmod(0o600)
    blob.write_bytes(blob.read_bytes() + b"+15550000000,+15550000001,1\n")


def test_altered_exhibit_is_refused_naming_exhibit_and_both_hashes(ws: Workspace, fx: Path) -> None:
    item = ws.evidence.add("C-1", fx / "cdr_ok.csv", source="test", acquired_by="analyst")
    _alter_stored_original(ws, item.id)
    with pytest.raises(IntegrityError) as caught:
        ws.analytics.ingest("C-1", item.id, "cdr_csv", {"region": "US"})
    message = str(caught.value)
    assert f"exhibit {item.id} (cdr_ok.csv)" in message and item.sha256 in message
    assert ws.evidence.verify("C-1").mismatches[0].evidence_id == item.id  # the blob really changed


def test_altered_exhibit_stores_nothing(ws: Workspace, fx: Path) -> None:
    item = ws.evidence.add("C-1", fx / "cdr_ok.csv", source="test", acquired_by="analyst")
    _alter_stored_original(ws, item.id)
    with pytest.raises(IntegrityError):
        ws.analytics.ingest("C-1", item.id, "cdr_csv", {"region": "US"})
    assert ws.analytics.imports("C-1") == []


def test_ingest_with_the_recorded_hash_imports(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    path = fx / "cdr_ok.csv"
    report = ingest(con, "C-1", 1, path, "cdr_csv", {"region": "US"}, expected_sha256=hash_file(path)[0])
    assert (report.status, report.rows_ok) == ("imported", 3)


def test_ingest_with_another_hash_raises_before_any_row(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    with pytest.raises(IntegrityError, match="recorded SHA-256 is " + "0" * 64):
        ingest(con, "C-1", 1, fx / "cdr_ok.csv", "cdr_csv", {"region": "US"}, expected_sha256="0" * 64)
    assert con.execute("SELECT count(*) FROM imports").fetchone() == (0,)
