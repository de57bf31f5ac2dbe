"""``palermo proof matrix|gaps|link``: which exhibit proves which element, and what is still open."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from palermo.cli.output import console, emit, table
from palermo.cli.workspace_options import DEFAULT_WORKSPACE, AsJson, WorkspaceOpt, opened, short
from palermo.domain.proof import ProofMatrix

app = typer.Typer(name="proof", help="The proof matrix of a case.", no_args_is_help=True)

MARK = {
    "proven": Text("proven", style="green"),
    "weak": Text("weak", style="yellow"),
    "open": Text("open", style="red"),
    "contested": Text("contested", style="magenta"),
    "not_required": Text("not required", style="dim"),
}


def render_matrix(matrix: ProofMatrix) -> None:
    if not matrix.charges:
        console.print(f"No charges in {matrix.case_reference} yet.")
    for c in matrix.charges:
        rows = []
        for e in c.elements:
            links = "; ".join(
                f"{'+' if lnk.stance == 'supports' else '−'}E{lnk.evidence_id}"
                + (f" @{lnk.pinpoint}" if lnk.pinpoint else "")
                + (f" (lead {lnk.lead_id}: REVIEW, evidence removed)" if lnk.review else "")
                for lnk in e.links
            )
            rows.append(
                [e.element.element_id, short(e.element.label, 50), MARK[e.status.value], links or "—"]
            )
        table(
            f"Count {c.charge.count_number}: {c.charge.citation} — {c.charge.defendant} "
            f"(victims: {', '.join(c.charge.victims)}) — readiness {c.proven}/{c.required}"
            + (" READY" if c.ready else "")
            + (f", {c.to_review} element(s) on links flagged for review" if c.to_review else ""),
            ["element", "label", "status", "exhibits"],
            rows,
        )


@app.command("matrix")
def matrix(
    case: Annotated[str, typer.Argument(help="Case reference.")],
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Elements × exhibits per charge, with a status per element and readiness per charge."""
    with opened(workspace) as ws:
        result = ws.proof.matrix(case)
    emit(result, as_json, lambda: render_matrix(result))


@app.command("gaps")
def gaps(
    case: Annotated[str, typer.Argument(help="Case reference.")],
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Open, weak and contested elements, and those resting on links flagged for review, with what
    each is missing."""
    with opened(workspace) as ws:
        found = ws.proof.gaps(case)
    emit(
        found,
        as_json,
        lambda: table(
            f"Gaps in {case}",
            ["count", "element", "label", "status", "missing"],
            [[g.count_number, g.element_id, short(g.label, 40), g.status.value, g.missing] for g in found],
        ),
    )


@app.command("link")
def link(
    element_id: Annotated[int, typer.Argument(help="Element id (see palermo charge list).")],
    evidence_id: Annotated[int, typer.Argument(help="Exhibit id.")],
    pinpoint: Annotated[
        str | None, typer.Option("--pinpoint", "-p", help="e.g. page:3;line:10-12, row:52")
    ] = None,
    stance: Annotated[str, typer.Option("--stance", help="supports | contradicts")] = "supports",
    note: Annotated[str | None, typer.Option("--note")] = None,
    author: Annotated[str | None, typer.Option("--author", help="Default: $PALERMO_USER or login.")] = None,
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Link an exhibit to an element (same case only)."""
    with opened(workspace) as ws:
        created = ws.proof.link(
            element_id, evidence_id, pinpoint=pinpoint, stance=stance, note=note, author=author
        )
    emit(
        created,
        as_json,
        lambda: console.print(
            f"Link {created.id}: exhibit {created.evidence_id} {created.stance} element {created.element_id}"
            + (f" at {created.pinpoint}" if created.pinpoint else "")
        ),
    )
