"""``palermo lead add|list|accept|reject``: the human-review gate between analytics and the proof matrix."""

from __future__ import annotations

from typing import Annotated

import typer

from palermo.cli.output import console, emit, table
from palermo.cli.workspace_options import (
    DEFAULT_WORKSPACE,
    AsJson,
    WorkspaceOpt,
    opened,
    parse_json_object,
    short,
)
from palermo.store.schemas import LeadPublic

app = typer.Typer(
    name="lead", help="Leads proposed by analytics or people, for review.", no_args_is_help=True
)


@app.command("add")
def add(
    case: Annotated[str, typer.Argument(help="Case reference.")],
    summary: Annotated[str, typer.Option("--summary", help="The proposed fact.")],
    origin: Annotated[str, typer.Option("--origin", help="e.g. indicator:FUNNEL_ACCOUNT or person:jsmith")],
    evidence_id: Annotated[int | None, typer.Option("--evidence", help="Exhibit id it comes from.")] = None,
    locator: Annotated[
        str | None, typer.Option("--locator", help="Where in the exhibit, e.g. row:52.")
    ] = None,
    element_id: Annotated[int | None, typer.Option("--element", help="Element it may prove.")] = None,
    detail: Annotated[str | None, typer.Option("--detail", help="JSON object with details.")] = None,
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Propose a lead."""
    with opened(workspace) as ws:
        lead = ws.leads.propose(
            case,
            summary=summary,
            origin=origin,
            evidence_id=evidence_id,
            locator=locator,
            element_id=element_id,
            detail=parse_json_object(detail, "--detail"),
        )
    emit(lead, as_json, lambda: console.print(f"Lead {lead.id} proposed: {lead.summary}"))


@app.command("list")
def list_leads(
    case: Annotated[str, typer.Argument(help="Case reference.")],
    status: Annotated[
        str | None, typer.Option("--status", help="proposed | accepted | rejected | withdrawn")
    ] = None,
    flagged: Annotated[
        bool, typer.Option("--flagged", help="Only accepted leads whose evidence was removed, for review.")
    ] = False,
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """List leads; a lead whose evidence was forgotten shows why (withdrawn, or flagged for review)."""
    with opened(workspace) as ws:
        leads = ws.leads.list(case, status, flagged=flagged)
    emit(leads, as_json, lambda: _render_leads(case, leads))


def _render_leads(case: str, leads: list[LeadPublic]) -> None:
    """The leads as a table; a ``review`` column appears when one was withdrawn or flagged, saying why."""
    columns = ["id", "status", "origin", "exhibit", "locator", "element", "summary"]
    rows: list[list[object]] = [
        [
            x.id,
            f"{x.status}, flagged" if x.flag else x.status,
            x.origin,
            x.evidence_id,
            x.locator,
            x.element_id,
            short(x.summary, 50),
        ]
        for x in leads
    ]
    reviews = [x.flag or (x.reason if x.status == "withdrawn" else None) for x in leads]
    if any(reviews):
        columns.append("review")
        for row, review in zip(rows, reviews, strict=True):
            row.append(review)
    table(f"Leads of {case}", columns, rows)


@app.command("confirm")
def confirm(
    lead_id: Annotated[int, typer.Argument(help="Lead id.")],
    author: Annotated[str, typer.Option("--author", help="Who reviewed it again.")],
    note: Annotated[str, typer.Option("--note", help="Why its proof link still holds.")],
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Keep an accepted lead flagged because its evidence was removed: lift the flag (audited)."""
    with opened(workspace) as ws:
        lead = ws.leads.confirm(lead_id, author=author, note=note)
    emit(
        lead,
        as_json,
        lambda: console.print(f"Lead {lead_id} confirmed: its proof link stays, no longer flagged"),
    )


@app.command("accept")
def accept(
    lead_id: Annotated[int, typer.Argument(help="Lead id.")],
    author: Annotated[str, typer.Option("--author", help="Who reviewed and accepts it.")],
    element_id: Annotated[
        int | None, typer.Option("--element", help="Element it proves (if not on the lead).")
    ] = None,
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Accept a lead: it becomes a supporting proof link carrying the lead id."""
    with opened(workspace) as ws:
        created = ws.leads.accept(lead_id, element_id=element_id, author=author)
    emit(
        created,
        as_json,
        lambda: console.print(
            f"Lead {lead_id} accepted as link {created.id}: exhibit {created.evidence_id} supports element "
            f"{created.element_id}"
        ),
    )


@app.command("reject")
def reject(
    lead_id: Annotated[int, typer.Argument(help="Lead id.")],
    author: Annotated[str, typer.Option("--author", help="Who reviewed it.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is rejected.")],
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Reject a lead (kept, with the reason)."""
    with opened(workspace) as ws:
        lead = ws.leads.reject(lead_id, author=author, reason=reason)
    emit(lead, as_json, lambda: console.print(f"Lead {lead_id} rejected: {lead.reason}"))
