"""DuckDB tables that ingest fills and the analysis reads (the shared analytics contract).

Every evidence table starts with the same four provenance columns, because every row is a
*statement*: an analyst (or a court) must be able to go from any edge, entity or indicator hit back
to the evidence item (``evidence_id``) and the place in it (``locator``, e.g. ``line:17``).
``stmt_id`` is ``<evidence_id>:<locator>`` plus a suffix when one source line yields several
statements, so it is unique across the whole workspace.

``identifiers`` holds only the strong identifiers that no evidence table column already carries:
the phones, e-mails and accounts of FollowTheMoney entities, a device's own number, and columns a
YAML mapping names as identifiers beyond the usual ones. The identifier columns of the evidence
tables themselves (:data:`DERIVED_IDENTIFIERS`: a call's caller, a payment's accounts, an ad's phone
…) are read straight from those tables by the analysis (``palermo.analytics.mentions``); copying
them into ``identifiers`` as well doubled what an import wrote (3.5 M extra rows for a million calls
and a million payments) for rows nothing read, and put every victim's number on disk twice more.

The data tables carry no primary keys or indexes on purpose: DuckDB appends millions of rows much
faster without them, and uniqueness is guaranteed one level up, by the ``imports`` table (one import
per case, evidence item and adapter).

Every evidence table ends with ``import_id``, the import that wrote the row (written by the service,
never by an adapter, so it is not in :data:`TABLE_COLUMNS`). One exhibit may be read by two imports
(two mappings of one file, a bank statement read as CSV and as a mapping), and their rows share the
evidence id and often the statement ids: only the import id tells them apart when one import has to
be forgotten (``palermo ingest forget``, decision 0007).
"""

from __future__ import annotations

from typing import Any

PROVENANCE = (
    "case_ref VARCHAR NOT NULL, evidence_id BIGINT NOT NULL, "
    "locator VARCHAR NOT NULL, stmt_id VARCHAR NOT NULL"
)

#: Column lists (after the provenance columns) of every evidence table, in DDL order.
TABLE_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "payments": (
        ("ts", "TIMESTAMP"),
        ("from_account", "VARCHAR"),
        ("from_name", "VARCHAR"),
        ("to_account", "VARCHAR"),
        ("to_name", "VARCHAR"),
        ("amount", "DECIMAL(18,2)"),
        ("currency", "VARCHAR"),
        ("channel", "VARCHAR"),
        ("description", "VARCHAR"),
        ("city", "VARCHAR"),
    ),
    "calls": (
        ("ts", "TIMESTAMP"),
        ("caller", "VARCHAR"),
        ("callee", "VARCHAR"),
        ("duration_s", "INTEGER"),
        ("kind", "VARCHAR"),
        ("cell_id", "VARCHAR"),
        ("city", "VARCHAR"),
    ),
    "messages": (
        ("ts", "TIMESTAMP"),
        ("sender", "VARCHAR"),
        ("recipient", "VARCHAR"),
        ("body", "VARCHAR"),
        ("app", "VARCHAR"),
        ("device_owner", "VARCHAR"),
    ),
    "contacts": (
        ("device_owner", "VARCHAR"),
        ("name", "VARCHAR"),
        ("phone", "VARCHAR"),
        ("email", "VARCHAR"),
    ),
    "ads": (
        ("ts", "TIMESTAMP"),
        ("site", "VARCHAR"),
        ("city", "VARCHAR"),
        ("title", "VARCHAR"),
        ("body", "VARCHAR"),
        ("phone", "VARCHAR"),
        ("email", "VARCHAR"),
        ("price", "DOUBLE"),
        ("currency", "VARCHAR"),
        ("image_hashes", "VARCHAR[]"),
        ("age_claimed", "INTEGER"),
    ),
    "ftm_entities": (
        ("entity_id", "VARCHAR"),
        ("schema", "VARCHAR"),
        ("caption", "VARCHAR"),
        ("properties", "JSON"),
    ),
    "identifiers": (
        ("kind", "VARCHAR"),
        ("raw", "VARCHAR"),
        ("norm", "VARCHAR"),
        ("name", "VARCHAR"),
    ),
}

#: The tables an adapter may write to (``imports`` is written by the service only).
EVIDENCE_TABLES: tuple[str, ...] = tuple(TABLE_COLUMNS)

#: Identifier columns of the evidence tables, as ``(table, kind, column, name column)``: the analysis
#: reads these mentions from the tables themselves, so adapters do not copy them into ``identifiers``.
DERIVED_IDENTIFIERS: frozenset[tuple[str, str, str, str | None]] = frozenset(
    {
        ("payments", "account", "from_account", "from_name"),
        ("payments", "account", "to_account", "to_name"),
        ("calls", "phone", "caller", None),
        ("calls", "phone", "callee", None),
        ("messages", "phone", "sender", None),
        ("messages", "phone", "recipient", None),
        ("contacts", "phone", "phone", "name"),
        ("contacts", "email", "email", "name"),
        ("contacts", "phone", "device_owner", None),
        ("ads", "phone", "phone", None),
        ("ads", "email", "email", None),
        ("ads", "image", "image_hashes", None),
    }
)

#: ``(table, kind, column)`` of :data:`DERIVED_IDENTIFIERS`: a rule naming one of these is not copied into
#: ``identifiers`` whatever name column it gives, because the analysis already reads that column (with
#: the table's own name column beside it).
DERIVED_COLUMNS: frozenset[tuple[str, str, str]] = frozenset((t, k, c) for t, k, c, _ in DERIVED_IDENTIFIERS)

#: Identifier kinds the ``identifiers`` table may hold.
IDENTIFIER_KINDS: frozenset[str] = frozenset({"phone", "email", "account", "image"})

IMPORTS_DDL = """
CREATE SEQUENCE IF NOT EXISTS imports_seq START 1;
CREATE TABLE IF NOT EXISTS imports (
    import_id BIGINT PRIMARY KEY DEFAULT nextval('imports_seq'),
    case_ref VARCHAR NOT NULL,
    evidence_id BIGINT NOT NULL,
    adapter VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    options_json JSON,
    rows_ok BIGINT NOT NULL,
    rows_bad BIGINT NOT NULL,
    status VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    UNIQUE (case_ref, evidence_id, adapter)
);
"""


META_DDL = """
CREATE TABLE IF NOT EXISTS analytics_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
"""

#: Imports made before ``identifiers`` was narrowed copied the identifier columns of the evidence
#: tables into it: a row whose statement id ends with the column it was copied from (``…:caller``,
#: ``…:from_account``, an ad's ``…:image0``) and whose kind is that column's. Those copies (and the
#: numbers of FtM Calls, which are in ``calls`` too) are deleted once; everything else stays: the
#: extra identifier columns of a YAML mapping, a seized device's own number, FtM entities' identifiers.
_NARROW_IDENTIFIERS = """
DELETE FROM identifiers i
WHERE EXISTS (SELECT 1 FROM imports m WHERE m.case_ref = i.case_ref AND m.evidence_id = i.evidence_id
              AND m.adapter <> 'ftm')
  AND ((i.kind = 'account' AND regexp_matches(i.stmt_id, ':(from|to)_account$'))
    OR (i.kind = 'phone' AND regexp_matches(i.stmt_id, ':(caller|callee|sender|recipient|phone)$'))
    OR (i.kind = 'email' AND regexp_matches(i.stmt_id, ':email$'))
    OR (i.kind = 'image' AND regexp_matches(i.stmt_id, ':image[0-9]+$')));
DELETE FROM identifiers i
WHERE EXISTS (SELECT 1 FROM ftm_entities f WHERE f.case_ref = i.case_ref AND f.evidence_id = i.evidence_id
              AND f.locator = i.locator AND f.schema = 'Call');
INSERT OR IGNORE INTO analytics_meta VALUES ('identifiers', 'narrow');
"""


#: The column naming the import that wrote a row; last in every evidence table (workspaces made before
#: it existed gain it at the end, so the layout is the same for old and new files).
IMPORT_COLUMN = "import_id"

#: Workspaces made before rows carried their import gain the column; rows already there are given the
#: import of their exhibit when the exhibit has exactly one import in the case. Rows of an exhibit read
#: by several imports stay NULL: nothing tells which import wrote them, and ``forget`` refuses to guess.
_RECORD_IMPORT_IDS = """
UPDATE {table} t SET import_id = m.import_id
FROM (SELECT case_ref, evidence_id, min(import_id) AS import_id FROM imports
      GROUP BY case_ref, evidence_id HAVING count(*) = 1) m
WHERE t.import_id IS NULL AND t.case_ref = m.case_ref AND t.evidence_id = m.evidence_id;
"""


def columns_of(table: str) -> tuple[str, ...]:
    """The column names an adapter's rows fill, provenance first, in table order (``import_id``,
    which the service writes, is left out)."""
    return ("case_ref", "evidence_id", "locator", "stmt_id", *(name for name, _ in TABLE_COLUMNS[table]))


def table_ddl(table: str) -> str:
    """The ``CREATE TABLE IF NOT EXISTS`` statement of one evidence table."""
    cols = ", ".join(f"{name} {sql_type}" for name, sql_type in TABLE_COLUMNS[table])
    return f"CREATE TABLE IF NOT EXISTS {table} ({PROVENANCE}, {cols}, {IMPORT_COLUMN} BIGINT);"


def ddl() -> str:
    """The whole schema as one SQL script (idempotent: every statement is ``IF NOT EXISTS``)."""
    return "\n".join([IMPORTS_DDL, *(table_ddl(t) for t in EVIDENCE_TABLES)])


def create_schema(con: Any) -> None:
    """Create the analytics tables on a DuckDB connection if they are missing.

    Safe to call on every connection: analysis code and test fixtures can call it too instead of
    copying the DDL, so the shape is defined in exactly one place.
    """
    con.execute(ddl())
    con.execute(META_DDL)
    if con.execute("SELECT 1 FROM analytics_meta WHERE key = 'identifiers'").fetchone() is None:
        con.execute(_NARROW_IDENTIFIERS)
    if con.execute("SELECT 1 FROM analytics_meta WHERE key = 'import_ids'").fetchone() is None:
        for table in EVIDENCE_TABLES:
            con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {IMPORT_COLUMN} BIGINT")
            con.execute(_RECORD_IMPORT_IDS.format(table=table))
        con.execute("INSERT OR IGNORE INTO analytics_meta VALUES ('import_ids', 'recorded')")


def stmt_order_sql(column: str) -> str:
    """SQL sort key reading the numbers in a statement id or locator as numbers.

    Text order puts ``7:line:10`` before ``7:line:9``, and an explanation read in that order jumps
    about the exhibit. The key splits the text into runs of digits and of other characters; a digit
    run sorts by its value (its length without leading zeros, then its digits) and before any other
    run at the same place, as the indicator runner's ``_natural`` orders a hit's statements
    (``line:9:2`` before ``line:9:10``, ``json:$.messages[9]`` before ``[10]``). Ids with no number
    (an FtM entity id) keep their text order. Ties such as ``line:09`` and ``line:9`` need a text
    order after it to be stable.
    """
    digits = "regexp_full_match(p, '[0-9]+')"
    number = "lpad(CAST(length(ltrim(p, '0')) AS VARCHAR), 4, '0') || ltrim(p, '0')"
    return (
        f"list_transform(regexp_extract_all({column}, '[0-9]+|[^0-9]+'), "
        f"p -> CASE WHEN {digits} THEN '0' || {number} ELSE '1' || p END)"
    )


__all__ = [
    "DERIVED_COLUMNS",
    "DERIVED_IDENTIFIERS",
    "EVIDENCE_TABLES",
    "IDENTIFIER_KINDS",
    "IMPORT_COLUMN",
    "TABLE_COLUMNS",
    "columns_of",
    "create_schema",
    "ddl",
    "stmt_order_sql",
    "table_ddl",
]
