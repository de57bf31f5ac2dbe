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

Judgements that contradict each other (``same(A, B)``, ``same(B, C)``, ``not_same(A, C)``) are
settled first, by the rule in :mod:`palermo.analytics.conflicts`: the not_same wins, sames are
applied newest first, and a same that would join its pair is set aside (recorded as an overruled
link, and reported as a conflict by id and verdict). The cut then only ever removes model links: a
kept same weighs more than all of them together.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import igraph as ig
import numpy as np
import pandas as pd

from palermo.analytics import ids as item_ids
from palermo.analytics.conflicts import Conflict, find_conflicts, set_aside
from palermo.analytics.judgements import list_judgements
from palermo.analytics.mentions import ad_comentions, summarise_mentions
from palermo.analytics.names import match_names, name_key
from palermo.analytics.tables import create_analysis_tables

#: Capacity of each kind of model link in the minimum cut: the cut removes the cheapest evidence
#: first. A same judgement weighs more than all model links together (see :func:`_link_graph`).
CAPACITY = {"splink": 1.0, "holder_or_contact_name": 3.0, "same_ad": 3.0}
JUDGED_SAME = "judgement:same"
#: A name that sits beside more identifiers than this is generic ("Mom", "Unknown"), not a person.
MAX_IDS_PER_NAME = 6


@dataclass
class Resolution:
    """What a resolution run did, for the analysis summary."""

    mentions: int = 0
    identifiers: int = 0
    entities: int = 0
    links: dict[str, int] = field(default_factory=dict)
    #: Links not applied: model links a not_same cut, and same judgements a conflict set aside.
    overruled: int = 0
    #: Judgements that contradict each other, which won and why (ids and verdicts, never keys).
    conflicts: list[Conflict] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def resolve(con: Any, case_ref: str, *, name_threshold: float = 0.85, spark: Any | None = None) -> Resolution:
    """Resolve one case's identifiers into entities and write ``entities``/``entity_members``
    (names matched by Splink on ``spark``, a ``SparkSession``, when given)."""
    create_analysis_tables(con)
    id_keys, named, total = summarise_mentions(con, case_ref)
    result = Resolution(mentions=total, identifiers=len(id_keys))
    links, raw_names = _deterministic_links(con, case_ref, named)
    for a, b, score in match_names(sorted(raw_names), threshold=name_threshold, spark=spark):
        links.append((a, b, "splink", score))
    judged = list_judgements(con, case_ref)
    result.conflicts = find_conflicts(judged)
    aside = set_aside(result.conflicts)
    dropped: list[int] = []
    for j in judged:
        if j.verdict == "same":
            if j.judgement_id in aside:
                dropped.append(len(links))
            links.append((j.left_key, j.right_key, JUDGED_SAME, 1.0))
    cannot = [(j.left_key, j.right_key) for j in judged if j.verdict == "not_same"]
    graph, kept = _link_graph(id_keys, raw_names, links, cannot, dropped)
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
    dropped: Sequence[int] = (),
) -> tuple[ig.Graph, list[bool]]:
    """Build the link graph without the ``dropped`` links (same judgements a conflict set aside)
    and cut it wherever a "not same" judgement demands.

    A same judgement weighs one more than all model links together, so a cut never takes one while
    a cut of model links alone exists; after the conflicts are settled one always does (the kept
    sames alone join no pair a not_same keeps apart). A fixed large weight was not enough: a case
    with enough model links between two people would have cut an analyst's same silently."""
    names = sorted(set(id_keys) | set(raw_names) | {k for a, b, _, _ in links for k in (a, b)})
    index = {k: i for i, k in enumerate(names)}
    graph = ig.Graph(n=len(names), edges=[(index[a], index[b]) for a, b, _, _ in links])
    graph.vs["key"] = names
    model = sum(CAPACITY.get(rule, 1.0) for _, _, rule, _ in links if rule != JUDGED_SAME)
    graph.es["capacity"] = [
        1.0 + model if rule == JUDGED_SAME else CAPACITY.get(rule, 1.0) for _, _, rule, _ in links
    ]
    graph.es["link"] = list(range(len(links)))
    kept = [True] * len(links)
    for i in dropped:
        kept[i] = False
    graph.delete_edges(sorted(dropped))  # edge ids are still the link indices here
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


#: Entities and their members in one set-based pass over the components (DuckDB, not a Python
#: loop per component). Ties between spellings go to the one met first in key order, as before.
_WRITE_SQL = """
CREATE OR REPLACE TEMP TABLE _palermo_members AS
WITH ids AS (
  SELECT comp, min(key) AS first_id FROM _palermo_v
  WHERE NOT (key LIKE 'name:%' OR key LIKE 'nick:%' OR key LIKE 'part:%') GROUP BY comp),
rules AS (
  SELECT key, string_agg(DISTINCT rule, ',' ORDER BY rule) AS reason FROM (
    SELECT a AS key, rule FROM _palermo_l WHERE kept UNION ALL SELECT b, rule FROM _palermo_l WHERE kept)
  GROUP BY key),
spelling AS (SELECT key, first(raw ORDER BY n DESC, seq) AS raw FROM _palermo_n GROUP BY key)
SELECT v.comp, 'ent:' || substr(@ENTITY_HASH@, 1, 10) AS entity_id, i.first_id, v.key,
       CASE WHEN v.key LIKE 'name:%' OR v.key LIKE 'nick:%' OR v.key LIKE 'part:%' THEN 'name'
            ELSE split_part(v.key, ':', 1) END AS kind,
       CASE WHEN s.raw IS NOT NULL AND (v.key LIKE 'name:%' OR v.key LIKE 'nick:%' OR v.key LIKE 'part:%')
            THEN s.raw ELSE substr(v.key, strpos(v.key, ':') + 1) END AS value,
       coalesce(r.reason, 'identifier') AS reason
FROM _palermo_v v JOIN ids i USING (comp)
LEFT JOIN rules r ON r.key = v.key LEFT JOIN spelling s ON s.key = v.key;
INSERT INTO entity_members SELECT $case_ref, entity_id, key, kind, value, reason FROM _palermo_members;
INSERT INTO entities
WITH labels AS (
  SELECT comp, first(raw ORDER BY total DESC, seq) AS label FROM (
    SELECT comp, raw, sum(n) AS total, min(seq) AS seq FROM _palermo_n GROUP BY comp, raw)
  GROUP BY comp),
grouped AS (
  SELECT comp, entity_id, any_value(first_id) AS first_id, list((kind, value) ORDER BY key) AS members,
         CAST(count(*) AS INTEGER) AS n_members
  FROM _palermo_members GROUP BY comp, entity_id)
SELECT $case_ref, g.entity_id, coalesce(l.label, substr(g.first_id, strpos(g.first_id, ':') + 1)),
       [m[2] FOR m IN g.members IF m[1] = 'name'], [m[2] FOR m IN g.members IF m[1] = 'phone'],
       [m[2] FOR m IN g.members IF m[1] = 'email'], [m[2] FOR m IN g.members IF m[1] = 'account'],
       g.n_members
FROM grouped g LEFT JOIN labels l USING (comp);
DROP TABLE _palermo_members;
""".replace("@ENTITY_HASH@", item_ids.keyed_sql("id_key", "i.first_id"))


def _write(
    con: Any,
    case_ref: str,
    graph: ig.Graph,
    links: list[tuple[str, str, str, float]],
    kept: list[bool],
    raw_names: dict[str, Counter[str]],
) -> None:
    """Write entities, their members (with the rules that attached them) and the links used.

    Each component holding at least one identifier is an entity, named after its most frequent
    spelling; its id is derived from its smallest identifier key, so it is stable across runs.
    """
    for table in ("entities", "entity_members", "entity_links"):
        con.execute(f"DELETE FROM {table} WHERE case_ref = ?", [case_ref])
    vertices = pd.DataFrame(
        {
            "key": pd.Series(graph.vs["key"], dtype=object),
            "comp": np.asarray(graph.connected_components().membership, dtype=np.int64),
        }
    )
    spellings = pd.DataFrame(
        [(k, raw, n) for k, counts in sorted(raw_names.items()) for raw, n in counts.items()],
        columns=["key", "raw", "n"],
    )
    spellings = spellings.astype({"key": object, "raw": object, "n": "int64"})
    spellings["seq"] = np.arange(len(spellings), dtype=np.int64)
    component = dict(zip(vertices["key"], vertices["comp"], strict=True))
    spellings["comp"] = np.asarray([component[k] for k in spellings["key"]], dtype=np.int64)
    link_frame = pd.DataFrame(
        {
            "a": [a for a, _, _, _ in links],
            "b": [b for _, b, _, _ in links],
            "rule": [r for _, _, r, _ in links],
            "score": [float(s) for _, _, _, s in links],
            "kept": kept,
        },
        columns=["a", "b", "rule", "score", "kept"],
    ).astype({"a": object, "b": object, "rule": object, "score": float, "kept": bool})
    frames = {"_palermo_v": vertices, "_palermo_n": spellings, "_palermo_l": link_frame}
    for name, frame in frames.items():
        con.register(name, frame)
    try:
        params = {"case_ref": case_ref, "id_key": item_ids.id_key(con)}
        for statement in _WRITE_SQL.strip().split(";\n"):
            if statement.strip():
                used = {k: v for k, v in params.items() if f"${k}" in statement}
                con.execute(statement, used or None)
        con.execute(
            "INSERT INTO entity_links SELECT $case_ref, a, b, rule, score, kept FROM _palermo_l",
            {"case_ref": case_ref},
        )
    finally:
        for name in frames:
            con.unregister(name)
