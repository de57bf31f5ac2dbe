"""Key players: the entities an investigation should look at first, ranked, each with its reasons.

The score mixes the network view and the evidence view, because neither is enough alone: the most
central phone in a city is often a taxi firm, and a red flag on an isolated account may be noise.
Each entity gets four normalised measures (each divided by its maximum in the case): weighted
PageRank, betweenness, *inner circle* (mean PageRank of its four most central contacts) and red
flags (the severities — high 3, medium 2, low 1 — of the distinct indicators that fired on it).
``score = 0.6·max(measures) + 0.4·(0.25·PageRank + 0.20·betweenness + 0.20·inner circle +
0.35·red flags)``: a key player is someone who stands out in at least one way (the busiest phone,
the go-between, the leader who only talks to his lieutenants, the account with the red flags),
and standing out in several breaks ties. On VAST 2008 the suspected leader (200) is ranked by his
inner circle, which PageRank alone would put near 80th. All inputs are stored tables,
so the ranking can be recomputed and explained at any time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from palermo.analytics.features import Features, compute_features
from palermo.analytics.indicators.catalogue import load_catalogue

SEVERITY = {"high": 3.0, "medium": 2.0, "low": 1.0}
WEIGHTS = (0.25, 0.20, 0.20, 0.35)
#: Share of the score given to the entity's single strongest measure.
STANDOUT = 0.6


@dataclass
class KeyPlayer:
    """One ranked entity."""

    rank: int
    entity_id: str
    label: str
    score: float
    role: str | None
    community: int | None
    pagerank: float
    betweenness: float
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def key_players(
    con: Any, case_ref: str, top: int = 10, *, features: Features | None = None
) -> list[KeyPlayer]:
    """The ``top`` entities by score, from the stored metrics, hits and roles of the last analysis.

    ``features`` lets ``analyze`` pass the features it has just computed for the roles, instead
    of computing them twice; callers on their own leave it out.
    """
    metrics = {
        str(r[0]): r[1:]
        for r in con.execute(
            "SELECT entity_id, community, pagerank, betweenness, brokerage, inner_circle FROM node_metrics "
            "WHERE case_ref = ?",
            [case_ref],
        ).fetchall()
    }
    labels = dict(
        con.execute("SELECT entity_id, label FROM entities WHERE case_ref = ?", [case_ref]).fetchall()
    )
    roles = {
        str(e): (str(r), list(reasons or []))
        for e, r, reasons in con.execute(
            "SELECT entity_id, role, reasons FROM entity_roles WHERE case_ref = ?", [case_ref]
        ).fetchall()
    }
    severity = {i.id: (SEVERITY[i.severity], i.title) for i in load_catalogue()}
    flags: dict[str, dict[str, str]] = defaultdict(dict)
    for entity, ind, detail in con.execute(
        "SELECT entity_id, indicator_id, detail FROM indicator_hits "
        "WHERE case_ref = ? AND entity_id IS NOT NULL",
        [case_ref],
    ).fetchall():
        flags[str(entity)][str(ind)] = str(detail)
    weight = {e: sum(severity.get(i, (1.0, ""))[0] for i in f) for e, f in flags.items()}
    candidates = set(metrics) | set(weight)
    if not candidates:
        return []
    max_pr = max((m[1] for m in metrics.values()), default=0.0) or 1.0
    max_bt = max((m[2] for m in metrics.values()), default=0.0) or 1.0
    max_ic = max((m[4] for m in metrics.values()), default=0.0) or 1.0
    max_w = max(weight.values(), default=0.0) or 1.0
    scored = []
    for e in candidates:
        community, pr, bt, _, ic = metrics.get(e, (None, 0.0, 0.0, 0, 0.0))
        measures = (pr / max_pr, bt / max_bt, ic / max_ic, weight.get(e, 0.0) / max_w)
        mean = sum(w * m for w, m in zip(WEIGHTS, measures, strict=True))
        s = STANDOUT * max(measures) + (1 - STANDOUT) * mean
        scored.append((s, e))
    scored.sort(key=lambda x: (-x[0], x[1]))
    chosen = scored[:top]
    if features is None:
        features = compute_features(con, case_ref)
    firsts = _community_leaders(metrics)
    ranks_pr = _ranks(metrics, 1)
    ranks_bt = _ranks(metrics, 2)
    ranks_ic = _ranks(metrics, 4)
    out = []
    for rank, (s, e) in enumerate(chosen, start=1):
        community, pr, bt, brokerage, _ = metrics.get(e, (None, 0.0, 0.0, 0, 0.0))
        reasons: list[str] = []
        role, role_reasons = roles.get(e, (None, []))
        if role:
            reasons.append(role.replace("_", " ") if role == "possible_victim" else f"suspected {role}")
        if community is not None and firsts.get(community) == e:
            reasons.append(f"highest weighted PageRank in community {community}")
        elif e in ranks_pr and ranks_pr[e] <= 10:
            reasons.append(f"weighted PageRank rank {ranks_pr[e]} of {len(metrics)}")
        if e in ranks_bt and ranks_bt[e] <= 10 and bt > 0:
            reasons.append(f"betweenness rank {ranks_bt[e]}: sits on paths between others")
        if e in ranks_ic and ranks_ic[e] <= 10:
            reasons.append(
                f"inner circle rank {ranks_ic[e]}: in direct contact with the most central members"
            )
        if brokerage and brokerage >= 2:
            reasons.append(f"contacts in {brokerage} other communities (broker)")
        ads = int(features.get("ad_phone_contacts", e))
        if ads:
            reasons.append(f"contact with {ads} phone(s) that appear in ads")
        share = features.get("cash_share", e)
        if share >= 0.05:
            reasons.append(f"receives {share:.0%} of cash deposits")
        reasons.extend(role_reasons)
        reasons.extend(
            f"{severity.get(i, (0, i))[1]}: {d}"
            for i, d in sorted(flags.get(e, {}).items())
            if not any(d in r for r in role_reasons)
        )
        out.append(KeyPlayer(rank, e, str(labels.get(e, e)), round(s, 4), role, community, pr, bt, reasons))
    return out


def _community_leaders(metrics: dict[str, tuple[Any, ...]]) -> dict[int, str]:
    """Community → entity with the highest PageRank in it."""
    best: dict[int, tuple[float, str]] = {}
    for e, (community, pr, *_) in metrics.items():
        if community is not None and (community not in best or pr > best[community][0]):
            best[community] = (pr, e)
    return {c: e for c, (_, e) in best.items()}


def _ranks(metrics: dict[str, tuple[Any, ...]], col: int) -> dict[str, int]:
    order = sorted(metrics, key=lambda e: (-metrics[e][col], e))
    return {e: i + 1 for i, e in enumerate(order)}
