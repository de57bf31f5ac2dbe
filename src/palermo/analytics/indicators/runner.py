"""Run the indicator catalogue over a case, store the hits and turn each into a lead for review.

Hits are stored in ``indicator_hits`` with a stable id (indicator + subject), mapped to the resolved
entity that owns the identifier, and carry every statement behind them. Leads go to the case store
through ``workspace.leads.propose``; ``indicator_leads`` remembers which hit already has a lead, so
running the analysis again never duplicates a lead that an analyst may already have reviewed.

Each lead records the imports whose rows support it, so forgetting an import can withdraw the leads
it alone supported (``palermo.store.leads.reconcile``). A withdrawn lead no longer blocks its hit:
when the evidence is imported again and the hit found again, a new lead is proposed for review.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pyarrow as pa

from palermo.analytics.backends.base import Backend
from palermo.analytics.backends.duckdb import DuckDBBackend
from palermo.analytics.ids import id_key, keyed
from palermo.analytics.indicators.catalogue import HIT_COLUMNS, Indicator, load_catalogue
from palermo.analytics.tables import create_analysis_tables, table_exists
from palermo.ingest.schema import EVIDENCE_TABLES, IMPORT_COLUMN

_DIGITS = re.compile(r"(\d+)")
_NEEDS = {"money": ("payments",), "ads": ("ads",), "communications": ("calls", "messages")}
#: Every ingest table an indicator reads (what the Spark engine must be given).
INGEST_TABLES = tuple(sorted({t for tables in _NEEDS.values() for t in tables}))


@dataclass(frozen=True)
class IndicatorHit:
    """One red flag found on one identifier, with the statements behind it."""

    hit_id: str
    indicator_id: str
    title: str
    severity: str
    subject_kind: str
    subject: str
    entity_id: str | None
    score: float
    detail: str
    supports: tuple[str, ...]
    stmt_ids: tuple[str, ...]
    evidence_ids: tuple[int, ...]
    locators: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def hit_id_for(case_ref: str, indicator_id: str, subject: str, key: str) -> str:
    """Stable across runs, so leads and explanations keep pointing at the same hit; keyed with the
    workspace's id key (:mod:`palermo.analytics.ids`) because ``subject`` is often a phone number."""
    return "hit:" + keyed(key, f"{case_ref}|{indicator_id}|{subject}")[:12]


def _unkeyed_hit_id(case_ref: str, indicator_id: str, subject: str) -> str:
    """The id a hit had before ids were keyed: a lead recorded under it is not proposed again."""
    return "hit:" + hashlib.sha1(f"{case_ref}|{indicator_id}|{subject}".encode()).hexdigest()[:12]


def run_indicators(
    con: Any, case_ref: str, indicators: Sequence[Indicator] | None = None
) -> list[IndicatorHit]:
    """Run every indicator whose source tables exist; replace the case's stored hits; return them."""
    return store_hits(con, case_ref, find_hits(con, case_ref, indicators))


#: One indicator's raw result rows, keyed by the catalogue's hit columns.
Found = list[tuple[Indicator, dict[str, Any]]]


def find_hits(
    con: Any, case_ref: str, indicators: Sequence[Indicator] | None = None, *, backend: Backend | None = None
) -> Found:
    """Run the indicators' SQL. It reads only the ingest tables, never the resolution, so
    ``analyze`` runs it on a second connection while entities are being resolved.

    ``backend`` chooses the engine: DuckDB on ``con`` by default; a :class:`SparkBackend` runs the
    same catalogue on Spark over the tables it was given (``SparkBackend.load_duckdb_tables``)."""
    engine = backend if backend is not None else DuckDBBackend(con)
    catalogue = list(indicators) if indicators is not None else list(load_catalogue())
    found: Found = []
    for ind in catalogue:
        if not all(engine.table_exists(t) for t in _NEEDS[ind.category]):
            continue
        found.extend(
            (ind, dict(zip(HIT_COLUMNS, row, strict=False)))
            for row in engine.rows(ind.sql, {"case_ref": case_ref})
        )
    return found


def store_hits(con: Any, case_ref: str, found: Found) -> list[IndicatorHit]:
    """Attribute found hits to resolved entities, replace the case's stored hits and return them."""
    create_analysis_tables(con)
    owner = _owners(con, case_ref, [f"{rec['subject_kind']}:{rec['subject']}" for _, rec in found])
    hits: list[IndicatorHit] = []
    key = id_key(con)
    for ind, rec in found:
        subject = str(rec["subject"])
        stmt_ids, locators = _statements_in_order(rec["stmt_ids"], rec["locators"])
        hits.append(
            IndicatorHit(
                hit_id=hit_id_for(case_ref, ind.id, subject, key),
                indicator_id=ind.id,
                title=ind.title,
                severity=ind.severity,
                subject_kind=str(rec["subject_kind"]),
                subject=subject,
                entity_id=owner.get(f"{rec['subject_kind']}:{subject}"),
                score=float(rec["score"] or 0.0),
                detail=str(rec["detail"] or ""),
                supports=tuple(ind.supports),
                stmt_ids=stmt_ids,
                evidence_ids=tuple(sorted(int(e) for e in rec["evidence_ids"] or ())),
                locators=locators,
            )
        )
    con.execute("DELETE FROM indicator_hits WHERE case_ref = ?", [case_ref])
    if hits:
        frame = pa.table(
            {
                "case_ref": [case_ref] * len(hits),
                "hit_id": [h.hit_id for h in hits],
                "indicator_id": [h.indicator_id for h in hits],
                "subject_kind": [h.subject_kind for h in hits],
                "subject": [h.subject for h in hits],
                "entity_id": pa.array([h.entity_id for h in hits], type=pa.string()),
                "score": pa.array([h.score for h in hits], type=pa.float64()),
                "detail": [h.detail for h in hits],
                "stmt_ids": pa.array([list(h.stmt_ids) for h in hits], type=pa.list_(pa.string())),
                "evidence_ids": pa.array([list(h.evidence_ids) for h in hits], type=pa.list_(pa.int64())),
                "locators": pa.array([list(h.locators) for h in hits], type=pa.list_(pa.string())),
            }
        )
        con.register("_palermo_hits", frame)
        try:
            con.execute("INSERT INTO indicator_hits SELECT * FROM _palermo_hits")
        finally:
            con.unregister("_palermo_hits")
    return hits


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key reading the numbers in a statement id as numbers: ``7:line:9`` before ``7:line:10``."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in _DIGITS.split(text) if part)


def _statements_in_order(
    stmt_ids: Sequence[Any] | None, locators: Sequence[Any] | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A hit's statements in exhibit and row order, whatever order the engine aggregated them in
    (Spark's differs from run to run), so a hit, its lead and its explanation read the same every
    time. The two lists are row-aligned when they are the same length, and are sorted together."""
    stmts = [str(s) for s in stmt_ids or ()]
    locs = [str(s) for s in locators or ()]
    if len(stmts) == len(locs):
        pairs = sorted(zip(stmts, locs, strict=True), key=lambda p: (_natural(p[0]), _natural(p[1])))
        return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)
    return tuple(sorted(stmts, key=_natural)), tuple(sorted(locs, key=_natural))


def _owners(con: Any, case_ref: str, keys: Sequence[str]) -> dict[str, str]:
    """member key → entity id for the hits' subjects, for attributing hits to resolved entities."""
    if not keys:
        return {}
    rows = con.execute(
        "SELECT member_key, entity_id FROM entity_members WHERE case_ref = ? "
        "AND member_key IN (SELECT unnest(?))",
        [case_ref, sorted(set(keys))],
    ).fetchall()
    return {str(k): str(e) for k, e in rows}


def reconcile_leads(con: Any, case_ref: str, workspace: Any) -> Any:
    """Put right the leads a forget left behind (its case-store COMMIT failed after DuckDB's) and
    fill in the imports of leads made before they were recorded; returns what was withdrawn and
    flagged (``palermo.store.leads.Reconciled``). The analysis runs it first, before anything may
    refuse, so a case whose last import was forgotten is repaired too."""
    return workspace.leads.reconcile(case_ref, _imports(con, case_ref))


def propose_leads(con: Any, case_ref: str, hits: Sequence[IndicatorHit], workspace: Any) -> int:
    """Create one case lead per hit that has none yet; return how many were created.

    The lead points at the first statement behind the hit (evidence id + locator) and carries the
    rest in ``detail``, so the reviewer can open the exhibit at the right row. A hit whose lead is
    still proposed widens the imports recorded on it to those behind the hit now (an exhibit read
    again after a forget), so that forgetting an import it no longer needs cannot withdraw it.
    """
    create_analysis_tables(con)
    withdrawn = {str(lead.id) for lead in workspace.leads.list(case_ref, "withdrawn")}
    led = con.execute("SELECT hit_id, lead_id FROM indicator_leads WHERE case_ref = ?", [case_ref]).fetchall()
    # a hit whose lead was withdrawn (its evidence was forgotten) may be proposed again
    lead_of = {str(hit_id): str(lead_id) for hit_id, lead_id in led if str(lead_id) not in withdrawn}
    done = set(lead_of)
    again = {str(hit_id) for hit_id, lead_id in led if str(lead_id) in withdrawn} - done
    imports = _imports(con, case_ref)
    support = _support(con, case_ref, hits) if hits else {}
    created: list[list[str]] = []
    try:
        for hit in hits:
            legacy = _unkeyed_hit_id(case_ref, hit.indicator_id, hit.subject)
            if legacy in done and hit.hit_id not in done:  # led before ids were keyed: move the record
                con.execute(
                    "UPDATE indicator_leads SET hit_id = ? WHERE case_ref = ? AND hit_id = ?",
                    [hit.hit_id, case_ref, legacy],
                )
                done.add(hit.hit_id)
                lead_of[hit.hit_id] = lead_of[legacy]
            if hit.hit_id not in done:
                lead_id = _propose(workspace, con, case_ref, hit, support.get(hit.hit_id, []), imports)
                created.append([case_ref, hit.hit_id, lead_id])
    finally:
        # recorded in one statement, even when a later proposal failed, so a re-run never
        # proposes again a lead that was created
        if created:
            replaced = sorted({row[1] for row in created} & again)
            if replaced:  # the withdrawn lead's record gives way to the new lead's
                con.execute(
                    "DELETE FROM indicator_leads WHERE case_ref = ? AND hit_id IN (SELECT unnest(?))",
                    [case_ref, replaced],
                )
            con.executemany("INSERT INTO indicator_leads VALUES (?, ?, ?)", created)
    # merged per lead: hits keyed apart may share one lead made before hit ids were keyed (the
    # legacy alias above), and each one's imports support it
    found_again: dict[int, set[int]] = {}
    for h in hits:
        if h.hit_id in lead_of and lead_of[h.hit_id].isdigit() and support.get(h.hit_id):
            found_again.setdefault(int(lead_of[h.hit_id]), set()).update(support[h.hit_id])
    if found_again:
        workspace.leads.add_support(case_ref, found_again, evidence=imports)
    return len(created)


def _imports(con: Any, case_ref: str) -> dict[int, int]:
    """import id → evidence id of every import of the case."""
    if not table_exists(con, "imports"):
        return {}
    rows = con.execute("SELECT import_id, evidence_id FROM imports WHERE case_ref = ?", [case_ref]).fetchall()
    return {int(i): int(e) for i, e in rows}


def _support(con: Any, case_ref: str, hits: Sequence[IndicatorHit]) -> dict[str, list[int]]:
    """hit id → the imports whose rows support it: those that wrote one of its statements, and
    every import of an exhibit it names none of whose statements it lists (an indicator may list
    only some of the rows it counted). Rows written before rows carried their import (``import_id``
    NULL) count for every import of their exhibit: only forgetting all of them removes those rows.
    Erring towards more support only means a lead is withdrawn later, never too early."""
    imports = _imports(con, case_ref)
    by_exhibit: dict[int, set[int]] = {}
    for import_id, evidence_id in imports.items():
        by_exhibit.setdefault(evidence_id, set()).add(import_id)
    pairs = pa.table(
        {
            "hit_id": [h.hit_id for h in hits for _ in h.stmt_ids],
            "stmt_id": [s for h in hits for s in h.stmt_ids],
        },
        schema=pa.schema([("hit_id", pa.string()), ("stmt_id", pa.string())]),
    )
    found: dict[str, set[int]] = {h.hit_id: set() for h in hits}
    seen: dict[str, set[int]] = {h.hit_id: set() for h in hits}
    con.register("_palermo_support", pairs)
    try:
        for table in EVIDENCE_TABLES:
            if not table_exists(con, table):
                continue
            rows = con.execute(
                f"SELECT DISTINCT s.hit_id, t.evidence_id, t.{IMPORT_COLUMN} FROM _palermo_support s "
                f"JOIN {table} t ON t.case_ref = ? AND t.stmt_id = s.stmt_id",
                [case_ref],
            ).fetchall()
            for hit_id, evidence_id, import_id in rows:
                seen[hit_id].add(int(evidence_id))
                found[hit_id] |= (
                    {int(import_id)} if import_id is not None else by_exhibit.get(int(evidence_id), set())
                )
    finally:
        con.unregister("_palermo_support")
    for hit in hits:
        for evidence_id in set(hit.evidence_ids) - seen[hit.hit_id]:
            found[hit.hit_id] |= by_exhibit.get(int(evidence_id), set())
    return {hit_id: sorted(ids) for hit_id, ids in found.items()}


def _propose(
    workspace: Any,
    con: Any,
    case_ref: str,
    hit: IndicatorHit,
    import_ids: Sequence[int],
    imports: dict[int, int],
) -> str:
    """Propose the lead for one hit, with the imports that support it (and the exhibit each read:
    import ids are unique only within one analytics database); return its id."""
    evidence_id = _first_evidence(con, case_ref, hit)
    lead = workspace.leads.propose(
        case_ref,
        summary=f"{hit.title}: {hit.detail} ({hit.subject_kind} {_mask(hit.subject)})",
        origin=f"indicator:{hit.indicator_id}",
        evidence_id=evidence_id[0],
        locator=evidence_id[1],
        detail={
            "hit_id": hit.hit_id,
            "indicator": hit.indicator_id,
            "severity": hit.severity,
            "entity_id": hit.entity_id,
            "supports": list(hit.supports),
            "score": hit.score,
            "statements": list(hit.stmt_ids[:200]),
            "evidence_ids": list(hit.evidence_ids),
        },
        import_ids=list(import_ids),
        import_evidence={i: imports[i] for i in import_ids if i in imports},
    )
    return str(getattr(lead, "id", None) or getattr(lead, "lead_id", None) or "")


def _first_evidence(con: Any, case_ref: str, hit: IndicatorHit) -> tuple[int | None, str | None]:
    """Evidence id and locator of the first statement behind a hit (lists are row-aligned)."""
    if not hit.stmt_ids:
        return (hit.evidence_ids[0] if hit.evidence_ids else None, None)
    prefix = hit.stmt_ids[0].split(":", 1)[0]
    evidence = int(prefix) if prefix.isdigit() else (hit.evidence_ids[0] if hit.evidence_ids else None)
    return evidence, hit.locators[0] if hit.locators else None


def _mask(subject: str) -> str:
    """Show only the end of an identifier in lead summaries: leads are read widely, numbers are personal."""
    return subject if len(subject) <= 4 else "…" + subject[-4:]
