"""What the store needs from the outside, as protocols, so ``store`` never imports ``security``.

The Workspace wires the real implementations (``palermo.security.audit.AuditLog`` and
``palermo.security.crypto.Keyring``) into a :class:`StoreContext`; the import-linter layers keep
``store`` and ``security`` side by side and independent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session

from palermo.store.database import Database

if TYPE_CHECKING:
    from palermo.law.model import Provision


class Auditor(Protocol):
    """Appends an audit event in the caller's session (so a failed audit fails the action)."""

    def record(
        self,
        session: Session,
        *,
        actor: str,
        action: str,
        object_type: str,
        object_id: str | int | None = None,
        case_id: int | None = None,
        outcome: str = "success",
        detail: Mapping[str, Any] | None = None,
    ) -> int: ...


class IdentityCipher(Protocol):
    """Encrypts identity cells under a per-case key, bound to table/column/row."""

    def create(self, session: Session, case_id: int, version: int = 1) -> int: ...

    def active_version(self, session: Session, case_id: int) -> int | None: ...

    def encrypt(
        self, session: Session, case_id: int, table_name: str, column_name: str, row_id: int, value: str
    ) -> tuple[int, bytes]: ...

    def decrypt(
        self,
        session: Session,
        case_id: int,
        table_name: str,
        column_name: str,
        row_id: int,
        version: int,
        blob: bytes,
    ) -> str: ...


class Law(Protocol):
    """The part of ``palermo.law.library.LawLibrary`` the store uses."""

    def get(self, provision_id: str) -> Provision: ...


@dataclass(frozen=True)
class StoreContext:
    """Everything a store service needs: database, law, audit, keys, evidence folder and the actor."""

    db: Database
    law: Law
    audit: Auditor
    cipher: IdentityCipher
    evidence_dir: Path
    actor: str

    def as_actor(self, actor: str) -> StoreContext:
        return replace(self, actor=actor)
