"""``palermo case create|list|show|rotate-key|shred``: the cases in a workspace and their data keys."""

from __future__ import annotations

from typing import Annotated

import typer

from palermo.cli.output import console, emit, table
from palermo.cli.workspace_options import DEFAULT_WORKSPACE, AsJson, WorkspaceOpt, opened
from palermo.errors import InputError

app = typer.Typer(name="case", help="Create and inspect cases.", no_args_is_help=True)


@app.command("create")
def create(
    reference: Annotated[str, typer.Argument(help="Case reference, e.g. 2024-HT-017.")],
    title: Annotated[str, typer.Option("--title", "-t", help="Short title.")],
    jurisdiction: Annotated[str, typer.Option("--jurisdiction", "-j", help="us, gb, …")] = "us",
    description: Annotated[str | None, typer.Option(help="Longer description.")] = None,
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Create a case (and its encryption key)."""
    with opened(workspace) as ws:
        case = ws.cases.create(reference, title, jurisdiction, description=description)
    emit(case, as_json, lambda: console.print(f"Created case [bold]{case.reference}[/]: {case.title}"))


@app.command("list")
def list_cases(workspace: WorkspaceOpt = DEFAULT_WORKSPACE, as_json: AsJson = False) -> None:
    """List the cases in the workspace."""
    with opened(workspace) as ws:
        cases = ws.cases.list()
    emit(
        cases,
        as_json,
        lambda: table(
            "Cases",
            ["reference", "title", "jurisdiction", "status", "created"],
            [
                [c.reference, c.title, c.jurisdiction, c.status, c.created_at.strftime("%Y-%m-%d")]
                for c in cases
            ],
        ),
    )


@app.command("show")
def show(
    reference: Annotated[str, typer.Argument(help="Case reference.")],
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Show a case: parties (victims by pseudonym), charges with readiness, exhibits and leads.

    A charge is ready only when every required element is proven and none rests on a link flagged
    for review (its lead's evidence was removed): the flagged ones are counted, so a charge shown
    with every element proven but not ready says why."""
    with opened(workspace) as ws:
        case = ws.cases.get(reference)
        parties = ws.parties.list(reference)
        matrix = ws.proof.matrix(reference)
        evidence = ws.evidence.list(reference)
        leads = ws.leads.list(reference, status="proposed")
    data = {
        "case": case,
        "parties": parties,
        "readiness": [
            {
                "charge_id": c.charge.charge_id,
                "count": c.charge.count_number,
                "citation": c.charge.citation,
                "defendant": c.charge.defendant,
                "readiness": round(c.readiness, 4),
                "ready": c.ready,
                # required elements resting on a link flagged for review: why a charge with every
                # element proven is still not ready
                "to_review": c.to_review,
            }
            for c in matrix.charges
        ],
        "evidence_count": len(evidence),
        "leads_waiting": len(leads),
    }

    def render() -> None:
        console.print(f"[bold]{case.reference}[/] {case.title} ({case.jurisdiction}, {case.status})")
        table(
            "Parties",
            ["id", "role", "label", "age at offence"],
            [[p.id, p.role, p.label, p.age_at_offence] for p in parties],
        )
        table(
            "Charges",
            ["count", "offence", "defendant", "victims", "readiness"],
            [
                [
                    c.charge.count_number,
                    c.charge.citation,
                    c.charge.defendant,
                    ", ".join(c.charge.victims),
                    f"{c.proven}/{c.required} proven"
                    + (" (ready)" if c.ready else "")
                    + (
                        f", {c.to_review} on links flagged for review (not ready until confirmed)"
                        if c.to_review
                        else ""
                    ),
                ]
                for c in matrix.charges
            ],
        )
        console.print(f"{len(evidence)} exhibit(s); {len(leads)} lead(s) waiting for review")

    emit(data, as_json, render)


@app.command("rotate-key")
def rotate_key(
    reference: Annotated[str, typer.Argument(help="Case reference.")],
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Give the case a new data key: identities are re-encrypted under it, still readable (audited)."""
    with opened(workspace) as ws:
        count = ws.keys.rotate(reference)
    emit(
        {"case": reference, "rotated": count},
        as_json,
        lambda: console.print(
            f"Case {reference}: new data key; {count} identity record(s) re-encrypted under it"
        ),
    )


@app.command("shred")
def shred(
    reference: Annotated[str, typer.Argument(help="Case reference.")],
    confirm: Annotated[
        str,
        typer.Option(
            "--confirm",
            help="The case reference typed again: a shred cannot be undone.",
        ),
    ],
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Crypto-shred the case: delete its data keys, so its victims' and witnesses' identities can never be
    read again, here or from any backup restored later (MP-02; audited, listed beside the master key).

    Erasure must be deliberate, so the reference is asked for twice; everything else about the case
    (pseudonyms, charges, evidence, the proof matrix) stays."""
    if confirm != reference:
        raise InputError(
            f"--confirm must repeat the case reference {reference!r} exactly: a shred cannot be undone",
            location="confirm",
        )
    with opened(workspace) as ws:
        keys = ws.keys.shred(reference)
    emit(
        {"case": reference, "keys_deleted": keys},
        as_json,
        lambda: console.print(
            f"Case {reference}: {keys} data key(s) deleted; its identities can no longer be read, "
            "and restores of earlier backups shred them again"
        ),
    )
