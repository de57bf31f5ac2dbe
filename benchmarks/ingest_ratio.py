"""Ingest vs a bare DuckDB read of the same files: issue 4's "within 3x of read_csv" target.

``python -m benchmarks.ingest_ratio [--scale 2000] [--files DIR] [--repeat 3] [--memory] [--json OUT]``

For each source kind of a ``palermo.scenario`` case (bank statement CSVs, the CDR CSV, the ads JSON
lines) it times, in this one process and on a fresh DuckDB database file each time:

* **bare**: ``CREATE TABLE t AS SELECT * FROM read_csv(file)`` (``read_json`` for the ads) -- DuckDB
  guessing the types, no checks, no provenance: the floor;
* **ingest**: ``palermo.ingest.service.ingest`` of the same file through its adapter (parse checks,
  line numbers, normalisation, identifiers, one transaction, the ``imports`` row).

Both get ``threads = 2`` (the issue's machine). With a database file (the default, as in a
workspace) both end with a ``CHECKPOINT`` so the rows are really written; ``--memory`` measures
the work alone. The machine this runs on is usually shared, so the ratio is given on CPU time
(``time.process_time``: all threads of this process) as well as on wall time, and each figure is
the best of ``--repeat`` runs; the phone caches are cleared before each run. Not part of the
test suite.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb

from palermo.ingest.normalise import normalise_account, normalise_email, normalise_phone
from palermo.ingest.service import ingest

#: The sources the target is about, and the bare DuckDB reader for each.
READERS = {"bank_csv": "read_csv", "cdr_csv": "read_csv", "ads_jsonl": "read_json"}


@dataclass
class Timing:
    """Best wall and CPU seconds over the repeats."""

    wall: float = float("inf")
    cpu: float = float("inf")

    def add(self, wall: float, cpu: float) -> None:
        self.wall, self.cpu = min(self.wall, wall), min(self.cpu, cpu)


@dataclass
class Row:
    """One source kind: its size, both timings and the two ratios."""

    adapter: str
    files: int
    rows: int
    bare: Timing
    ingest: Timing

    @property
    def wall_ratio(self) -> float:
        return self.ingest.wall / self.bare.wall

    @property
    def cpu_ratio(self) -> float:
        return self.ingest.cpu / self.bare.cpu


def _connect(path: Path | None) -> duckdb.DuckDBPyConnection:
    """A fresh database: a new file (as a workspace has), or in memory when ``path`` is None."""
    if path is not None:
        path.unlink(missing_ok=True)
        path.with_name(path.name + ".wal").unlink(missing_ok=True)
    con = duckdb.connect(str(path) if path is not None else ":memory:")
    con.execute("SET threads = 2")
    return con


def _timed(run: Callable[[], Any]) -> tuple[float, float]:
    for cached in (normalise_phone, normalise_email, normalise_account):
        cached.cache_clear()  # a repeat must not find the last run's phones already parsed
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def bare(db: Path | None, files: list[Path], reader: str) -> tuple[float, float]:
    """The floor: DuckDB's own reader into a table, types guessed, nothing else."""
    con = _connect(db)
    try:

        def run() -> None:
            for i, path in enumerate(files):
                con.execute(f"CREATE TABLE t{i} AS SELECT * FROM {reader}(?)", [str(path)])
            if db is not None:
                con.execute("CHECKPOINT")  # the data is in the file, not only in the WAL

        return _timed(run)
    finally:
        con.close()


def full(db: Path | None, files: list[tuple[Path, dict[str, Any]]], adapter: str) -> tuple[float, float]:
    """Palermo's ingest of the same files, one evidence item each."""
    con = _connect(db)
    try:
        from palermo.ingest.schema import create_schema

        create_schema(con)  # once per workspace, not part of an import

        def run() -> None:
            for i, (path, options) in enumerate(files, start=1):
                report = ingest(con, "BENCH", i, path, adapter, options)
                if report.rows_bad or report.status != "imported":
                    raise SystemExit(
                        f"{path}: unexpected import status {report.status}, bad {report.rows_bad}"
                    )
            if db is not None:
                con.execute("CHECKPOINT")

        return _timed(run)
    finally:
        con.close()


def scenario_files(scale: float, seed: int, root: Path) -> dict[str, list[tuple[Path, dict[str, Any]]]]:
    """The scenario's source files per adapter (written once under ``root``, reused afterwards)."""
    manifest = root / "ingest_ratio_manifest.json"
    if not manifest.is_file():
        from palermo.scenario import generate

        files = generate(seed=seed, scale=scale).write(root)
        manifest.write_text(json.dumps(files.to_dict()))
    sources = json.loads(manifest.read_text())["sources"]
    out: dict[str, list[tuple[Path, dict[str, Any]]]] = {}
    for s in sources:
        if s["adapter"] in READERS:
            out.setdefault(s["adapter"], []).append((Path(s["path"]), dict(s["options"])))
    return out


def measure(
    by_adapter: dict[str, list[tuple[Path, dict[str, Any]]]], repeat: int, work: Path | None
) -> list[Row]:
    rows = []
    for adapter, files in by_adapter.items():
        paths = [p for p, _ in files]
        probe = duckdb.connect()
        reader = READERS[adapter]
        count = 0
        for path in paths:
            found = probe.execute(f"SELECT count(*) FROM {reader}(?)", [str(path)]).fetchone()
            count += int(found[0]) if found else 0
        probe.close()
        row = Row(adapter, len(files), count, Timing(), Timing())
        for _ in range(repeat):
            row.bare.add(*bare(work / "bare.duckdb" if work else None, paths, reader))
            row.ingest.add(*full(work / "ingest.duckdb" if work else None, files, adapter))
        print(
            f"{adapter:10} {row.files:3} file(s) {row.rows:>9,} rows  "
            f"bare {row.bare.wall:6.2f}s wall {row.bare.cpu:6.2f}s cpu  "
            f"ingest {row.ingest.wall:6.2f}s wall {row.ingest.cpu:6.2f}s cpu  "
            f"ratio {row.wall_ratio:4.1f}x wall {row.cpu_ratio:4.1f}x cpu",
            flush=True,
        )
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--scale", type=float, default=2000, help="scenario scale (2000 = 1 M + 1 M + 100 k)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--files", type=Path, help="keep the generated files here and reuse them next time")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is kept")
    parser.add_argument("--only", choices=sorted(READERS), action="append", help="measure only these sources")
    parser.add_argument("--memory", action="store_true", help="in-memory databases instead of files")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="palermo-ingest-ratio-"))
    root = args.files or work / "files"
    root.mkdir(parents=True, exist_ok=True)
    try:
        by_adapter = scenario_files(args.scale, args.seed, root)
        if args.only:
            by_adapter = {k: v for k, v in by_adapter.items() if k in args.only}
        rows = measure(by_adapter, args.repeat, None if args.memory else work)
        bare_wall = sum(r.bare.wall for r in rows)
        bare_cpu = sum(r.bare.cpu for r in rows)
        ing_wall = sum(r.ingest.wall for r in rows)
        ing_cpu = sum(r.ingest.cpu for r in rows)
        total = f"ratio {ing_wall / bare_wall:4.1f}x wall {ing_cpu / bare_cpu:4.1f}x cpu"
        print(f"{'all':10} {total} (target <= 3x)")
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "scale": args.scale,
                        "seed": args.seed,
                        "database": "memory" if args.memory else "file",
                        "sources": [
                            {**asdict(r), "wall_ratio": r.wall_ratio, "cpu_ratio": r.cpu_ratio} for r in rows
                        ],
                        "wall_ratio": ing_wall / bare_wall,
                        "cpu_ratio": ing_cpu / bare_cpu,
                    },
                    indent=2,
                )
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
