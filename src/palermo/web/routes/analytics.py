"""Pages over the analytics: the network explorer (cytoscape.js) and the timeline.

The network page is a shell: ``static/js/network.js`` fetches the graph, the filter choices and
the explanations from the API, so the page itself costs nothing to serve. The timeline is rendered
on the server, each event with the exhibit and row it comes from.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from palermo.errors import InputError
from palermo.security.access import Permission
from palermo.web.deps import CaseRef, Principal
from palermo.web.readmodels import Reads
from palermo.web.sections import attempt
from palermo.web.templating import fragment, render
from palermo.web.views import timeline_view

router = APIRouter(include_in_schema=False)
Date = Annotated[str | None, Query(max_length=10)]


def _day(value: str | None, field: str) -> date | None:
    """An optional ``YYYY-MM-DD`` from the filter form, or InputError naming the field."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{value!r} is not a date like 2025-01-31", location=field) from None


@router.get("/cases/{case_ref}/timeline", response_class=HTMLResponse)
def timeline_page(
    request: Request,
    reads: Reads,
    case_ref: CaseRef,
    principal: Principal,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    date_from: Date = None,
    date_to: Date = None,
) -> Response:
    principal.require(Permission.ANALYTICS_READ, case_ref)
    case = reads.case(case_ref)
    query = {
        "kind": kind or None,
        "date_from": _day(date_from, "date_from"),
        "date_to": _day(date_to, "date_to"),
        "limit": 300,
        "show_identity": principal.may(Permission.VICTIM_IDENTITY, case_ref),
    }
    events = attempt(timeline_view, reads, case_ref, **query)
    events_html = fragment(
        request,
        reads,
        (case_ref, *query.values()),
        "partials/timeline_events.html",
        {"case": case, "events": events},
        cache=events.ok,  # a problem ("in use", "not analysed yet") is shown, not kept
    )
    return render(
        request,
        "timeline.html",
        {
            "case": case,
            "tab": "timeline",
            "events_html": events_html,
            "kind": kind or "",
            "date_from": date_from or "",
            "date_to": date_to or "",
        },
    )


@router.get("/cases/{case_ref}/network", response_class=HTMLResponse)
def network_page(request: Request, reads: Reads, case_ref: CaseRef, principal: Principal) -> Response:
    """The explorer shell; ``static/js/network.js`` fetches the graph and the filter choices from the API."""
    principal.require(Permission.ANALYTICS_READ, case_ref)
    return render(request, "network.html", {"case": reads.case(case_ref), "tab": "network"})
