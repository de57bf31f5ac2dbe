"""``palermo backup create|verify|restore``: one encrypted file per backup of an embedded workspace.

The passphrase is read from ``PALERMO_BACKUP_PASSPHRASE`` or asked for on the terminal, never taken as
an argument: arguments are visible to every user of the machine in ``ps`` and stay in shell history.
See :mod:`palermo.backup` for what a backup holds and how it stays consistent while in use.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from palermo import backup
from palermo.cli.output import console, emit, err_console
from palermo.cli.workspace_options import DEFAULT_WORKSPACE, AsJson, WorkspaceOpt
from palermo.errors import InputError
from palermo.workspace import default_actor

app = typer.Typer(
    name="backup",
    help="Encrypted backups of a workspace (SQLite, DuckDB, evidence): create, verify, restore.",
    no_args_is_help=True,
)

FileArg = Annotated[Path, typer.Argument(help="The backup file.", show_default=False)]


def passphrase(*, confirm: bool) -> str:
    """The passphrase from ``PALERMO_BACKUP_PASSPHRASE``, else from the terminal (hidden; twice to create)."""
    given = os.environ.get(backup.PASSPHRASE_ENV)
    if given:
        return given
    if not sys.stdin.isatty():
        raise InputError(
            f"no passphrase: set {backup.PASSPHRASE_ENV} or run on a terminal to be asked "
            "(never on the command line, where `ps` shows it)",
            location=backup.PASSPHRASE_ENV,
        )
    value: str = typer.prompt("Backup passphrase", hide_input=True, confirmation_prompt=confirm)
    return value


def _say(text: str) -> None:
    err_console.print(text, highlight=False, soft_wrap=True, style="dim")


def _tables_line(tables: dict[str, dict[str, int]]) -> str:
    store, analytics = tables.get("case_store", {}), tables.get("analytics", {})
    return (
        f"case store {sum(store.values())} rows in {len(store)} tables; "
        f"analytics {sum(analytics.values())} rows in {len(analytics)} tables"
    )


@app.command("create")
def create(
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="The backup file to write (must not exist; outside the workspace)."),
    ],
    wait: Annotated[
        float,
        typer.Option(
            "--wait", min=0, help="Seconds to wait for another process to release analytics.duckdb."
        ),
    ] = 30.0,
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Write an encrypted backup (AES-256-GCM, passphrase via argon2id) of the case store, the analytics
    database, every evidence original and settings.toml, with a manifest of sizes and SHA-256s; audited as
    backup.create. The master key is not included. Refused for a PostgreSQL case store."""
    secret = passphrase(confirm=True)
    report = backup.create(
        workspace, out, secret, actor=default_actor(), wait=wait, progress=None if as_json else _say
    )

    def render() -> None:
        console.print(
            f"Backup {report['backup_id']} written to {report['file']} ({report['bytes']} bytes, "
            f"SHA-256 {report['sha256']}): {report['files']} files, {report['exhibits']} exhibits, "
            f"{_tables_line(report['tables'])}, {report['audit']['events']} audit events, "
            f"{len(report['keys'])} case keys.",
            highlight=False,
            soft_wrap=True,
        )
        if report["audit"]["problems"]:
            err_console.print(
                "warning: the audit log did not verify when backed up: "
                + "; ".join(report["audit"]["problems"]),
                highlight=False,
                soft_wrap=True,
            )

    emit(report, as_json, render)


def _warn(text: str) -> None:
    err_console.print(text, highlight=False, soft_wrap=True, markup=False)


def _key_lines(report: dict[str, Any]) -> None:
    """The shredded-key check, always on stderr (also with --json): silence must not read as "none"."""
    for key in report.get("shredded_keys") or []:
        _warn(
            f"warning: holds case {key['case']} data key v{key['version']}, crypto-shredded "
            f"{key['shredded_at']} by {key['by']} (audit {key['audit_seq']}; {key['source']}): this backup "
            "can still decrypt that case's identities; destroy it or record why it is kept (MP-02)"
        )
    if report.get("shreds_known") is False:
        _warn(f"WARNING: {report['shredded_keys_note']}; give the workspace it was made of with -w")
    else:
        _warn(f"note: {report['shredded_keys_note']}")


def _restore_lines(report: dict[str, Any]) -> None:
    """What a restore did about shredded keys and the master key, always on stderr (also with --json)."""
    for key in report["shredded_keys_reapplied"]:
        _warn(
            f"shredded again: case {key['case']} data key v{key['version']}, crypto-shredded "
            f"{key['shredded_at']} by {key['by']} after this backup was made ({key['source']}); recorded "
            "as case.key.shred in the restored workspace (MP-02)"
        )
    if not report["shreds_known"]:
        _warn(
            f"WARNING: {report['shreds_note']}. Find out whether any case of this backup was shredded since "
            "and shred it again (palermo case shred CASE --confirm CASE -w RESTORED), or keep the original "
            "workspace or its master key's "
            ".shredded list at hand when restoring."
        )
    _warn(
        f"note: the restored workspace is a new copy (instance {report['instance']}): shreds made in it are "
        "its own, never applied to restores of the workspace it came from"
    )
    if not report["master_key_matches"]:
        _warn(f"warning: master key: {report['master_key']}; the victims' identities will not decrypt")
    if report["settings_dropped"]:
        _warn(
            "note: dropped from the restored settings.toml: "
            + ", ".join(report["settings_dropped"])
            + " (the restored case store is the palermo.db in the folder)"
        )


@app.command("verify")
def verify(
    file: FileArg,
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace",
            "-w",
            help="The workspace the backup was made of, to flag keys shredded since "
            "(default: the path in the backup's manifest).",
            show_default=False,
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Decrypt the whole backup and check it: every file's size and SHA-256 against the manifest, the case
    store's integrity, row counts and audit chain. Flags case keys crypto-shredded since the backup (from the
    workspace it was made of and the shred list beside the master key file), and says when it cannot tell.
    A backup altered by one byte, or a wrong passphrase, is refused (exit 1) naming where."""
    report = backup.verify(file, passphrase(confirm=False), workspace=workspace)

    def render() -> None:
        console.print(
            f"Backup {report['backup_id']} of {report['workspace']} ({report['created_at']}, by "
            f"{report['created_by']}) verifies: {report['files']} files, {report['exhibits']} exhibits, "
            f"{_tables_line(report['tables'])}, {report['audit_events']} audit events, "
            f"{len(report['keys'])} case keys.",
            highlight=False,
            soft_wrap=True,
        )

    emit(report, as_json, render)
    _key_lines(report)


@app.command("restore")
def restore(
    file: FileArg,
    into: Annotated[Path, typer.Option("--into", help="A new or empty folder for the restored workspace.")],
    master_key_file: Annotated[
        Path | None,
        typer.Option("--master-key-file", help="Record this master key file in the restored settings.toml."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Restore a backup into a new or empty folder, then check the result: case store integrity, every
    table's row count in both databases, and the audit chain up to the backed-up head. Case keys
    crypto-shredded since the backup (known from the original workspace or the shred list beside the master
    key file) are shredded again; when that cannot be known, a warning says so. Recorded in the restored
    workspace as backup.restore."""
    report = backup.restore(
        file, passphrase(confirm=False), into, actor=default_actor(), master_key_file=master_key_file
    )

    def render() -> None:
        console.print(
            f"Restored backup {report['backup_id']} ({report['created_at']}) into {report['restored_into']}: "
            f"{report['files']} files, {_tables_line(report['tables'])}, audit chain intact "
            f"({report['audit_events']} events as backed up). Master key: {report['master_key']}.",
            highlight=False,
            soft_wrap=True,
        )

    emit(report, as_json, render)
    _restore_lines(report)
