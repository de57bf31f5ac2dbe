"""``palermo analyze CASE``: entity resolution, the network, key players, roles and red flags.

``--explain ID`` instead shows what stands behind one result (an edge ``e:…``, an entity ``ent:…``
or an indicator hit ``hit:…``): the statements, exhibits and rows, and the SQL that produced it.
The work is done by ``ws.analytics``; this module parses, shows progress and renders.

What is shown goes through the analysis' redaction rule (:mod:`palermo.analytics.redaction`): only
suspects are named; possible victims always, and other people unless ``--reveal-identities`` is given
(recorded in the audit chain first), appear under a stable pseudonym, and their phones, e-mails,
accounts and names are scrubbed from reasons, details and explanations.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from palermo.cli.export import RevealOpt, record_reveal
from palermo.cli.judge import render_conflicts
from palermo.cli.output import console, emit, err_console, table, to_json
from palermo.cli.workspace_options import DEFAULT_WORKSPACE, AsJson, WorkspaceOpt, opened, short


def analyze(
    case: Annotated[str, typer.Argument(help="Case reference.")],
    explain: Annotated[
        str | None,
        typer.Option("--explain", help="Explain an edge (e:…), entity (ent:…) or indicator hit (hit:…)."),
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="How many key players to show.")] = 10,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="duckdb (default), or spark: indicators and name matching on a local Spark session "
            "(needs the palermo[spark] extra and Java 17 or 21).",
        ),
    ] = "duckdb",
    reveal: RevealOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Analyse a case's imported evidence: summary, key players, communities, roles, indicators."""
    with opened(workspace) as ws:
        if reveal:
            ws.cases.get(case)  # an unknown case is an input error, not an audited reveal
            record_reveal(ws, case, "analyze")
        analytics = ws.analytics
        try:
            if explain:
                shown = redacted(analytics, case, analytics.explain(case, explain), reveal)
                emit(shown, as_json, lambda: _render_explanation(shown))
                return
            raw = (
                analytics.analyze(case, top=top, engine=engine)
                if as_json
                else _with_progress(analytics, case, top, engine)
            )
            result = redacted(analytics, case, raw, reveal)
            emit(result, as_json, lambda: _render(result))
        finally:
            analytics.close()


def redacted(analytics: Any, case: str, result: Any, reveal: bool) -> dict[str, Any]:
    """``result`` as plain data with everyone the rule does not let us name pseudonymised."""
    rules = analytics.redaction(case, reveal=reveal, recorded=True)
    return rules.tree(json.loads(to_json(result)))  # type: ignore[no-any-return]


def _with_progress(analytics: Any, case: str, top: int, engine: str) -> Any:
    from palermo.analytics.analysis import STEPS

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("resolving identities", total=len(STEPS))

        def advance(step: str) -> None:
            bar.update(task, advance=1, description=f"{step} done")

        return analytics.analyze(case, top=top, progress=advance, engine=engine)


def _render(result: dict[str, Any]) -> None:
    s = result["summary"]
    graph = s["graph"]
    rows = ", ".join(f"{n} {t}" for t, n in s["rows"].items() if n)
    console.print(f"[bold]Case {result['case_ref']}[/]: {rows}")
    console.print(
        f"{s['resolution']['entities']} entities from {s['resolution']['identifiers']} identifiers; "
        f"network of {graph['nodes']} nodes, {graph['edges']} links, {graph['components']} components, "
        f"{graph['communities']} communities (betweenness: {graph['betweenness']}); "
        f"{sum(s['indicator_hits'].values())} red flags, {s['leads_created']} new lead(s)."
    )
    # leads an earlier forget left behind were put right before the analysis: say which
    if s.get("leads_withdrawn"):
        console.print(
            f"Lead(s) {', '.join(map(str, s['leads_withdrawn']))} withdrawn: the imports behind them were "
            "forgotten (palermo lead list shows why)."
        )
    if s.get("leads_flagged"):
        console.print(
            f"Accepted lead(s) {', '.join(map(str, s['leads_flagged']))} flagged for review: imports behind "
            "them were forgotten (palermo lead confirm ID once reviewed)."
        )
    # the analysts must hear that one of their judgements was not applied, and why
    render_conflicts(s["resolution"].get("conflicts") or [], result["case_ref"])
    console.print("\n[bold]Key players[/]")
    for k in result["key_players"]:
        role = f" — {k['role'].replace('_', ' ')}" if k.get("role") else ""
        console.print(
            f"{k['rank']:>2}. {k['entity_id']}  {short(k['label'], 30)}{role}  (score {k['score']:.3f})",
            markup=False,
        )
        for reason in k["reasons"][:4]:
            console.print(f"      · {short(reason, 100)}", markup=False, highlight=False)
    console.print("\n[bold]Suspected ring[/] (leads for review, not findings)")
    for f in result["flagged"]:
        console.print(f"  {f['entity_id']}  {short(f['label'], 30)} — {f['role']}", markup=False)
        for reason in f["reasons"][:2]:
            console.print(f"      · {short(reason, 100)}", markup=False, highlight=False)
    table(
        "Communities",
        ["community", "size", "most central", "suspected roles"],
        [
            [
                c["community"],
                c["size"],
                short(", ".join(m["label"] for m in c["top_members"][:3]), 50),
                ", ".join(f"{r}×{n}" for r, n in c["suspected_roles"].items()),
            ]
            for c in result["communities"][:10]
        ],
    )
    table(
        "Red flags",
        ["hit id", "indicator", "severity", "detail"],
        [
            [h["hit_id"], h["indicator_id"], h["severity"], short(h["detail"], 60)]
            for h in sorted(result["indicator_hits"], key=lambda h: (h["indicator_id"], h["hit_id"]))
        ],
    )
    console.print("Explain any id with [bold]palermo analyze CASE --explain ID[/].")


def _render_explanation(x: dict[str, Any]) -> None:
    console.print(f"[bold]{x['item_id']}[/] ({x['kind']}): ", end="")
    console.print(x["summary"], markup=False, highlight=False)
    console.print(f"evidence items: {', '.join(str(e) for e in x['evidence_ids']) or 'none'}")
    table(
        "Statements",
        ["stmt", "evidence", "locator", "table"],
        [
            [s.get("stmt_id"), s.get("evidence_id"), s.get("locator"), s.get("table", "")]
            for s in x["statements"][:200]
        ],
    )
    if len(x["statements"]) > 200:
        console.print(f"… and {len(x['statements']) - 200} more (use --json for all)")
    if x["links"]:
        table(
            "Identity links",
            ["left", "right", "rule", "score", "kept"],
            [
                [lk["left_key"], lk["right_key"], lk["rule"], f"{lk['score']:.3f}", lk["kept"]]
                for lk in x["links"]
            ],
        )
    for sql in x["sql"]:
        console.print("[bold]SQL[/]:")
        console.print(sql, markup=False, highlight=False)
