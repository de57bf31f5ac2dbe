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
    status: Annotated[str | None, typer.Option("--status", help="proposed | accepted | rejected")] = None,
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """List leads."""
    with opened(workspace) as ws:
        leads = ws.leads.list(case, status)
    emit(
        leads,
        as_json,
        lambda: table(
            f"Leads of {case}",
            ["id", "status", "origin", "exhibit", "locator", "element", "summary"],
            [
                [x.id, x.status, x.origin, x.evidence_id, x.locator, x.element_id, short(x.summary, 50)]
                for x in leads
            ],
        ),
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
