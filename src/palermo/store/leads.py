"""Leads: facts proposed by analytics or extraction, waiting for a person to accept or reject them.

This is the human-review gate: an indicator or an entity match may *suggest* that an exhibit
supports an element, but nothing machine-made enters the proof matrix until someone accepts the
lead. Acceptance creates a proof link that carries the lead id, the lead's origin as its author and
the accepting person as ``accepted_by``, so the provenance of every link can be traced.
"""

from __future__ import annotations

import builtins
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from palermo.domain.proof import parse_pinpoint
from palermo.errors import InputError
from palermo.store import repository
from palermo.store.ports import StoreContext
from palermo.store.proof import create_link
from palermo.store.schemas import LeadPublic, ProofLinkPublic
from palermo.store.tables import Case, Charge, Lead, row_dict

STATUSES = ("proposed", "accepted", "rejected")


def to_public(lead: Lead, case: Case) -> LeadPublic:
    return LeadPublic.model_validate({**row_dict(lead), "case_reference": case.reference})


class LeadService:
    """Propose, list, accept and reject leads."""

    def __init__(self, ctx: StoreContext) -> None:
        self.ctx = ctx

    def propose(
        self,
        case_ref: str,
        *,
        summary: str,
        origin: str,
        evidence_id: int | None = None,
        locator: str | None = None,
        element_id: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> LeadPublic:
        """Record a proposed fact with its provenance (origin, exhibit, locator)."""
        if not summary.strip():
            raise InputError("a lead needs a summary", location="summary")
        if not origin.strip():
            raise InputError("a lead needs its origin, e.g. indicator:FUNNEL_ACCOUNT", location="origin")
        with self.ctx.db.transaction() as session:
            case = repository.case_by_ref(session, case_ref)
            if evidence_id is not None and repository.evidence(session, evidence_id).case_id != case.id:
                raise InputError(f"exhibit {evidence_id} is not in case {case_ref}", location="evidence_id")
            if element_id is not None:
                charge = session.get(Charge, repository.element(session, element_id).charge_id)
                if charge is None or charge.case_id != case.id:
                    raise InputError(f"element {element_id} is not in case {case_ref}", location="element_id")
            lead = Lead(
                case_id=case.id,
                summary=summary.strip(),
                origin=origin.strip(),
                evidence_id=evidence_id,
                locator=locator,
                element_id=element_id,
                detail=dict(detail or {}),
                status="proposed",
                created_by=self.ctx.actor,
            )
            session.add(lead)
            session.flush()
            self.ctx.audit.record(
                session,
                actor=self.ctx.actor,
                action="lead.propose",
                object_type="lead",
                object_id=lead.id,
                case_id=case.id,
                detail={"origin": lead.origin},
            )
            return to_public(lead, case)

    def list(self, case_ref: str, status: str | None = None) -> builtins.list[LeadPublic]:
        if status is not None and status not in STATUSES:
            raise InputError(f"status {status!r} must be one of {', '.join(STATUSES)}", location="status")
        with self.ctx.db.read() as session:
            case = repository.case_by_ref(session, case_ref)
            query = select(Lead).where(Lead.case_id == case.id).order_by(Lead.id)
            if status is not None:
                query = query.where(Lead.status == status)
            return [to_public(lead, case) for lead in session.scalars(query)]

    def get(self, lead_id: int) -> LeadPublic:
        with self.ctx.db.read() as session:
            lead = repository.lead(session, lead_id)
            return to_public(lead, repository.case_by_id(session, lead.case_id))

    def _pending(self, lead: Lead) -> None:
        if lead.status != "proposed":
            raise InputError(
                f"lead {lead.id} was already {lead.status} by {lead.decided_by}", location="lead"
            )

    def accept(self, lead_id: int, *, element_id: int | None = None, author: str) -> ProofLinkPublic:
        """Turn the lead into a supporting proof link, recording who accepted it."""
        if not author.strip():
            raise InputError(
                "accepting a lead needs the name of the person who reviewed it", location="author"
            )
        with self.ctx.db.transaction() as session:
            lead = repository.lead(session, lead_id)
            self._pending(lead)
            target = element_id or lead.element_id
            if target is None:
                raise InputError(
                    f"lead {lead_id} names no element: say which element it proves", location="element_id"
                )
            if lead.evidence_id is None:
                raise InputError(
                    f"lead {lead_id} cites no exhibit, so it cannot become a proof link",
                    location="evidence_id",
                )
            pinpoint = None
            if lead.locator:
                try:
                    pinpoint = parse_pinpoint(lead.locator)
                except ValueError:
                    pinpoint = f"other:{lead.locator}"
            link = create_link(
                self.ctx,
                session,
                element_id=target,
                evidence_id=lead.evidence_id,
                pinpoint=pinpoint,
                stance="supports",
                note=f"lead {lead.id} ({lead.origin}): {lead.summary}",
                author=lead.origin,
                lead_id=lead.id,
                accepted_by=author.strip(),
            )
            lead.status, lead.decided_by, lead.decided_at = "accepted", author.strip(), datetime.now(UTC)
            lead.element_id = target
            self.ctx.audit.record(
                session,
                actor=author.strip(),
                action="lead.accept",
                object_type="lead",
                object_id=lead.id,
                case_id=lead.case_id,
                detail={"proof_link_id": link.id},
            )
            return ProofLinkPublic.model_validate(link)

    def reject(self, lead_id: int, *, author: str, reason: str) -> LeadPublic:
        """Reject a lead, keeping it (and why) for the record."""
        if not reason.strip():
            raise InputError("rejecting a lead needs a reason", location="reason")
        with self.ctx.db.transaction() as session:
            lead = repository.lead(session, lead_id)
            self._pending(lead)
            lead.status, lead.decided_by, lead.decided_at = "rejected", author.strip(), datetime.now(UTC)
            lead.reason = reason.strip()
            self.ctx.audit.record(
                session,
                actor=author.strip(),
                action="lead.reject",
                object_type="lead",
                object_id=lead.id,
                case_id=lead.case_id,
            )
            return to_public(lead, repository.case_by_id(session, lead.case_id))
