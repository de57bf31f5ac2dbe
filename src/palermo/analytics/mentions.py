"""Every place a strong identifier (phone, email, account) is mentioned, with the name beside it.

Entity resolution starts here. Reading the source tables directly, rather than only the
``identifiers`` table, means a phone that only ever appears as a callee is still an identifier, and
each mention keeps its statement id so that any entity can be explained down to the rows that
formed it. ``scope`` says where a short name is meaningful: a nickname such as "Boss" or a partial
name such as "K. SARILANI" means one person on one phone's contact list (scope: the device) or
beside one account (scope: the account), and two different people elsewhere; such names only link
within their scope.
"""

from __future__ import annotations

from typing import Any

from palermo.analytics.tables import table_exists
from palermo.ingest.schema import stmt_order_sql

# One projection per (table, column): kind, identifier, name beside it, scope, source label.
_SOURCES: dict[str, list[tuple[str, str, str, str, str]]] = {
    "payments": [
        ("'account'", "from_account", "from_name", "from_account", "payments.from"),
        ("'account'", "to_account", "to_name", "to_account", "payments.to"),
    ],
    "calls": [
        ("'phone'", "caller", "NULL", "NULL", "calls.caller"),
        ("'phone'", "callee", "NULL", "NULL", "calls.callee"),
    ],
    "messages": [
        ("'phone'", "sender", "NULL", "NULL", "messages.sender"),
        ("'phone'", "recipient", "NULL", "NULL", "messages.recipient"),
    ],
    "contacts": [
        (
            "'phone'",
            "phone",
            "name",
            "coalesce(device_owner, CAST(evidence_id AS VARCHAR))",
            "contacts.phone",
        ),
        (
            "'email'",
            "email",
            "name",
            "coalesce(device_owner, CAST(evidence_id AS VARCHAR))",
            "contacts.email",
        ),
        ("'phone'", "device_owner", "NULL", "NULL", "contacts.owner"),
    ],
    "ads": [
        ("'phone'", "phone", "NULL", "NULL", "ads.phone"),
        ("'email'", "email", "NULL", "NULL", "ads.email"),
    ],
    "identifiers": [
        ("kind", "norm", "name", "norm", "identifiers"),
    ],
}
# ``identifiers`` holds only what the tables above do not (``palermo.ingest.schema.DERIVED_IDENTIFIERS``
# lists the columns read here), so every row of it is read.


def mentions_sql(tables: list[str]) -> str:
    """The SQL that lists one case's identifier mentions from the given source tables."""
    parts = [
        f"SELECT {kind} AS kind, CAST({value} AS VARCHAR) AS norm, CAST({name} AS VARCHAR) AS name, "
        f"CAST({scope} AS VARCHAR) AS scope, '{source}' AS source, stmt_id, evidence_id, locator "
        f"FROM {table} WHERE case_ref = $case_ref"
        for table in tables
        for kind, value, name, scope, source in _SOURCES[table]
    ]
    union = "\nUNION ALL\n".join(parts)
    return (
        "SELECT kind, trim(norm) AS norm, nullif(trim(name), '') AS name, "
        f"scope, source, stmt_id, evidence_id, locator FROM (\n{union}\n) AS m "
        "WHERE norm IS NOT NULL AND trim(norm) <> '' AND kind IN ('phone', 'email', 'account')"
    )


def summary_sql(tables: list[str]) -> str:
    """Like :func:`mentions_sql`, but counted per (identifier, name, scope) inside each source
    before the keys are built: trimming and concatenating 77 k distinct values instead of 3.5 M
    mentions is what makes resolution fast on a million-row case."""
    parts = [
        f"SELECT {kind} AS kind, CAST({value} AS VARCHAR) AS norm, CAST({name} AS VARCHAR) AS name, "
        f"CAST({scope} AS VARCHAR) AS scope, count(*) AS n "
        f"FROM {table} WHERE case_ref = $case_ref GROUP BY ALL"
        for table in tables
        for kind, value, name, scope, _ in _SOURCES[table]
    ]
    union = "\nUNION ALL\n".join(parts)
    return (
        "SELECT kind || ':' || trim(norm) AS key, nullif(trim(name), '') AS name, scope, sum(n) AS n "
        f"FROM (\n{union}\n) AS m "
        "WHERE norm IS NOT NULL AND trim(norm) <> '' AND kind IN ('phone', 'email', 'account') GROUP BY ALL"
    )


def summarise_mentions(
    con: Any, case_ref: str
) -> tuple[list[str], list[tuple[str, str, str | None, int]], int]:
    """One pass over the sources: every identifier key, every (key, name, scope) with its count, and
    the number of mentions. Aggregating in DuckDB keeps millions of statements out of Python; the
    statements themselves are re-read by ``explain`` when someone asks for them."""
    tables = [t for t in _SOURCES if table_exists(con, t)]
    if not tables:
        return [], [], 0
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _mention_summary AS {summary_sql(tables)}", {"case_ref": case_ref}
    )
    try:
        keys = [
            str(r[0]) for r in con.execute("SELECT DISTINCT key FROM _mention_summary ORDER BY 1").fetchall()
        ]
        named = [
            (str(k), str(name), None if scope is None else str(scope), int(n))
            for k, name, scope, n in con.execute(
                # ordered: the spellings' order breaks ties between equally frequent labels
                "SELECT key, name, scope, n FROM _mention_summary WHERE name IS NOT NULL ORDER BY ALL"
            ).fetchall()
        ]
        total = con.execute("SELECT coalesce(sum(n), 0) FROM _mention_summary").fetchone()
    finally:
        con.execute("DROP TABLE IF EXISTS _mention_summary")
    return keys, named, int(total[0]) if total else 0


def mention_statements(con: Any, case_ref: str, keys: list[str], limit: int) -> list[dict[str, Any]]:
    """The statements in which any of ``keys`` (``phone:+1…``) is mentioned, for explanations, by
    exhibit and then in the exhibit's own order (:func:`stmt_order_sql`)."""
    tables = [t for t in _SOURCES if table_exists(con, t)]
    if not tables or not keys:
        return []
    cur = con.execute(
        'SELECT * FROM (SELECT DISTINCT stmt_id, evidence_id, locator, source AS "table", '
        "kind || ':' || norm AS identifier, name "
        f"FROM ({mentions_sql(tables)}) AS m WHERE kind || ':' || norm IN (SELECT unnest($keys))) "
        f'ORDER BY evidence_id, {stmt_order_sql("stmt_id")}, stmt_id, "table", identifier, name '
        "LIMIT $limit",
        {"case_ref": case_ref, "keys": keys, "limit": limit},
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def ad_comentions(con: Any, case_ref: str) -> list[tuple[str, str, str]]:
    """Phone/e-mail pairs printed together in ads, where each only ever appears with the other.

    An ad's phone and address usually belong to one advertiser, but operations swap numbers between
    their ads; a pair is only taken as one advertiser when the phone never appears with another
    address and the address never with another phone.
    """
    if not table_exists(con, "ads"):
        return []
    rows = con.execute(
        """WITH pairs AS (
             SELECT DISTINCT trim(phone) AS phone, trim(email) AS email, stmt_id FROM ads
             WHERE case_ref = ? AND phone IS NOT NULL AND trim(phone) <> '' AND email IS NOT NULL
               AND trim(email) <> '')
           SELECT 'phone:' || phone, 'email:' || email, min(stmt_id) FROM pairs p
           WHERE (SELECT count(DISTINCT email) FROM pairs q WHERE q.phone = p.phone) = 1
             AND (SELECT count(DISTINCT phone) FROM pairs q WHERE q.email = p.email) = 1
           GROUP BY phone, email""",
        [case_ref],
    ).fetchall()
    return [(str(a), str(b), str(s)) for a, b, s in rows]
