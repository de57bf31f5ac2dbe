"""API: the proof matrix, its gaps, and proof links."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from palermo.errors import InputError
from palermo.security.access import Permission
from palermo.store.schemas import ProofLinkPublic
from palermo.web.deps import WS, CaseRef, CsrfChecked
from palermo.web.results import plain
from palermo.web.schemas import ProofLinkCreate

router = APIRouter(tags=["proof"])


@router.get("/cases/{case_ref}/proof", response_model=dict[str, Any])
def matrix(case_ref: CaseRef, ws: WS) -> dict[str, Any]:
    """Charges × elements × links with a status per element, readiness per charge, and the gaps."""
    result: dict[str, Any] = plain(ws.proof.matrix(case_ref))
    return result


@router.get("/cases/{case_ref}/proof/gaps", response_model=list[dict[str, Any]])
def gaps(case_ref: CaseRef, ws: WS) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = plain(ws.proof.gaps(case_ref))
    return result


@router.get("/cases/{case_ref}/proof/links", response_model=list[ProofLinkPublic])
def links(case_ref: CaseRef, ws: WS) -> list[ProofLinkPublic]:
    result: list[ProofLinkPublic] = ws.proof.links(case_ref)
    return result


@router.post(
    "/cases/{case_ref}/proof/links", response_model=ProofLinkPublic, status_code=status.HTTP_201_CREATED
)
def add_link(case_ref: CaseRef, body: ProofLinkCreate, ws: WS, principal: CsrfChecked) -> ProofLinkPublic:
    """Link an exhibit of this case to an element of this case."""
    principal.require(Permission.PROOF_WRITE, case_ref)
    elements = {e.element.element_id for c in ws.proof.matrix(case_ref).charges for e in c.elements}
    if body.element_id not in elements:
        raise InputError(f"element {body.element_id} is not part of case {case_ref}", location="element_id")
    link: ProofLinkPublic = ws.as_actor(principal.username).proof.link(
        body.element_id,
        body.evidence_id,
        pinpoint=body.pinpoint,
        stance=body.stance,
        note=body.note,
        author=principal.username,
    )
    return link
