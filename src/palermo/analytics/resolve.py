"""Entity resolution: identifiers and names joined into the people (and firms) behind them.

Order of evidence, strongest first:
1. the same normalised phone, email or account is the same identifier (mentions collapse onto it);
2. a contact entry or bank holder name ties a name to a phone/account; an ad ties its phone to its
   e-mail address (deterministic links);
3. Splink matches spelling variants of full names (probabilistic links);
4. analyst judgements: "same" joins, "not same" cuts — always last, so they always win.
Connected components of that link graph are the entities. A "not same" is enforced with a minimum
cut between the two keys, which removes the weakest links (Splink first, then deterministic ones)
that joined them and records each removed link as overruled, so the split is explainable too.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

import igraph as ig
import pandas as pd

from palermo.analytics.judgements import list_judgements
from palermo.analytics.mentions import ad_comentions, summarise_mentions
from palermo.analytics.names import match_names, name_key
from palermo.analytics.tables import create_analysis_tables

#: Capacity of each kind of link in the minimum cut: the cut removes the cheapest evidence first.
CAPACITY = {"splink": 1.0, "holder_or_contact_name": 3.0, "same_ad": 3.0, "judgement:same": 1e6}
#: A name that sits beside more identifiers than this is generic ("Mom", "Unknown"), not a person.
MAX_IDS_PER_NAME = 6


@dataclass
class Resolution:
    """What a resolution run did, for the analysis summary."""

    mentions: int = 0
    identifiers: int = 0
    entities: int = 0
    links: dict[str, int] = field(default_factory=dict)
    overruled: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def entity_id_for(key: str) -> str:
    """Stable id of the entity whose smallest identifier key is ``key``."""
    return "ent:" + hashlib.sha1(key.encode()).hexdigest()[:10]


def resolve(con: Any, case_ref: str, *, name_threshold: float = 0.85) -> Resolution:
    """Resolve one case's identifiers into entities and write ``entities``/``entity_members``."""
    create_analysis_tables(con)
    id_keys, named, total = summarise_mentions(con, case_ref)
    result = Resolution(mentions=total, identifiers=len(id_keys))
    links, raw_names = _deterministic_links(con, case_ref, named)
    for a, b, score in match_names(sorted(raw_names), threshold=name_threshold):
        links.append((a, b, "splink", score))
    for j in list_judgements(con, case_ref):
        if j.verdict == "same":
            links.append((j.left_key, j.right_key, "judgement:same", 1.0))
    cannot = [(j.left_key, j.right_key) for j in list_judgements(con, case_ref) if j.verdict == "not_same"]
    graph, kept = _link_graph(id_keys, raw_names, links, cannot)
    result.overruled = sum(1 for k in kept if not k)
    result.links = dict(Counter(rule for (_, _, rule, _), k in zip(links, kept, strict=True) if k))
    _write(con, case_ref, graph, links, kept, raw_names)
    row = con.execute("SELECT count(*) FROM entities WHERE case_ref = ?", [case_ref]).fetchone()
    result.entities = int(row[0]) if row else 0
    return result


def _deterministic_links(
    con: Any, case_ref: str, named: list[tuple[str, str, str | None, int]]
) -> tuple[list[tuple[str, str, str, float]], dict[str, Counter[str]]]:
    """Name↔identifier links from holders and contacts, and phone↔email links from ads."""
    rows = named
    by_name: dict[str, set[str]] = defaultdict(set)
    raw_names: dict[str, Counter[str]] = defaultdict(Counter)
    for id_key, name, scope, n in rows:
        key = name_key(str(name), scope)
        if key is None:
            continue
        by_name[key].add(str(id_key))
        raw_names[key][str(name)] += int(n)
    links: list[tuple[str, str, str, float]] = []
    for key, ids in by_name.items():
        if len(ids) > MAX_IDS_PER_NAME:
            raw_names.pop(key, None)
            continue
        links.extend((key, id_key, "holder_or_contact_name", 1.0) for id_key in sorted(ids))
    links.extend((a, b, "same_ad", 1.0) for a, b, _ in ad_comentions(con, case_ref))
    return links, raw_names


def _link_graph(
    id_keys: list[str],
    raw_names: dict[str, Counter[str]],
    links: list[tuple[str, str, str, float]],
    cannot: list[tuple[str, str]],
) -> tuple[ig.Graph, list[bool]]:
    """Build the link graph and cut it wherever a "not same" judgement demands."""
    names = sorted(set(id_keys) | set(raw_names) | {k for a, b, _, _ in links for k in (a, b)})
    index = {k: i for i, k in enumerate(names)}
    graph = ig.Graph(n=len(names), edges=[(index[a], index[b]) for a, b, _, _ in links])
    graph.vs["key"] = names
    graph.es["capacity"] = [CAPACITY.get(rule, 1.0) for _, _, rule, _ in links]
    graph.es["link"] = list(range(len(links)))
    kept = [True] * len(links)
    for a, b in cannot:
        if a not in index or b not in index:
            continue
        while True:
            membership = graph.connected_components().membership
            if membership[index[a]] != membership[index[b]]:
                break
            cut = graph.mincut(index[a], index[b], capacity="capacity")
            for edge in cut.cut:
                kept[graph.es[edge]["link"]] = False
            graph.delete_edges(cut.cut)
    return graph, kept


def _write(
    con: Any,
    case_ref: str,
    graph: ig.Graph,
    links: list[tuple[str, str, str, float]],
    kept: list[bool],
    raw_names: dict[str, Counter[str]],
) -> None:
    """Write entities, their members (with the rules that attached them) and the links used."""
    for table in ("entities", "entity_members", "entity_links"):
        con.execute(f"DELETE FROM {table} WHERE case_ref = ?", [case_ref])
    rules: dict[str, set[str]] = defaultdict(set)
    for (a, b, rule, _), k in zip(links, kept, strict=True):
        if k:
            rules[a].add(rule)
            rules[b].add(rule)
    entity_rows, member_rows = [], []
    for component in graph.connected_components():
        keys = [graph.vs[i]["key"] for i in component]
        ids = sorted(k for k in keys if not k.startswith(("name:", "nick:", "part:")))
        if not ids:
            continue
        eid = entity_id_for(ids[0])
        spelled = Counter[str]()
        for k in keys:
            spelled.update(raw_names.get(k, Counter()))
        by_kind: dict[str, list[str]] = defaultdict(list)
        for k in sorted(keys):
            kind, _, value = k.partition(":")
            if kind in ("name", "nick", "part"):
                value = raw_names[k].most_common(1)[0][0] if raw_names.get(k) else value
                kind = "name"
            by_kind[kind].append(value)
            member_rows.append((case_ref, eid, k, kind, value, ",".join(sorted(rules[k])) or "identifier"))
        label = spelled.most_common(1)[0][0] if spelled else ids[0].partition(":")[2]
        entity_rows.append(
            (
                case_ref,
                eid,
                label,
                by_kind["name"],
                by_kind["phone"],
                by_kind["email"],
                by_kind["account"],
                len(keys),
            )
        )
    _insert(con, "entities", entity_rows, 8)
    _insert(con, "entity_members", member_rows, 6)
    _insert(
        con,
        "entity_links",
        [(case_ref, a, b, rule, score, k) for (a, b, rule, score), k in zip(links, kept, strict=True)],
        6,
    )


def _insert(con: Any, table: str, rows: list[tuple[Any, ...]], width: int) -> None:
    """Bulk insert through a registered DataFrame (row-by-row INSERTs are slow in DuckDB)."""
    if not rows:
        return
    frame = pd.DataFrame(rows, columns=[f"c{i}" for i in range(width)])
    con.register("_palermo_rows", frame)
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM _palermo_rows")
    finally:
        con.unregister("_palermo_rows")
