"""Cases: the container every party, charge, exhibit and lead belongs to.

Creating a case also creates its data key, so a victim's identity can be encrypted from the first
party on, and crypto-shredding the case later needs nothing more than deleting that key.
"""

from __future__ import annotations

import builtins
import re

from sqlalchemy import select

from palermo.errors import InputError
from palermo.store import repository
from palermo.store.ports import StoreContext
from palermo.store.schemas import CasePublic
from palermo.store.tables import Case

REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")


class CaseService:
    """Create, find and list cases."""

    def __init__(self, ctx: StoreContext) -> None:
        self.ctx = ctx

    def create(
        self, reference: str, title: str, jurisdiction: str = "us", *, description: str | None = None
    ) -> CasePublic:
        """Create a case with a unique reference (letters, digits, ``. _ / -``)."""
        if not REFERENCE.match(reference):
            raise InputError(
                f"case reference {reference!r} must be 1-64 letters, digits or . _ / - characters",
                location="reference",
            )
        if not title.strip():
            raise InputError("a case needs a title", location="title")
        if not re.fullmatch(r"[a-z]{2,4}", jurisdiction):
            raise InputError(
                f"jurisdiction {jurisdiction!r} must be a code like 'us' or 'gb'", location="jurisdiction"
            )
        with self.ctx.db.transaction() as session:
            if session.scalar(select(Case.id).where(Case.reference == reference)) is not None:
                raise InputError(f"case {reference!r} already exists", location="reference")
            case = Case(
                reference=reference,
                title=title.strip(),
                jurisdiction=jurisdiction,
                description=description,
                created_by=self.ctx.actor,
            )
            session.add(case)
            session.flush()
            self.ctx.cipher.create(session, case.id)
            self.ctx.audit.record(
                session,
                actor=self.ctx.actor,
                action="case.create",
                object_type="case",
                object_id=case.id,
                case_id=case.id,
                detail={"reference": reference},
            )
            return CasePublic.model_validate(case)

    def get(self, reference: str) -> CasePublic:
        with self.ctx.db.read() as session:
            return CasePublic.model_validate(repository.case_by_ref(session, reference))

    def list(self) -> builtins.list[CasePublic]:
        with self.ctx.db.read() as session:
            return [
                CasePublic.model_validate(c) for c in session.scalars(select(Case).order_by(Case.reference))
            ]
