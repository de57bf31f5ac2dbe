"""``palermo user add|list|unlock|totp|member|password|role|deactivate|activate|sweep``: web accounts,
two-factor enrolment, case membership, taking access away again, and the time-based rules.

Passwords are typed at a hidden prompt (never a command-line argument, which would land in shell
history and the process list), or generated with ``--generate`` and shown once. Every change is
audited under the operator's name (``PALERMO_USER`` or the login), not an anonymous "system".
"""

from __future__ import annotations

import secrets
from typing import Annotated

import typer
from rich.markup import escape

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
        user = ws.users.add(username, password, role, actor=ws.actor)
        for ref in case or []:
            ws.users.add_member(ref, username, actor=ws.actor)
    data = {**user.to_dict(), "cases": list(case or [])}
    if generate:
        data["password"] = password

    def render() -> None:
        console.print(f"Created {user.username} ({user.role}).")
        if generate:
            console.print(
                f"One-time password: [bold]{password}[/] (shown once; change it with `palermo user password`)"
            )

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
        user = ws.users.unlock(username, actor=ws.actor)
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
        secret = ws.users.enrol_totp(username, actor=ws.actor)
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
    remove: Annotated[
        bool, typer.Option("--remove", help="Take the access away instead (effective at the next request).")
    ] = False,
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
) -> None:
    """Give USERNAME need-to-know access to CASE, or take it away with --remove."""
    with opened(workspace) as ws:
        if remove:
            ws.users.remove_member(case, username, actor=ws.actor)
        else:
            ws.users.add_member(case, username, actor=ws.actor)
    if remove:
        console.print(f"{username} is no longer a member of {case}.")
    else:
        console.print(f"{username} is a member of {case}.")


@app.command("password")
def change_password(
    username: Annotated[str, typer.Argument()],
    generate: Annotated[
        bool, typer.Option("--generate", help="Generate a password and print it once.")
    ] = False,
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Set a new password for USERNAME and end all of their sessions (same rules as `user add`)."""
    with opened(workspace) as ws:
        ws.users.get(username)  # an unknown user fails before anyone types a password
        new = (
            one_time_password()
            if generate
            else typer.prompt("New password", hide_input=True, confirmation_prompt=True)
        )
        user = ws.users.set_password(username, new, actor=ws.actor)
    data = user.to_dict()
    if generate:
        data["password"] = new

    def render() -> None:
        console.print(f"Password of {user.username} changed; their sessions have ended.")
        if generate:
            console.print(f"One-time password: [bold]{new}[/] (shown once)")

    emit(data, as_json, render)


@app.command("deactivate")
def deactivate(
    username: Annotated[str, typer.Argument()],
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Disable USERNAME at once: no sign-in, and every open session ends (case memberships are kept)."""
    with opened(workspace) as ws:
        user = ws.users.deactivate(username, actor=ws.actor)
    emit(user.to_dict(), as_json, lambda: console.print(f"Deactivated {user.username}; sessions ended."))


@app.command("activate")
def activate(
    username: Annotated[str, typer.Argument()],
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Re-enable a deactivated account, with the password and case memberships it had."""
    with opened(workspace) as ws:
        user = ws.users.activate(username, actor=ws.actor)
    emit(user.to_dict(), as_json, lambda: console.print(f"Activated {user.username}."))


@app.command("role")
def role(
    username: Annotated[str, typer.Argument()],
    new_role: Annotated[str, typer.Argument(metavar="ROLE", help="The new role (see `user add --role`).")],
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Give USERNAME another role and end their sessions (the last active admin cannot be demoted)."""
    with opened(workspace) as ws:
        user = ws.users.set_role(username, new_role, actor=ws.actor)
    emit(user.to_dict(), as_json, lambda: console.print(f"{escape(user.username)} is now {user.role}."))


@app.command("sweep")
def sweep(workspace: WorkspaceOpt = DEFAULT_WORKSPACE, as_json: AsJson = False) -> None:
    """Disable accounts not signed in to for `inactive_account_days` (default 90) and record every
    session that ran out of time as ended. `palermo serve` does it at start and hourly; where no
    server runs all the time, run it daily (cron or a systemd timer)."""
    with opened(workspace) as ws:
        result = ws.users.sweep()

    def render() -> None:
        names = ", ".join(result.disabled) if result.disabled else "none"
        console.print(f"Disabled for inactivity: {escape(names)}.", highlight=False)
        console.print(f"Abandoned sessions recorded as ended: {result.sessions_ended}.")

    emit(result.to_dict(), as_json, render)
