"""Evidence: originals hashed at acquisition, stored content-addressed and read-only, with custody.

An exhibit's record says where it came from (``source``), who acquired it and when (UTC), with
which tool and version, what it is, its size, original filename and media type, and its SHA-256 —
the facts an FRE 902(14) certification rests on.

Imports are file by file: each file is stored and fsync'd (``blobs.store``), then its row, its
"received" custody event and its audit event commit in one transaction. A crash mid-import leaves
every committed item intact and no half item visible; re-running the import skips what is already
there (the same file twice in one case is the same exhibit) and completes the rest.
"""

from __future__ import annotations

import builtins
import mimetypes
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError as DBIntegrityError

from palermo.errors import InputError
from palermo.store import blobs, custody, repository
from palermo.store.integrity import EvidenceIntegrity
from palermo.store.ports import StoreContext
from palermo.store.schemas import EvidencePublic
from palermo.store.tables import Case, EvidenceItem, row_dict


def to_public(item: EvidenceItem, case: Case) -> EvidencePublic:
    return EvidencePublic.model_validate({**row_dict(item), "case_reference": case.reference})


def _check_files(paths: Sequence[Path]) -> list[Path]:
    checked = []
    for path in paths:
        path = Path(path)
        if not path.is_file():
            what = "is not a file" if path.exists() else "does not exist"
            raise InputError(f"{path} {what}", location="file")
        checked.append(path)
    return checked


class EvidenceService(EvidenceIntegrity):
    """Add, list, open, verify exhibits; record and verify their chain of custody."""

    def __init__(self, ctx: StoreContext) -> None:
        self.ctx = ctx

    # --- acquisition -------------------------------------------------------------------------
    def add(
        self,
        case_ref: str,
        file_path: Path,
        *,
        source: str,
        acquired_by: str,
        acquired_at: datetime | None = None,
        tool: str | None = None,
        tool_version: str | None = None,
        description: str | None = None,
        media_type: str | None = None,
    ) -> EvidencePublic:
        """Import one file (idempotent per case: the same bytes return the existing exhibit)."""
        return self.add_many(
            case_ref,
            [file_path],
            source=source,
            acquired_by=acquired_by,
            acquired_at=acquired_at,
            tool=tool,
            tool_version=tool_version,
            description=description,
            media_type=media_type,
        )[0]

    def add_many(
        self,
        case_ref: str,
        file_paths: Sequence[Path],
        *,
        source: str,
        acquired_by: str,
        acquired_at: datetime | None = None,
        tool: str | None = None,
        tool_version: str | None = None,
        description: str | None = None,
        media_type: str | None = None,
    ) -> builtins.list[EvidencePublic]:
        """Import several files, each committed on its own; every input is checked before any is stored."""
        if not source.strip():
            raise InputError("evidence needs a source (where it was obtained)", location="source")
        if not acquired_by.strip():
            raise InputError("evidence needs the acquiring officer", location="acquired_by")
        if acquired_at is not None and acquired_at.tzinfo is None:
            raise InputError(
                "acquisition time needs a timezone, e.g. 2024-05-01T10:00:00Z", location="acquired_at"
            )
        paths = _check_files(file_paths)
        with self.ctx.db.transaction() as session:
            repository.case_by_ref(session, case_ref)
        when = (acquired_at or datetime.now(UTC)).astimezone(UTC)
        meta = {
            "source": source.strip(),
            "acquired_by": acquired_by.strip(),
            "acquired_at": when,
            "tool": tool,
            "tool_version": tool_version,
            "description": description,
        }
        return [self._import_one(case_ref, path, meta, media_type) for path in paths]

    def _import_one(
        self, case_ref: str, path: Path, meta: dict[str, Any], media_type: str | None
    ) -> EvidencePublic:
        sha, size = blobs.store(self.ctx.evidence_dir, path)
        try:
            with self.ctx.db.transaction() as session:
                case = repository.case_by_ref(session, case_ref)
                existing = session.scalar(
                    select(EvidenceItem).where(EvidenceItem.case_id == case.id, EvidenceItem.sha256 == sha)
                )
                if existing is not None:
                    return to_public(existing, case)
                item = EvidenceItem(
                    case_id=case.id,
                    sha256=sha,
                    size=size,
                    original_filename=path.name,
                    media_type=media_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream",
                    custody_count=0,
                    **meta,
                )
                session.add(item)
                session.flush()
                custody.append(
                    session,
                    item,
                    event_type="received",
                    recorded_by=self.ctx.actor,
                    sha256=sha,
                    from_custodian=meta["source"],
                    to_custodian=meta["acquired_by"],
                    at=meta["acquired_at"],
                    purpose="acquisition",
                    note=f"{meta['tool'] or 'no tool'} {meta['tool_version'] or ''}".strip(),
                )
                self.ctx.audit.record(
                    session,
                    actor=self.ctx.actor,
                    action="evidence.add",
                    object_type="evidence",
                    object_id=item.id,
                    case_id=case.id,
                    detail={"sha256": sha, "size": size},
                )
                return to_public(item, case)
        except DBIntegrityError:  # a concurrent import of the same file won the race: return its row
            with self.ctx.db.transaction() as session:
                case = repository.case_by_ref(session, case_ref)
                found = session.scalar(
                    select(EvidenceItem).where(EvidenceItem.case_id == case.id, EvidenceItem.sha256 == sha)
                )
                if found is None:
                    raise
                return to_public(found, case)

    # --- reading -------------------------------------------------------------------------------
    def get(self, evidence_id: int) -> EvidencePublic:
        with self.ctx.db.read() as session:
            item = repository.evidence(session, evidence_id)
            return to_public(item, repository.case_by_id(session, item.case_id))

    def list(self, case_ref: str) -> builtins.list[EvidencePublic]:
        with self.ctx.db.read() as session:
            case = repository.case_by_ref(session, case_ref)
            items = session.scalars(
                select(EvidenceItem).where(EvidenceItem.case_id == case.id).order_by(EvidenceItem.id)
            )
            return [to_public(i, case) for i in items]

    def path_of(self, evidence_id: int) -> Path:
        """The stored (read-only) original; read it, never write it."""
        return blobs.blob_path(self.ctx.evidence_dir, self.get(evidence_id).sha256)

    def open(self, evidence_id: int) -> BinaryIO:
        """The stored original, opened for binary reading."""
        return self.path_of(evidence_id).open("rb")
