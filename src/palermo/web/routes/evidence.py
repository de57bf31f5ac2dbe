"""Pages: the evidence list with hashes, upload with progress, and each exhibit's custody chain."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from palermo.errors import NotFoundError
from palermo.security.access import Permission
from palermo.web.deps import WS, CaseRef, CsrfChecked, Principal
from palermo.web.readmodels import CaseReads, Reads, reads_of
from palermo.web.templating import render
from palermo.web.upload import ALLOWED_SUFFIXES, spooled

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
UPLOAD_TOOL = "palermo web upload"


def evidence_of_case(ws: Any, case_ref: str, evidence_id: int) -> Any:
    """The exhibit, if it belongs to this case (object-level check, so ids cannot be guessed across cases)."""
    item = ws.evidence.get(evidence_id)
    if item.case_reference != case_ref:
        raise NotFoundError(f"no exhibit {evidence_id} in case {case_ref}", location="evidence_id")
    return item


def store_upload(
    ws: Any, request: Request, case_ref: str, principal: Any, file: UploadFile, source: str, description: str
) -> Any:
    """Shared by the page and the API: spool, hash and store one uploaded exhibit."""
    principal.require(Permission.EVIDENCE_WRITE, case_ref)
    limit = request.app.state.settings.upload_limit_bytes
    with spooled(file, limit) as path:
        return ws.as_actor(principal.username).evidence.add(
            case_ref,
            path,
            source=source.strip() or "uploaded through the web app",
            acquired_by=principal.username,
            tool=UPLOAD_TOOL,
            tool_version=request.app.version,
            description=description.strip() or None,
        )


def _context(reads: CaseReads, request: Request, case_ref: str, **extra: Any) -> dict[str, Any]:
    limit = request.app.state.settings.upload_limit_bytes
    return {
        "case": reads.case(case_ref),
        "tab": "evidence",
        "items": reads.evidence(case_ref),
        "accept": ",".join(sorted(ALLOWED_SUFFIXES)),
        "limit_mb": limit // (1024 * 1024),
        **extra,
    }


@router.get("/cases/{case_ref}/evidence", response_class=HTMLResponse)
def evidence_page(request: Request, reads: Reads, case_ref: CaseRef) -> Response:
    return render(request, "evidence.html", _context(reads, request, case_ref))


@router.post("/cases/{case_ref}/evidence", response_class=HTMLResponse)
def upload(
    request: Request,
    ws: WS,
    case_ref: CaseRef,
    principal: CsrfChecked,
    file: Annotated[UploadFile, File()],
    source: Annotated[str, Form(max_length=300)] = "",
    description: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Store an uploaded exhibit; htmx gets the refreshed list with the new hash, a plain POST a redirect."""
    item = store_upload(ws, request, case_ref, principal, file, source, description)
    if request.headers.get("HX-Request"):
        return render(
            request,
            "partials/evidence_list.html",
            _context(reads_of(request), request, case_ref, new_item=item),
        )
    return RedirectResponse(f"/cases/{case_ref}/evidence/{item.id}?done=uploaded", status_code=303)


@router.get("/cases/{case_ref}/evidence/{evidence_id}", response_class=HTMLResponse)
def exhibit_page(
    request: Request, ws: WS, case_ref: CaseRef, evidence_id: Id, principal: Principal
) -> Response:
    """One exhibit: its acquisition record, its custody chain, and whether the chain verifies (the
    verification is audited under the person who asked, as the custody record must say who looked)."""
    item = evidence_of_case(ws, case_ref, evidence_id)
    report = ws.as_actor(principal.username).evidence.verify_custody(evidence_id)
    return render(
        request,
        "exhibit.html",
        {
            "case": ws.cases.get(case_ref),
            "tab": "evidence",
            "item": item,
            "events": ws.evidence.custody_log(evidence_id),
            "chain_ok": report.ok,
            "chain_problems": [m.problem for m in report.mismatches],
        },
    )
