"""Pages: the proof matrix, with proof links and the human review of leads (htmx partial updates).

Every change re-renders the whole matrix fragment (``#matrix``): a new link or an accepted lead can
change an element's status and the charge's readiness, and one fragment keeps the two in step. The
same forms work without JavaScript: a plain POST redirects back to the page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from palermo.errors import InputError, NotFoundError
from palermo.security.access import Permission
from palermo.web.deps import WS, CaseRef, CsrfChecked
from palermo.web.readmodels import CaseReads, Reads, reads_of
from palermo.web.templating import fragment, render

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def matrix_context(reads: CaseReads, case_ref: str, open_element: int | None) -> dict[str, Any]:
    """What the matrix fragment shows: charges × elements × links, evidence to link, pending leads."""
    evidence = reads.evidence(case_ref)
    return {
        "matrix": reads.matrix(case_ref),
        "evidence": evidence,
        "evidence_names": reads.memo(
            ("evidence_names", case_ref), lambda: {e.id: e.original_filename for e in evidence}
        ),
        "leads": reads.leads(case_ref, "proposed"),
        "open_element": open_element,
    }


def matrix_html(request: Request, reads: CaseReads, case_ref: str, open_element: int | None) -> Markup:
    """The ``#matrix`` fragment (rendered once per generation and open element; see ``fragment``)."""
    return fragment(
        request,
        reads,
        (case_ref, open_element),
        "partials/matrix.html",
        {"case": reads.case(case_ref), **matrix_context(reads, case_ref, open_element)},
        cache=open_element is None,  # one cached copy per case, not one per element clicked open
    )


def _fragment_or_page(
    request: Request, ws: Any, case_ref: str, open_element: int | None, done: str
) -> Response:
    if request.headers.get("HX-Request"):
        reads = reads_of(request)  # read after the write: the new generation, so fresh models
        return HTMLResponse(matrix_html(request, reads, case_ref, open_element))
    suffix = f"&open={open_element}" if open_element else ""
    return RedirectResponse(f"/cases/{case_ref}/proof?done={done}{suffix}", status_code=303)


def lead_of_case(ws: Any, case_ref: str, lead_id: int) -> Any:
    """The lead, if it belongs to this case (an id from another case is 'not found')."""
    lead = ws.leads.get(lead_id)
    if lead.case_reference != case_ref:
        raise NotFoundError(f"no lead {lead_id} in case {case_ref}", location="lead_id")
    return lead


@router.get("/cases/{case_ref}/proof", response_class=HTMLResponse)
def proof_page(
    request: Request,
    reads: Reads,
    case_ref: CaseRef,
    open: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    ctx = {
        "case": reads.case(case_ref),
        "tab": "proof",
        "matrix_html": matrix_html(request, reads, case_ref, open),
    }
    return render(request, "proof.html", ctx)


@router.get("/cases/{case_ref}/proof/matrix", response_class=HTMLResponse)
def proof_fragment(
    request: Request,
    reads: Reads,
    case_ref: CaseRef,
    open: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    return HTMLResponse(matrix_html(request, reads, case_ref, open))


@router.post("/cases/{case_ref}/proof/links", response_class=HTMLResponse)
def add_link(
    request: Request,
    ws: WS,
    case_ref: CaseRef,
    principal: CsrfChecked,
    element_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    evidence_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    stance: Annotated[str, Form(pattern="^(supports|contradicts)$")] = "supports",
    pinpoint: Annotated[str, Form(max_length=300)] = "",
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Link an exhibit to an element; the store refuses exhibits and elements of other cases."""
    principal.require(Permission.PROOF_WRITE, case_ref)
    if element_id not in {
        e.element.element_id for c in ws.proof.matrix(case_ref).charges for e in c.elements
    }:
        raise InputError(f"element {element_id} is not part of case {case_ref}", location="element_id")
    ws.as_actor(principal.username).proof.link(
        element_id,
        evidence_id,
        pinpoint=pinpoint.strip() or None,
        stance=stance,
        note=note.strip() or None,
        author=principal.username,
    )
    return _fragment_or_page(request, ws, case_ref, element_id, "linked")


@router.get("/cases/{case_ref}/leads/{lead_id}/accept-form", response_class=HTMLResponse)
def accept_form(request: Request, ws: WS, reads: Reads, case_ref: CaseRef, lead_id: Id) -> Response:
    """The element picker for a lead that does not name its element (loaded on demand: it is long)."""
    lead = lead_of_case(ws, case_ref, lead_id)
    ctx = {"case": reads.case(case_ref), "lead": lead, "matrix": reads.matrix(case_ref)}
    return render(request, "partials/lead_accept.html", ctx)


@router.post("/cases/{case_ref}/leads/{lead_id}/accept", response_class=HTMLResponse)
def accept_lead(
    request: Request,
    ws: WS,
    case_ref: CaseRef,
    principal: CsrfChecked,
    lead_id: Id,
    element_id: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """The human-review gate: only an accepted lead becomes a proof link."""
    principal.require(Permission.LEAD_REVIEW, case_ref)
    lead = lead_of_case(ws, case_ref, lead_id)
    link = ws.as_actor(principal.username).leads.accept(
        lead_id, element_id=element_id or lead.element_id, author=principal.username
    )
    return _fragment_or_page(request, ws, case_ref, link.element_id, "lead-accepted")


@router.post("/cases/{case_ref}/leads/{lead_id}/reject", response_class=HTMLResponse)
def reject_lead(
    request: Request,
    ws: WS,
    case_ref: CaseRef,
    principal: CsrfChecked,
    lead_id: Id,
    reason: Annotated[str, Form(min_length=1, max_length=2000)] = "not relevant",
) -> Response:
    principal.require(Permission.LEAD_REVIEW, case_ref)
    lead_of_case(ws, case_ref, lead_id)
    ws.as_actor(principal.username).leads.reject(lead_id, author=principal.username, reason=reason)
    return _fragment_or_page(request, ws, case_ref, None, "lead-rejected")


@router.post("/cases/{case_ref}/leads/{lead_id}/confirm", response_class=HTMLResponse)
def confirm_lead(
    request: Request,
    ws: WS,
    case_ref: CaseRef,
    principal: CsrfChecked,
    lead_id: Id,
    note: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    """An accepted lead flagged because its evidence was removed has been reviewed again: its proof
    link stays and the flag is lifted (audited, the note kept on the lead), as ``palermo lead confirm``."""
    principal.require(Permission.LEAD_REVIEW, case_ref)
    lead = lead_of_case(ws, case_ref, lead_id)
    ws.as_actor(principal.username).leads.confirm(lead_id, author=principal.username, note=note)
    return _fragment_or_page(request, ws, case_ref, lead.element_id, "lead-confirmed")
