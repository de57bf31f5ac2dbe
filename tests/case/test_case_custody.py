"""Chain of custody: append-only, hash-chained, and tamper-evident in the database itself."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from palermo.errors import InputError, IntegrityError
from palermo.workspace import Workspace


@pytest.fixture
def exhibit(workspace: Workspace, case_ref: str, exhibit_files: list[Path]) -> int:
    """An exhibit with four custody events: received, transferred, examined, transferred."""
    item = workspace.evidence.add(case_ref, exhibit_files[0], source="phone", acquired_by="Det. Ada")
    workspace.evidence.transfer(item.id, "Lab Tech Bo", purpose="extraction", location="Lab 2")
    workspace.evidence.record_custody(item.id, "examined", purpose="keyword search")
    workspace.evidence.transfer(item.id, "Evidence Room", purpose="storage", location="Locker 14")
    return item.id


def drop_guards(ws: Workspace) -> None:
    """What an attacker with database-owner rights would do first: remove the append-only triggers."""
    with ws.ctx.db.transaction() as session:
        for verb in ("update", "delete"):
            if ws.ctx.db.dialect == "sqlite":
                session.execute(text(f"DROP TRIGGER custody_events_no_{verb}"))
            else:
                session.execute(text(f"DROP TRIGGER custody_events_no_{verb} ON custody_events"))


def tamper(ws: Workspace, sql: str, **params: object) -> None:
    drop_guards(ws)
    with ws.ctx.db.transaction() as session:
        session.execute(text(sql), params)


def test_adding_evidence_records_a_received_event(
    workspace: Workspace, case_ref: str, exhibit_files: list[Path]
) -> None:
    item = workspace.evidence.add(case_ref, exhibit_files[0], source="phone", acquired_by="Det. Ada")
    (event,) = workspace.evidence.custody_log(item.id)
    assert (event.event_type, event.from_custodian, event.to_custodian) == ("received", "phone", "Det. Ada")


def test_custody_log_is_one_unbroken_sequence_of_hands(workspace: Workspace, exhibit: int) -> None:
    events = workspace.evidence.custody_log(exhibit)
    assert all(a.to_custodian == b.from_custodian for a, b in pairwise(events))


def test_intact_chain_verifies(workspace: Workspace, exhibit: int) -> None:
    assert workspace.evidence.verify_custody(exhibit).mismatches == []


def test_transfer_from_someone_who_does_not_hold_it_is_refused(workspace: Workspace, exhibit: int) -> None:
    with pytest.raises(InputError, match="continuity"):
        workspace.evidence.record_custody(exhibit, "transferred", from_custodian="Det. Ada", to_custodian="X")


def test_database_refuses_update_of_custody_events(workspace: Workspace, exhibit: int) -> None:
    with pytest.raises(DBAPIError), workspace.ctx.db.transaction() as session:
        session.execute(text("UPDATE custody_events SET note = 'x'"))


def test_edited_event_is_detected(workspace: Workspace, exhibit: int) -> None:
    tamper(
        workspace,
        "UPDATE custody_events SET to_custodian = 'Mallory' WHERE evidence_id = :e AND seq = 2",
        e=exhibit,
    )
    problems = workspace.evidence.verify_custody(exhibit).mismatches
    assert any("edited" in p.problem for p in problems)


def test_deleted_middle_event_is_detected(workspace: Workspace, exhibit: int) -> None:
    tamper(workspace, "DELETE FROM custody_events WHERE evidence_id = :e AND seq = 2", e=exhibit)
    assert workspace.evidence.verify_custody(exhibit).mismatches != []


def test_deleted_last_event_is_detected(workspace: Workspace, exhibit: int) -> None:
    tamper(workspace, "DELETE FROM custody_events WHERE evidence_id = :e AND seq = 4", e=exhibit)
    problems = workspace.evidence.verify_custody(exhibit).mismatches
    assert any("recorded" in p.problem for p in problems)


def test_reordered_events_are_detected(workspace: Workspace, exhibit: int) -> None:
    drop_guards(workspace)
    with workspace.ctx.db.transaction() as session:  # swap events 2 and 3
        for old, new in ((2, 99), (3, 2), (99, 3)):
            session.execute(
                text("UPDATE custody_events SET seq = :new WHERE evidence_id = :e AND seq = :old"),
                {"new": new, "old": old, "e": exhibit},
            )
    assert workspace.evidence.verify_custody(exhibit).mismatches != []


def test_custody_event_on_a_modified_original_is_refused(workspace: Workspace, exhibit: int) -> None:
    path = workspace.evidence.path_of(exhibit)
    path.chmod(0o644)
    path.write_bytes(b"forged")
    with pytest.raises(IntegrityError):
        workspace.evidence.transfer(exhibit, "Court clerk")
