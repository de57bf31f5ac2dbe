"""Pages: the case list (only cases the person is a member of) and the case dashboard.

The dashboard answers a prosecutor's first questions in one screen: what is charged, how ready each
charge is, which elements are still open, what evidence came in last, who the key players are, and
which machine-made leads wait for a person to accept or reject them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from palermo.security.access import Permission
from palermo.web.deps import WS, CaseRef, CsrfChecked, Principal
from palermo.web.readmodels import CaseReads, Reads
from palermo.web.sections import Section, attempt
from palermo.web.templating import render
from palermo.web.views import key_players_view

router = APIRouter(include_in_schema=False)


@router.get("/cases", response_class=HTMLResponse)
def case_list(request: Request, ws: WS, principal: Principal) -> Response:
    cases = [c for c in ws.cases.list() if c.reference in principal.case_refs]
    return render(
        request,
        "cases.html",
        {"cases": cases, "can_create": principal.has(Permission.CASE_CREATE)},
    )


@router.post("/cases", response_class=HTMLResponse)
def create_case(
    request: Request,
    ws: WS,
    principal: CsrfChecked,
    reference: Annotated[str, Form(min_length=1, max_length=64)],
    title: Annotated[str, Form(min_length=1, max_length=300)],
    jurisdiction: Annotated[str, Form(min_length=2, max_length=8)] = "us",
) -> Response:
    """Create a case and make its creator a member (need to know starts with the creator)."""
    principal.require(Permission.CASE_CREATE)
    actor = ws.as_actor(principal.username)
    case = actor.cases.create(reference.strip(), title.strip(), jurisdiction.strip().lower())
    ws.users.add_member(case.reference, principal.username, actor=principal.username)
    return RedirectResponse(f"/cases/{case.reference}?done=case-created", status_code=303)


#: In place of the key players for a role without the analytics permission.
NO_ANALYTICS = (
    "Not available to your role: the analysis of the evidence (key players, network, timeline) is "
    "for the prosecutors, investigators and analysts of the case."
)


def dashboard_data(
    reads: CaseReads, case_ref: str, *, show_identity: bool = False, analytics: bool = False
) -> dict[str, Section]:
    """Each dashboard section, or the plain reason it cannot be shown yet (cached read models).

    Key players go through the redaction rule like every other view of the analysis, and only to a
    role that may read the analysis (``analytics``): the network and timeline pages and the key
    players API refuse the others, and the dashboard must not show them what those pages withhold.
    """
    players = (
        attempt(key_players_view, reads, case_ref, 8, show_identity=show_identity)
        if analytics
        else Section(problem=NO_ANALYTICS)
    )
    matrix = attempt(reads.matrix, case_ref)
    return {
        "matrix": matrix,
        "gaps": attempt(reads.gaps, case_ref) if matrix.ok else matrix,
        "evidence": attempt(lambda: reads.evidence(case_ref)[-8:][::-1]),
        "victims": attempt(reads.parties, case_ref, "victim"),
        "defendants": attempt(reads.parties, case_ref, "defendant"),
        "leads": attempt(reads.leads, case_ref, "proposed"),
        "flagged": attempt(reads.flagged_leads, case_ref),
        "players": players,
    }


@router.get("/cases/{case_ref}", response_class=HTMLResponse)
def dashboard(request: Request, reads: Reads, case_ref: CaseRef, principal: Principal) -> Response:
    case = reads.case(case_ref)
    identity = principal.may(Permission.VICTIM_IDENTITY, case_ref)
    analytics = principal.may(Permission.ANALYTICS_READ, case_ref)
    sections = dashboard_data(reads, case_ref, show_identity=identity, analytics=analytics)
    return render(request, "dashboard.html", {"case": case, "tab": "dashboard", **sections})
