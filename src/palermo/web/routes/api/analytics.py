"""API: analytics results (analysis summary, key players, network, timeline, explanations).

Every call goes through ``deps.with_analytics`` (one DuckDB call at a time). The network carries
only what the cytoscape view needs; clicking a node or edge asks ``explain`` for the statements,
exhibits and locators behind it.
"""

from __future__ import annotations

import gzip
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from palermo.security.access import Permission
from palermo.web.deps import WS, CaseRef, CsrfChecked, Principal, with_analytics
from palermo.web.readmodels import Reads
from palermo.web.results import json_bytes, plain
from palermo.web.views import (
    explanation_view,
    key_players_view,
    network_view,
    recorded_victims,
    timeline_view,
)

router = APIRouter(tags=["analytics"])
Text = Annotated[str | None, Query(max_length=40)]


@router.post("/cases/{case_ref}/analysis", response_model=dict[str, Any])
def run_analysis(case_ref: CaseRef, ws: WS, principal: CsrfChecked) -> dict[str, Any]:
    """Run the analysis (resolution, network, key players, indicators → leads) for the case."""
    principal.require(Permission.LEAD_REVIEW, case_ref)
    result = plain(with_analytics(ws.as_actor(principal.username), "analyze", case_ref))
    # the result lists hits, key players and communities by name: the same rule as every other view
    identity = principal.may(Permission.VICTIM_IDENTITY, case_ref)
    rules = with_analytics(
        ws, "redaction", case_ref, reveal=identity, protected=recorded_victims(ws, case_ref)
    )
    shown: dict[str, Any] = rules.tree(result)
    return shown


@router.get("/cases/{case_ref}/key-players", response_model=list[dict[str, Any]])
def key_players(
    case_ref: CaseRef, reads: Reads, principal: Principal, top: Annotated[int, Query(ge=1, le=100)] = 10
) -> list[dict[str, Any]]:
    """Key players ranked, each with the reasons."""
    principal.require(Permission.ANALYTICS_READ, case_ref)
    identity = principal.may(Permission.VICTIM_IDENTITY, case_ref)
    return key_players_view(reads, case_ref, top, show_identity=identity)


@router.get("/cases/{case_ref}/network", response_model=dict[str, Any])
def network(
    request: Request,
    case_ref: CaseRef,
    reads: Reads,
    principal: Principal,
    community: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
    role: Text = None,
    edge_kind: Text = None,
    date_from: Annotated[date | None, Query()] = None,
    date_to: Annotated[date | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 250,
) -> Response:
    """Nodes and edges for the network explorer, filtered by community, role, edge kind and date.

    The ``limit`` strongest nodes (by score) by default; the filters narrow the graph and a larger
    limit widens it. The JSON body (and its gzip form, for clients that accept it) is cached with
    the view until the case or its analysis changes.
    """
    principal.require(Permission.ANALYTICS_READ, case_ref)
    filters = {
        "community": community,
        "role": role,
        "edge_kind": edge_kind,
        "date_from": date_from,
        "date_to": date_to,
    }
    key = ("network_json", case_ref, repr(sorted(filters.items())), limit)
    body: bytes = reads.memo(key, lambda: json_bytes(network_view(reads, case_ref, filters, limit)))
    if "gzip" in request.headers.get("accept-encoding", ""):  # compressed once, sent many times
        packed: bytes = reads.memo(("gzip", *key), lambda: gzip.compress(body, compresslevel=6, mtime=0))
        headers = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        return Response(packed, media_type="application/json", headers=headers)
    return Response(body, media_type="application/json", headers={"Vary": "Accept-Encoding"})


@router.get("/cases/{case_ref}/timeline", response_model=list[dict[str, Any]])
def timeline(
    case_ref: CaseRef,
    reads: Reads,
    principal: Principal,
    kind: Text = None,
    date_from: Annotated[date | None, Query()] = None,
    date_to: Annotated[date | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[dict[str, Any]]:
    """Events across sources in time order, each with its exhibit and locator."""
    principal.require(Permission.ANALYTICS_READ, case_ref)
    identity = principal.may(Permission.VICTIM_IDENTITY, case_ref)
    return timeline_view(
        reads, case_ref, kind=kind, date_from=date_from, date_to=date_to, limit=limit, show_identity=identity
    )


@router.get("/cases/{case_ref}/explain/{item_id}", response_model=dict[str, Any])
def explain(
    case_ref: CaseRef,
    reads: Reads,
    principal: Principal,
    item_id: Annotated[str, Path(min_length=1, max_length=200)],
) -> dict[str, Any]:
    """The statements, exhibits and locators behind a node, an edge or an indicator hit."""
    principal.require(Permission.ANALYTICS_READ, case_ref)
    identity = principal.may(Permission.VICTIM_IDENTITY, case_ref)
    return explanation_view(reads, case_ref, item_id, show_identity=identity)
