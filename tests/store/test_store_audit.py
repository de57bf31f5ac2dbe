"""The audit log: hash-chained, append-only in the database, tamper-evident."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from palermo.security.audit import check_detail
from palermo.workspace import Workspace


def drop_guards(ws: Workspace) -> None:
    with ws.ctx.db.transaction() as session:
        for verb in ("update", "delete"):
            suffix = "" if ws.ctx.db.dialect == "sqlite" else " ON audit_events"
            session.execute(text(f"DROP TRIGGER audit_events_no_{verb}{suffix}"))


@pytest.fixture
def audited(workspace: Workspace) -> Workspace:
    for i in range(4):
        workspace.cases.create(f"A-{i}", f"case {i}", "zz")
    return workspace


def test_every_change_is_audited_with_utc_microseconds(audited: Workspace) -> None:
    events = audited.audit.events()
    assert [e.action for e in events] == ["case.create"] * 4
    assert all(e.at.utcoffset() is not None and e.at.utcoffset().total_seconds() == 0 for e in events)


def test_intact_audit_log_verifies(audited: Workspace) -> None:
    assert audited.audit.verify() == []


def test_database_refuses_deleting_audit_events(audited: Workspace) -> None:
    with pytest.raises(DBAPIError), audited.ctx.db.transaction() as session:
        session.execute(text("DELETE FROM audit_events"))


def test_edited_audit_event_is_detected(audited: Workspace) -> None:
    drop_guards(audited)
    with audited.ctx.db.transaction() as session:
        session.execute(text("UPDATE audit_events SET actor = 'someone.else' WHERE seq = 2"))
    assert any("edited" in p for p in audited.audit.verify())


def test_deleted_audit_event_is_detected(audited: Workspace) -> None:
    drop_guards(audited)
    with audited.ctx.db.transaction() as session:
        session.execute(text("DELETE FROM audit_events WHERE seq = 2"))
    assert audited.audit.verify() != []


def test_identity_fields_are_refused_in_audit_detail() -> None:
    with pytest.raises(ValueError, match="legal_name"):
        check_detail({"legal_name": "x"})
