"""Fixtures shared by tests/store and tests/case: a real workspace on SQLite and on PostgreSQL.

PostgreSQL runs only when ``PALERMO_TEST_DATABASE_URL`` is set; each test gets its own schema (named
from the xdist worker and a random suffix) selected through ``search_path``, so two workers never
see each other's tables, and the schema is dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from palermo.law.library import LawLibrary
from palermo.store import database
from palermo.store.tables import APPEND_ONLY_TABLES, Base
from palermo.workspace import Workspace

TEST_LAW = Path(__file__).resolve().parents[1] / "case" / "law"
OFFENCE = "zz-sex-trafficking"


@pytest.fixture(scope="session")
def test_law() -> LawLibrary:
    """A small law root (one § 1591-shaped test provision) independent of the packaged statutes."""
    return LawLibrary.load(TEST_LAW)


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A master key path outside the workspace folder, also exported for the CLI."""
    path = tmp_path / "keys" / "master.key"
    monkeypatch.setenv("PALERMO_MASTER_KEY_FILE", str(path))
    monkeypatch.setenv("PALERMO_LAW_PATH", str(TEST_LAW))
    monkeypatch.delenv("PALERMO_DATABASE_URL", raising=False)
    return path


def pg_schema_url(base: str, worker: str) -> tuple[str, str]:
    schema = f"t_{worker}_{uuid.uuid4().hex[:10]}"
    sep = "&" if "?" in base else "?"
    return schema, f"{base}{sep}options=-csearch_path%3D{schema}"


def _base_url() -> str:
    base = os.environ.get("PALERMO_TEST_DATABASE_URL")
    if not base:
        pytest.skip("PALERMO_TEST_DATABASE_URL is not set (CI sets it)")
    return base


@pytest.fixture
def fresh_database_url(tmp_path: Path) -> Iterator[str]:
    """An empty PostgreSQL schema of its own (for migration tests), dropped afterwards."""
    base = _base_url()
    schema, url = pg_schema_url(base, os.environ.get("PYTEST_XDIST_WORKER", "main"))
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def worker_database_url() -> Iterator[str]:
    """One migrated PostgreSQL schema per xdist worker, emptied before each test that uses it.

    Migrating a schema per test costs about a second on a busy machine; truncating costs milliseconds.
    """
    base = _base_url()
    schema, url = pg_schema_url(base, os.environ.get("PYTEST_XDIST_WORKER", "main"))
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = database.make_engine(url)
    database.upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def reset_schema(url: str) -> None:
    """Empty every table; restore the append-only and fixed-exhibit triggers a tamper test dropped."""
    engine = sa.create_engine(url)
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE TABLE {names} RESTART IDENTITY CASCADE"))
        for table in APPEND_ONLY_TABLES:
            for verb in ("UPDATE", "DELETE"):
                conn.execute(
                    sa.text(
                        f"CREATE OR REPLACE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                        "FOR EACH ROW EXECUTE FUNCTION palermo_append_only()"
                    )
                )
        for trigger, verb in (("evidence_items_fixed", "UPDATE"), ("evidence_items_no_delete", "DELETE")):
            conn.execute(
                sa.text(
                    f"CREATE OR REPLACE TRIGGER {trigger} BEFORE {verb} ON evidence_items "
                    "FOR EACH ROW EXECUTE FUNCTION palermo_evidence_fixed()"
                )
            )
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None for SQLite (the workspace default), or this worker's emptied PostgreSQL schema."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("worker_database_url")
    reset_schema(url)
    return url


@pytest.fixture
def workspace(
    tmp_path: Path, key_file: Path, database_url: str | None, test_law: LawLibrary
) -> Iterator[Workspace]:
    """A fresh workspace on each backend, acting as ``officer.test``."""
    ws = Workspace.init(
        tmp_path / "ws",
        database_url=database_url,
        master_key_file=key_file,
        law=test_law,
        actor="officer.test",
    )
    try:
        yield ws
    finally:
        ws.close()


@pytest.fixture
def case_ref(workspace: Workspace) -> str:
    """A case with a defendant (party 'D. Roe') and a 16-year-old victim known as 'V1'."""
    workspace.cases.create("HT-1", "Test ring", "zz")
    workspace.parties.add_defendant("HT-1", "D. Roe")
    workspace.parties.add_victim("HT-1", "V1", age_at_offence=16, legal_name="Zqxwyvna Canarytest")
    return "HT-1"


@pytest.fixture
def exhibit_files(tmp_path: Path) -> list[Path]:
    """Three small synthetic exhibit files with different content."""
    folder = tmp_path / "incoming"
    folder.mkdir()
    files = []
    for i, text in enumerate(["chat log: meet at 9", "bank statement row 52", "ad text: new in town"]):
        path = folder / f"exhibit{i + 1}.txt"
        path.write_text(text + "\n")
        files.append(path)
    return files
