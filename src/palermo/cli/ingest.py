"""``palermo ingest …``: turn an evidence item of a case into analytics statements.

``palermo ingest CASE EVIDENCE_ID... --adapter NAME`` is the everyday form (the evidence must already
be in the case: ``palermo evidence add``), so every statement points at an exhibit with a hash and
a custody chain; several exhibits of one kind are imported side by side (``Analytics.ingest_many``).
``palermo ingest adapters`` lists the adapters and built-in mappings, ``palermo ingest imports
CASE`` what has been imported, and ``palermo ingest forget CASE IMPORT_ID`` undoes one import so the
exhibit can be imported again (another adapter, mapping or options). The work itself is in
``palermo.ingest.service``; this module only parses, shows progress and renders.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from typer.core import TyperGroup

from palermo.cli.output import console, emit, err_console, table
from palermo.errors import InputError
from palermo.ingest.base import list_adapters
from palermo.ingest.mapping import builtin_mappings
from palermo.ingest.service import ForgetReport, ImportReport


class _DefaultRun(TyperGroup):
    """Route ``palermo ingest CASE EVIDENCE_ID …`` to the hidden ``run`` command.

    The brief's form puts the case first, yet ``adapters`` and ``imports`` are sub-commands too;
    anything that is not a sub-command name is taken as the start of a ``run``.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    name="ingest",
    cls=_DefaultRun,
    help=(
        "Import evidence items (bank, CDR, phone, ads, FtM, YAML mappings) into the case's analytics.\n\n"
        "Usage: palermo ingest CASE EVIDENCE_ID... --adapter NAME [--mapping FILE] [--region US] "
        "[--option KEY=VALUE] [--skip-bad-rows] [--workers N] [--json] [-w WORKSPACE]"
    ),
    no_args_is_help=True,
)

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace", "-w", help="Workspace folder (default: $PALERMO_WORKSPACE or the current folder)."
    ),
]


def _open_workspace(path: Path | None) -> Any:
    from palermo.workspace import Workspace

    return Workspace.open(path or Path(os.environ.get("PALERMO_WORKSPACE", ".")))


def _options(pairs: list[str] | None, region: str | None, mapping: Path | None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"expected KEY=VALUE, got {pair!r}", location="--option")
        options[key.strip()] = value
    if region:
        options["region"] = region.upper()
    if mapping:
        options["mapping"] = str(mapping) if mapping.is_file() else mapping.name
    return options


def _render(report: ImportReport) -> None:
    console.print(
        f"[bold]{report.file}[/] (evidence {report.evidence_id}, {report.adapter}): {report.status}, "
        f"{report.rows_ok} row(s) imported, {report.rows_bad} bad"
    )
    if report.tables:
        table(None, ["table", "rows"], sorted(report.tables.items()))
    for line in report.bad_rows[:20]:
        console.print(f"  skipped {line}", highlight=False)
    if len(report.bad_rows) > 20:
        console.print(f"  … and {report.rows_bad - 20} more bad row(s)")
    if report.dropped:  # counts per field only: the values may be a victim's number
        per_field = ", ".join(f"{name}: {n}" for name, n in sorted(report.dropped.items()))
        console.print(
            f"  values dropped: {sum(report.dropped.values())} ({per_field})", markup=False, highlight=False
        )


@app.command("run", hidden=True)
def run(
    case_ref: Annotated[str, typer.Argument(metavar="CASE", help="Case reference.")],
    evidence_ids: Annotated[
        list[int],
        typer.Argument(
            metavar="EVIDENCE_ID...",
            help="Evidence item id(s) in the case; several are imported side by side, each atomically.",
        ),
    ],
    adapter: Annotated[
        str | None, typer.Option("--adapter", "-a", help="Adapter name (palermo ingest adapters).")
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option("--mapping", "-m", help="YAML mapping file or built-in name.")
    ] = None,
    region: Annotated[str | None, typer.Option("--region", help="Default phone region, e.g. US, NL.")] = None,
    option: Annotated[
        list[str] | None, typer.Option("--option", "-o", help="Adapter option KEY=VALUE.")
    ] = None,
    skip_bad_rows: Annotated[
        bool, typer.Option("--skip-bad-rows", help="Keep the good rows, list the bad.")
    ] = False,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="With several exhibits: how many to import at once.")
    ] = 2,
    workspace: WorkspaceOpt = None,
    as_json: AsJson = False,
) -> None:
    """Import evidence items of CASE through an adapter (each atomic; importing twice adds nothing).

    Several EVIDENCE_IDs of the same kind (the statements of three banks, say) are imported side by
    side; when one fails the others are kept, and the command exits with the first failure."""
    name = adapter or ("mapping" if mapping else None)
    if name is None:
        raise InputError(
            "name an adapter with --adapter (see: palermo ingest adapters) or give --mapping",
            location="--adapter",
        )
    options = _options(option, region, mapping)
    if len(evidence_ids) > 1:
        _run_many(case_ref, evidence_ids, name, options, skip_bad_rows, workers, workspace, as_json)
        return
    evidence_id = evidence_ids[0]
    with _importing(workspace, as_json, TextColumn("{task.completed:,.0f} rows")) as (analytics, bar):
        task = bar.add_task(f"importing evidence {evidence_id}", total=None)
        report = analytics.ingest(
            case_ref,
            evidence_id,
            name,
            options,
            skip_bad_rows=skip_bad_rows,
            progress=lambda tbl, n: bar.update(
                task, advance=n, description=f"evidence {evidence_id} → {tbl}"
            ),
        )
    emit(report, as_json, lambda: _render(report))


@contextmanager
def _importing(workspace: Path | None, as_json: bool, *columns: Any) -> Iterator[tuple[Any, Progress]]:
    """The workspace's analytics and a progress display (silent with ``--json``), both closed after."""
    ws = _open_workspace(workspace)
    analytics = ws.analytics
    try:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            *columns,
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
            disable=as_json,
        ) as bar:
            yield analytics, bar
    finally:
        analytics.close()
        ws.close()


def _run_many(
    case_ref: str,
    evidence_ids: list[int],
    adapter: str,
    options: dict[str, Any],
    skip_bad_rows: bool,
    workers: int,
    workspace: Path | None,
    as_json: bool,
) -> None:
    """Several exhibits through ``Analytics.ingest_outcomes``: one entry per exhibit, in the order
    given, the failed ones too; then the first failure decides the exit code (2 for bad input)."""
    with _importing(workspace, as_json) as (analytics, bar):
        bar.add_task(f"importing {len(evidence_ids)} exhibits, {workers} at a time", total=None)
        outcomes = analytics.ingest_outcomes(
            case_ref,
            [(evidence_id, adapter, options) for evidence_id in evidence_ids],
            skip_bad_rows=skip_bad_rows,
            workers=workers,
        )
    entries: list[Any] = [
        outcome
        if isinstance(outcome, ImportReport)
        else {"evidence_id": evidence_id, "adapter": adapter, "status": "failed", "error": str(outcome)}
        for evidence_id, outcome in zip(evidence_ids, outcomes, strict=True)
    ]

    def render() -> None:
        for entry in entries:
            if isinstance(entry, ImportReport):
                _render(entry)
            else:
                failed = f"[bold]evidence {entry['evidence_id']}[/] ({adapter}): [red]failed[/]"
                console.print(f"{failed}, nothing imported from it")

    emit(entries, as_json, render)
    first_error = next((o for o in outcomes if isinstance(o, BaseException)), None)
    if first_error is not None:
        raise first_error


@app.command("adapters")
def adapters(as_json: AsJson = False) -> None:
    """List the ingest adapters (built-in and entry points) with their options, and the built-in mappings."""
    rows = [
        {"name": a.name, "description": a.description, "options": sorted(getattr(a, "accepts", None) or {})}
        for a in list_adapters()
    ]
    maps = builtin_mappings()

    def render() -> None:
        table(
            "Adapters",
            ["name", "description", "options (-o KEY=VALUE)"],
            [[r["name"], r["description"], ", ".join(r["options"])] for r in rows],
        )
        table("Built-in mappings (--mapping NAME)", ["name"], [[m] for m in maps])

    emit({"adapters": rows, "mappings": maps}, as_json, render)


@app.command("imports")
def imports(
    case_ref: Annotated[str, typer.Argument(metavar="CASE", help="Case reference.")],
    workspace: WorkspaceOpt = None,
    as_json: AsJson = False,
) -> None:
    """List the imports done for CASE."""
    ws = _open_workspace(workspace)
    analytics = ws.analytics
    try:
        records = analytics.imports(case_ref)
        rules = analytics.redaction(case_ref)
        records = [replace(r, options=_shown_options(rules, r.options)) for r in records]
    finally:
        analytics.close()
        ws.close()
    emit(
        [r.to_dict() for r in records],
        as_json,
        lambda: table(
            f"Imports of {case_ref}",
            ["id", "evidence", "adapter", "rows ok", "bad", "status", "finished"],
            [
                [
                    r.import_id,
                    r.evidence_id,
                    r.adapter,
                    r.rows_ok,
                    r.rows_bad,
                    r.status,
                    f"{r.finished_at:%Y-%m-%d %H:%M:%S}",
                ]
                for r in records
            ],
        ),
    )


@app.command("forget")
def forget(
    case_ref: Annotated[str, typer.Argument(metavar="CASE", help="Case reference.")],
    import_id: Annotated[
        int, typer.Argument(metavar="IMPORT_ID", help="Import id (palermo ingest imports CASE).")
    ],
    whole_exhibit: Annotated[
        bool,
        typer.Option(
            "--whole-exhibit",
            help=(
                "Forget every import of the exhibit and all its rows: for an exhibit read by several "
                "imports before rows recorded their import, whose rows cannot be told apart."
            ),
        ),
    ] = False,
    workspace: WorkspaceOpt = None,
    as_json: AsJson = False,
) -> None:
    """Undo one import of CASE: remove every row it wrote and its record, and clear the case's analysis
    (one transaction, audited), so the exhibit can be imported again with another adapter or options.
    Leads that only its rows supported are withdrawn; accepted leads that lost evidence are flagged."""
    ws = _open_workspace(workspace)
    analytics = ws.analytics
    try:
        report = analytics.forget(case_ref, import_id, actor=ws.actor, whole_exhibit=whole_exhibit)
        # the analysis is cleared by now: every number among the options is withheld
        report = replace(report, options=_shown_options(analytics.redaction(case_ref), report.options))
    finally:
        analytics.close()
        ws.close()
    emit(report, as_json, lambda: _render_forget(report))


def _shown_options(rules: Any, options: dict[str, Any]) -> dict[str, Any]:
    """An import's options through the case's redaction rule: ``device_owner`` is the number of the
    seized phone's owner, who may be a victim (other options, delimiters and regions, pass as they are)."""
    return {k: rules.scrub(v) if isinstance(v, str) else v for k, v in options.items()}


def _render_forget(report: ForgetReport) -> None:
    options = ", ".join(f"{k}={v}" for k, v in sorted(report.options.items())) or "no options"
    also = f" and import(s) {', '.join(map(str, report.also_forgotten))}" if report.also_forgotten else ""
    console.print(
        f"Forgot import {report.import_id}{also} of {report.case_ref} (evidence {report.evidence_id}, "
        f"{report.adapter}, {options}): {report.rows_removed} row(s) removed",
        highlight=False,
        markup=False,  # "[number withheld]" is not Rich markup
    )
    if report.tables:
        table(None, ["table", "rows removed"], sorted(report.tables.items()))
    if report.analysis_cleared:
        console.print(
            f"The analysis results of {report.case_ref} are cleared: "
            f"run `palermo analyze {report.case_ref}` again."
        )
    if report.leads_withdrawn:
        console.print(
            f"Lead(s) {', '.join(map(str, report.leads_withdrawn))} withdrawn: their only evidence came "
            "from the rows forgotten (an analysis after the exhibit is imported again proposes them anew).",
            highlight=False,
        )
    if report.leads_flagged:
        console.print(
            f"Accepted lead(s) {', '.join(map(str, report.leads_flagged))} flagged for review: their proof "
            f"links rest on rows that were forgotten. See `palermo lead list {report.case_ref} --flagged`; "
            "after review, `palermo lead confirm LEAD_ID` keeps one.",
            highlight=False,
            markup=False,
        )
    console.print(
        f"Import the exhibit again with: palermo ingest {report.case_ref} {report.evidence_id} "
        "--adapter NAME [-o KEY=VALUE]",
        highlight=False,
        markup=False,
    )
