"""DuckDB tables the analysis writes, next to (never inside) the ingest tables.

Every row carries ``case_ref`` so one workspace file can hold many cases; a re-run of an analysis
deletes the case's rows and writes them again, so results are reproducible and idempotent.
``judgements`` is the exception: it is the analysts' work and is never rewritten by the model.

When an import is forgotten (``palermo ingest forget``) the case's results are cleared with its rows,
in the same transaction, rather than marked stale: every reader (CLI, web, exports, the redaction
rule) already knows the state "not analysed yet", while a stale flag would have to be checked by
each of them, and one that forgot would go on showing edges and red flags made of statements that
no longer exist. ``analysis_cleared`` remembers why, so ``--explain`` can say so, until the next
analysis.
"""

from __future__ import annotations

from typing import Any

ANALYSIS_DDL = """
CREATE TABLE IF NOT EXISTS judgements (
    case_ref VARCHAR, judgement_id VARCHAR, left_key VARCHAR, right_key VARCHAR, verdict VARCHAR,
    author VARCHAR, note VARCHAR, created_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS entities (
    case_ref VARCHAR, entity_id VARCHAR, label VARCHAR, names VARCHAR[], phones VARCHAR[],
    emails VARCHAR[], accounts VARCHAR[], n_members INTEGER);
CREATE TABLE IF NOT EXISTS entity_members (
    case_ref VARCHAR, entity_id VARCHAR, member_key VARCHAR, kind VARCHAR, value VARCHAR, reason VARCHAR);
CREATE TABLE IF NOT EXISTS entity_links (
    case_ref VARCHAR, left_key VARCHAR, right_key VARCHAR, rule VARCHAR, score DOUBLE, kept BOOLEAN);
CREATE TABLE IF NOT EXISTS edges (
    case_ref VARCHAR, edge_id VARCHAR, kind VARCHAR, src VARCHAR, dst VARCHAR, directed BOOLEAN,
    weight DOUBLE, n INTEGER, amount DECIMAL(18,2), first_ts TIMESTAMP, last_ts TIMESTAMP);
CREATE TABLE IF NOT EXISTS edge_statements (
    case_ref VARCHAR, edge_id VARCHAR, stmt_id VARCHAR, evidence_id BIGINT, locator VARCHAR,
    source VARCHAR);
CREATE TABLE IF NOT EXISTS node_metrics (
    case_ref VARCHAR, entity_id VARCHAR, component INTEGER, community INTEGER, degree INTEGER,
    strength DOUBLE, pagerank DOUBLE, betweenness DOUBLE, brokerage INTEGER,
    inner_circle DOUBLE);
CREATE TABLE IF NOT EXISTS indicator_hits (
    case_ref VARCHAR, hit_id VARCHAR, indicator_id VARCHAR, subject_kind VARCHAR, subject VARCHAR,
    entity_id VARCHAR, score DOUBLE, detail VARCHAR, stmt_ids VARCHAR[], evidence_ids BIGINT[],
    locators VARCHAR[]);
CREATE TABLE IF NOT EXISTS entity_roles (
    case_ref VARCHAR, entity_id VARCHAR, role VARCHAR, ring BOOLEAN, reasons VARCHAR[]);
CREATE TABLE IF NOT EXISTS indicator_leads (
    case_ref VARCHAR, hit_id VARCHAR, lead_id VARCHAR);
CREATE TABLE IF NOT EXISTS analysis_cleared (
    case_ref VARCHAR, import_id BIGINT, evidence_id BIGINT, cleared_at TIMESTAMP);
"""

#: Tables rebuilt on every run of the analysis (judgements and lead bookkeeping are kept).
DERIVED_TABLES: tuple[str, ...] = (
    "entities",
    "entity_members",
    "entity_links",
    "edges",
    "edge_statements",
    "node_metrics",
    "indicator_hits",
    "entity_roles",
)


def create_analysis_tables(con: Any) -> None:
    """Create the analysis tables if missing (idempotent, safe on every connection)."""
    con.execute(ANALYSIS_DDL)
    # columns added after the first release of a table: existing workspace files gain them here
    con.execute("ALTER TABLE node_metrics ADD COLUMN IF NOT EXISTS inner_circle DOUBLE")


def clear_case(con: Any, case_ref: str, tables: tuple[str, ...] = DERIVED_TABLES) -> None:
    """Delete a case's rows from derived tables before they are recomputed."""
    for table in tables:
        con.execute(f"DELETE FROM {table} WHERE case_ref = ?", [case_ref])


def clear_forgotten(
    con: Any, case_ref: str, import_id: int, evidence_id: int, also: tuple[int, ...] = ()
) -> dict[str, int]:
    """Clear the case's analysis results because an import's rows were just removed; return the rows
    cleared per table. Runs inside the caller's transaction (``forget``'s), so the results go exactly
    when the statements they were built from go.

    Judgements (the analysts' work) and ``indicator_leads`` (which hit already has a lead in the case
    store, so a re-run does not propose it twice) are kept. The reason is recorded when anything was
    cleared, for :func:`cleared_note`; ``also`` are the exhibit's other imports forgotten with it.
    """
    create_analysis_tables(con)
    cleared: dict[str, int] = {}
    for table in DERIVED_TABLES:
        row = con.execute(f"DELETE FROM {table} WHERE case_ref = ?", [case_ref]).fetchone()
        if row and row[0]:
            cleared[table] = int(row[0])
    if cleared:
        con.executemany(
            "INSERT INTO analysis_cleared VALUES (?, ?, ?, now()::TIMESTAMP)",
            [[case_ref, i, evidence_id] for i in (import_id, *also)],
        )
    return cleared


def cleared_note(con: Any, case_ref: str) -> str | None:
    """Why the case has no analysis results although it was analysed: the imports forgotten since."""
    if not table_exists(con, "analysis_cleared"):
        return None
    rows = con.execute(
        "SELECT import_id, evidence_id FROM analysis_cleared WHERE case_ref = ? "
        "ORDER BY cleared_at, import_id",
        [case_ref],
    ).fetchall()
    if not rows:
        return None
    which = ", ".join(f"import {i} (evidence {e})" for i, e in rows)
    verb = "was" if len(rows) == 1 else "were"
    return f"the analysis of case {case_ref} was cleared when {which} {verb} forgotten"


def analysed_again(con: Any, case_ref: str) -> None:
    """A new analysis is current again: forget why the previous one was cleared."""
    con.execute("DELETE FROM analysis_cleared WHERE case_ref = ?", [case_ref])


def table_exists(con: Any, name: str) -> bool:
    """Whether ingest has created a source table (analysis skips sources that are absent)."""
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchone()
    return bool(row and row[0])
