"""The web app's read-model cache: reused while nothing changes, rebuilt after any write.

The cache is only safe if every write is visible to the very next request, so these tests write
through the Workspace (as an import or another process would) and read through the app.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from palermo.web.readmodels import cached, get_reads, workspace_stamp
from palermo.web.templating import CSRF_SLOT
from palermo.workspace import Workspace

from .conftest import PASSWORD, Seeded, csrf, login


def test_generation_grows_with_each_audited_write(web_ws: Workspace, seeded: Seeded) -> None:
    before = web_ws.audit.generation()
    web_ws.parties.add_witness(seeded.case_ref, "Witness W1")
    assert web_ws.audit.generation() > before


def test_matrix_is_reused_while_nothing_changes(web_ws: Workspace, seeded: Seeded) -> None:
    first = get_reads(web_ws).matrix(seeded.case_ref)
    assert get_reads(web_ws).matrix(seeded.case_ref) is first


def test_matrix_is_rebuilt_after_a_proof_link(web_ws: Workspace, seeded: Seeded) -> None:
    before = get_reads(web_ws).matrix(seeded.case_ref)
    web_ws.proof.link(seeded.element_id, seeded.evidence_ids[1], pinpoint="row:2", author="det. two")
    after = get_reads(web_ws).matrix(seeded.case_ref)
    statuses = {e.element.element_id: e.status.value for c in after.charges for e in c.elements}
    assert after is not before and statuses[seeded.element_id] == "proven"


def test_dashboard_shows_an_exhibit_added_after_it_was_cached(
    pat: TestClient, web_ws: Workspace, seeded: Seeded, tmp_path: Path
) -> None:
    assert "late-exhibit.csv" not in pat.get(f"/cases/{seeded.case_ref}").text
    late = tmp_path / "late-exhibit.csv"
    late.write_text("a,b\n1,2\n")
    web_ws.evidence.add(seeded.case_ref, late, source="late production", acquired_by="det. three")
    assert "late-exhibit.csv" in pat.get(f"/cases/{seeded.case_ref}").text


def test_analytics_file_change_changes_the_stamp(web_ws: Workspace) -> None:
    before = workspace_stamp(web_ws)
    (web_ws.path / "analytics.duckdb").write_bytes(b"x" * 10)
    assert workspace_stamp(web_ws) != before


def test_concurrent_misses_build_the_value_once(web_ws: Workspace) -> None:
    calls: list[int] = []
    start = threading.Barrier(8)

    def build() -> int:
        calls.append(1)
        return 42

    def worker() -> None:
        start.wait()
        cached(web_ws, (1, 2), ("single-flight-test",), build)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1


def test_cached_matrix_carries_each_readers_own_csrf_token(
    pat: TestClient, web_ws: Workspace, seeded: Seeded
) -> None:
    web_ws.users.add("max", PASSWORD, "prosecutor")
    web_ws.users.add_member(seeded.case_ref, "max")
    other = login(TestClient(pat.app), "max")
    first = pat.get(f"/cases/{seeded.case_ref}/proof").text
    second = other.get(f"/cases/{seeded.case_ref}/proof").text
    assert f'name="csrf_token" value="{csrf(other)}"' in second
    assert csrf(pat) not in second and CSRF_SLOT not in first + second


@pytest.fixture
def pg_ws(postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """A workspace on a PostgreSQL schema of its own (dropped afterwards)."""
    schema = f"t_web_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in postgres_url else "?"
    monkeypatch.setenv("PALERMO_MASTER_KEY_FILE", str(tmp_path / "keys" / "master.key"))
    ws = Workspace.init(
        tmp_path / "ws", database_url=f"{postgres_url}{sep}options=-csearch_path%3D{schema}", actor="t"
    )
    try:
        yield ws
    finally:
        ws.close()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_generation_grows_on_postgresql_too(pg_ws: Workspace) -> None:
    before = pg_ws.audit.generation()
    pg_ws.cases.create("PG-1", "PostgreSQL case", "us")
    assert pg_ws.audit.generation() > before
