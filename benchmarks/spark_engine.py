"""Indicators and name matching on Spark (local mode) against DuckDB: same data, same process.

``python -m benchmarks.spark_engine [--scale 200] [--seed 7] [--cores 2] [--workdir DIR] [--json OUT]``

A scenario is generated and imported into a DuckDB file through the ordinary adapters; then, timed:

* **duckdb**: ``find_hits`` (all indicators) and ``match_names`` (Splink) on DuckDB, as ``analyze`` runs them;
* **spark**: the session start (a JVM), the in-memory (Arrow) hand-over of the case's ingest tables
  (``SparkBackend.load_duckdb_tables``), then the same two steps on Spark.

It prints each time and the Spark/DuckDB ratio, checks that both engines found the same indicator hits
(exit 1 if not) and counts the name pairs only one engine found (Splink's Spark Jaro-Winkler UDF
scores some strings differently from DuckDB's). Spark local mode is not expected to win on one
machine: the figure says what the scale path costs where DuckDB would still do. Not part of the
test suite.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from palermo.analytics.backends.spark import SparkBackend, isolated, spark_session
from palermo.analytics.indicators.runner import INGEST_TABLES, Found, find_hits
from palermo.analytics.mentions import summarise_mentions
from palermo.analytics.names import match_names
from palermo.analytics.resolve import _deterministic_links
from palermo.ingest.schema import create_schema
from palermo.ingest.service import ingest
from palermo.scenario import generate

CASE = "SPARK-BENCH"
T = TypeVar("T")


def _timed(times: dict[str, float], name: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    times[name] = round(time.perf_counter() - start, 3)
    print(f"  {name:34} {times[name]:8.2f} s", flush=True)
    return out


def _hits(found: Found) -> list[tuple[Any, ...]]:
    return sorted((i.id, r["subject"], r["detail"], tuple(sorted(r["stmt_ids"] or ()))) for i, r in found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.spark_engine", description=__doc__)
    parser.add_argument("--scale", type=float, default=200, help="200 = 100 k + 100 k + 10 k rows")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cores", type=int, default=2, help="Spark local[N] and DuckDB threads")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="palermo-spark-bench-"))
    print(f"spark engine benchmark: scale {args.scale:g}, seed {args.seed}, {args.cores} cores, in {workdir}")
    files = generate(seed=args.seed, scale=args.scale).write(workdir / "files")
    con = duckdb.connect(str(workdir / "analytics.duckdb"))
    con.execute(f"SET threads = {args.cores}")
    create_schema(con)
    for evidence_id, source in enumerate(files.sources, start=1):
        ingest(con, CASE, evidence_id, source.path, source.adapter, source.options)
    rows = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in INGEST_TABLES}  # type: ignore[index]
    print(f"  imported {rows}")
    _ids, named, _total = summarise_mentions(con, CASE)
    _links, raw_names = _deterministic_links(con, CASE, named)
    keys = sorted(raw_names)

    times: dict[str, float] = {}
    duck_hits = _timed(times, "duckdb indicators", find_hits, con, CASE)
    duck_pairs = _timed(times, "duckdb name matching", match_names, keys, 0.85)
    session = _timed(times, "spark session start", spark_session, cores=args.cores)
    with isolated(session) as own:
        backend = SparkBackend(own)
        hand_over = backend.load_duckdb_tables
        _timed(times, "spark hand-over (Arrow)", hand_over, con, INGEST_TABLES, case_ref=CASE)
        spark_hits = _timed(times, "spark indicators", find_hits, con, CASE, backend=backend)
    spark_pairs = _timed(times, "spark name matching", match_names, keys, 0.85, spark=session)
    same = _hits(spark_hits) == _hits(duck_hits)
    # Splink's Spark UDF for Jaro-Winkler differs from DuckDB's on some strings (linkage.link_records)
    only_one = {p[:2] for p in spark_pairs} ^ {p[:2] for p in duck_pairs}
    ratios = {
        "indicators_spark_over_duckdb": round(times["spark indicators"] / times["duckdb indicators"], 1),
        "names_spark_over_duckdb": round(times["spark name matching"] / times["duckdb name matching"], 1),
    }
    for key, value in ratios.items():
        print(f"  {key:34} {value}")
    print(f"  same indicator hits on both engines: {same} ({len(duck_hits)} hits)")
    print(f"  name pairs: {len(duck_pairs)} on DuckDB, {len(spark_pairs)} on Spark, {len(only_one)} on one")
    if args.json:
        figures = {"scale": args.scale, "rows": rows, "times": times, "ratios": ratios, "same_hits": same,
                   "pairs": [len(duck_pairs), len(spark_pairs), len(only_one)]}
        args.json.write_text(json.dumps(figures, indent=1))
    con.close()
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)  # a synthetic case, but gigabytes of it
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
