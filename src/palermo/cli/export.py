"""``palermo export graph|ftm CASE``: the case network for Gephi, yEd or Aleph.

Exports leave the protected system, so they are redacted by default with the analysis' one rule
(:mod:`palermo.analytics.redaction`): only suspects are named. ``--reveal-identities`` (alias
``--no-redact``) names unsuspected people too and is recorded in the audit chain first; possible
victims stay pseudonymous regardless (their identity is read only through ``palermo party reveal``).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from palermo.analytics.export import require_analysis
from palermo.cli.output import console, emit
from palermo.cli.workspace_options import DEFAULT_WORKSPACE, AsJson, WorkspaceOpt, opened
from palermo.errors import InputError

app = typer.Typer(name="export", help="Export case data for other tools.", no_args_is_help=True)

RevealOpt = Annotated[
    bool,
    typer.Option(
        "--reveal-identities",
        "--no-redact",
        help="Name people the analysis does not suspect (audited; possible victims stay pseudonymous).",
    ),
]


def record_reveal(ws: Any, case_ref: str, command: str) -> None:
    """Write the audit event for an identity-revealing output before anything is shown or written."""
    case = ws.cases.get(case_ref)
    with ws.ctx.db.transaction() as session:
        ws.ctx.audit.record(
            session,
            actor=ws.actor,
            action="analysis.identities.reveal",
            object_type="case",
            object_id=case.id,
            case_id=case.id,
            detail={"command": command},
        )


#: What an identifier of nobody the analysis knows becomes in an FtM export.
_WITHHELD = {"phone": "[number withheld]", "email": "[e-mail withheld]", "account": "account (withheld)"}


def export_target(out: Path) -> Path:
    """The regular file an export goes to: a symbolic link is followed to the file it names, and a
    directory, a device or a missing folder is bad input, named before anything is written or
    recorded (the record must describe a file that exists)."""
    path = Path(out)
    if path.name in ("", ".", ".."):
        raise InputError(f"{out} is not a file name: give the file to write", location="--out")
    if path.is_symlink():
        path = path.resolve()
    if path.exists() and not path.is_file():
        raise InputError(
            f"{out} is not a regular file (a directory or a device): exports are files, recorded with "
            "their SHA-256",
            location="--out",
        )
    if not path.parent.is_dir():
        raise InputError(f"the folder of {out} does not exist", location="--out")
    return path


@contextmanager
def audited_export(ws: Any, case_ref: str, command: str, out: Path, detail: dict[str, Any]) -> Iterator[Path]:
    """Yield a private temporary path beside ``out`` to write the export to; once written, record the
    export in the case's audit trail (who, what, the file's SHA-256, never its content) and only then
    move it to ``out``. If the audit record cannot be written there is no file (MP-01, AU-01): an
    export that leaks can be traced to the person and the moment, and told apart from any other by
    its digest. ``detail`` is filled in by the caller with counts while writing.

    The temporary file is made by ``mkstemp``: owner-only (0600) from its first byte, under a name
    nobody can guess or plant a link at, and ending like ``out`` (``.graphml.gz`` is still
    compressed). A process killed while writing leaves it behind, hidden and owner-only.
    """
    case = ws.cases.get(case_ref)
    target = export_target(Path(out))
    handle, name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".part" + "".join(target.suffixes)
    )
    os.close(handle)
    temp = Path(name)
    try:
        yield temp
        digest = hashlib.sha256()
        with open(temp, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        with ws.ctx.db.transaction() as session:
            ws.ctx.audit.record(
                session,
                actor=ws.actor,
                action=f"export.{command}",
                object_type="case",
                object_id=case.id,
                case_id=case.id,
                detail={**detail, "file": target.name, "sha256": digest.hexdigest()},
            )
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def ftm_mask(
    con: Any, case_ref: str, *, reveal: bool, protected: Iterable[str] = ()
) -> Callable[[str, str], str | None]:
    """The FtM exporter's ``mask`` from the analysis' redaction rule (text is scrubbed, values looked up);
    ``protected`` are the recorded victims' names and contacts (``Analytics.protected``)."""
    from palermo.analytics.redaction import Redaction

    rules = Redaction.from_connection(con, case_ref, reveal=reveal, protected=protected)

    def mask(kind: str, value: str) -> str | None:
        if kind == "text":
            scrubbed = rules.scrub(value)
            return scrubbed if scrubbed != value else None
        if kind == "person" and not reveal:  # deny by default: a person nobody resolved may be a victim
            return rules.mask_value(value) or (None if rules.may_name(value) else "person (withheld)")
        alias = rules.mask_value(value)
        if alias or reveal or kind not in _WITHHELD:
            return alias
        # deny by default too: a number or account the analysis ties to nobody may be a victim's
        return None if rules.may_show(value) else _WITHHELD[kind]

    return mask


@app.command("graph")
def graph(
    case: Annotated[str, typer.Argument(help="Case reference.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="gexf | graphml | ftm")] = "gexf",
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.")] = Path("network.gexf"),
    reveal: RevealOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Write the analysed network (run ``palermo analyze`` first) with ids that ``--explain`` understands."""
    with opened(workspace) as ws:
        if reveal:
            record_reveal(ws, case, "export graph")
        analytics = ws.analytics
        detail: dict[str, Any] = {"format": fmt, "revealed": reveal}
        try:
            with audited_export(ws, case, "graph", out, detail) as temp:
                count = analytics.export_graph(case, fmt, temp, redact_victims=not reveal)
                detail["items"] = count
        finally:
            analytics.close()
    emit(
        {"case": case, "format": fmt, "out": str(out), "items": count},
        as_json,
        lambda: console.print(f"wrote {count} nodes and links ({fmt}) to {out}"),
    )


@app.command("ftm")
def ftm(
    case: Annotated[str, typer.Argument(help="Case reference.")],
    out: Annotated[Path, typer.Argument(help="JSON-lines file to write.")],
    reveal: RevealOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Write the case's imported statements as FollowTheMoney entities (for Aleph/OpenAleph).

    Needs ``palermo analyze`` first (refused without it, and after ``ingest forget`` cleared it):
    without the analysis nobody is known to be a suspect, and a victim's number could not be told
    from anybody else's.
    """
    from palermo.ingest.ftm import export_entities

    with opened(workspace) as ws:
        if reveal:
            record_reveal(ws, case, "export ftm")
        analytics = ws.analytics
        try:
            con = analytics.connect()
            require_analysis(con, case)
            mask = ftm_mask(con, case, reveal=reveal, protected=analytics.protected(case))
            detail: dict[str, Any] = {"format": "ftm", "revealed": reveal}
            with audited_export(ws, case, "ftm", out, detail) as temp:
                count = export_entities(con, case, temp, mask=mask)
                detail["items"] = count
        finally:
            analytics.close()
    emit(
        {"case": case, "out": str(out), "entities": count},
        as_json,
        lambda: console.print(f"wrote {count} FtM entities to {out}"),
    )
