"""The benchmark's pandas + networkx baseline must do the same work as Palermo, or issue 4's "10x the
baseline" ratio means nothing: on one small scenario both must find the same entities, edges, edge
statements, indicator hits and roles (docs/performance.md, "The baseline")."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb
import pytest

from palermo.analytics.analysis import analyze
from palermo.ingest.service import ingest
from palermo.scenario import generate


def test_the_baseline_finds_what_palermo_finds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))  # the repo, for ``benchmarks``
    from benchmarks.baseline import run

    files = generate(seed=7, scale=2).write(tmp_path / "scenario")
    base = run([(s.path, s.adapter) for s in files.sources])
    con = duckdb.connect(str(tmp_path / "analytics.duckdb"))
    for evidence_id, source in enumerate(files.sources, start=1):
        ingest(con, "S-1", evidence_id, source.path, source.adapter, source.options)
    result = analyze(con, "S-1")
    counts = con.execute(
        "SELECT (SELECT count(*) FROM entities), (SELECT count(*) FROM edges), "
        "(SELECT count(*) FROM edge_statements)"
    ).fetchone()
    assert counts == (base["entities"], base["graph"]["kind_edges"], base["graph"]["edge_statements"])
    assert result.summary["edges_by_kind"] == base["graph"]["edge_kinds"]
    assert dict(Counter(h.indicator_id for h in result.indicator_hits)) == base["indicator_hits"]
    assert Counter(r.role for r in result.roles) == Counter(base["roles"].values())
    con.close()
