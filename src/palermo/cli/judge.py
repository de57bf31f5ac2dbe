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
from rich.markup import escape

from palermo.analytics.conflicts import Conflict, find_conflicts, set_aside
from palermo.analytics.judgements import Judgement
from palermo.cli.output import console, emit, table
from palermo.cli.workspace_options import DEFAULT_WORKSPACE, AsJson, WorkspaceOpt, opened, short
from palermo.ingest.normalise import DEFAULT_REGION

#: A key whose owner the analysis does not know (or may not name).
WITHHELD = "[withheld]"
#: A note while the case has no analysis: nobody's name in it can be checked.
NOTE_WITHHELD = "[note withheld until the case is analysed]"

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
    """Record a judgement; it replaces an earlier one on the same pair and applies from the next analysis.

    A judgement that contradicts others (a not_same on two keys that same judgements join) is
    reported at once, with the one that gives way, as ``palermo judge list`` and the next
    ``palermo analyze`` report it."""
    with opened(workspace) as ws:
        analytics = ws.analytics
        try:
            judged = analytics.judge(case, left, right, verdict, author=ws.actor, note=note, region=region)
            made, _ = _listing(analytics, case, [judged], analytics.conflicts(case))
        finally:
            analytics.close()
    shown = made[0]

    def render() -> None:
        console.print(
            f"Judgement {shown['judgement_id']}: {shown['left_key']} / {shown['right_key']} "
            f"{shown['verdict']} (applies from the next `palermo analyze {case}`)",
            markup=False,
        )
        render_conflicts(shown["conflicts"], case)

    emit(shown, as_json, render)


@app.command("list")
def list_judgements(
    case: Annotated[str, typer.Argument(help="Case reference.")],
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """List the case's judgements, oldest first, with the conflicts between them and which gives way."""
    with opened(workspace) as ws:
        analytics = ws.analytics
        try:
            judged = analytics.judgements(case)
            found, conflicts = _listing(analytics, case, judged, find_conflicts(judged))
        finally:
            analytics.close()

    def render() -> None:
        table(
            f"Judgements of {case}",
            ["id", "left", "right", "verdict", "author", "when", "note", "conflict"],
            [  # table() shows cells as written: a withheld key reads "[number withheld]"
                [
                    str(cell)
                    for cell in (
                        j["judgement_id"],
                        j["left_key"],
                        j["right_key"],
                        j["verdict"],
                        j["author"],
                        f"{j['created_at']:%Y-%m-%d %H:%M:%S}",
                        short(j["note"]),
                        _status(j),
                    )
                ]
                for j in found
            ],
        )
        render_conflicts(conflicts, case)

    emit(found, as_json, render)


def _listing(
    analytics: Any, case: str, judged: list[Judgement], conflicts: list[Conflict]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Judgements as they may be shown, each with whether a conflict sets it aside and the conflicts
    it is part of; and all the conflicts.

    A key of somebody who must not be named (a victim's e-mail, her nickname) is given as her
    pseudonym, as in every other output, and a number or address of nobody the analysis knows is
    withheld (before the first analysis, that is every one); the analyst's note and the conflicts'
    reasons are scrubbed by the same rule (a note may quote a number)."""
    rules = analytics.redaction(case, recorded=True)
    aside = set_aside(conflicts)
    shown_conflicts: list[dict[str, Any]] = rules.tree([c.to_dict() for c in conflicts])
    listed = [
        {
            **replace(
                j,
                left_key=_key(rules, j.left_key),
                right_key=_key(rules, j.right_key),
                note=NOTE_WITHHELD if rules.knows_nobody and j.note else rules.scrub(j.note),
            ).to_dict(),
            "set_aside": j.judgement_id in aside,
            "conflicts": [
                c for c, raw in zip(shown_conflicts, conflicts, strict=True) if raw.involves(j.judgement_id)
            ],
        }
        for j in judged
    ]
    return listed, shown_conflicts


def _status(listed: dict[str, Any]) -> str:
    """One judgement's part in its conflicts, for the table: set aside, winning, or kept in one."""
    parts = []
    for c in listed["conflicts"]:
        if c["winner"]["judgement_id"] == listed["judgement_id"]:
            parts.append("wins over " + ", ".join(r["judgement_id"] for r in c["set_aside"]))
        elif listed["set_aside"] and any(r["judgement_id"] == listed["judgement_id"] for r in c["set_aside"]):
            parts.append(f"set aside: {c['winner']['judgement_id']} wins")
        else:
            parts.append(f"kept, against {c['winner']['judgement_id']}")
    return "; ".join(parts)


def render_conflicts(conflicts: list[dict[str, Any]], case: str) -> None:
    """The reasons of redacted conflicts (``Conflict.to_dict`` through the rule), one a line."""
    if not conflicts:
        return
    console.print(
        f"\n[bold]Conflicting judgements[/] ({len(conflicts)}; see `palermo judge list {escape(case)}`):"
    )
    for c in conflicts:
        console.print(f"  · {c['reason']}", markup=False, highlight=False)


def _key(rules: Any, key: str) -> str:
    """A member key as it may be shown: a masked person's pseudonym, a named entity's value, and
    anything the analysis does not tie to somebody who may be named withheld (deny by default: after
    ``ingest forget`` or before the first analysis, a victim's account would otherwise be printed)."""
    kind, _, value = key.partition(":")
    alias = rules.mask_value(value)
    if alias:
        return f"{kind}:{alias}"
    return f"{kind}:{value}" if rules.may_show(value) else f"{kind}:{WITHHELD}"
