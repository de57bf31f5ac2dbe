"""Alembic migrations: empty database → head → base, on SQLite and PostgreSQL; schema matches the models."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from palermo.store import database
from palermo.store.tables import Base


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'm.db'}"
    url: str = request.getfixturevalue("fresh_database_url")
    return url


def engine_for(url: str, tmp_path: Path) -> sa.Engine:
    return database.make_engine(url)


def test_upgrade_creates_every_table(empty_url: str, tmp_path: Path) -> None:
    engine = engine_for(empty_url, tmp_path)
    database.upgrade(engine)
    tables = set(sa.inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert database.current_revision(engine) == database.head_revision()
    engine.dispose()


def test_downgrade_to_base_drops_every_table(empty_url: str, tmp_path: Path) -> None:
    engine = engine_for(empty_url, tmp_path)
    database.upgrade(engine)
    database.downgrade(engine, "base")
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    assert database.current_revision(engine) is None
    engine.dispose()


def test_migrated_schema_matches_the_models(empty_url: str, tmp_path: Path) -> None:
    engine = engine_for(empty_url, tmp_path)
    database.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    engine.dispose()


def test_sqlite_connections_use_wal_and_synchronous_full(tmp_path: Path) -> None:
    engine = engine_for(f"sqlite:///{tmp_path / 'm.db'}", tmp_path)
    with engine.connect() as conn:
        journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        synchronous = conn.exec_driver_sql("PRAGMA synchronous").scalar()
    assert (journal, synchronous) == ("wal", 2)
    engine.dispose()


def _rewrite_an_exhibit(engine: sa.Engine) -> None:
    """Insert a case and an exhibit, then try to change the exhibit's digest."""
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO cases (id, reference, title, jurisdiction, status, created_by, created_at) "
                "VALUES (1, 'M-1', 't', 'zz', 'open', 'x', CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO evidence_items (id, case_id, sha256, size, original_filename, media_type, "
                "source, acquired_by, acquired_at, custody_count, created_at) "
                "VALUES (1, 1, :s, 1, 'f', 't', 's', 'a', CURRENT_TIMESTAMP, 0, CURRENT_TIMESTAMP)"
            ),
            {"s": "a" * 64},
        )
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE evidence_items SET sha256 = :s WHERE id = 1"), {"s": "b" * 64})


def test_revision_0002_fixes_exhibit_records(empty_url: str, tmp_path: Path) -> None:
    engine = engine_for(empty_url, tmp_path)
    database.upgrade(engine)
    with pytest.raises(sa.exc.DBAPIError, match="only custody_head and custody_count may change"):
        _rewrite_an_exhibit(engine)
    engine.dispose()


def test_downgrade_from_0002_lifts_the_exhibit_guard(empty_url: str, tmp_path: Path) -> None:
    engine = engine_for(empty_url, tmp_path)
    database.upgrade(engine)
    database.downgrade(engine, "0001")
    _rewrite_an_exhibit(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT sha256 FROM evidence_items")).scalar_one() == "b" * 64
    database.upgrade(engine)
    assert database.current_revision(engine) == database.head_revision()
    engine.dispose()


def test_revision_0003_adds_the_totp_replay_guard_and_removes_it_on_downgrade(
    empty_url: str, tmp_path: Path
) -> None:
    engine = engine_for(empty_url, tmp_path)
    database.upgrade(engine)
    assert "totp_last_step" in {c["name"] for c in sa.inspect(engine).get_columns("users")}
    with engine.begin() as conn:  # a workspace in use: a user with a live session (a foreign key)
        conn.execute(
            sa.text(
                "INSERT INTO users (id, username, password_hash, role, is_active, failed_logins, "
                "created_at, totp_last_step) VALUES (1, 'tess', 'x', 'analyst', true, 0, :t, 7)"
            ),
            {"t": datetime(2026, 11, 29, tzinfo=UTC)},
        )
        conn.execute(
            sa.text(
                "INSERT INTO web_sessions (id, user_id, created_at, last_seen_at, csrf_token, expires_at) "
                "VALUES ('s', 1, :t, :t, 'c', :t)"
            ),
            {"t": datetime(2026, 11, 29, tzinfo=UTC)},
        )
    database.downgrade(engine, "0002")
    assert "totp_last_step" not in {c["name"] for c in sa.inspect(engine).get_columns("users")}
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT username FROM users")).scalar_one() == "tess"
    database.upgrade(engine)
    engine.dispose()


def test_revision_0004_moves_failure_windows_out_of_locked_until(empty_url: str, tmp_path: Path) -> None:
    engine = engine_for(empty_url, tmp_path)
    database.upgrade(engine, "0003")
    window, lock = datetime(2026, 11, 29, 7, 0), datetime(9999, 12, 31)
    with engine.begin() as conn:
        for uid, name, locked_until in ((1, "counting", window), (2, "locked", lock), (3, "clean", None)):
            conn.execute(
                sa.text(
                    "INSERT INTO users (id, username, password_hash, role, is_active, failed_logins, "
                    "created_at, locked_until) VALUES (:id, :u, 'x', 'analyst', true, 2, :t, :l)"
                ),
                {"id": uid, "u": name, "t": window, "l": locked_until},
            )
    database.upgrade(engine)
    query = "SELECT username, locked_until, failures_since FROM users ORDER BY id"
    with engine.connect() as conn:
        rows = [(u, lu is not None, fs is not None) for u, lu, fs in conn.execute(sa.text(query))]
    assert rows == [("counting", False, True), ("locked", True, False), ("clean", False, False)]
    database.downgrade(engine, "0003")
    with engine.connect() as conn:
        back = [
            (u, lu is not None) for u, lu in conn.execute(sa.text("SELECT username, locked_until FROM users"))
        ]
    assert sorted(back) == [("clean", False), ("counting", True), ("locked", True)]
    engine.dispose()


def test_revision_0006_gives_leads_their_support_and_flag_and_takes_them_back(
    empty_url: str, tmp_path: Path
) -> None:
    """Leads made before 0006 keep their rows and have no recorded support (NULL: judged by their
    exhibits); downgrading drops the three columns in place and keeps the leads."""
    engine = engine_for(empty_url, tmp_path)
    database.upgrade(engine, "0005")
    t = datetime(2026, 11, 29, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO cases (id, reference, title, jurisdiction, status, created_by, created_at) "
                "VALUES (1, 'C-1', 'ring', 'US', 'open', 'a', :t)"
            ),
            {"t": t},
        )
        conn.execute(
            sa.text(
                "INSERT INTO leads (id, case_id, summary, origin, detail, status, created_by, created_at) "
                "VALUES (1, 1, 'shared images', 'indicator:A_SHARED_IMAGES', '{}', 'proposed', 'a', :t)"
            ),
            {"t": t},
        )
    database.upgrade(engine)
    columns = {c["name"] for c in sa.inspect(engine).get_columns("leads")}
    assert {"import_ids", "flag", "flagged_at"} <= columns
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT import_ids, flag FROM leads")).one() == (None, None)
    database.downgrade(engine, "0005")
    assert not {"import_ids", "flag", "flagged_at"} & {
        c["name"] for c in sa.inspect(engine).get_columns("leads")
    }
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT summary FROM leads")).scalar_one() == "shared images"
    database.upgrade(engine)
    engine.dispose()
