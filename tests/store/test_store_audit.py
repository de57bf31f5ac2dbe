"""The audit log: hash-chained, append-only in the database, tamper-evident."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from palermo.domain.chain import REWRITTEN
from palermo.errors import InputError, IntegrityError
from palermo.security.audit import check_detail, parse_checkpoint
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


def cut_tail(ws: Workspace, from_seq: int) -> None:
    """What someone with the database file can do: drop the delete trigger, remove the newest events."""
    with ws.ctx.db.transaction() as session:
        suffix = "" if ws.ctx.db.dialect == "sqlite" else " ON audit_events"
        session.execute(text(f"DROP TRIGGER audit_events_no_delete{suffix}"))
        session.execute(text("DELETE FROM audit_events WHERE seq >= :seq"), {"seq": from_seq})


def test_checkpoint_is_audited_and_reports_the_head_that_includes_it(audited: Workspace) -> None:
    taken = audited.audit.checkpoint("A-1")
    last = audited.audit.events()[-1]
    assert (last.seq, last.action, last.actor) == (5, "audit.checkpoint", "officer.test")
    assert last.case_id is not None and audited.audit.events("A-1")[-1].seq == 5
    assert taken["seq"] == 5 and taken["count"] == 5 and taken["case"] == "A-1"
    head = audited.audit.head()
    assert head is not None and taken["hash"] == head.hash and taken["at"] == head.at.isoformat()


def test_removed_tail_passes_the_chain_alone_but_not_a_checkpoint(audited: Workspace) -> None:
    held = parse_checkpoint(audited.audit.checkpoint(), "checkpoint.json")
    cut_tail(audited, 4)
    assert audited.audit.verify() == []  # what is left still links up: why the head must be held outside
    problems = audited.audit.verify(held)
    assert any(p.startswith("entry 5: missing") for p in problems)
    assert any("chain holds 3 entries, the checkpoint recorded 5" in p for p in problems)


def test_rewritten_tail_fails_the_checkpoint(audited: Workspace) -> None:
    held = parse_checkpoint(audited.audit.checkpoint(), "checkpoint.json")
    cut_tail(audited, 3)
    for i in range(4):  # freshly hashed events, so the chain links up again and is longer than before
        audited.cases.create(f"F-{i}", "forged", "zz")
    assert audited.audit.verify() == []
    assert audited.audit.verify(held) == [f"entry 5: {REWRITTEN}"]


def test_checkpoint_still_holds_as_the_log_grows(audited: Workspace) -> None:
    held = parse_checkpoint(audited.audit.checkpoint(), "checkpoint.json")
    audited.cases.create("B-1", "later", "zz")
    assert audited.audit.verify(held) == []


def test_no_checkpoint_of_a_broken_log(audited: Workspace) -> None:
    drop_guards(audited)
    with audited.ctx.db.transaction() as session:
        session.execute(text("UPDATE audit_events SET actor = 'someone.else' WHERE seq = 2"))
    with pytest.raises(IntegrityError, match="entry 2: content does not match"):
        audited.audit.checkpoint()
    assert [e.action for e in audited.audit.events()] == ["case.create"] * 4  # nothing recorded


def test_reading_the_log_is_audited(audited: Workspace) -> None:
    shown = audited.audit.read(limit=2)
    assert [e.seq for e in shown] == [3, 4]
    last = audited.audit.events()[-1]
    assert (last.seq, last.action, last.detail) == (5, "audit.read", {"events": 2, "limit": 2})


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ([], "checkpoint.json"),
        ({"seq": 0, "hash": "a" * 64, "count": 1}, "seq"),
        ({"seq": 1, "hash": "a" * 64, "count": True}, "count"),
        ({"seq": 1, "hash": "xyz", "count": 1}, "hash"),
    ],
)
def test_malformed_checkpoint_names_the_field(data: object, field: str) -> None:
    with pytest.raises(InputError, match=field):
        parse_checkpoint(data, "checkpoint.json")


def test_what_changed_since_a_verified_head_is_found_inside_the_write(audited: Workspace) -> None:
    """The checkpoint re-hashes the whole log before taking the write lock and, inside it, only what
    came since: an edit of the verified head itself, or a deletion before it, must show there."""
    log = audited.audit.log
    with audited.ctx.db.read() as session:
        head = log.head(session)
    assert head is not None
    drop_guards(audited)
    with audited.ctx.db.transaction() as session:
        assert log.verify_since(session, head.seq, head.hash) == []
        session.execute(text("UPDATE audit_events SET actor = 'forged' WHERE seq = :seq"), {"seq": head.seq})
        assert log.verify_since(session, head.seq, head.hash) != []
        session.rollback()
    with audited.ctx.db.transaction() as session:
        session.execute(text("DELETE FROM audit_events WHERE seq = 1"))
        assert log.verify_since(session, head.seq, head.hash) != []
        session.rollback()


def test_the_newest_events_of_a_case_come_oldest_first(audited: Workspace) -> None:
    for i in range(3):
        audited.cases.create(f"B-{i}", f"case {i}", "zz")
    newest = audited.audit.events(limit=2)
    assert [e.seq for e in newest] == [6, 7]
    assert [e.action for e in audited.audit.events("A-1", limit=5)] == ["case.create"]
    with pytest.raises(InputError, match="at least 1"):
        audited.audit.events(limit=0)
