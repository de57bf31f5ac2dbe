"""igraph metrics on small hand-made networks: exact and sampled betweenness, Leiden, brokerage."""

from __future__ import annotations

import threading
from typing import Any

import duckdb

from palermo.analytics.graph import build_edges
from palermo.analytics.metrics import compute_metrics, start_metrics
from palermo.analytics.resolve import resolve

CASE = "TEST-1"


def _two_cliques_and_a_bridge(load: Any) -> None:
    """Phones 1x and 2x form two tight groups; +15559000 is the only link between them."""
    for group in ("1", "2"):
        phones = [f"+1555{group}00{i}" for i in range(4)]
        for a in phones:
            for b in phones:
                if a < b:
                    for hour in (9, 10, 11):
                        load.add("calls", 1, ts=f"2025-01-01 {hour}:00", caller=a, callee=b, kind="voice")
        load.add("calls", 1, ts="2025-01-02 12:00", caller="+15559000", callee=phones[0], kind="voice")


def _metric(con: duckdb.DuckDBPyConnection, phone: str, column: str) -> Any:
    row = con.execute(
        f"SELECT n.{column} FROM node_metrics n JOIN entity_members m USING (case_ref, entity_id) "
        "WHERE m.member_key = ?",
        [f"phone:{phone}"],
    ).fetchone()
    assert row is not None
    return row[0]


def _prepare(con: duckdb.DuckDBPyConnection, load: Any) -> None:
    _two_cliques_and_a_bridge(load)
    resolve(con, CASE)
    build_edges(con, CASE)


def test_the_bridge_has_the_highest_exact_betweenness(con: duckdb.DuckDBPyConnection, load: Any) -> None:
    _prepare(con, load)
    summary = compute_metrics(con, CASE)
    top = con.execute("SELECT max(betweenness) FROM node_metrics").fetchone()
    assert top is not None
    assert summary.betweenness == "exact" and _metric(con, "+15559000", "betweenness") == top[0]


def test_large_graphs_take_the_sampled_betweenness_path(con: duckdb.DuckDBPyConnection, load: Any) -> None:
    _prepare(con, load)
    summary = compute_metrics(con, CASE, exact_limit=(3, 3))
    assert summary.betweenness.startswith("sampled")


def test_leiden_separates_the_two_groups(con: duckdb.DuckDBPyConnection, load: Any) -> None:
    _prepare(con, load)
    compute_metrics(con, CASE)
    assert _metric(con, "+15551001", "community") != _metric(con, "+15552001", "community")


def test_communities_are_the_same_for_the_same_seed(con: duckdb.DuckDBPyConnection, load: Any) -> None:
    _prepare(con, load)
    compute_metrics(con, CASE, seed=3)
    first = con.execute("SELECT entity_id, community FROM node_metrics ORDER BY 1").fetchall()
    compute_metrics(con, CASE, seed=3)
    assert con.execute("SELECT entity_id, community FROM node_metrics ORDER BY 1").fetchall() == first


def test_the_bridge_is_a_broker_between_communities(con: duckdb.DuckDBPyConnection, load: Any) -> None:
    _prepare(con, load)
    compute_metrics(con, CASE)
    assert _metric(con, "+15559000", "brokerage") >= 1


def test_metrics_computed_in_a_child_process_equal_those_computed_in_process(
    con: duckdb.DuckDBPyConnection, load: Any
) -> None:
    _prepare(con, load)
    compute_metrics(con, CASE)
    here = con.execute("SELECT * FROM node_metrics ORDER BY entity_id").fetchall()
    pending = start_metrics(con, CASE, min_edges=0)
    assert pending.in_background
    pending.finish()
    assert con.execute("SELECT * FROM node_metrics ORDER BY entity_id").fetchall() == here


def test_a_cancelled_background_computation_stores_nothing(con: duckdb.DuckDBPyConnection, load: Any) -> None:
    _prepare(con, load)
    pending = start_metrics(con, CASE, min_edges=0)
    pending.cancel()
    assert not pending.in_background
    assert con.execute("SELECT count(*) FROM node_metrics").fetchone() == (0,)


def test_an_analysis_started_beside_other_threads_does_not_fork_them(
    con: duckdb.DuckDBPyConnection, load: Any
) -> None:
    """The web server starts analyses from handler threads: forking there could copy a lock another
    thread holds; the child then comes from the fork server, with the same results."""
    _prepare(con, load)
    compute_metrics(con, CASE)
    here = con.execute("SELECT * FROM node_metrics ORDER BY entity_id").fetchall()
    started: list[str | None] = []

    def analyse() -> None:
        pending = start_metrics(con, CASE, min_edges=0)
        started.append(pending.start_method)
        pending.finish()

    worker = threading.Thread(target=analyse)
    worker.start()
    worker.join()
    assert started == ["forkserver"]
    assert con.execute("SELECT * FROM node_metrics ORDER BY entity_id").fetchall() == here
