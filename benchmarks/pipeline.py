"""Issue 4's end-to-end benchmark: ingest + resolve + graph + indicators on 1 M + 1 M + 100 k rows.

One process, one run, four measurements, so the ratios compare like with like:

* **Palermo**: a fresh ``Workspace``, one case, the scenario's files registered as evidence, imported
  through ``ws.analytics.ingest_many`` (each exhibit in its own transaction, two at a time), then
  ``ws.analytics.analyze`` (resolution, graph, indicators). Timed per phase, with the peak RSS of each phase.
* **bare DuckDB**: ``read_csv`` / ``read_json`` of the same files, DuckDB guessing the types, no
  checks and no provenance: the floor ingest is compared against (target: ingest within 3x of it).
  Twice: into a database file ending with ``CHECKPOINT``, as ingest writes the workspace's
  ``analytics.duckdb`` (the like-for-like ratio), and into memory (the work without storage).
* **baseline**: ``benchmarks.baseline`` (pandas + networkx) on the same files (target: Palermo >= 10x
  faster).

Targets from the issue: <= 60 s and < 4 GB on 2 cores.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import psutil

from palermo.scenario import ScenarioFiles, Truth, TruthPerson, generate


@dataclass
class Phase:
    """One timed step."""

    name: str
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    note: str = ""


@dataclass
class Report:
    """Everything the benchmark measured."""

    scale: float
    rows: dict[str, int]
    phases: list[Phase] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)

    def seconds(self, *names: str) -> float:
        return sum(p.seconds for p in self.phases if p.name in names)

    def peak(self, *names: str) -> float:
        return max((p.peak_rss_mb for p in self.phases if p.name in names), default=0.0)


class RssSampler:
    """Polls this process's resident memory from a helper process: the peak of a phase, not of the
    process. A process, not a thread, so the code being measured runs exactly as it would without
    the benchmark (the analysis forks its metrics child only from a single-threaded process)."""

    def __init__(self, every: float = 0.05) -> None:
        self.every, self.peak = every, 0
        self._proc = psutil.Process()
        self._stop = multiprocessing.Event()
        self._peak = multiprocessing.Value("q", 0)
        self._child = multiprocessing.Process(target=_poll, args=(os.getpid(), every, self._stop, self._peak))

    def __enter__(self) -> RssSampler:
        self.peak = self._proc.memory_info().rss
        self._child.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._child.join()
        self.peak = max(self.peak, int(self._peak.value), self._proc.memory_info().rss)


def _poll(pid: int, every: float, stop: Any, peak: Any) -> None:
    """Sampler body: the highest RSS of process ``pid`` until ``stop`` is set."""
    proc = psutil.Process(pid)
    while not stop.is_set():
        peak.value = max(int(peak.value), proc.memory_info().rss)
        stop.wait(every)


@contextmanager
def timed(report: Report, name: str) -> Iterator[Phase]:
    """Time a phase and record its peak RSS."""
    gc.collect()
    phase = Phase(name)
    with RssSampler() as rss:
        started = time.perf_counter()
        yield phase
        phase.seconds = time.perf_counter() - started
    phase.peak_rss_mb = rss.peak / 2**20
    report.phases.append(phase)


def bare_duckdb(files: ScenarioFiles, database: Path | None = None) -> int:
    """Load every tabular file with DuckDB's own readers, no parsing rules: the ingest floor.

    With ``database`` the tables go to that (new) file and are checkpointed, as a workspace's are."""
    if database is not None:
        database.unlink(missing_ok=True)
        database.with_name(database.name + ".wal").unlink(missing_ok=True)
    con = duckdb.connect(str(database) if database is not None else ":memory:")
    con.execute("SET threads = 2")
    rows = 0
    for i, src in enumerate(files.sources):
        path = str(src.path).replace("'", "''")
        reader = {"bank_csv": "read_csv", "cdr_csv": "read_csv", "ads_jsonl": "read_json"}.get(src.adapter)
        if reader is None:
            reader = "read_json"
        con.execute(f"CREATE TABLE t{i} AS SELECT * FROM {reader}('{path}')")
        rows += con.execute(f"SELECT count(*) FROM t{i}").fetchone()[0]  # type: ignore[index]
    con.execute("CHECKPOINT")
    con.close()
    if database is not None:
        database.unlink(missing_ok=True)
    return rows


def accuracy(con: Any, case: str, result: Any, truth: Truth) -> dict[str, Any]:
    """Score the analysis against the ground truth: ring members among the key players, and per
    indicator the share of hits whose subject belongs to the ring or a victim (precision)."""
    owner: dict[str, TruthPerson] = {}
    for person in truth.people:
        for ident in [*person["phones"], *person["accounts"], *(e.lower() for e in person["emails"])]:
            owner[ident] = person
    for iban in truth.funnel_accounts:
        owner.setdefault(iban, truth.with_role("money_handler")[0])
    members: dict[str, set[str]] = {}
    for entity_id, value in con.execute(
        "SELECT entity_id, value FROM entity_members WHERE case_ref = ?", [case]
    ).fetchall():
        member = owner.get(str(value)) or owner.get(str(value).lower())
        if member is not None:
            members.setdefault(str(entity_id), set()).add(member["person_id"])
    ring = {p["person_id"] for p in truth.ring_members}
    guilty = ring | {p["person_id"] for p in truth.victims}
    top = [kp.entity_id for kp in getattr(result, "key_players", [])]
    found = set().union(*(members.get(e, set()) for e in top)) if top else set()
    precision: dict[str, str] = {}
    for hit in getattr(result, "indicator_hits", []):
        subject = owner.get(str(hit.subject)) or owner.get(str(hit.subject).lower())
        ok, n = precision.get(hit.indicator_id, "0/0").split("/")
        good = subject is not None and subject["person_id"] in guilty
        precision[hit.indicator_id] = f"{int(ok) + good}/{int(n) + 1}"
    relevant = sum(1 for e in top if members.get(e, set()) & guilty)
    return {"ring_members_in_top_key_players": f"{len(found & ring)}/{len(ring)} (top {len(top)})",
            "top_key_players_that_are_ring_or_victims": f"{relevant}/{len(top)}",
            "indicator_hits_on_ring_or_victims": precision}


def palermo(files: ScenarioFiles, workdir: Path, report: Report, progress: Callable[[str], None],
            truth: Truth) -> None:
    """Run the Palermo pipeline through the workspace front door."""
    from palermo.workspace import Workspace

    ws = Workspace.init(workdir / "workspace", master_key_file=workdir / "master.key", actor="benchmark")
    case = "BENCH-1"
    ws.cases.create(case, "Benchmark scenario")
    with timed(report, "register evidence") as phase:
        items = [(ws.evidence.add(case, s.path, source="synthetic scenario", acquired_by="benchmark").id, s)
                 for s in files.sources]
        phase.note = f"{len(items)} files hashed and stored"
    analytics = ws.analytics
    with timed(report, "ingest") as phase:
        progress(f"ingest {len(items)} exhibits, two at a time (Analytics.ingest_many, as palermo demo does)")
        jobs = [(evidence_id, s.adapter, s.options) for evidence_id, s in items]
        reports = analytics.ingest_many(case, jobs)
        imported = sum(r.rows_ok for r in reports)
        phase.note = f"{imported:,} rows"
    report.results["palermo_rows_imported"] = imported
    analyze = getattr(analytics, "analyze", None)
    if analyze is None:
        report.phases.append(Phase("analyze", note="not measured: Analytics.analyze() does not exist yet"))
    else:
        with timed(report, "analyze") as phase:
            progress("analyze")
            result = analyze(case)
            phase.note = "resolve + graph + indicators"
        report.results["palermo_analysis"] = _summary(result)
        report.results["accuracy"] = accuracy(analytics.connect(), case, result, truth)
    analytics.close()
    ws.close()


def _summary(result: Any) -> Any:
    to_dict = getattr(result, "to_dict", None)
    data = to_dict() if callable(to_dict) else result
    if isinstance(data, dict):
        kept = ("summary", "counts", "key_players", "hits", "timings")
        return {k: v for k, v in data.items() if k in kept} or data
    return str(data)[:2000]


def run(scale: float, seed: int, workdir: Path, baseline: bool, progress: Callable[[str], None]) -> Report:
    """Generate, then measure Palermo, the bare DuckDB floor and (optionally) the baseline."""
    workdir.mkdir(parents=True, exist_ok=True)
    data = workdir / "scenario"
    for old in (data, workdir / "workspace"):
        if old.exists():
            shutil.rmtree(old)
    (workdir / "master.key").unlink(missing_ok=True)
    report = Report(scale=scale, rows={})
    with timed(report, "generate") as phase:
        progress(f"generate scale {scale:g}")
        scenario = generate(seed=seed, scale=scale)
        files = scenario.write(data)
    report.rows = {a: files.rows(a) for a in ("bank_csv", "cdr_csv", "ads_jsonl", "phone_json")}
    phase.note = ", ".join(f"{k} {v:,}" for k, v in report.rows.items())
    with timed(report, "bare duckdb read, file") as phase:
        progress("bare DuckDB read into a database file")
        phase.note = f"{bare_duckdb(files, workdir / 'bare.duckdb'):,} rows"
    with timed(report, "bare duckdb read, memory") as phase:
        progress("bare DuckDB read into memory")
        phase.note = f"{bare_duckdb(files):,} rows"
    palermo(files, workdir, report, progress, scenario.truth)
    if baseline:
        from benchmarks import baseline as base

        with timed(report, "baseline pandas+networkx") as phase:
            progress("baseline pandas + networkx")
            found = base.run([(s.path, s.adapter) for s in files.sources])
            phase.note = f"{found['entities']:,} entities, {found['graph']['edges']:,} edges"
        report.results["baseline"] = {k: v for k, v in found.items() if k != "hits"}
    return report
