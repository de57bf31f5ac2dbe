"""Run the end-to-end benchmark: ``python -m benchmarks [--scale 2000] [--seed 7] [--no-baseline]``.

Prints one line per phase and the ratios issue 4 sets targets for; ``--json FILE`` keeps the
figures for ``docs/performance.md``. Not part of the test suite: it takes minutes and gigabytes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from benchmarks.pipeline import Report, run


def ratios(report: Report) -> dict[str, float | None]:
    """The figures the targets are about."""
    ingest = report.seconds("ingest")
    analyze = report.seconds("analyze")
    palermo = ingest + analyze
    bare = report.seconds("bare duckdb read, file")
    bare_memory = report.seconds("bare duckdb read, memory")
    base = report.seconds("baseline pandas+networkx")
    rows = sum(report.rows.values())
    return {
        "palermo_seconds": round(palermo, 2),
        "palermo_rows_per_s": round(rows / palermo) if palermo else None,
        "palermo_peak_rss_gb": round(report.peak("ingest", "analyze") / 1024, 2),
        "ingest_over_bare_duckdb": round(ingest / bare, 2) if bare else None,
        "ingest_over_bare_in_memory": round(ingest / bare_memory, 2) if bare_memory else None,
        "baseline_over_palermo": round(base / palermo, 2) if base and palermo else None,
        "baseline_peak_rss_gb": round(report.peak("baseline pandas+networkx") / 1024, 2) if base else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--scale", type=float, default=2000, help="scenario scale (2000 = 1 M + 1 M + 100 k rows)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=None, help="where to write (default: a temp folder)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the pandas + networkx baseline")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="palermo-bench-"))
    print(
        f"benchmark: scale {args.scale:g}, seed {args.seed}, {os.cpu_count()} CPUs, in {workdir}", flush=True
    )
    report = run(
        args.scale,
        args.seed,
        workdir,
        not args.no_baseline,
        lambda msg: print(f"  … {msg}", file=sys.stderr, flush=True),
    )
    for phase in report.phases:
        print(f"{phase.name:28} {phase.seconds:8.2f} s  peak {phase.peak_rss_mb:8.0f} MB  {phase.note}")
    figures = ratios(report)
    for key, value in figures.items():
        print(f"{key:28} {value}")
    for key, value in report.results.get("accuracy", {}).items():
        print(f"{key:28} {value}")
    if args.json:
        args.json.write_text(json.dumps({"report": asdict(report), "ratios": figures}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
