"""Network metrics with igraph: components, weighted PageRank, betweenness, Leiden, brokerage.

Why these: PageRank finds who the traffic of calls, messages and money flows around; betweenness
finds who sits between the others (a controller between victims and buyers, a handler between
depositors and the wires abroad); Leiden communities separate the ring from the innocent population;
brokerage counts how many *other* communities an entity's contacts belong to, the classic
signature of a go-between; *inner circle* is the mean PageRank of an entity's four most central
contacts (missing ones count as zero), because covert leaders keep few contacts, and those few are
the busiest lieutenants (in VAST 2008 the suspected leader talks almost only to the four hubs).

Betweenness is O(n·m): on a large graph (the benchmark has about a million edges) it is
estimated from a fixed, seeded sample of source vertices, which keeps the
ranking and costs O(k·m); exact values are used when the graph is small enough to afford them.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass
from typing import Any

import igraph as ig
import pandas as pd

#: Above either bound betweenness is sampled instead of exact.
EXACT_MAX_NODES = 5_000
EXACT_MAX_EDGES = 50_000
SAMPLE_SOURCES = 48
INNER_CIRCLE = 4


@dataclass(frozen=True)
class GraphSummary:
    """Sizes and the method used, for the analysis summary and for the court ("how was this computed")."""

    nodes: int
    edges: int
    components: int
    communities: int
    betweenness: str

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def load_graph(con: Any, case_ref: str) -> ig.Graph:
    """The case's entity graph as undirected and weighted (parallel edges of all kinds summed)."""
    frame = con.execute(
        "SELECT least(src, dst) AS a, greatest(src, dst) AS b, sum(weight) AS weight FROM edges "
        "WHERE case_ref = ? GROUP BY ALL ORDER BY a, b",
        [case_ref],
    ).df()
    return ig.Graph.DataFrame(frame, directed=False, use_vids=False) if len(frame) else ig.Graph()


def compute_metrics(
    con: Any,
    case_ref: str,
    *,
    seed: int = 7,
    exact_limit: tuple[int, int] = (EXACT_MAX_NODES, EXACT_MAX_EDGES),
) -> GraphSummary:
    """Compute and store ``node_metrics`` for every entity in an edge; return the summary.

    ``exact_limit`` is the (nodes, edges) size above which betweenness is sampled.
    """
    con.execute("DELETE FROM node_metrics WHERE case_ref = ?", [case_ref])
    graph = load_graph(con, case_ref)
    n, m = graph.vcount(), graph.ecount()
    if n == 0:
        return GraphSummary(0, 0, 0, 0, "none")
    weights = graph.es["weight"]
    components = graph.connected_components().membership
    pagerank = graph.pagerank(weights="weight", directed=False)
    method = "exact"
    distance = [1.0 / w for w in weights]
    if n <= exact_limit[0] and m <= exact_limit[1]:
        betweenness = graph.betweenness(directed=False, weights=distance)
    else:
        rng = random.Random(seed)
        sources = sorted(rng.sample(range(n), min(SAMPLE_SOURCES, n)))
        partial = graph.betweenness(directed=False, sources=sources)
        betweenness = [b * n / len(sources) for b in partial]
        method = f"sampled ({len(sources)} seeded sources, unweighted)"
    communities = _leiden(graph, seed)
    brokerage = _brokerage(graph, communities)
    inner = _inner_circle(graph, pagerank)
    strength = graph.strength(weights="weight")
    frame = pd.DataFrame(
        {
            "case_ref": case_ref,
            "entity_id": graph.vs["name"],
            "component": components,
            "community": communities,
            "degree": graph.degree(),
            "strength": strength,
            "pagerank": pagerank,
            "betweenness": betweenness,
            "brokerage": brokerage,
            "inner_circle": inner,
        }
    )
    con.register("_palermo_metrics", frame)
    try:
        con.execute("INSERT INTO node_metrics SELECT * FROM _palermo_metrics")
    finally:
        con.unregister("_palermo_metrics")
    return GraphSummary(n, m, len(set(components)), len(set(communities)), method)


def _leiden(graph: ig.Graph, seed: int) -> list[int]:
    """Leiden communities (modularity, weighted), deterministic for a seed, numbered by size."""
    previous = random.getstate()
    ig.set_random_number_generator(random.Random(seed))
    try:
        clusters = graph.community_leiden(objective_function="modularity", weights="weight", n_iterations=5)
    finally:
        ig.set_random_number_generator(random)
        random.setstate(previous)
    order = sorted(range(len(clusters)), key=lambda c: (-len(clusters[c]), min(clusters[c])))
    renumber = {old: new + 1 for new, old in enumerate(order)}
    return [renumber[c] for c in clusters.membership]


def _inner_circle(graph: ig.Graph, pagerank: list[float], k: int = INNER_CIRCLE) -> list[float]:
    """Mean PageRank of each vertex's ``k`` most central neighbours (absent neighbours count as 0)."""
    out = []
    for v in range(graph.vcount()):
        top = heapq.nlargest(k, (pagerank[u] for u in graph.neighbors(v)))
        out.append(sum(top) / k)
    return out


def _brokerage(graph: ig.Graph, communities: list[int]) -> list[int]:
    """How many communities other than its own an entity's neighbours belong to."""
    out = []
    for v in range(graph.vcount()):
        own = communities[v]
        out.append(len({communities[u] for u in graph.neighbors(v)} - {own}))
    return out
