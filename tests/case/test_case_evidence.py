"""Evidence: hashing, content-addressed read-only storage, idempotence, verification."""

from __future__ import annotations

import hashlib
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from palermo.errors import InputError
from palermo.store.tables import EvidenceItem
from palermo.workspace import Workspace


def add(ws: Workspace, case: str, path: Path) -> int:
    return ws.evidence.add(
        case,
        path,
        source="phone of D. Roe",
        acquired_by="Det. Ada",
        acquired_at=datetime(2024, 5, 1, 10, 0, tzinfo=UTC),
        tool="XTract",
        tool_version="7.1",
        description="chat export",
    ).id


def test_stored_digest_equals_independent_sha256(
    workspace: Workspace, case_ref: str, exhibit_files: list[Path]
) -> None:
    item = workspace.evidence.get(add(workspace, case_ref, exhibit_files[0]))
    assert item.sha256 == hashlib.sha256(exhibit_files[0].read_bytes()).hexdigest()


def test_original_is_content_addressed_and_read_only(
    workspace: Workspace, case_ref: str, exhibit_files: list[Path]
) -> None:
    item = workspace.evidence.get(add(workspace, case_ref, exhibit_files[0]))
    path = workspace.evidence.path_of(item.id)
    assert path.relative_to(workspace.path / "evidence").parts == (
        item.sha256[:2],
        item.sha256[2:4],
        item.sha256,
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o400


def test_acquisition_record_is_kept(workspace: Workspace, case_ref: str, exhibit_files: list[Path]) -> None:
    item = workspace.evidence.get(add(workspace, case_ref, exhibit_files[0]))
    assert (
        item.source,
        item.acquired_by,
        item.tool,
        item.tool_version,
        item.media_type,
        item.original_filename,
    ) == ("phone of D. Roe", "Det. Ada", "XTract", "7.1", "text/plain", "exhibit1.txt")
    assert item.acquired_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_same_file_twice_returns_existing_item(
    workspace: Workspace, case_ref: str, exhibit_files: list[Path]
) -> None:
    assert add(workspace, case_ref, exhibit_files[0]) == add(workspace, case_ref, exhibit_files[0])
    assert len(workspace.evidence.list(case_ref)) == 1


def test_open_returns_the_original_bytes(
    workspace: Workspace, case_ref: str, exhibit_files: list[Path]
) -> None:
    with workspace.evidence.open(add(workspace, case_ref, exhibit_files[1])) as fh:
        assert fh.read() == exhibit_files[1].read_bytes()


def test_missing_file_stores_nothing(workspace: Workspace, case_ref: str, exhibit_files: list[Path]) -> None:
    with pytest.raises(InputError) as info:
        workspace.evidence.add_many(
            case_ref, [exhibit_files[0], exhibit_files[0].with_name("gone.txt")], source="s", acquired_by="a"
        )
    assert "gone.txt" in str(info.value)
    with workspace.ctx.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(EvidenceItem)) == 0


def test_verify_is_clean_for_untouched_evidence(
    workspace: Workspace, case_ref: str, exhibit_files: list[Path]
) -> None:
    workspace.evidence.add_many(case_ref, exhibit_files, source="s", acquired_by="a")
    report = workspace.evidence.verify(case_ref)
    assert (report.checked, report.mismatches) == (3, [])


def test_flipping_one_byte_of_a_stored_file_is_detected(
    workspace: Workspace, case_ref: str, exhibit_files: list[Path]
) -> None:
    items = workspace.evidence.add_many(case_ref, exhibit_files, source="s", acquired_by="a")
    path = workspace.evidence.path_of(items[1].id)
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[3] ^= 0x01
    path.write_bytes(bytes(data))
    report = workspace.evidence.verify()
    assert [m.evidence_id for m in report.mismatches] == [items[1].id]


def test_verify_failure_is_audited(workspace: Workspace, case_ref: str, exhibit_files: list[Path]) -> None:
    item_id = add(workspace, case_ref, exhibit_files[0])
    path = workspace.evidence.path_of(item_id)
    os.chmod(path, 0o644)
    path.unlink()
    workspace.evidence.verify()
    last = workspace.audit.events()[-1]
    assert (last.action, last.outcome) == ("evidence.verify", "failure")


def test_naive_acquisition_time_is_refused(
    workspace: Workspace, case_ref: str, exhibit_files: list[Path]
) -> None:
    with pytest.raises(InputError) as info:
        workspace.evidence.add(
            case_ref, exhibit_files[0], source="s", acquired_by="a", acquired_at=datetime(2024, 5, 1, 10, 0)
        )
    assert info.value.location == "acquired_at"
