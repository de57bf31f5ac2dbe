"""``analyze``: the whole investigative pipeline for one case, and the views built on its results.

Order: resolve identities (the indicators' SQL runs alongside on a second connection) → build the
network → metrics (igraph, in a child process on large graphs) alongside storing the indicator hits
and inferring roles → key players → (optionally) leads in the case store. Each step stores its
output in DuckDB, so the CLI, the web app and notebooks read the same results, and ``explain`` can
trace any of them to the evidence."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import duckdb

from palermo.analytics.backends.spark import SparkBackend, isolated, spark_session
from palermo.analytics.features import compute_features
from palermo.analytics.graph import build_edges
from palermo.analytics.indicators.runner import (
    INGEST_TABLES,
    Found,
    IndicatorHit,
    find_hits,
    propose_leads,
    reconcile_leads,
    store_hits,
)
from palermo.analytics.keyplayers import KeyPlayer, key_players
from palermo.analytics.metrics import GraphSummary, start_metrics
from palermo.analytics.resolve import Resolution, resolve
from palermo.analytics.roles import Role, infer_roles
from palermo.analytics.tables import analysed_again, create_analysis_tables, table_exists
from palermo.errors import InputError, NotFoundError

Progress = Callable[[str], None]
#: Where the analysis can run: DuckDB alone, or Spark for the steps that scale with the data.
ENGINES = ("duckdb", "spark")
STEPS = ("resolve", "network", "graph load", "indicators", "roles", "metrics", "key players", "leads")


@dataclass
class AnalysisResult:
    """Everything one run found, ready for a table, JSON or a template."""

    case_ref: str
    summary: dict[str, Any]
    key_players: list[KeyPlayer]
    communities: list[dict[str, Any]]
    roles: list[Role]
    indicator_hits: list[IndicatorHit]
    flagged: list[dict[str, Any]]
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def analyze(
    con: Any,
    case_ref: str,
    workspace: Any | None = None,
    *,
    top: int = 10,
    progress: Progress | None = None,
    engine: str = "duckdb",
) -> AnalysisResult:
    """Run the pipeline on a case's ingested data; with a workspace, also propose indicator leads.

    ``engine="spark"`` runs the set-based steps that scale with the data on a local Spark session:
    the indicator catalogue (over the case's ingest tables, handed over in memory) and
    Splink's name matching. Everything else is the same code on either engine, so the results agree.
    """
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}", location="engine")
    create_analysis_tables(con)
    con.execute("SET enable_progress_bar = false")  # the CLI draws its own progress; DuckDB's would garble it
    reconciled: Any = None
    if workspace is not None:
        workspace.cases.get(case_ref)  # an unknown case is the user's mistake: NotFoundError, exit 2
        # before anything may refuse: a forget of the case's last import whose case-store COMMIT
        # failed after DuckDB's left leads waiting on rows that are gone, and only this repairs them
        reconciled = reconcile_leads(con, case_ref, workspace)
    if not any(_row_counts(con, case_ref).values()):
        raise NotFoundError(
            f"nothing has been imported for case {case_ref}: "
            f"run `palermo ingest {case_ref} EVIDENCE_ID` first",
            location="case",
        )
    timings: dict[str, float] = {}
    tick = time.perf_counter()

    def step(name: str) -> None:
        nonlocal tick
        now = time.perf_counter()
        timings[name] = round(now - tick, 3)
        tick = now
        if progress:
            progress(name)

    # The indicators' SQL reads only the ingest tables: it runs on a second connection while the
    # resolution below is busy in Python and Splink (DuckDB releases the GIL while it executes).
    with _spark_engine(con, case_ref, engine == "spark") as spark:
        find = find_hits if spark is None else partial(find_hits, backend=spark)
        with _Background(con, find, case_ref) as finding:
            resolution: Resolution = resolve(con, case_ref, spark=None if spark is None else spark.session)
            step("resolve")
            found = finding.result()
    n_edges = build_edges(con, case_ref)
    step("network")
    pending = start_metrics(con, case_ref)  # igraph runs in a child process on large graphs …
    step("graph load")
    try:
        hits = store_hits(con, case_ref, found)  # … while DuckDB stores the indicators and features
        step("indicators")
        features = compute_features(con, case_ref)
        roles = infer_roles(con, case_ref, hits, features)
        _store_roles(con, case_ref, roles)
        step("roles")
    except BaseException:
        pending.cancel()
        raise
    graph: GraphSummary = pending.finish()
    step("metrics")
    players = key_players(con, case_ref, top=top, features=features)
    step("key players")
    leads = propose_leads(con, case_ref, hits, workspace) if workspace is not None else 0
    step("leads")
    analysed_again(con, case_ref)  # results are current again, whatever import was forgotten before
    summary = {
        "rows": _row_counts(con, case_ref),
        "resolution": resolution.to_dict(),
        "graph": graph.to_dict(),
        "edges_by_kind": dict(
            con.execute(
                "SELECT kind, count(*) FROM edges WHERE case_ref = ? GROUP BY kind ORDER BY kind", [case_ref]
            ).fetchall()
        ),
        "edges": n_edges,
        "indicator_hits": dict(sorted(Counter(h.indicator_id for h in hits).items())),
        "roles": dict(sorted(Counter(r.role for r in roles.values()).items())),
        "leads_created": leads,
        # leads a forget left behind, put right now (ids; empty when there was nothing to repair)
        "leads_withdrawn": list(reconciled.withdrawn) if reconciled is not None else [],
        "leads_flagged": list(reconciled.flagged) if reconciled is not None else [],
    }
    return AnalysisResult(
        case_ref=case_ref,
        summary=summary,
        key_players=players,
        communities=communities(con, case_ref),
        roles=sorted(roles.values(), key=lambda r: (r.role, r.entity_id)),
        indicator_hits=hits,
        flagged=flagged(con, case_ref),
        timings=timings,
    )


@contextmanager
def _spark_engine(con: Any, case_ref: str, wanted: bool) -> Iterator[SparkBackend | None]:
    """A Spark backend holding the case's ingest tables as views, or ``None`` for DuckDB only.

    The views hold every number and name of the evidence: they are handed over in memory (no copy
    on disk) and live in a session of their own, so no other analysis in the process sees them; on
    the way out, even on an error, they are uncached and dropped."""
    if not wanted:
        yield None
        return
    with isolated(spark_session()) as session:
        backend = SparkBackend(session)
        backend.load_duckdb_tables(con, INGEST_TABLES, case_ref=case_ref)
        yield backend


class _Background:
    """``find(cursor, case_ref)`` in a thread on its own DuckDB connection to the same database;
    ``result()`` waits for it. Connections without ``cursor()`` run it in the caller instead."""

    def __init__(self, con: Any, find: Callable[[Any, str], Found], case_ref: str) -> None:
        self._con, self._find, self._case_ref = con, find, case_ref
        self._cursor: Any = None
        self._pool: ThreadPoolExecutor | None = None
        self._future: Future[Found] | None = None

    def __enter__(self) -> _Background:
        if isinstance(self._con, duckdb.DuckDBPyConnection):
            self._cursor = self._con.cursor()
            self._cursor.execute("SET enable_progress_bar = false")
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="palermo-indicators")
            self._future = self._pool.submit(self._find, self._cursor, self._case_ref)
        return self

    def result(self) -> Found:
        if self._future is None:
            return self._find(self._con, self._case_ref)
        return self._future.result()

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if self._cursor is not None:
            self._cursor.close()


def _store_roles(con: Any, case_ref: str, roles: Mapping[str, Role]) -> None:
    con.execute("DELETE FROM entity_roles WHERE case_ref = ?", [case_ref])
    if roles:
        con.executemany(
            "INSERT INTO entity_roles VALUES (?, ?, ?, ?, ?)",
            [[case_ref, r.entity_id, r.role, r.ring, r.reasons] for r in roles.values()],
        )


def _row_counts(con: Any, case_ref: str) -> dict[str, int]:
    out = {}
    for table in ("payments", "calls", "messages", "contacts", "ads", "identifiers", "ftm_entities"):
        if table_exists(con, table):
            row = con.execute(f"SELECT count(*) FROM {table} WHERE case_ref = ?", [case_ref]).fetchone()
            out[table] = int(row[0]) if row else 0
    return out


def flagged(con: Any, case_ref: str) -> list[dict[str, Any]]:
    """The suspected ring: entities with a ring role, with their identifiers and reasons."""
    rows = con.execute(
        """SELECT r.entity_id, e.label, r.role, r.reasons, e.phones, e.emails, e.accounts
           FROM entity_roles r JOIN entities e ON e.case_ref = r.case_ref AND e.entity_id = r.entity_id
           WHERE r.case_ref = ? AND r.ring ORDER BY r.role, r.entity_id""",
        [case_ref],
    ).fetchall()
    keys = ("entity_id", "label", "role", "reasons", "phones", "emails", "accounts")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def communities(con: Any, case_ref: str, limit: int = 20) -> list[dict[str, Any]]:
    """Leiden communities, largest first, with their most central members and suspected roles."""
    rows = con.execute(
        """SELECT m.community, m.entity_id, e.label, m.pagerank, r.role
           FROM node_metrics m JOIN entities e ON e.case_ref = m.case_ref AND e.entity_id = m.entity_id
           LEFT JOIN entity_roles r ON r.case_ref = m.case_ref AND r.entity_id = m.entity_id
           WHERE m.case_ref = ? ORDER BY m.community, m.pagerank DESC""",
        [case_ref],
    ).fetchall()
    groups: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        groups[int(row[0])].append(row)
    out = []
    for cid, members in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0]))[:limit]:
        roles = Counter(str(m[4]) for m in members if m[4])
        out.append(
            {
                "community": cid,
                "size": len(members),
                "top_members": [
                    {"entity_id": m[1], "label": m[2], "pagerank": round(float(m[3]), 5)} for m in members[:5]
                ],
                "suspected_roles": dict(roles),
            }
        )
    return out


def network(
    con: Any, case_ref: str, filters: Mapping[str, Any] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Nodes and edges for cytoscape.js; filters: ``kinds``, ``community``, ``entity`` (+ neighbours),
    ``ring_only`` and ``max_nodes`` (highest PageRank first, default 500)."""
    f = dict(filters or {})
    kinds = list(f.get("kinds") or [])
    limit = int(f.get("max_nodes") or 500)
    nodes = con.execute(
        """SELECT e.entity_id, e.label, m.community, r.role, coalesce(r.ring, FALSE), m.pagerank
           FROM entities e JOIN node_metrics m ON m.case_ref = e.case_ref AND m.entity_id = e.entity_id
           LEFT JOIN entity_roles r ON r.case_ref = e.case_ref AND r.entity_id = e.entity_id
           WHERE e.case_ref = ? ORDER BY m.pagerank DESC""",
        [case_ref],
    ).fetchall()
    edges = con.execute(
        "SELECT edge_id, kind, src, dst, weight, n, first_ts, last_ts FROM edges WHERE case_ref = ?",
        [case_ref],
    ).fetchall()
    if kinds:
        edges = [e for e in edges if e[1] in kinds]
    keep = {n[0] for n in nodes}
    if f.get("community") is not None:
        keep = {n[0] for n in nodes if n[2] == int(f["community"])}
    if f.get("ring_only"):
        keep &= {n[0] for n in nodes if n[4]}
    if f.get("entity"):
        centre = str(f["entity"])
        keep &= {centre} | {e[3] for e in edges if e[2] == centre} | {e[2] for e in edges if e[3] == centre}
    chosen = [n for n in nodes if n[0] in keep][:limit]
    ids = {n[0] for n in chosen}
    return {
        "nodes": [
            {
                "data": {
                    "id": n[0],
                    "label": n[1],
                    "community": n[2],
                    "role": n[3],
                    "ring": bool(n[4]),
                    "score": round(float(n[5]), 6),
                }
            }
            for n in chosen
        ],
        "edges": [
            {
                "data": {
                    "id": e[0],
                    "kind": e[1],
                    "source": e[2],
                    "target": e[3],
                    "weight": float(e[4]),
                    "count": int(e[5]),
                    "first_ts": e[6].isoformat() if e[6] else None,
                    "last_ts": e[7].isoformat() if e[7] else None,
                }
            }
            for e in edges
            if e[2] in ids and e[3] in ids
        ],
    }
