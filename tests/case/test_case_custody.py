"""Chain of custody: append-only, hash-chained, and tamper-evident in the database itself."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from palermo.errors import InputError, IntegrityError
from palermo.store import blobs
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


def drop_exhibit_guard(ws: Workspace) -> None:
    """Remove the triggers that keep an exhibit's acquisition record fixed (migration 0002)."""
    with ws.ctx.db.transaction() as session:
        for name in ("evidence_items_fixed", "evidence_items_no_delete"):
            suffix = "" if ws.ctx.db.dialect == "sqlite" else " ON evidence_items"
            session.execute(text(f"DROP TRIGGER {name}{suffix}"))


def rewrite_exhibit(ws: Workspace, sql: str, **params: object) -> None:
    drop_exhibit_guard(ws)
    with ws.ctx.db.transaction() as session:
        session.execute(text(sql), params)


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


def swap_exhibit(ws: Workspace, exhibit: int, tmp_path: Path) -> str:
    """A forged file put into the store and the exhibit row pointed at it (after dropping the guard)."""
    forged = tmp_path / "forged.bin"
    forged.write_bytes(b"forged exhibit")
    sha, size = blobs.store(ws.ctx.evidence_dir, forged)
    rewrite_exhibit(
        ws, "UPDATE evidence_items SET sha256 = :s, size = :n WHERE id = :e", s=sha, n=size, e=exhibit
    )
    return sha


def test_swapped_exhibit_is_detected_by_custody_verify(
    workspace: Workspace, exhibit: int, tmp_path: Path
) -> None:
    forged = swap_exhibit(workspace, exhibit, tmp_path)
    problems = [m.problem for m in workspace.evidence.verify_custody(exhibit).mismatches]
    # the received event, each of the three later events, and the audited acquisition all disagree
    assert [p.split(":")[0] for p in problems if forged in p] == [f"entry {n}" for n in (1, 1, 2, 3, 4)]


def test_transfer_of_a_swapped_exhibit_is_refused(workspace: Workspace, exhibit: int, tmp_path: Path) -> None:
    swap_exhibit(workspace, exhibit, tmp_path)
    with pytest.raises(IntegrityError, match="recorded when received"):
        workspace.evidence.transfer(exhibit, "Court clerk")


def test_rewritten_acquisition_record_is_detected(workspace: Workspace, exhibit: int) -> None:
    sql = "UPDATE evidence_items SET acquired_by = 'Mallory', source = 'forged' WHERE id = :e"
    rewrite_exhibit(workspace, sql, e=exhibit)
    problems = [m.problem for m in workspace.evidence.verify_custody(exhibit).mismatches]
    assert [p.split(" differs")[0] for p in problems] == [
        "entry 1: exhibit source 'forged'",
        "entry 1: exhibit acquired_by 'Mallory'",
    ]


def test_rewritten_acquisition_time_is_detected(workspace: Workspace, exhibit: int) -> None:
    sql = "UPDATE evidence_items SET acquired_at = :t WHERE id = :e"
    rewrite_exhibit(workspace, sql, t=datetime(2001, 1, 1), e=exhibit)
    problems = [m.problem for m in workspace.evidence.verify_custody(exhibit).mismatches]
    assert any("acquired_at 2001-01-01" in p for p in problems)


def test_cut_tail_with_rolled_back_head_is_caught_by_the_audit_log(
    workspace: Workspace, exhibit: int
) -> None:
    tamper(workspace, "DELETE FROM custody_events WHERE evidence_id = :e AND seq = 4", e=exhibit)
    rewrite_exhibit(  # roll the exhibit's head back: the chain now verifies on its own
        workspace,
        "UPDATE evidence_items SET custody_count = 3, custody_head = "
        "(SELECT hash FROM custody_events WHERE evidence_id = :e AND seq = 3) WHERE id = :e",
        e=exhibit,
    )
    problems = [m.problem for m in workspace.evidence.verify_custody(exhibit).mismatches]
    assert problems == ["entry 3: 3 custody event(s) stored, the audit log records 4"]


def test_rewritten_size_is_caught_by_the_audit_log(workspace: Workspace, exhibit: int) -> None:
    rewrite_exhibit(workspace, "UPDATE evidence_items SET size = 1 WHERE id = :e", e=exhibit)
    problems = [m.problem for m in workspace.evidence.verify_custody(exhibit).mismatches]
    assert any(p.startswith("entry 1: exhibit size 1 differs from") for p in problems)


def test_evidence_verify_reports_broken_custody_chains(
    workspace: Workspace, exhibit: int, case_ref: str
) -> None:
    tamper(workspace, "UPDATE custody_events SET note = 'x' WHERE evidence_id = :e AND seq = 2", e=exhibit)
    report = workspace.evidence.verify(case_ref)
    assert [m.problem for m in report.mismatches] == [
        "custody: entry 2: content does not match its hash (entry edited)"
    ]


def test_evidence_verify_of_intact_exhibits_is_clean(
    workspace: Workspace, exhibit: int, case_ref: str
) -> None:
    assert workspace.evidence.verify(case_ref).mismatches == []


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE evidence_items SET sha256 = '0000' WHERE id = :e",
        "UPDATE evidence_items SET acquired_by = 'Mallory' WHERE id = :e",
        "UPDATE evidence_items SET description = 'x' WHERE id = :e",
        "UPDATE evidence_items SET custody_count = custody_count - 1 WHERE id = :e",
        "DELETE FROM evidence_items WHERE id = :e",
    ],
    ids=["sha256", "acquired_by", "description", "count-rollback", "delete"],
)
def test_database_refuses_rewriting_an_exhibit_record(workspace: Workspace, exhibit: int, sql: str) -> None:
    with pytest.raises(DBAPIError), workspace.ctx.db.transaction() as session:
        session.execute(text(sql), {"e": exhibit})


def test_database_allows_moving_the_custody_head_forward(workspace: Workspace, exhibit: int) -> None:
    workspace.evidence.transfer(exhibit, "Court clerk")
    assert workspace.evidence.verify_custody(exhibit).mismatches == []
