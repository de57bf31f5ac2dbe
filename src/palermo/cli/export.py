"""``palermo export graph|ftm CASE``: the case network for Gephi, yEd or Aleph."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from palermo.cli.output import console, emit
from palermo.cli.workspace_options import DEFAULT_WORKSPACE, AsJson, WorkspaceOpt, opened

app = typer.Typer(name="export", help="Export case data for other tools.", no_args_is_help=True)


@app.command("graph")
def graph(
    case: Annotated[str, typer.Argument(help="Case reference.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="gexf | graphml | ftm")] = "gexf",
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.")] = Path("network.gexf"),
    redact_victims: Annotated[
        bool,
        typer.Option(
            "--redact-victims/--no-redact-victims",
            help="Leave out names, phones and accounts of possible victims (default: redacted).",
        ),
    ] = True,
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Write the analysed network (run ``palermo analyze`` first) with ids that ``--explain`` understands."""
    with opened(workspace) as ws:
        analytics = ws.analytics
        try:
            count = analytics.export_graph(case, fmt, out, redact_victims=redact_victims)
        finally:
            analytics.close()
    emit(
        {"case": case, "format": fmt, "out": str(out), "items": count},
        as_json,
        lambda: console.print(f"wrote {count} nodes and links ({fmt}) to {out}"),
    )


@app.command("ftm")
def ftm(
    case: Annotated[str, typer.Argument(help="Case reference.")],
    out: Annotated[Path, typer.Argument(help="JSON-lines file to write.")],
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Write the case's imported statements as FollowTheMoney entities (for Aleph/OpenAleph)."""
    from palermo.ingest.ftm import export_entities

    with opened(workspace) as ws:
        analytics = ws.analytics
        try:
            count = export_entities(analytics.connect(), case, out)
        finally:
            analytics.close()
    emit(
        {"case": case, "out": str(out), "entities": count},
        as_json,
        lambda: console.print(f"wrote {count} FtM entities to {out}"),
    )
