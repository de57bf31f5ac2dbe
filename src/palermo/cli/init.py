"""``palermo init PATH``: create a workspace folder (database, evidence store, settings).

The master key is created outside the folder (``~/.config/palermo/master.key`` or
``$PALERMO_MASTER_KEY_FILE``) if it does not exist yet; the command says where, because losing it
means losing every victim identity in every case it protects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from palermo.cli.output import console, emit
from palermo.cli.workspace_options import AsJson
from palermo.store.database import current_revision
from palermo.workspace import Workspace


def init(
    path: Annotated[Path, typer.Argument(help="Folder to create (or an empty one to adopt).")],
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url", envvar="PALERMO_DATABASE_URL", help="PostgreSQL URL instead of SQLite."
        ),
    ] = None,
    master_key_file: Annotated[
        Path | None, typer.Option("--master-key-file", help="Master key location (outside the folder).")
    ] = None,
    require_second_factor: Annotated[
        bool,
        typer.Option(
            "--require-second-factor",
            help="Refuse web sign-in to accounts without a TOTP code (enrol with `palermo user totp`).",
        ),
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Create a workspace: palermo.db (WAL, synchronous=FULL) or PostgreSQL, evidence/, settings.toml."""
    ws = Workspace.init(
        path,
        database_url=database_url,
        master_key_file=master_key_file,
        require_second_factor=require_second_factor,
    )
    try:
        info = {
            "path": str(ws.path),
            "database": make_url(ws.settings.database_url).render_as_string(hide_password=True),
            "schema_revision": current_revision(ws.ctx.db.engine),
            "evidence": str(ws.settings.evidence_dir),
            "master_key_file": str(ws.settings.master_key_file),
            "require_second_factor": ws.settings.require_second_factor,
        }
    finally:
        ws.close()

    def render() -> None:
        console.print(f"Created workspace [bold]{info['path']}[/]")
        console.print(f"  database   {info['database']} (schema {info['schema_revision']})")
        console.print(f"  evidence   {info['evidence']}")
        console.print(f"  master key {info['master_key_file']} (keep it safe and outside the folder)")
        if info["require_second_factor"]:
            console.print("  sign-in    password and TOTP code (enrol each account: palermo user totp NAME)")

    emit(info, as_json, render)
