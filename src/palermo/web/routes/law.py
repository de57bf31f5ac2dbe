"""Pages: the law browser (every provision, its elements and penalty tiers, and why it is modelled so)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from palermo.web.deps import WS, Principal
from palermo.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/law", response_class=HTMLResponse)
def law_index(
    request: Request,
    ws: WS,
    principal: Principal,
    jurisdiction: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    jurisdictions = ws.law.jurisdictions()
    chosen = jurisdiction if jurisdiction in jurisdictions else None
    provisions = sorted(ws.law.provisions(chosen), key=lambda p: (p.jurisdiction, p.kind != "offence", p.id))
    return render(
        request,
        "law_index.html",
        {"provisions": provisions, "jurisdictions": jurisdictions, "chosen": chosen},
    )


@router.get("/law/{provision_id}", response_class=HTMLResponse)
def law_provision(
    request: Request, ws: WS, principal: Principal, provision_id: Annotated[str, Path(max_length=120)]
) -> Response:
    provision = ws.law.get(provision_id)
    related = [ws.law.get(r) for r in provision.references if r in ws.law]
    return render(request, "law_provision.html", {"p": provision, "related": related})
