"""The network: edges between resolved entities, each listing the statements behind it.

Edge kinds and what they mean:
``payment`` money from one entity's account to another's; ``call`` and ``message`` communications;
``contact`` a phone saved in another's phone book (seized device); ``shared_image`` two ad phones
whose ads reuse the same photo (the same person advertised by both); ``co_location`` two entities
repeatedly in the same place at the same time (ads posted the same day in the same city, calls
through the same cell in the same hour). Co-location is only kept when it happens in at least two
separate places/times and among few entities, because two strangers in a busy city-day mean nothing.
Every edge is aggregated (weight, count, amount, first/last time) and ``edge_statements`` keeps each
statement (evidence id + locator) it was built from, so ``explain`` can always answer "why this edge".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from palermo.analytics.tables import table_exists

#: Weight given to one statement of each kind (a phone-book entry is one row but a strong tie;
#: co-location is circumstantial).
KIND_WEIGHT = {
    "payment": 1.0,
    "call": 1.0,
    "message": 1.0,
    "contact": 3.0,
    "shared_image": 1.0,
    "co_location": 0.25,
}
#: A place-time bucket with more entities than this is a crowd, not a meeting.
MAX_BUCKET = 10

#: Identifier → entity, with the entity as a dense integer (``_palermo_ent``, numbered in entity-id
#: order): joining and grouping a million statements on integers rather than 14-character ids is
#: what keeps the network build fast; the ids are joined back once per edge.
_IDMAP = (
    "idmap AS (SELECT m.kind, m.value, e.eix AS entity_id FROM entity_members m "
    "JOIN _palermo_ent e ON e.entity_id = m.entity_id "
    "WHERE m.case_ref = $case_ref AND m.kind IN ('phone', 'email', 'account'))"
)
_ENTITIES = """CREATE OR REPLACE TEMP TABLE _palermo_ent AS
SELECT entity_id, CAST(row_number() OVER (ORDER BY entity_id) AS INTEGER) AS eix
FROM entities WHERE case_ref = $case_ref"""

#: SQL per source table producing rows (kind, src, dst, directed, ts, amount, bucket, stmt_id,
#: evidence_id, locator, source). Kept as text so explain can show exactly how an edge was made.
#: ``cells``: almost every cell-hour holds calls of one entity only; ``busy`` drops those with one
#: cheap min/max aggregate so the distinct (cell, hour, entity) set is built over the few shared
#: buckets rather than a million calls (same rows out; a fifth less CPU for this source).
EDGE_SQL: dict[str, str] = {
    "payments": """
SELECT 'payment' AS kind, a.entity_id AS src, b.entity_id AS dst, TRUE AS directed, p.ts,
       p.amount, CAST(NULL AS VARCHAR) AS bucket, p.stmt_id, p.evidence_id, p.locator, 'payments' AS source
FROM payments p JOIN idmap a ON a.kind = 'account' AND a.value = p.from_account
JOIN idmap b ON b.kind = 'account' AND b.value = p.to_account
WHERE p.case_ref = $case_ref AND a.entity_id <> b.entity_id""",
    "calls": """
SELECT 'call', a.entity_id, b.entity_id, TRUE, c.ts, CAST(NULL AS DECIMAL(18,2)), CAST(NULL AS VARCHAR),
       c.stmt_id, c.evidence_id, c.locator, 'calls'
FROM calls c JOIN idmap a ON a.kind = 'phone' AND a.value = c.caller
JOIN idmap b ON b.kind = 'phone' AND b.value = c.callee
WHERE c.case_ref = $case_ref AND a.entity_id <> b.entity_id""",
    "messages": """
SELECT 'message', a.entity_id, b.entity_id, TRUE, m.ts, CAST(NULL AS DECIMAL(18,2)), CAST(NULL AS VARCHAR),
       m.stmt_id, m.evidence_id, m.locator, 'messages'
FROM messages m JOIN idmap a ON a.kind = 'phone' AND a.value = m.sender
JOIN idmap b ON b.kind = 'phone' AND b.value = m.recipient
WHERE m.case_ref = $case_ref AND a.entity_id <> b.entity_id""",
    "contacts": """
SELECT 'contact', a.entity_id, b.entity_id, TRUE, CAST(NULL AS TIMESTAMP), CAST(NULL AS DECIMAL(18,2)),
       CAST(NULL AS VARCHAR), c.stmt_id, c.evidence_id, c.locator, 'contacts'
FROM contacts c JOIN idmap a ON a.kind = 'phone' AND a.value = c.device_owner
JOIN idmap b ON b.kind = CASE WHEN c.phone IS NULL THEN 'email' ELSE 'phone' END
  AND b.value = coalesce(c.phone, c.email)
WHERE c.case_ref = $case_ref AND a.entity_id <> b.entity_id""",
    "ads": """
SELECT kind, src, dst, FALSE, ts, CAST(NULL AS DECIMAL(18,2)), bucket, stmt_id, evidence_id, locator, 'ads'
FROM (
  WITH ad AS (
    SELECT a.stmt_id, a.evidence_id, a.locator, a.ts, a.city, a.image_hashes, i.entity_id
    FROM ads a JOIN idmap i ON i.kind = 'phone' AND i.value = a.phone WHERE a.case_ref = $case_ref),
  img AS (SELECT stmt_id, evidence_id, locator, ts, entity_id, unnest(image_hashes) AS h FROM ad),
  img_pairs AS (
    SELECT DISTINCT x.h, x.entity_id AS e1, y.entity_id AS e2
    FROM (SELECT DISTINCT h, entity_id FROM img) x JOIN (SELECT DISTINCT h, entity_id FROM img) y
      ON x.h = y.h AND x.entity_id < y.entity_id),
  place AS (SELECT *, city || '|' || CAST(CAST(ts AS DATE) AS VARCHAR) AS b FROM ad WHERE city IS NOT NULL),
  crowd AS (SELECT b FROM place GROUP BY b HAVING count(DISTINCT entity_id) <= 10),
  place_pairs AS (
    SELECT DISTINCT x.b, x.entity_id AS e1, y.entity_id AS e2
    FROM place x JOIN place y ON x.b = y.b AND x.entity_id < y.entity_id WHERE x.b IN (SELECT b FROM crowd))
  SELECT 'shared_image' AS kind, p.e1 AS src, p.e2 AS dst, i.ts, i.h AS bucket, i.stmt_id, i.evidence_id,
         i.locator
  FROM img_pairs p JOIN img i ON i.h = p.h AND i.entity_id IN (p.e1, p.e2)
  UNION ALL
  SELECT 'co_location', p.e1, p.e2, x.ts, p.b, x.stmt_id, x.evidence_id, x.locator
  FROM place_pairs p JOIN place x ON x.b = p.b AND x.entity_id IN (p.e1, p.e2)
)""",
    "cells": """
SELECT 'co_location', e1, e2, FALSE, ts, CAST(NULL AS DECIMAL(18,2)), b, stmt_id, evidence_id, locator,
       'calls'
FROM (
  WITH cell AS (
    SELECT c.stmt_id, c.evidence_id, c.locator, c.ts, a.entity_id, c.cell_id, date_trunc('hour', c.ts) AS hr
    FROM calls c JOIN idmap a ON a.kind = 'phone' AND a.value = c.caller
    WHERE c.case_ref = $case_ref AND c.cell_id IS NOT NULL AND c.ts IS NOT NULL),
  busy AS (SELECT cell_id, hr FROM cell GROUP BY cell_id, hr HAVING min(entity_id) < max(entity_id)),
  seen AS (SELECT DISTINCT x.cell_id, x.hr, x.entity_id FROM cell x
           SEMI JOIN busy b ON b.cell_id = x.cell_id AND b.hr = x.hr),
  small AS (SELECT cell_id, hr FROM seen GROUP BY cell_id, hr HAVING count(*) BETWEEN 2 AND 10),
  present AS (SELECT x.* FROM seen x JOIN small s ON s.cell_id = x.cell_id AND s.hr = x.hr),
  pairs AS (
    SELECT x.cell_id, x.hr, x.entity_id AS e1, y.entity_id AS e2
    FROM present x JOIN present y ON x.cell_id = y.cell_id AND x.hr = y.hr AND x.entity_id < y.entity_id)
  SELECT p.e1, p.e2, x.ts, x.cell_id || '|' || strftime(x.hr, '%Y-%m-%d %H') AS b, x.stmt_id, x.evidence_id,
         x.locator
  FROM pairs p JOIN cell x ON x.cell_id = p.cell_id AND x.hr = p.hr AND x.entity_id IN (p.e1, p.e2)
)""",
}

_SOURCE_TABLE = {"cells": "calls"}

EDGE_ID = "'e:' || substr(md5(kind || '|' || src || '|' || dst), 1, 12)"
#: Kinds whose rows can repeat a statement (one ad with two shared photos, one call in two buckets).
_REPEATING = ("shared_image", "co_location")


def edge_rows_sql(sources: list[str]) -> str:
    """One query producing every statement-level edge row from the given sources."""
    body = "\nUNION ALL\n".join(f"SELECT * FROM ({EDGE_SQL[s]})" for s in sources)
    return (
        f"WITH {_IDMAP}\nSELECT * FROM (\n{body}\n) AS r(kind, src, dst, directed, ts, "
        "amount, bucket, stmt_id, evidence_id, locator, source)"
    )


def build_edges(con: Any, case_ref: str) -> int:
    """Compute ``edges`` and ``edge_statements`` for a case from its resolved entities.

    Set-based statements: the statement-level rows (entities as integers), the aggregated edges
    (each id hashed once per edge, not once per statement), and one insert of the statements joined
    to their edge on integers. Statements are counted with ``count(*)`` where each row is one
    statement (payments, calls, messages, contacts) and with ``count(DISTINCT …)`` only for the
    kinds that can repeat one — a distinct count over a million call rows would dominate. Writing
    the two tables is most of the cost, so it runs without preserving insertion order (see
    :func:`_unordered_inserts`); the rows and edge ids are the same either way.
    """
    for table in ("edges", "edge_statements"):
        con.execute(f"DELETE FROM {table} WHERE case_ref = ?", [case_ref])
    sources = [s for s in EDGE_SQL if table_exists(con, _SOURCE_TABLE.get(s, s))]
    if not sources:
        return 0
    params = {"case_ref": case_ref}
    restore = _unordered_inserts(con)
    try:
        _build(con, sources, params)
    finally:
        restore()
    row = con.execute("SELECT count(*) FROM _palermo_edges").fetchone()
    for temp in ("_edge_rows", "_palermo_edges", "_palermo_ent"):
        con.execute(f"DROP TABLE IF EXISTS {temp}")
    return int(row[0]) if row else 0


def _unordered_inserts(con: Any) -> Callable[[], None]:
    """Let this connection write the network tables in parallel, without keeping row order.

    Nothing reads ``edges`` or ``edge_statements`` in storage order (readers filter, group or sort,
    and the order already changed from run to run with two threads), so keeping insertion order
    only serialised the inserts. The setting is changed for this session only (other cursors of
    the same database, e.g. an ingest that numbers lines by ``rowid``, are unaffected) and the
    returned callable puts back exactly what was there before.
    """
    row = con.execute(
        "SELECT value, scope FROM duckdb_settings() WHERE name = 'preserve_insertion_order'"
    ).fetchone()
    if row is None or str(row[0]).lower() == "false":
        return lambda: None
    # a session value of our own is put back as it was; otherwise the session follows the global again
    back = (
        "SET SESSION preserve_insertion_order = true"
        if str(row[1]).upper() == "LOCAL"
        else "RESET SESSION preserve_insertion_order"
    )
    con.execute("SET SESSION preserve_insertion_order = false")

    def restore() -> None:
        con.execute(back)

    return restore


def _build(con: Any, sources: list[str], params: dict[str, str]) -> None:
    """The set-based statements of :func:`build_edges`; leaves ``_palermo_edges`` for the count."""
    con.execute(_ENTITIES, params)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _edge_rows AS {edge_rows_sql(sources)}", params)
    weights = " ".join(f"WHEN '{k}' THEN {w}" for k, w in KIND_WEIGHT.items())
    repeating = ", ".join(f"'{k}'" for k in _REPEATING)
    aggregate = " UNION ALL ".join(
        f"""SELECT kind, src, dst, any_value(directed) AS directed,
                   (CASE kind {weights} ELSE 1.0 END) * {count} AS weight, {count} AS n,
                   sum(amount) AS amount, min(ts) AS first_ts, max(ts) AS last_ts
            FROM _edge_rows WHERE {which} GROUP BY kind, src, dst {having}"""
        for count, which, having in (
            ("count(*)", f"kind NOT IN ({repeating})", ""),
            (
                "count(DISTINCT stmt_id)",
                f"kind IN ({repeating})",
                "HAVING kind <> 'co_location' OR count(DISTINCT bucket) >= 2",
            ),
        )
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _palermo_edges AS
        SELECT *, {EDGE_ID} AS edge_id FROM (
          SELECT a.kind, a.src AS s, a.dst AS d, a.directed, a.weight, a.n, a.amount, a.first_ts,
                 a.last_ts, es.entity_id AS src, ed.entity_id AS dst
          FROM ({aggregate}) a JOIN _palermo_ent es ON es.eix = a.src
          JOIN _palermo_ent ed ON ed.eix = a.dst)""",
    )
    con.execute(
        """INSERT INTO edges SELECT $case_ref, edge_id, kind, src, dst, directed, weight, n, amount,
                                   first_ts, last_ts FROM _palermo_edges""",
        params,
    )
    con.execute(
        f"""INSERT INTO edge_statements
        SELECT $case_ref, e.edge_id, r.stmt_id, r.evidence_id, r.locator, r.source
        FROM _edge_rows r JOIN _palermo_edges e ON e.kind = r.kind AND e.s = r.src AND e.d = r.dst
        WHERE r.kind NOT IN ({repeating})
        UNION ALL
        SELECT DISTINCT $case_ref, e.edge_id, r.stmt_id, r.evidence_id, r.locator, r.source
        FROM _edge_rows r JOIN _palermo_edges e ON e.kind = r.kind AND e.s = r.src AND e.d = r.dst
        WHERE r.kind IN ({repeating})""",
        params,
    )
