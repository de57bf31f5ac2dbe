"""``palermo serve WORKSPACE``: run the web application on one workspace.

The server binds to loopback by default. Palermo speaks plain HTTP; anything beyond this machine
must go through a TLS-terminating reverse proxy (CJIS SC-8), so binding elsewhere prints a warning
and marks cookies ``Secure`` (they will then only travel over HTTPS through that proxy).
PostgreSQL is used when ``PALERMO_DATABASE_URL`` is set, as for every other command.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from palermo.cli.output import console, err_console
from palermo.workspace import Workspace

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
SWEEP_EVERY = timedelta(hours=1)
"""How often a running server sweeps accounts and sessions (besides once at start): an account reaching
its ``inactive_account_days`` is disabled within the hour, not at the next restart."""


def serve_workspace(ws: Workspace, host: str, port: int) -> None:
    """Run uvicorn on ``ws`` until interrupted (shared with ``palermo demo``), sweeping accounts and
    sessions every :data:`SWEEP_EVERY`."""
    import uvicorn

    from palermo.web.app import WebSettings, create_app

    settings = WebSettings(secure_cookies=host not in LOOPBACK, sweep_every=SWEEP_EVERY)
    if host not in LOOPBACK:
        err_console.print(
            f"[yellow]warning:[/] serving on {host}: put a TLS proxy in front; cookies are Secure-only."
        )
    application = create_app(ws, settings)
    uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False, workers=1)


def _warn_not_enrolled(usernames: list[str]) -> None:
    """Name the active accounts the second-factor policy will keep out, so the operator can enrol
    them (``palermo user totp NAME``) before someone is locked out of a case mid-trial. Usernames
    only: never a secret."""
    if not usernames:
        console.print("Two-factor sign-in is required; every active account is enrolled.")
        return
    err_console.print(
        f"[yellow]note:[/] two-factor sign-in is required; {len(usernames)} active account(s) have no "
        "TOTP code and cannot sign in until enrolled with `palermo user totp NAME`: "
        + escape(", ".join(usernames)),  # a "[name]" must print as typed, not as rich markup
    )


def serve(
    workspace: Annotated[Path, typer.Argument(help="Workspace folder (see palermo init).")],
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Serve the web application for WORKSPACE (create accounts first with `palermo user add`)."""
    ws = Workspace.open(workspace)
    try:
        if not ws.users.all():
            err_console.print(
                "[yellow]note:[/] no accounts yet: create one with `palermo user add NAME --role R`."
            )
        swept = ws.users.sweep()  # what ran out while nobody served: disable, record as ended
        if swept.disabled:
            err_console.print(
                f"[yellow]note:[/] disabled for {ws.settings.inactive_account_days} days without a sign-in: "
                + escape(", ".join(swept.disabled))
            )
        if ws.settings.require_second_factor:
            _warn_not_enrolled(ws.users.not_enrolled())
        console.print(f"Palermo is serving {ws.path} at http://{host}:{port}/  (Ctrl+C to stop)")
        serve_workspace(ws, host, port)
    finally:
        ws.close()
