"""``palermo judge add|list``: an analyst's decision on identity, which always beats the model.

Resolution joins two phones saved under one name and keeps apart a burner the model cannot tie to
anyone; the analyst who has read the messages knows better. A judgement names two member keys
(``phone:+13055550111``, ``account:NL91ABNA0417164300``), or entities by the id or pseudonym
``palermo analyze CASE`` shows for them, and is applied from the next ``palermo analyze`` on.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

import typer

from palermo.analytics.judgements import Judgement
from palermo.cli.output import console, emit, table
from palermo.cli.workspace_options import DEFAULT_WORKSPACE, AsJson, WorkspaceOpt, opened, short
from palermo.ingest.normalise import DEFAULT_REGION

app = typer.Typer(
    name="judge", help="Analyst judgements on identity (same / not_same / unsure).", no_args_is_help=True
)


@app.command("add")
def add(
    case: Annotated[str, typer.Argument(help="Case reference.")],
    left: Annotated[
        str,
        typer.Argument(
            help="A member key (phone:+1…, email:…, account:…), an entity id (ent:…) or the pseudonym "
            "analyze shows for a masked person ('possible victim 3fa2c1')."
        ),
    ],
    right: Annotated[str, typer.Argument(help="The other key, entity id or pseudonym.")],
    verdict: Annotated[str, typer.Argument(help="same | not_same | unsure")],
    note: Annotated[str, typer.Option("--note", help="Why (what the analyst read).")] = "",
    region: Annotated[
        str,
        typer.Option(
            "--region",
            help="ISO country code to read phone keys written in national form with, as ingest's "
            "--region (phone:0612345678 with NL is +31612345678).",
        ),
    ] = DEFAULT_REGION,
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Record a judgement; it replaces an earlier one on the same pair and applies from the next analysis."""
    with opened(workspace) as ws:
        analytics = ws.analytics
        try:
            judged = analytics.judge(case, left, right, verdict, author=ws.actor, note=note, region=region)
            made = _shown(analytics, case, [judged])[0]
        finally:
            analytics.close()
    emit(
        made,
        as_json,
        lambda: console.print(
            f"Judgement {made.judgement_id}: {made.left_key} / {made.right_key} {made.verdict} "
            f"(applies from the next `palermo analyze {case}`)"
        ),
    )


@app.command("list")
def list_judgements(
    case: Annotated[str, typer.Argument(help="Case reference.")],
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """List the case's judgements, oldest first."""
    with opened(workspace) as ws:
        analytics = ws.analytics
        try:
            found = _shown(analytics, case, analytics.judgements(case))
        finally:
            analytics.close()
    emit(
        found,
        as_json,
        lambda: table(
            f"Judgements of {case}",
            ["id", "left", "right", "verdict", "author", "when", "note"],
            [
                [j.judgement_id, j.left_key, j.right_key, j.verdict, j.author, j.created_at, short(j.note)]
                for j in found
            ],
        ),
    )


def _shown(analytics: Any, case: str, made: list[Judgement]) -> list[Judgement]:
    """Judgements as they may be shown: a key of somebody who must not be named (a victim's e-mail,
    her nickname) is given as her pseudonym, as in every other output, and a number or address of
    nobody the analysis knows is withheld (before the first analysis, that is every one)."""
    rules = analytics.redaction(case, recorded=True)
    return [replace(j, left_key=_key(rules, j.left_key), right_key=_key(rules, j.right_key)) for j in made]


def _key(rules: Any, key: str) -> str:
    kind, _, value = key.partition(":")
    alias = rules.mask_value(value)
    return f"{kind}:{alias}" if alias else f"{kind}:{rules.scrub(value)}"
