"""API: leads, and the human review that turns one into a proof link (or rejects it, or confirms a
flagged one)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from palermo.security.access import Permission
from palermo.store.schemas import LeadPublic, ProofLinkPublic
from palermo.web.deps import WS, CaseRef, CsrfChecked
from palermo.web.routes.proof import lead_of_case
from palermo.web.schemas import LeadAccept, LeadConfirm, LeadReject

router = APIRouter(tags=["leads"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/cases/{case_ref}/leads", response_model=list[LeadPublic])
def list_leads(
    case_ref: CaseRef,
    ws: WS,
    status: Annotated[str | None, Query(pattern="^(proposed|accepted|rejected|withdrawn)$")] = None,
    flagged: Annotated[bool, Query(description="Only accepted leads whose evidence was removed.")] = False,
) -> list[LeadPublic]:
    """The case's leads; ``flag`` says why an accepted one needs a review again (its evidence was
    forgotten), ``withdrawn`` ones lost all their evidence (decision 0007)."""
    leads: list[LeadPublic] = ws.leads.list(case_ref, status=status, flagged=flagged)
    return leads


@router.get("/cases/{case_ref}/leads/{lead_id}", response_model=LeadPublic)
def get_lead(case_ref: CaseRef, ws: WS, lead_id: Id) -> LeadPublic:
    lead: LeadPublic = lead_of_case(ws, case_ref, lead_id)
    return lead


@router.post("/cases/{case_ref}/leads/{lead_id}/accept", response_model=ProofLinkPublic)
def accept(
    case_ref: CaseRef, body: LeadAccept, ws: WS, principal: CsrfChecked, lead_id: Id
) -> ProofLinkPublic:
    """Accept a lead: it becomes a proof link carrying the lead id and the reviewer's name."""
    principal.require(Permission.LEAD_REVIEW, case_ref)
    lead = lead_of_case(ws, case_ref, lead_id)
    link: ProofLinkPublic = ws.as_actor(principal.username).leads.accept(
        lead_id, element_id=body.element_id or lead.element_id, author=principal.username
    )
    return link


@router.post("/cases/{case_ref}/leads/{lead_id}/reject", response_model=LeadPublic)
def reject(case_ref: CaseRef, body: LeadReject, ws: WS, principal: CsrfChecked, lead_id: Id) -> LeadPublic:
    principal.require(Permission.LEAD_REVIEW, case_ref)
    lead_of_case(ws, case_ref, lead_id)
    lead: LeadPublic = ws.as_actor(principal.username).leads.reject(
        lead_id, author=principal.username, reason=body.reason
    )
    return lead


@router.post("/cases/{case_ref}/leads/{lead_id}/confirm", response_model=LeadPublic)
def confirm(case_ref: CaseRef, body: LeadConfirm, ws: WS, principal: CsrfChecked, lead_id: Id) -> LeadPublic:
    """Keep an accepted lead flagged because its evidence was removed: the flag is lifted, the note
    kept on the lead (``palermo lead confirm``; decision 0007)."""
    principal.require(Permission.LEAD_REVIEW, case_ref)
    lead_of_case(ws, case_ref, lead_id)
    lead: LeadPublic = ws.as_actor(principal.username).leads.confirm(
        lead_id, author=principal.username, note=body.note
    )
    return lead
