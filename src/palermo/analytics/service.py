"""The analytics front door: ``ws.analytics`` for the CLI, the web app and notebooks alike.

One object per workspace, as splink's ``Linker`` is one object per linkage: it owns the DuckDB
connection to ``<workspace>/analytics.duckdb`` and exposes each capability as a one-line delegation
to the module that implements it, so the class stays small while ingest and analysis grow.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb

from palermo.analytics import analysis, export, judgements, keyplayers
from palermo.analytics import explain as explain_mod
from palermo.analytics import timeline as timeline_mod
from palermo.analytics.analysis import AnalysisResult
from palermo.analytics.conflicts import Conflict, find_conflicts
from palermo.analytics.explain import Explanation
from palermo.analytics.judgements import Judgement
from palermo.analytics.keyplayers import KeyPlayer
from palermo.analytics.redaction import Redaction
from palermo.analytics.tables import clear_forgotten, create_analysis_tables
from palermo.analytics.timeline import Event
from palermo.errors import ConfigurationError, NotFoundError
from palermo.ingest.marking import ExportMarking
from palermo.ingest.normalise import DEFAULT_REGION
from palermo.ingest.schema import create_schema
from palermo.ingest.service import (
    ForgetReport,
    ImportRecord,
    ImportReport,
    Progress,
    forget,
    ingest,
    list_imports,
)
from palermo.store.leads import reconcile as reconcile_leads
from palermo.store.repository import case_by_ref as ctx_case


class Analytics:
    """Investigative analytics over one workspace (ingest now; analysis methods are added alongside)."""

    def __init__(self, workspace: Any) -> None:
        self.workspace = workspace
        self._con: duckdb.DuckDBPyConnection | None = None

    @property
    def path(self) -> Path:
        """Where the analytics database lives: one DuckDB file per workspace."""
        return Path(self.workspace.path) / "analytics.duckdb"

    def connect(self) -> duckdb.DuckDBPyConnection:
        """The workspace's DuckDB connection, opened once and with the ingest tables created."""
        if self._con is None:
            try:
                self._con = duckdb.connect(str(self.path))
            except duckdb.IOException as exc:  # another process holds DuckDB's write lock
                raise ConfigurationError(
                    f"the analytics database is in use by another process: {exc}", location=str(self.path)
                ) from exc
            create_schema(self._con)
        return self._con

    def close(self) -> None:
        """Release the DuckDB file (DuckDB allows one writing process per file)."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def ingest(
        self,
        case_ref: str,
        evidence_id: int,
        adapter: str,
        options: Mapping[str, Any] | None = None,
        skip_bad_rows: bool = False,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Import one evidence item of the case through an adapter (atomic and idempotent)."""
        path, name = self._evidence_file(case_ref, evidence_id)
        report = ingest(
            self.connect(),
            case_ref,
            evidence_id,
            path,
            adapter,
            options or {},
            skip_bad_rows=skip_bad_rows,
            progress=progress,
            display_name=name,
            expected_sha256=self.workspace.evidence.get(evidence_id).sha256,
        )
        self._audit_import(report, options)
        return report

    def _audit_import(self, report: ImportReport, options: Mapping[str, Any] | None) -> None:
        """Record a done import in the case's audit trail (``ingest.import``): which exhibit, as which
        digest, by which adapter, with which option *names* (a value such as ``device_owner`` is a
        phone number, maybe a victim's), how many rows, and how many values per property FtM's cleaning
        dropped (so the loss outlives the terminal it was printed on). Written once the import has
        committed: an import is idempotent, so one whose record failed is done again, and recorded, by a
        re-run."""
        ctx = getattr(self.workspace, "ctx", None)
        if ctx is None or report.status == "already_imported":
            return
        case = self.workspace.cases.get(report.case_ref)
        with ctx.db.transaction() as session:
            ctx.audit.record(
                session,
                actor=getattr(self.workspace, "actor", None) or "unknown",
                action="ingest.import",
                object_type="evidence",
                object_id=report.evidence_id,
                case_id=case.id,
                outcome="success" if report.status == "imported" else "partial",
                detail={
                    "import_id": report.import_id,
                    "adapter": report.adapter,
                    "sha256": report.sha256,
                    "options": sorted(str(k) for k in (options or {})),
                    "rows_ok": report.rows_ok,
                    "rows_bad": report.rows_bad,
                    # counts per property name only (FtM groups names not in its schema), never values
                    "dropped": dict(sorted(report.dropped.items())),
                },
            )

    def ingest_many(
        self,
        case_ref: str,
        jobs: Sequence[tuple[int, str, Mapping[str, Any] | None]],
        *,
        skip_bad_rows: bool = False,
        workers: int = 2,
    ) -> list[ImportReport]:
        """Import several evidence items ``(evidence_id, adapter, options)``, up to ``workers`` at once.

        Raises the first failure once all have finished; :meth:`ingest_outcomes` returns each
        exhibit's report or error instead.

        Why: one import keeps only about one core busy (DuckDB's inserts wait on its parse, the
        phones not answered in SQL go through ``phonenumbers`` in Python), so on the two cores issue
        4 budgets, two imports side by side finish the scenario's eight exhibits about a fifth sooner.
        Each import is exactly :meth:`ingest` on its own cursor of the workspace database, in its
        own transaction: DuckDB appends from concurrent transactions without conflict, so each one
        stays atomic and idempotent. The largest files start first. When some fail, the others are
        kept (a re-run skips what was imported) and, once all have finished, the first failure in
        ``jobs`` order is raised. Reports come back in ``jobs`` order.
        """
        outcomes = self.ingest_outcomes(case_ref, jobs, skip_bad_rows=skip_bad_rows, workers=workers)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return [r for r in outcomes if isinstance(r, ImportReport)]

    def ingest_outcomes(
        self,
        case_ref: str,
        jobs: Sequence[tuple[int, str, Mapping[str, Any] | None]],
        *,
        skip_bad_rows: bool = False,
        workers: int = 2,
    ) -> list[ImportReport | BaseException]:
        """:meth:`ingest_many`, but each exhibit's report *or* error, in ``jobs`` order: what a
        caller needs to say which imports succeeded when another failed (``palermo ingest``)."""
        con = self.connect()
        # the case store is read here, in this thread; the workers only touch their DuckDB cursors
        known = [
            (
                i,
                int(e),
                a,
                o,
                (*self._evidence_file(case_ref, int(e)), self.workspace.evidence.get(int(e)).sha256),
            )
            for i, (e, a, o) in enumerate(jobs)
        ]
        order = sorted(known, key=lambda job: -os.path.getsize(job[4][0]))

        def run(
            job: tuple[int, int, str, Mapping[str, Any] | None, tuple[Path, str | None, str]],
        ) -> ImportReport:
            _, evidence_id, adapter, options, (path, name, sha256) = job
            cursor = con.cursor()
            try:
                return ingest(
                    cursor,
                    case_ref,
                    evidence_id,
                    path,
                    adapter,
                    options or {},
                    skip_bad_rows=skip_bad_rows,
                    display_name=name,
                    expected_sha256=sha256,
                )
            finally:
                cursor.close()

        # one exhibit named twice (or added twice: the store gives a file one id) is imported once;
        # the repeats report "already_imported", as they would one after the other
        first: dict[tuple[int, str, str | None], int] = {}
        repeats: dict[int, int] = {}
        for index, evidence_id, adapter, options, _ in known:
            mapping = (options or {}).get("mapping")
            key = (evidence_id, adapter, Path(str(mapping)).stem if mapping else None)
            if key in first:
                repeats[index] = first[key]
            else:
                first[key] = index
        results: dict[int, ImportReport | BaseException] = {}
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="palermo-ingest") as pool:
            futures = {job[0]: pool.submit(run, job) for job in order if job[0] not in repeats}
            for index, future in futures.items():
                error = future.exception()
                results[index] = error if error is not None else future.result()
        for index, done in results.items():  # in this thread: the case store is not the workers'
            if isinstance(done, ImportReport):
                try:
                    self._audit_import(done, known[index][3])
                except Exception as exc:  # reported like the import's own failure
                    results[index] = exc
        for index, original in repeats.items():
            done = results[original]
            results[index] = (
                done
                if isinstance(done, BaseException)
                else replace(
                    done, status="already_imported", rows_ok=0, rows_bad=0, tables={}, bad_rows=[], dropped={}
                )
            )
        return [outcome for _, outcome in sorted(results.items())]

    def forget(
        self, case_ref: str, import_id: int, *, actor: str | None = None, whole_exhibit: bool = False
    ) -> ForgetReport:
        """Undo one import of the case: its rows in every table and its import record go, with the
        case's analysis results (built from them), in one DuckDB transaction; the exhibit can then
        be imported again, with another adapter or other options.

        Audited like every other change to a case (``ingest.forget``: the import and evidence ids,
        the adapter and the rows removed per table, never a value). The audit record is written in a
        case-store transaction that commits only once DuckDB has committed, so a failure on either
        side leaves the rows, the analysis and the log as they were.

        Leads stay the reviewers' records, but not blindly: in that same case-store transaction a
        proposed lead whose every supporting import is now gone is withdrawn, and an accepted lead
        that lost any of its support is flagged for review (``palermo.store.leads.reconcile``). Were
        the case store's COMMIT to fail after DuckDB's, the next ``analyze`` reconciles the leads
        with the imports that are left, so they cannot stay out of step. ``whole_exhibit``: every
        import of the exhibit and all its rows (see :func:`palermo.ingest.service.forget`).
        """
        case = self.workspace.cases.get(case_ref)  # an unknown case: NotFoundError, exit 2
        ctx = getattr(self.workspace, "ctx", None)
        who = actor or getattr(self.workspace, "actor", None) or "unknown"

        @contextmanager
        def finish(con: Any, report: ForgetReport) -> Iterator[None]:
            also = tuple(report.also_forgotten)
            report.analysis_cleared = clear_forgotten(
                con, case_ref, report.import_id, report.evidence_id, also
            )
            if ctx is None:
                yield
                return
            surviving = _surviving_imports(con, case_ref)  # inside the transaction: the import is gone
            with ctx.db.transaction() as session:
                changed = reconcile_leads(
                    ctx,
                    session,
                    ctx_case(session, case_ref),
                    surviving,
                    actor=who,
                    forgotten=dict.fromkeys((report.import_id, *also), report.evidence_id),
                )
                report.leads_withdrawn, report.leads_flagged = changed.withdrawn, changed.flagged
                ctx.audit.record(
                    session,
                    actor=who,
                    action="ingest.forget",
                    object_type="case",
                    object_id=case.id,
                    case_id=case.id,
                    detail={
                        "import_id": report.import_id,
                        "evidence_id": report.evidence_id,
                        "adapter": report.adapter,
                        "rows_removed": dict(report.tables),
                        "analysis_cleared": sorted(report.analysis_cleared),
                        "also_forgotten": list(also),
                        "leads_withdrawn": changed.withdrawn,
                        "leads_flagged": changed.flagged,
                    },
                )
                yield  # DuckDB commits here; the audit record commits after it, or not at all

        return forget(self.connect(), case_ref, import_id, finish=finish, whole_exhibit=whole_exhibit)

    def imports(self, case_ref: str) -> list[ImportRecord]:
        """The imports done for a case, oldest first (an unknown case is an error, not an empty list)."""
        self.workspace.cases.get(case_ref)
        return list_imports(self.connect(), case_ref)

    # --- analysis: one-line delegations to palermo.analytics.{analysis,keyplayers,explain,...} ---
    def analyze(
        self, case_ref: str, *, top: int = 10, progress: Any = None, engine: str = "duckdb"
    ) -> AnalysisResult:
        """Resolve, build the network, rank key players, run indicators and propose leads
        (``engine="spark"``: indicators and name matching on a local Spark session)."""
        return analysis.analyze(
            self.connect(), case_ref, self.workspace, top=top, progress=progress, engine=engine
        )

    def key_players(self, case_ref: str, top: int = 10) -> list[KeyPlayer]:
        """Key players of the last analysis, ranked, with reasons."""
        return keyplayers.key_players(self.connect(), case_ref, top=top)

    def explain(self, case_ref: str, item_id: str) -> Explanation:
        """The statements, exhibits, locators and SQL behind an edge, entity or indicator hit."""
        return explain_mod.explain(self.connect(), case_ref, item_id)

    def timeline(self, case_ref: str, **filters: Any) -> list[Event]:
        """Events across sources in time order (filters: entity, start, end, kinds, limit)."""
        return timeline_mod.timeline(self.connect(), case_ref, **filters)

    def network(self, case_ref: str, filters: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Nodes and edges for the web's cytoscape view."""
        return analysis.network(self.connect(), case_ref, filters)

    def redaction(
        self, case_ref: str, *, reveal: bool = False, recorded: bool = False, protected: Iterable[str] = ()
    ) -> Redaction:
        """The case's redaction rule (who may be named, their pseudonyms, text scrubbing) from the last
        analysis: every entity with its names and identifiers, so free text can be scrubbed too.

        The victims' identities recorded in the case store are protected as well: with ``recorded``
        read here (one audited read, see :meth:`protected`), as outputs that leave Palermo do; or
        given as ``protected`` by a caller that keeps them between calls (the web's views, which
        cannot afford an audited read per view: see ``palermo.web.views.recorded_victims``).
        """
        guarded = [*protected, *(self.protected(case_ref) if recorded else ())]
        con = self.connect()
        create_analysis_tables(con)  # before the first analysis: nobody may be named yet
        return Redaction.from_connection(con, case_ref, reveal=reveal, protected=guarded)

    def protected(self, case_ref: str) -> list[str]:
        """The recorded victims' names, contacts and addresses, for redaction only (audited read)."""
        return list(
            self.workspace.parties.protected_values(case_ref, user=self.workspace.actor, purpose="redaction")
        )

    def export_graph(
        self,
        case_ref: str,
        fmt: str,
        out: Path | str,
        *,
        redact_victims: bool = True,
        marking: ExportMarking | None = None,
    ) -> int:
        """Write the network as GEXF, GraphML or FtM JSON lines (possible victims redacted by default,
        the victims recorded in the case store always), marked with ``marking``."""
        return export.export_graph(
            self.connect(),
            case_ref,
            fmt,
            out,
            redact_victims=redact_victims,
            protected=self.protected(case_ref),
            marking=marking,
        )

    def judge(
        self,
        case_ref: str,
        left: str,
        right: str,
        verdict: str,
        *,
        author: str,
        note: str = "",
        region: str = DEFAULT_REGION,
    ) -> Judgement:
        """Record an analyst's same / not_same / unsure judgement (applied on the next analysis;
        ``region`` reads national phone keys).

        The case must exist, and the judgement is written to the case's audit log (its id and
        verdict, never the keys: they are phone numbers and names, and the audit log is read widely).
        """
        case = self.workspace.cases.get(case_ref)
        made = judgements.judge(
            self.connect(), case_ref, left, right, verdict, author=author, note=note, region=region
        )
        ctx = getattr(self.workspace, "ctx", None)
        if ctx is not None:
            with ctx.db.transaction() as session:
                ctx.audit.record(
                    session,
                    actor=author,
                    action="analysis.judgement",
                    object_type="case",
                    object_id=case.id,
                    case_id=case.id,
                    detail={"judgement_id": made.judgement_id, "verdict": made.verdict},
                )
        return made

    def judgements(self, case_ref: str) -> list[Judgement]:
        """The case's judgements, oldest first."""
        self.workspace.cases.get(case_ref)
        return judgements.list_judgements(self.connect(), case_ref)

    def conflicts(self, case_ref: str) -> list[Conflict]:
        """The case's judgements that contradict each other and which of them the next analysis
        sets aside (:mod:`palermo.analytics.conflicts`)."""
        return find_conflicts(self.judgements(case_ref))

    def _evidence_file(self, case_ref: str, evidence_id: int) -> tuple[Path, str | None]:
        """The stored original of an evidence item and its original name, checked to belong to ``case_ref``.

        Analytics never reads files from outside the case store: what is imported must be an
        exhibit with a hash and a custody chain, or the statements it yields cannot be used in court.
        """
        self.workspace.cases.get(case_ref)  # "no case NOPE", not "evidence 1 belongs to case X"
        item = self.workspace.evidence.get(evidence_id)
        item_case = _case_of(item)
        if item_case is not None and item_case != case_ref:
            raise NotFoundError(
                f"evidence item {evidence_id} belongs to case {item_case}, not to {case_ref}",
                location="evidence_id",
            )
        name = getattr(item, "original_filename", None)
        return Path(self.workspace.evidence.path_of(evidence_id)), name if isinstance(name, str) else None


def _surviving_imports(con: Any, case_ref: str) -> dict[int, int]:
    """import id → evidence id of the case's imports (in ``forget``: those left after it)."""
    rows = con.execute("SELECT import_id, evidence_id FROM imports WHERE case_ref = ?", [case_ref]).fetchall()
    return {int(i): int(e) for i, e in rows}


def _case_of(item: Any) -> str | None:
    """The case reference of an evidence read model, whatever the store calls that field."""
    for attr in ("case_ref", "case_reference", "case"):
        value = getattr(item, attr, None)
        if isinstance(value, str):
            return value
    return None


__all__ = ["Analytics"]
