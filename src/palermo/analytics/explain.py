"""``explain``: from any result back to the evidence — the statements, exhibits and rows behind it.

A court may ask how an edge, an entity or a red flag came about. For an edge (``e:…``) the answer
is every statement aggregated into it; for an entity (``ent:…``) every mention of its identifiers
and names and the links (rule and score) that joined them; for an indicator hit (``hit:…``) the
statements the query returned. Each explanation also carries the SQL that produced the item, as
stored in the code and catalogue, so the computation can be re-run by an expert for the defence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from palermo.analytics.graph import EDGE_SQL
from palermo.analytics.indicators.catalogue import load_catalogue
from palermo.analytics.mentions import mention_statements, mentions_sql
from palermo.analytics.tables import cleared_note
from palermo.errors import NotFoundError
from palermo.ingest.schema import stmt_order_sql

_EDGE_SOURCES = {
    "payment": ["payments"],
    "call": ["calls"],
    "message": ["messages"],
    "contact": ["contacts"],
    "shared_image": ["ads"],
    "co_location": ["ads", "cells"],
}


@dataclass
class Explanation:
    """Why an item exists: a summary, the statements behind it and the SQL that made it."""

    item_id: str
    kind: str
    summary: str
    statements: list[dict[str, Any]] = field(default_factory=list)
    evidence_ids: list[int] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    sql: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def explain(con: Any, case_ref: str, item_id: str, *, limit: int = 1000) -> Explanation:
    """Explain an edge, entity or indicator-hit id; unknown ids raise :class:`NotFoundError`."""
    if item_id.startswith("e:"):
        out = _edge(con, case_ref, item_id, limit)
    elif item_id.startswith("ent:"):
        out = _entity(con, case_ref, item_id, limit)
    elif item_id.startswith("hit:"):
        out = _hit(con, case_ref, item_id, limit)
    else:
        raise NotFoundError(
            f"{item_id!r} is not an edge (e:…), entity (ent:…) or indicator hit (hit:…) id",
            location="item_id",
        )
    out.evidence_ids = sorted(
        {int(s["evidence_id"]) for s in out.statements if s.get("evidence_id") is not None}
    )
    return out


def _missing(con: Any, case_ref: str, item_id: str) -> NotFoundError:
    """Not found, saying why when the case's analysis was cleared by a forgotten import (a lead's hit
    id, an edge bookmarked before: the ids are real, the results they named are gone)."""
    cleared = cleared_note(con, case_ref)
    if cleared:
        return NotFoundError(
            f"no {item_id} in case {case_ref}: {cleared}; run `palermo analyze {case_ref}` again",
            location="item_id",
        )
    return NotFoundError(
        f"no {item_id} in case {case_ref}; run `palermo analyze {case_ref}` first", location="item_id"
    )


def _edge(con: Any, case_ref: str, item_id: str, limit: int) -> Explanation:
    row = con.execute(
        """SELECT e.kind, e.n, e.weight, e.amount, e.first_ts, e.last_ts, a.label, b.label
           FROM edges e JOIN entities a ON a.case_ref = e.case_ref AND a.entity_id = e.src
           JOIN entities b ON b.case_ref = e.case_ref AND b.entity_id = e.dst
           WHERE e.case_ref = ? AND e.edge_id = ?""",
        [case_ref, item_id],
    ).fetchone()
    if row is None:
        raise _missing(con, case_ref, item_id)
    kind, n, _weight, amount, first, last, src, dst = row
    money = f", total {amount}" if amount is not None else ""
    summary = f"{kind} between {src} and {dst}: {n} statement(s){money}, {first or '?'} – {last or '?'}"
    statements = _dicts(
        con,
        f"""SELECT stmt_id, evidence_id, locator, source AS "table" FROM edge_statements
        WHERE case_ref = ? AND edge_id = ? ORDER BY evidence_id, {stmt_order_sql("stmt_id")}, stmt_id
        LIMIT ?""",
        [case_ref, item_id, limit],
    )
    sql = [EDGE_SQL[s].strip() for s in _EDGE_SOURCES.get(str(kind), [])]
    return Explanation(item_id, "edge", summary, statements, sql=sql)


def _entity(con: Any, case_ref: str, item_id: str, limit: int) -> Explanation:
    row = con.execute(
        "SELECT label, n_members, phones, emails, accounts FROM entities "
        "WHERE case_ref = ? AND entity_id = ?",
        [case_ref, item_id],
    ).fetchone()
    if row is None:
        raise _missing(con, case_ref, item_id)
    label, n, phones, emails, accounts = row
    summary = (
        f"{label}: {n} member(s) — {len(phones)} phone(s), {len(emails)} e-mail(s), "
        f"{len(accounts)} account(s)"
    )
    keys = [
        str(k)
        for (k,) in con.execute(
            "SELECT member_key FROM entity_members WHERE case_ref = ? AND entity_id = ?", [case_ref, item_id]
        ).fetchall()
    ]
    statements = mention_statements(con, case_ref, keys, limit)
    links = _dicts(
        con,
        """SELECT l.left_key, l.right_key, l.rule, l.score, l.kept FROM entity_links l
        WHERE l.case_ref = ? AND (l.left_key IN (SELECT member_key FROM entity_members WHERE case_ref = ?
              AND entity_id = ?) OR l.right_key IN (SELECT member_key FROM entity_members WHERE case_ref = ?
              AND entity_id = ?)) ORDER BY l.rule, l.left_key""",
        [case_ref, case_ref, item_id, case_ref, item_id],
    )
    sql = [mentions_sql(["payments", "calls", "messages", "contacts", "ads", "identifiers"])]
    return Explanation(item_id, "entity", summary, statements, links=links, sql=sql)


def _hit(con: Any, case_ref: str, item_id: str, limit: int) -> Explanation:
    row = con.execute(
        """SELECT indicator_id, subject_kind, subject, entity_id, detail, stmt_ids, evidence_ids, locators
           FROM indicator_hits WHERE case_ref = ? AND hit_id = ?""",
        [case_ref, item_id],
    ).fetchone()
    if row is None:
        raise _missing(con, case_ref, item_id)
    ind_id, kind, subject, entity, detail, stmt_ids, evidence_ids, locators = row
    indicator = next((i for i in load_catalogue() if i.id == ind_id), None)
    title = indicator.title if indicator else ind_id
    summary = f"{ind_id} — {title}: {detail} ({kind} {subject}, entity {entity or 'unresolved'})"
    statements = []
    for i, stmt in enumerate(list(stmt_ids or [])[:limit]):
        prefix = str(stmt).split(":", 1)[0]
        statements.append(
            {
                "stmt_id": stmt,
                "evidence_id": int(prefix)
                if prefix.isdigit()
                else (evidence_ids[0] if evidence_ids else None),
                "locator": locators[i] if locators and i < len(locators) else None,
            }
        )
    sql = [indicator.sql.strip()] if indicator else []
    return Explanation(item_id, "indicator_hit", summary, statements, sql=sql)


def _dicts(con: Any, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
