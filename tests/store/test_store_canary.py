"""Canary test: a victim's identity never appears in plaintext in the database, its WAL, or any log.

The canary values are seeded through the normal API, the workspace is exercised (reveal included,
with SQLAlchemy's statement-and-parameter logging switched on), then the raw bytes of every file
in the workspace folder and every captured log line are searched.
"""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from palermo.store.tables import Base
from palermo.workspace import Workspace

CANARIES = ("Zqxwyvna Canarytest", "17 Qwpzzk Canary Lane", "+1 555 0142 9931")


@pytest.fixture
def seeded(workspace: Workspace, caplog: pytest.LogCaptureFixture) -> Workspace:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    workspace.cases.create("CAN-1", "canary", "zz")
    victim = workspace.parties.add_victim(
        "CAN-1",
        "V-Canary",
        age_at_offence=17,
        legal_name=CANARIES[0],
        address=CANARIES[1],
        contact=CANARIES[2],
        date_of_birth="2007-02-03",
    )
    workspace.parties.reveal_identity(victim.id, user="advocate.a")
    workspace.parties.list("CAN-1")
    workspace.keys.rotate("CAN-1")
    return workspace


def test_identity_not_in_any_workspace_file(seeded: Workspace) -> None:
    if seeded.ctx.db.dialect != "sqlite":
        pytest.skip("raw-file scan is for the embedded SQLite store; PostgreSQL is checked by query")
    with seeded.ctx.db.engine.connect() as conn:  # keep a connection open so the WAL is not checkpointed away
        files = [p for p in seeded.path.rglob("*") if p.is_file()]
        assert any(p.name.endswith("-wal") for p in files)
        blob = b"".join(p.read_bytes() for p in files)
        conn.close()
    assert [c for c in CANARIES if c.encode() in blob] == []


def test_identity_not_in_any_table_as_text(seeded: Workspace) -> None:
    with seeded.ctx.db.transaction() as session:
        hits = []
        for table in Base.metadata.sorted_tables:
            for row in session.execute(sa.select(table)).all():
                text = " ".join(str(v) for v in row)
                hits += [f"{table.name}: {c}" for c in CANARIES if c in text]
    assert hits == []


def test_identity_not_in_logs(seeded: Workspace, caplog: pytest.LogCaptureFixture) -> None:
    logged = "\n".join(r.getMessage() for r in caplog.get_records("setup")) + caplog.text
    assert "INSERT INTO party_identities" in logged  # the engine logged statements and parameters
    assert [c for c in CANARIES if c in logged] == []


def test_a_two_factor_secret_is_not_stored_in_the_clear(workspace: Workspace) -> None:
    """The TOTP seed is sealed under a key derived from the master key (revision 0005): not in any
    workspace file (SQLite, with its WAL) and not in any column of the accounts table (both)."""
    workspace.users.add("canary.user", "correct horse battery staple 42", "analyst")
    secret = workspace.users.enrol_totp("canary.user")
    with workspace.ctx.db.engine.connect() as conn:  # kept open so the WAL is not checkpointed away
        rows = conn.execute(sa.text("SELECT * FROM users")).all()
        files = b"".join(p.read_bytes() for p in workspace.path.rglob("*") if p.is_file())
    stored = b"".join(v if isinstance(v, bytes) else str(v).encode() for row in rows for v in row)
    assert secret.encode() not in stored
    if workspace.ctx.db.dialect == "sqlite":
        assert secret.encode() not in files
