"""Shape analytics output for the network explorer and the timeline (pages and API alike).

The network can hold hundreds of thousands of edges; a browser cannot draw that usefully. The view
keeps the ``limit`` strongest nodes (by score) and the edges among them, and says how many were left
out, so the explorer stays responsive and nobody mistakes a sample for the whole graph.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from palermo.web.deps import with_analytics
from palermo.web.readmodels import CaseReads
from palermo.web.results import plain


def _in_range(value: Any, date_from: str | None, date_to: str | None) -> bool:
    text = str(value or "")[:10]
    if not text:
        return True
    return (date_from is None or text >= date_from) and (date_to is None or text <= date_to[:10])


def _flat(item: dict[str, Any]) -> dict[str, Any]:
    """Cytoscape wraps each element as ``{"data": {...}}``; the view works on the inner dict."""
    inner = item.get("data")
    return dict(inner) if isinstance(inner, dict) else dict(item)


SUSPECT_ROLES = frozenset({"recruiter", "controller", "transporter", "driver", "financier", "money_handler"})
VICTIM_ROLES = frozenset({"possible_victim", "victim"})


def masked_label(node: dict[str, Any]) -> str:
    """A stable pseudonymous label (from the entity id) for someone who must not be named here."""
    kind = "possible victim" if node.get("role") in VICTIM_ROLES else "person"
    return f"{kind} {str(node.get('id', '?'))[-6:]}"


def must_mask(node: dict[str, Any], show_identity: bool) -> bool:
    """Possible victims are always pseudonymous; other unsuspected people unless identities may be seen."""
    if node.get("role") in VICTIM_ROLES:
        return True
    suspected = bool(node.get("ring")) or node.get("role") in SUSPECT_ROLES
    return not suspected and not show_identity


def network_view(
    reads: CaseReads, case_ref: str, filters: dict[str, Any], limit: int, *, show_identity: bool = False
) -> dict[str, Any]:
    """Cytoscape-ready ``{"nodes", "edges", "communities", "roles", "edge_kinds"}`` for the case.

    Cached per filter set and permission until the case or its analysis changes (read-only result).

    People the analysis does not flag (no role, not a suspected ring member) can be victims or
    bystanders; their names and numbers come straight from the evidence. Without the
    victim-identity permission they are labelled by a pseudonymous id instead; possible victims
    always are (their identity is revealed only through the audited ``parties.reveal_identity``).
    """
    key = ("network_view", case_ref, repr(sorted(filters.items())), limit, show_identity)
    return reads.memo(  # type: ignore[no-any-return]
        key, lambda: _network_view(reads.ws, case_ref, filters, limit, show_identity=show_identity)
    )


def _network_view(
    ws: Any, case_ref: str, filters: dict[str, Any], limit: int, *, show_identity: bool
) -> dict[str, Any]:
    query: dict[str, Any] = {"max_nodes": limit}
    if filters.get("community") is not None:
        query["community"] = filters["community"]
    if filters.get("edge_kind"):
        query["kinds"] = [filters["edge_kind"]]
    data = plain(with_analytics(ws, "network", case_ref, query))
    nodes = [_flat(n) for n in data.get("nodes", [])]
    edges = [_flat(e) for e in data.get("edges", [])]
    facets = {
        "communities": sorted({n["community"] for n in nodes if n.get("community") is not None}),
        "roles": sorted({str(n["role"]) for n in nodes if n.get("role")}),
        "edge_kinds": sorted({str(e["kind"]) for e in edges if e.get("kind")}),
    }
    if filters.get("role"):
        nodes = [n for n in nodes if (n.get("role") or "") == filters["role"]]
    if filters.get("date_from") or filters.get("date_to"):
        edges = [
            e
            for e in edges
            if _in_range(e.get("last_ts") or e.get("last"), filters.get("date_from"), None)
            and _in_range(e.get("first_ts") or e.get("first"), None, filters.get("date_to"))
        ]
    ids = {str(n["id"]) for n in nodes}
    edges = [e for e in edges if str(e.get("source")) in ids and str(e.get("target")) in ids]
    if filters.get("edge_kind") or filters.get("date_from") or filters.get("date_to"):
        linked = {str(e.get("source")) for e in edges} | {str(e.get("target")) for e in edges}
        nodes = [n for n in nodes if str(n["id"]) in linked]
    for node in nodes:
        if must_mask(node, show_identity):
            node["label"] = masked_label(node)
    return {"nodes": nodes, "edges": edges, "limit": limit, **facets}


def explanation_view(reads: CaseReads, case_ref: str, item_id: str, *, show_identity: bool) -> dict[str, Any]:
    """What is behind a node or edge; identifiers and names only with the victim-identity permission."""
    key = ("explanation", case_ref, item_id, show_identity)
    return reads.memo(  # type: ignore[no-any-return]
        key, lambda: _explanation_view(reads, case_ref, item_id, show_identity=show_identity)
    )


def _explanation_view(
    reads: CaseReads, case_ref: str, item_id: str, *, show_identity: bool
) -> dict[str, Any]:
    ws = reads.ws
    data: dict[str, Any] = plain(with_analytics(ws, "explain", case_ref, item_id))
    if item_id.startswith("ent:"):
        around = plain(with_analytics(ws, "network", case_ref, {"entity": item_id, "max_nodes": 100_000}))
        node = next((_flat(n) for n in around.get("nodes", []) if _flat(n).get("id") == item_id), {})
        hide = must_mask(node, show_identity)
    elif item_id.startswith("e:") and show_identity:
        full = with_analytics(ws, "network", case_ref, {"max_nodes": 1_000_000})
        edge = next((_flat(e) for e in full.get("edges", []) if _flat(e).get("id") == item_id), {})
        hide = bool({str(edge.get("source")), str(edge.get("target"))} & possible_victims(reads, case_ref))
    else:
        hide = not show_identity
    if hide:
        data["summary"] = (
            f"{data.get('kind', 'item')} {item_id}: {len(data.get('statements', []))} statement(s)"
        )
        data["statements"] = [
            {k: v for k, v in s.items() if k not in {"identifier", "name"}}
            for s in data.get("statements", [])
        ]
        data["links"] = []
    return data


def possible_victims(reads: CaseReads, case_ref: str) -> frozenset[str]:
    """Entity ids the analysis marks as possible victims (scanning the whole network once per generation)."""

    def scan() -> frozenset[str]:
        data = with_analytics(reads.ws, "network", case_ref, {"max_nodes": 1_000_000})
        nodes = data.get("nodes", [])
        return frozenset(str(_flat(n).get("id")) for n in nodes if _flat(n).get("role") in VICTIM_ROLES)

    return reads.memo(("possible_victims", case_ref), scan)  # type: ignore[no-any-return]


def timeline_view(
    reads: CaseReads,
    case_ref: str,
    *,
    kind: str | None,
    date_from: date | None,
    date_to: date | None,
    limit: int,
    show_identity: bool = False,
) -> list[dict[str, Any]]:
    """Timeline events, filtered and capped at ``limit`` (earliest first).

    Summaries quote the evidence (names, numbers); an event touching a possible victim is shown
    without them unless the viewer holds the victim-identity permission. Cached per filter set.
    """
    key = ("timeline_view", case_ref, kind, date_from, date_to, limit, show_identity)
    return reads.memo(  # type: ignore[no-any-return]
        key,
        lambda: _timeline_view(
            reads,
            case_ref,
            kind=kind,
            date_from=date_from,
            date_to=date_to,
            limit=limit,
            show_identity=show_identity,
        ),
    )


def _timeline_view(
    reads: CaseReads,
    case_ref: str,
    *,
    kind: str | None,
    date_from: date | None,
    date_to: date | None,
    limit: int,
    show_identity: bool,
) -> list[dict[str, Any]]:
    ws = reads.ws
    start = date_from
    end = date_to + timedelta(days=1) if date_to and date_to < date.max else None
    events = with_analytics(
        ws, "timeline", case_ref, start=start, end=end, kinds=[kind] if kind else None, limit=limit
    )
    rows: list[dict[str, Any]] = plain(events)
    if not show_identity:
        victims = possible_victims(reads, case_ref)
        for row in rows:
            if victims.intersection(row.get("entities") or []):
                row["summary"] = f"{row.get('kind', 'event')} involving a possible victim (details withheld)"
    return rows
