"""Integrity of stored evidence: re-hashing the originals and keeping their chain of custody.

Split from ``evidence.py`` (acquisition) because these are the operations an evidence custodian
runs every day and a court asks about: ``verify`` re-hashes originals (EV-02), ``record_custody``
re-verifies the hash before each hand-over and appends to the hash chain, ``verify_custody``
re-checks every chain. Every check is audited, failed or not.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from palermo.errors import IntegrityError
from palermo.store import blobs, custody, repository
from palermo.store.ports import StoreContext
from palermo.store.schemas import CustodyEventPublic, EvidencePublic, Mismatch, VerifyReport
from palermo.store.tables import Case, EvidenceItem


class EvidenceIntegrity:
    """Verification and custody operations of :class:`palermo.store.evidence.EvidenceService`."""

    ctx: StoreContext
    # Provided by EvidenceService, which this mixin is part of.
    get: Callable[[int], EvidencePublic]

    # --- integrity -----------------------------------------------------------------------------
    def verify(self, case_ref: str | None = None) -> VerifyReport:
        """Re-hash every stored original and check every custody chain (of one case or all).

        Both kinds of problem are reported (custody ones prefixed "custody: ") and audited in one
        event. Hashing happens outside any transaction, so verifying terabytes never blocks writers.
        """
        with self.ctx.db.read() as session:
            query = (
                select(EvidenceItem.id, EvidenceItem.sha256, EvidenceItem.size, Case.reference)
                .join(Case, Case.id == EvidenceItem.case_id)
                .order_by(EvidenceItem.id)
            )
            if case_ref is not None:
                query = query.where(Case.id == repository.case_by_ref(session, case_ref).id)
            rows = session.execute(query).all()
        mismatches = []
        for item_id, sha256, size, reference in rows:
            problem = blobs.check(self.ctx.evidence_dir, sha256, size)
            if problem:
                mismatches.append(Mismatch(evidence_id=item_id, case_reference=reference, problem=problem))
        with self.ctx.db.transaction() as session:
            broken = self._chain_mismatches(session, None, case_ref)[1]
            mismatches.extend(m.model_copy(update={"problem": f"custody: {m.problem}"}) for m in broken)
            mismatches.sort(key=lambda m: m.evidence_id)
            self.ctx.audit.record(
                session,
                actor=self.ctx.actor,
                action="evidence.verify",
                object_type="evidence",
                outcome="failure" if mismatches else "success",
                detail={
                    "checked": len(rows),
                    "mismatched": sorted({m.evidence_id for m in mismatches}),
                },
            )
        return VerifyReport(checked=len(rows), mismatches=mismatches)

    def _chain_mismatches(
        self, session: Session, evidence_id: int | None, case_ref: str | None
    ) -> tuple[int, list[Mismatch]]:
        """How many exhibits were checked and every custody problem among them (chain and audit log)."""
        query = (
            select(EvidenceItem, Case).join(Case, Case.id == EvidenceItem.case_id).order_by(EvidenceItem.id)
        )
        if evidence_id is not None:
            query = query.where(EvidenceItem.id == repository.evidence(session, evidence_id).id)
        if case_ref is not None:
            query = query.where(Case.id == repository.case_by_ref(session, case_ref).id)
        rows = session.execute(query).all()
        trail = custody.audited_custody(session)
        mismatches = [
            Mismatch(evidence_id=item.id, case_reference=case.reference, problem=str(p))
            for item, case in rows
            for p in custody.verify_item(session, item, trail)
        ]
        return len(rows), mismatches

    # --- custody -------------------------------------------------------------------------------
    def record_custody(
        self,
        evidence_id: int,
        event_type: str,
        *,
        to_custodian: str | None = None,
        from_custodian: str | None = None,
        at: datetime | None = None,
        purpose: str | None = None,
        location: str | None = None,
        note: str | None = None,
    ) -> CustodyEventPublic:
        """Append a custody event after re-verifying the original's hash (EV-02)."""
        item_public = self.get(evidence_id)
        problem = blobs.check(self.ctx.evidence_dir, item_public.sha256, item_public.size)
        if problem:
            self._refuse_custody(evidence_id, event_type, problem)
        with self.ctx.db.transaction() as session:
            item = repository.evidence(session, evidence_id, for_update=True)
            broken = custody.verify_item(session, item)
        if broken:  # never extend a chain that no longer vouches for this exhibit (e.g. a swapped row)
            self._refuse_custody(evidence_id, event_type, "; ".join(str(p) for p in broken))
        with self.ctx.db.transaction() as session:
            item = repository.evidence(session, evidence_id, for_update=True)
            event = custody.append(
                session,
                item,
                event_type=event_type,
                recorded_by=self.ctx.actor,
                sha256=item.sha256,
                from_custodian=from_custodian,
                to_custodian=to_custodian,
                at=at,
                purpose=purpose,
                location=location,
                note=note,
            )
            self.ctx.audit.record(
                session,
                actor=self.ctx.actor,
                action=f"custody.{event_type}",
                object_type="evidence",
                object_id=item.id,
                case_id=item.case_id,
                detail={"seq": event.seq},
            )
            return CustodyEventPublic.model_validate(event)

    def _refuse_custody(self, evidence_id: int, event_type: str, problem: str) -> NoReturn:
        """Audit the refused custody event, then raise: a failed check is itself on the record."""
        with self.ctx.db.transaction() as session:
            self.ctx.audit.record(
                session,
                actor=self.ctx.actor,
                action=f"custody.{event_type}",
                object_type="evidence",
                object_id=evidence_id,
                outcome="failure",
                detail={"problem": problem},
            )
        raise IntegrityError(f"exhibit {evidence_id}: {problem}; custody not recorded")

    def transfer(
        self,
        evidence_id: int,
        to_custodian: str,
        *,
        purpose: str | None = None,
        location: str | None = None,
        note: str | None = None,
    ) -> CustodyEventPublic:
        """Hand the exhibit to ``to_custodian`` (a "transferred" custody event)."""
        return self.record_custody(
            evidence_id,
            "transferred",
            to_custodian=to_custodian,
            purpose=purpose,
            location=location,
            note=note,
        )

    def custody_log(self, evidence_id: int) -> list[CustodyEventPublic]:
        """The exhibit's custody events in the order they were recorded."""
        with self.ctx.db.read() as session:
            repository.evidence(session, evidence_id)
            return [CustodyEventPublic.model_validate(e) for e in custody.events(session, evidence_id)]

    def verify_custody(self, evidence_id: int | None = None, *, case_ref: str | None = None) -> VerifyReport:
        """Check the custody chain of one exhibit, one case's exhibits, or all of them.

        Each chain is re-hashed, matched against the exhibit's record, and its length against the
        custody events the audit log recorded for it.
        """
        with self.ctx.db.transaction() as session:
            checked, mismatches = self._chain_mismatches(session, evidence_id, case_ref)
            # in the case's own audit trail, where a court looks for who checked its exhibits
            item = session.get(EvidenceItem, evidence_id) if evidence_id is not None else None
            case = repository.case_by_ref(session, case_ref) if case_ref and item is None else None
            self.ctx.audit.record(
                session,
                actor=self.ctx.actor,
                action="custody.verify",
                object_type="evidence",
                object_id=evidence_id,
                case_id=item.case_id if item is not None else (case.id if case is not None else None),
                outcome="failure" if mismatches else "success",
                detail={"checked": checked},
            )
            return VerifyReport(checked=checked, mismatches=mismatches)
