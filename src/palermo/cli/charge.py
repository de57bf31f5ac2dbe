"""``palermo charge add|list``: counts against a defendant, their elements materialised from the law."""

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
from palermo.store.schemas import ChargePublic

app = typer.Typer(name="charge", help="Charges (counts) of a case.", no_args_is_help=True)


def render_elements(charge: ChargePublic) -> None:
    table(
        f"Count {charge.count_number}: {charge.citation} — {charge.defendant}",
        ["element id", "key", "kind", "label", "required"],
        [
            [
                e.id,
                e.element_key,
                e.kind,
                short(e.label),
                "yes" if e.required else f"no: {short(e.not_required_reason)}",
            ]
            for e in charge.elements
        ],
    )


@app.command("add")
def add(
    case: Annotated[str, typer.Argument(help="Case reference.")],
    offence: Annotated[str, typer.Option("--offence", "-o", help="Offence id, e.g. us-18-usc-1591.")],
    defendant: Annotated[str, typer.Option("--defendant", "-d", help="Defendant party id or label.")],
    victims: Annotated[
        list[str], typer.Option("--victim", "-v", help="Victim party id or pseudonym (repeat).")
    ],
    count: Annotated[int, typer.Option("--count", "-n", help="Count number.")],
    victim_age: Annotated[int | None, typer.Option("--victim-age", help="Victim age at the offence.")] = None,
    facts: Annotated[
        str | None, typer.Option("--facts", help='Facts as JSON, e.g. {"flags": ["force"]}.')
    ] = None,
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Add a charge; its elements come from the law library for the victim's age."""
    fact_dict = parse_json_object(facts, "--facts")
    if victim_age is not None:
        fact_dict["victim_age"] = victim_age
    with opened(workspace) as ws:
        charge = ws.charges.add(case, offence, defendant, victims, count, fact_dict)
    emit(charge, as_json, lambda: render_elements(charge))


@app.command("list")
def list_charges(
    case: Annotated[str, typer.Argument(help="Case reference.")],
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """List charges with their elements."""
    with opened(workspace) as ws:
        charges = ws.charges.list(case)

    def render() -> None:
        if not charges:
            console.print(f"No charges in {case} yet.")
        for charge in charges:
            render_elements(charge)

    emit(charges, as_json, render)
