"""``palermo evidence add|list|verify|custody|transfer``: exhibits and their chain of custody.

``verify`` (files and custody chains) and ``custody --verify`` (one chain) exit 1 (IntegrityError)
when anything does not verify, after printing every mismatch, so a nightly job can alert on the
exit code alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from palermo.cli.output import console, emit, err_console, table
from palermo.cli.workspace_options import DEFAULT_WORKSPACE, AsJson, WorkspaceOpt, opened, parse_time, short
from palermo.errors import IntegrityError
from palermo.store.schemas import VerifyReport

app = typer.Typer(name="evidence", help="Exhibits: import, verify, chain of custody.", no_args_is_help=True)


@app.command("add")
def add(
    case: Annotated[str, typer.Argument(help="Case reference.")],
    files: Annotated[list[Path], typer.Argument(help="File(s) to import.")],
    source: Annotated[
        str, typer.Option("--source", "-s", help="Where it came from (device, bank, platform).")
    ],
    acquired_by: Annotated[str, typer.Option("--acquired-by", "-a", help="Acquiring officer.")],
    acquired_at: Annotated[
        str | None, typer.Option("--acquired-at", help="ISO time with zone; default now.")
    ] = None,
    tool: Annotated[str | None, typer.Option("--tool", help="Acquisition tool.")] = None,
    tool_version: Annotated[str | None, typer.Option("--tool-version", help="Tool version.")] = None,
    description: Annotated[str | None, typer.Option("--description", help="What the exhibit is.")] = None,
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Import files: hash (SHA-256), store read-only, record acquisition and a 'received' custody event."""
    with opened(workspace) as ws:
        items = ws.evidence.add_many(
            case,
            files,
            source=source,
            acquired_by=acquired_by,
            acquired_at=parse_time(acquired_at, "--acquired-at"),
            tool=tool,
            tool_version=tool_version,
            description=description,
        )
    emit(
        items,
        as_json,
        lambda: table(
            f"Exhibits added to {case}",
            ["id", "file", "sha256", "bytes"],
            [[i.id, i.original_filename, i.sha256, i.size] for i in items],
        ),
    )


@app.command("list")
def list_evidence(
    case: Annotated[str, typer.Argument(help="Case reference.")],
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """List a case's exhibits with their hashes."""
    with opened(workspace) as ws:
        items = ws.evidence.list(case)
    emit(
        items,
        as_json,
        lambda: table(
            f"Exhibits of {case}",
            ["id", "file", "type", "sha256", "source", "acquired by", "acquired (UTC)"],
            [
                [
                    i.id,
                    short(i.original_filename, 30),
                    i.media_type,
                    i.sha256[:16] + "…",
                    short(i.source, 30),
                    i.acquired_by,
                    i.acquired_at.strftime("%Y-%m-%d %H:%M"),
                ]
                for i in items
            ],
        ),
    )


def _report(report: VerifyReport, as_json: bool, what: str) -> None:
    emit(
        report,
        as_json,
        lambda: console.print(f"{what}: {report.checked} checked, {len(report.mismatches)} mismatch(es)"),
    )
    if not as_json:
        for m in report.mismatches:
            err_console.print(f"exhibit {m.evidence_id} ({m.case_reference}): {m.problem}", highlight=False)
    if report.mismatches:
        raise IntegrityError(f"{what}: {len(report.mismatches)} mismatch(es) in {report.checked} checked")


@app.command("verify")
def verify(
    case: Annotated[str | None, typer.Argument(help="Case reference (default: every case).")] = None,
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Re-hash every stored original, check every custody chain (against the exhibit record and
    the audit log), and report each problem (exit 1 if any)."""
    with opened(workspace) as ws:
        report = ws.evidence.verify(case)
    _report(report, as_json, "evidence verify")


@app.command("custody")
def custody(
    evidence_id: Annotated[int, typer.Argument(help="Exhibit id.")],
    check: Annotated[
        bool, typer.Option("--verify", help="Verify the hash chain (exit 1 if broken).")
    ] = False,
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Show an exhibit's chain of custody, or verify it."""
    with opened(workspace) as ws:
        if check:
            report = ws.evidence.verify_custody(evidence_id)
        else:
            events = ws.evidence.custody_log(evidence_id)
    if check:
        _report(report, as_json, f"custody of exhibit {evidence_id}")
        return
    emit(
        events,
        as_json,
        lambda: table(
            f"Custody of exhibit {evidence_id}",
            ["#", "event", "from", "to", "at (UTC)", "purpose", "by", "hash"],
            [
                [
                    e.seq,
                    e.event_type,
                    e.from_custodian,
                    e.to_custodian,
                    e.at.strftime("%Y-%m-%d %H:%M:%S"),
                    short(e.purpose, 30),
                    e.recorded_by,
                    e.hash[:12] + "…",
                ]
                for e in events
            ],
        ),
    )


@app.command("transfer")
def transfer(
    evidence_id: Annotated[int, typer.Argument(help="Exhibit id.")],
    to: Annotated[str, typer.Option("--to", help="Receiving custodian.")],
    purpose: Annotated[str | None, typer.Option("--purpose", help="Why it changes hands.")] = None,
    location: Annotated[str | None, typer.Option("--location", help="Where.")] = None,
    note: Annotated[str | None, typer.Option("--note")] = None,
    event: Annotated[
        str, typer.Option("--event", help="transferred, examined, copied, sealed, returned…")
    ] = "transferred",
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Record a custody event (default: a transfer), after re-verifying the exhibit's hash."""
    with opened(workspace) as ws:
        recorded = ws.evidence.record_custody(
            evidence_id, event, to_custodian=to, purpose=purpose, location=location, note=note
        )
    emit(
        recorded,
        as_json,
        lambda: console.print(
            f"Exhibit {evidence_id}: {recorded.event_type} "
            f"{recorded.from_custodian} → {recorded.to_custodian} "
            f"(event {recorded.seq})"
        ),
    )
