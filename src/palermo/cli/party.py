"""``palermo party add|list|reveal``: defendants, victims (by pseudonym), witnesses and others.

A victim's identity (legal name, date of birth, contact, address) is encrypted on the way in and
never printed by ``list``; ``reveal`` decrypts it for a named user who may read it (an account of
this workspace whose role holds victim-identity access, member of the case) and writes an audit
event either way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from palermo.cli.output import console, emit, table
from palermo.cli.workspace_options import DEFAULT_WORKSPACE, AsJson, WorkspaceOpt, opened
from palermo.errors import AccessDenied, NotFoundError
from palermo.security.access import Permission, Principal, parse_role
from palermo.workspace import Workspace

app = typer.Typer(name="party", help="Parties of a case.", no_args_is_help=True)


@app.command("add")
def add(
    case: Annotated[str, typer.Argument(help="Case reference.")],
    role: Annotated[str, typer.Option("--role", "-r", help="defendant | victim | witness | other")],
    label: Annotated[str, typer.Option("--label", "-l", help="Name, or the victim's pseudonym.")],
    age: Annotated[int | None, typer.Option("--age", help="Age at the time of the offence.")] = None,
    notes: Annotated[str | None, typer.Option(help="Notes (no identifying details for victims).")] = None,
    legal_name: Annotated[str | None, typer.Option("--legal-name", help="Encrypted at rest.")] = None,
    date_of_birth: Annotated[
        str | None, typer.Option("--date-of-birth", help="YYYY-MM-DD, checked against --age; encrypted.")
    ] = None,
    contact: Annotated[str | None, typer.Option("--contact", help="Encrypted at rest.")] = None,
    address: Annotated[str | None, typer.Option("--address", help="Encrypted at rest.")] = None,
    ask_identity: Annotated[
        bool,
        typer.Option(
            "--ask-identity", help="Prompt for the identity (hidden) instead of command-line options."
        ),
    ] = False,
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Add a party; identity fields are encrypted with the case key.

    Prefer ``--ask-identity`` for victims: options end up in shell history and process lists.
    """
    if ask_identity:
        legal_name = typer.prompt("Legal name", hide_input=True, default="", show_default=False) or None
        date_of_birth = (
            typer.prompt("Date of birth, YYYY-MM-DD", hide_input=True, default="", show_default=False) or None
        )
        contact = typer.prompt("Contact", hide_input=True, default="", show_default=False) or None
        address = typer.prompt("Address", hide_input=True, default="", show_default=False) or None
    with opened(workspace) as ws:
        party = ws.parties.add(
            case,
            role,
            label,
            age_at_offence=age,
            notes=notes,
            legal_name=legal_name,
            date_of_birth=date_of_birth,
            contact=contact,
            address=address,
        )
    emit(party, as_json, lambda: console.print(f"Added {party.role} {party.id}: {party.label}"))


@app.command("list")
def list_parties(
    case: Annotated[str, typer.Argument(help="Case reference.")],
    role: Annotated[str | None, typer.Option("--role", "-r")] = None,
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """List parties; victims appear by pseudonym only."""
    with opened(workspace) as ws:
        parties = ws.parties.list(case, role)
    emit(
        parties,
        as_json,
        lambda: table(
            f"Parties of {case}",
            ["id", "role", "label", "age", "identity held"],
            [
                [p.id, p.role, p.label, p.age_at_offence, "encrypted" if p.has_identity else "-"]
                for p in parties
            ],
        ),
    )


@app.command("reveal")
def reveal(
    party_id: Annotated[int, typer.Argument(help="Party id.")],
    user: Annotated[
        str,
        typer.Option(
            "--user", "-u", help="Who is asking: an active account allowed to read victim identity."
        ),
    ],
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Decrypt and show a party's identity (audited; refused, and audited, unless --user is an
    active account whose role holds victim-identity access and who is a member of the case)."""
    with opened(workspace) as ws:
        identity = ws.parties.reveal_identity(party_id, user=user, authorise=_identity_rule(ws, user))
    emit(
        identity,
        as_json,
        lambda: table(
            f"Identity of party {party_id}",
            ["field", "value"],
            [[k, v] for k, v in identity.to_dict().items() if k != "party_id"],
        ),
    )


def _identity_rule(ws: Workspace, username: str) -> Callable[[str], None]:
    """The access rule for one reveal: ``username`` must be an active account whose role grants
    victim identity (prosecutor, victim advocate) on a case they are a member of (need to know)."""

    def authorise(case_ref: str) -> None:
        try:
            account = ws.users.get(username)
        except NotFoundError:
            raise AccessDenied(f"{username!r} is not a user of this workspace") from None
        if not account.is_active:
            raise AccessDenied(f"{username} is deactivated")
        principal = Principal(
            user_id=account.id,
            username=account.username,
            role=parse_role(account.role),
            case_refs=frozenset(ws.users.case_refs(account.id)),
        )
        principal.require(Permission.VICTIM_IDENTITY, case_ref)

    return authorise
