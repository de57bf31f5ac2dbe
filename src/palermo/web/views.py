"""Shape analytics output for the network explorer and the timeline (pages and API alike).

The network can hold hundreds of thousands of edges; a browser cannot draw that usefully. The view
keeps the ``limit`` strongest nodes (by score) and the edges among them, and says how many were left
out, so the explorer stays responsive and nobody mistakes a sample for the whole graph.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

from palermo.analytics.redaction import Redaction, pseudonym
from palermo.analytics.redaction import must_mask as _must_mask
from palermo.store.parties import ProtectedValues
from palermo.web.deps import release_analytics, with_analytics
from palermo.web.readmodels import CaseReads, forget_workspace
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


def masked_label(node: dict[str, Any]) -> str:
    """A stable pseudonymous label (from the entity id) for someone who must not be named here."""
    return pseudonym(str(node.get("id", "?")), node.get("role"))


def must_mask(node: dict[str, Any], show_identity: bool) -> bool:
    """Possible victims are always pseudonymous; other unsuspected people unless identities may be seen.

    The rule itself is :func:`palermo.analytics.redaction.must_mask`, shared with the CLI and exports.
    """
    return _must_mask(node.get("role"), node.get("ring"), reveal=show_identity)


#: The recorded victims' values per (workspace, case), kept while their identity version holds.
_recorded: dict[tuple[str, str], ProtectedValues] = {}
_recorded_lock = threading.Lock()
WEB_REDACTION = "redaction of the web views"


def recorded_victims(ws: Any, case_ref: str) -> ProtectedValues:
    """The case's recorded victims' names, contacts and addresses, for the views' redaction rule.

    Reading them decrypts identities, which is audited, and an audit event moves the workspace's
    generation (see :mod:`palermo.web.readmodels`): reading them on every rebuild would rebuild every
    view on every request. So they are read once per *identity version* (a digest of the victims'
    ciphertexts, read without decrypting) and kept in this process's memory, never shown: one audited
    read when the server first redacts the case and after each change to a victim's identity.
    """
    version = ws.parties.identity_version(case_ref)
    key = (str(ws.path), case_ref)
    with _recorded_lock:
        held = _recorded.get(key)
        if held is not None and held.version == version:
            return held
        read: ProtectedValues = ws.parties.protected_values(case_ref, user=ws.actor, purpose=WEB_REDACTION)
        _recorded[key] = read
        return read


def forget_recorded_victims(ws: Any) -> None:
    """Drop the decrypted values held for the redaction of ``ws``'s views, and the cached views and
    rules built from them (when its server stops)."""
    with _recorded_lock:
        for key in [k for k in _recorded if k[0] == str(ws.path)]:
            del _recorded[key]
    forget_workspace(ws)
    release_analytics(ws)


def case_rules(reads: CaseReads, case_ref: str, show_identity: bool) -> Redaction:
    """The redaction rule over the whole case (one scan per analysis generation and permission).

    Built from every entity with its names and identifiers, so an entity sharing a possible victim's
    name is masked like her and a named suspect's number in free text is told from anybody else's;
    and from the victims recorded in the case store (:func:`recorded_victims`), so that the identity
    permission, which names unsuspected people, never names one of them.
    """

    def scan() -> Redaction:
        protected = recorded_victims(reads.ws, case_ref)
        rules: Redaction = with_analytics(
            reads.ws, "redaction", case_ref, reveal=show_identity, protected=protected
        )
        return rules

    return reads.memo(("case_rules", case_ref, show_identity), scan)  # type: ignore[no-any-return]


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
        key, lambda: _network_view(reads, case_ref, filters, limit, show_identity=show_identity)
    )


def _network_view(
    reads: CaseReads, case_ref: str, filters: dict[str, Any], limit: int, *, show_identity: bool
) -> dict[str, Any]:
    ws = reads.ws
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
    rules = case_rules(reads, case_ref, show_identity)
    for node in nodes:
        eid = str(node.get("id"))
        # a suspect's label can be a recorded victim's number (he holds her phone): rules.label knows
        if must_mask(node, show_identity) or rules.label(eid, str(node.get("label") or "")) != node.get(
            "label"
        ):
            node["label"] = pseudonym(eid, rules.role(eid) or node.get("role"))
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
        hide = must_mask(node, show_identity) or case_rules(reads, case_ref, show_identity).masked(item_id)
    elif item_id.startswith("e:") and show_identity:
        full = with_analytics(ws, "network", case_ref, {"max_nodes": 1_000_000})
        edge = next((_flat(e) for e in full.get("edges", []) if _flat(e).get("id") == item_id), {})
        rules = case_rules(reads, case_ref, show_identity)
        hide = any(rules.masked(str(edge.get(end))) for end in ("source", "target"))
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
    # what is left is shown, but a named item's links and summary can still carry somebody else's
    # name or number (a controller's entity was linked through a victim's phone; a hit names her)
    shown: dict[str, Any] = case_rules(reads, case_ref, show_identity).tree(data)
    return shown


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

    Summaries quote the evidence (names, numbers), so an event touching anyone the redaction rule
    masks (possible victims always; other unsuspected people unless the viewer holds the
    victim-identity permission) is shown by pseudonyms only. Cached per filter set and permission.
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
    rules = case_rules(reads, case_ref, show_identity)
    for row in rows:
        ids = [str(e) for e in row.get("entities") or []]
        if not ids or any(rules.masked(e) for e in ids):  # deny by default: nobody known, nothing quoted
            involved = " → ".join(rules.display(e) for e in ids) or "unresolved parties"
            row["summary"] = f"{row.get('kind', 'event')} involving {involved} (details withheld)"
        elif row.get("summary"):
            # everyone involved may be named, but an ad's title or a payment's purpose can name
            # anybody (a victim's working name, her other number)
            row["summary"] = rules.scrub(str(row["summary"]))
    return rows


def key_players_view(
    reads: CaseReads, case_ref: str, top: int, *, show_identity: bool
) -> list[dict[str, Any]]:
    """Key players with their reasons, through the case's redaction rule: a possible victim ranks
    high in a trafficking network (everyone calls her controller's phone about her), and a ranking
    must not be the one list that names her."""

    def build() -> list[dict[str, Any]]:
        players = plain(with_analytics(reads.ws, "key_players", case_ref, top=top))
        shown: list[dict[str, Any]] = case_rules(reads, case_ref, show_identity).tree(players)
        return shown

    return reads.memo(("key_players_view", case_ref, top, show_identity), build)  # type: ignore[no-any-return]
