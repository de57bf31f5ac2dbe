"""API: exhibits (upload, list, one, custody chain and its verification)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Request, UploadFile, status

from palermo.store.schemas import CustodyEventPublic, EvidencePublic, VerifyReport
from palermo.web.deps import WS, CaseRef, CsrfChecked, Principal
from palermo.web.routes.evidence import evidence_of_case, store_upload

router = APIRouter(tags=["evidence"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/cases/{case_ref}/evidence", response_model=list[EvidencePublic])
def list_evidence(case_ref: CaseRef, ws: WS) -> list[EvidencePublic]:
    items: list[EvidencePublic] = ws.evidence.list(case_ref)
    return items


@router.post("/cases/{case_ref}/evidence", response_model=EvidencePublic, status_code=status.HTTP_201_CREATED)
def upload_evidence(
    request: Request,
    case_ref: CaseRef,
    ws: WS,
    principal: CsrfChecked,
    file: Annotated[UploadFile, File(description="the exhibit; hashed with SHA-256 on arrival")],
    source: Annotated[str, Form(max_length=300)] = "",
    description: Annotated[str, Form(max_length=5000)] = "",
) -> EvidencePublic:
    """Store an exhibit (the same bytes twice in one case return the existing exhibit)."""
    item: EvidencePublic = store_upload(ws, request, case_ref, principal, file, source, description)
    return item


@router.get("/cases/{case_ref}/evidence/{evidence_id}", response_model=EvidencePublic)
def get_evidence(case_ref: CaseRef, ws: WS, evidence_id: Id) -> EvidencePublic:
    item: EvidencePublic = evidence_of_case(ws, case_ref, evidence_id)
    return item


@router.get("/cases/{case_ref}/evidence/{evidence_id}/custody", response_model=list[CustodyEventPublic])
def custody(case_ref: CaseRef, ws: WS, evidence_id: Id) -> list[CustodyEventPublic]:
    """The exhibit's custody events in order (each hashes the one before)."""
    evidence_of_case(ws, case_ref, evidence_id)
    events: list[CustodyEventPublic] = ws.evidence.custody_log(evidence_id)
    return events


@router.get("/cases/{case_ref}/evidence/{evidence_id}/verify", response_model=VerifyReport)
def verify(case_ref: CaseRef, ws: WS, evidence_id: Id, principal: Principal) -> VerifyReport:
    """Re-check the custody chain of the exhibit (audited under the person who asked)."""
    evidence_of_case(ws, case_ref, evidence_id)
    report: VerifyReport = ws.as_actor(principal.username).evidence.verify_custody(evidence_id)
    return report
