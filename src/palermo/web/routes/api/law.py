"""API: the law library (statutes, elements, penalties), as the typed law model serialises it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from palermo.web.deps import WS, Principal

router = APIRouter(tags=["law"])


class ProvisionSummary(BaseModel):
    id: str
    jurisdiction: str
    citation: str
    title: str
    kind: str
    verified: bool


@router.get("/law", response_model=list[ProvisionSummary])
def list_provisions(
    ws: WS,
    principal: Principal,
    jurisdiction: Annotated[str | None, Query(max_length=8)] = None,
    kind: Annotated[str | None, Query(max_length=20)] = None,
) -> list[ProvisionSummary]:
    """Provisions of the law library, optionally for one jurisdiction and kind."""
    return [
        ProvisionSummary(
            id=p.id,
            jurisdiction=p.jurisdiction,
            citation=p.citation,
            title=p.title,
            kind=p.kind,
            verified=p.verified,
        )
        for p in ws.law.provisions(jurisdiction, kind)
    ]


@router.get("/law/{provision_id}", response_model=dict[str, Any])
def get_provision(
    ws: WS, principal: Principal, provision_id: Annotated[str, Path(min_length=1, max_length=120)]
) -> dict[str, Any]:
    """One provision in full: elements, penalties, minor rule, remedies and notes."""
    provision = ws.law.get(provision_id)
    result: dict[str, Any] = provision.model_dump(mode="json", by_alias=True)
    return result
