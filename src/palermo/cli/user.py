"""``palermo user add|list|unlock|totp|member``: web accounts, two-factor enrolment, case membership.

Passwords are typed at a hidden prompt (never a command-line argument, which would land in shell
history and the process list), or generated with ``--generate`` and shown once.
"""

from __future__ import annotations

import secrets
from typing import Annotated

import typer

from palermo.cli.output import console, emit, table
from palermo.cli.workspace_options import DEFAULT_WORKSPACE, AsJson, WorkspaceOpt, opened

app = typer.Typer(name="user", help="Web accounts and case membership.", no_args_is_help=True)


def one_time_password() -> str:
    """A random 20-character password for a new account (about 119 bits)."""
    return secrets.token_urlsafe(15)


@app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Login name (no spaces).")],
    role: Annotated[
        str,
        typer.Option(
            "--role", help="admin, prosecutor, investigator, analyst, victim_advocate, liaison or viewer."
        ),
    ],
    case: Annotated[
        list[str] | None, typer.Option("--case", help="Make the user a member of this case.")
    ] = None,
    generate: Annotated[
        bool, typer.Option("--generate", help="Generate a password and print it once.")
    ] = False,
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Create an account (argon2id-hashed password; at least 12 characters, not a common one)."""
    password = (
        one_time_password()
        if generate
        else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    )
    with opened(workspace) as ws:
        user = ws.users.add(username, password, role)
        for ref in case or []:
            ws.users.add_member(ref, username)
    data = {**user.to_dict(), "cases": list(case or [])}
    if generate:
        data["password"] = password

    def render() -> None:
        console.print(f"Created {user.username} ({user.role}).")
        if generate:
            console.print(f"One-time password: [bold]{password}[/] (shown once; change it after first use)")

    emit(data, as_json, render)


@app.command("list")
def list_users(workspace: WorkspaceOpt = DEFAULT_WORKSPACE, as_json: AsJson = False) -> None:
    """List accounts (never their password hashes)."""
    with opened(workspace) as ws:
        users = ws.users.all()
    rows = [
        [u.username, u.role, "yes" if u.is_active else "no", "yes" if u.locked else "", u.last_login_at]
        for u in users
    ]
    emit(
        [u.to_dict() for u in users],
        as_json,
        lambda: table("Users", ["user", "role", "active", "locked", "last login"], rows),
    )


@app.command("unlock")
def unlock(
    username: Annotated[str, typer.Argument()],
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Release an account locked after 5 failed sign-ins (locks never expire on their own)."""
    with opened(workspace) as ws:
        user = ws.users.unlock(username)
    emit(user.to_dict(), as_json, lambda: console.print(f"Unlocked {user.username}."))


@app.command("totp")
def totp(
    username: Annotated[str, typer.Argument()],
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Enrol USERNAME in two-factor sign-in: a new TOTP secret, shown once for an authenticator app.

    From then on the web sign-in asks for the app's 6-digit code, and each code works once. Running
    it again replaces the secret (a lost phone): the old app's codes stop working at once.
    """
    from palermo.security.auth import totp_provisioning_uri

    with opened(workspace) as ws:
        secret = ws.users.enrol_totp(username)
    uri = totp_provisioning_uri(secret, username)

    def render() -> None:
        console.print(f"Two-factor sign-in enrolled for {username}. For the authenticator app (shown once):")
        console.print(f"  secret: [bold]{secret}[/]")
        console.print(f"  URI:    {uri}", highlight=False)

    emit({"username": username, "secret": secret, "uri": uri}, as_json, render)


@app.command("member")
def member(
    username: Annotated[str, typer.Argument()],
    case: Annotated[str, typer.Argument(help="Case reference.")],
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
) -> None:
    """Give USERNAME need-to-know access to CASE."""
    with opened(workspace) as ws:
        ws.users.add_member(case, username)
    console.print(f"{username} is a member of {case}.")
