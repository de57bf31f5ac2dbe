"""``palermo export graph|ftm CASE``: the case network for Gephi, yEd or Aleph.

Exports leave the protected system, so they are redacted by default with the analysis' one rule
(:mod:`palermo.analytics.redaction`): only suspects are named. ``--reveal-identities`` (alias
``--no-redact``) names unsuspected people too and is recorded in the audit chain first; possible
victims stay pseudonymous regardless (their identity is read only through ``palermo party reveal``).

Every export is marked (MP-03, :mod:`palermo.ingest.marking`): its classification and handling caveat
(``--classification``, else the workspace's ``export_classification``), whom it is for
(``--recipient``, required unless the workspace allows unaddressed exports) and a unique export id,
recorded with the file's digest in the audit trail, so a copy found anywhere says how to handle it
and leads back to the one export it came from.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from palermo.analytics.export import FORMATS, require_analysis
from palermo.cli.output import console, emit
from palermo.cli.workspace_options import DEFAULT_WORKSPACE, AsJson, WorkspaceOpt, opened
from palermo.errors import DomainError, InputError
from palermo.ingest.marking import ExportMarking
from palermo.settings import MAX_MARKING_CHARS, banner_problem

app = typer.Typer(name="export", help="Export case data for other tools.", no_args_is_help=True)

RevealOpt = Annotated[
    bool,
    typer.Option(
        "--reveal-identities",
        "--no-redact",
        help="Name people the analysis does not suspect (audited; possible victims stay pseudonymous).",
    ),
]


RecipientOpt = Annotated[
    str | None,
    typer.Option(
        "--recipient",
        help="Whom the file is for (a person, an agency, a request number): written into the export's "
        "watermark and the audit trail. Required unless settings.toml has require_export_recipient = false.",
    ),
]
ClassificationOpt = Annotated[
    str | None,
    typer.Option(
        "--classification",
        help="The classification marked on this export (default: export_classification in settings.toml).",
    ),
]
#: The longest recipient accepted: a name, an agency and a reference, on one line.
MAX_RECIPIENT_CHARS = 200


def _one_line(value: str, location: str, limit: int) -> str:
    """A recipient or classification as written into the export: one non-empty line of printable text
    (a line break could end the marking early in a line-oriented reader)."""
    text = value.strip()
    if not text:
        raise InputError("must not be empty", location=location)
    if not text.isprintable():
        raise InputError("must be one line of printable text", location=location)
    if len(text) > limit:
        raise InputError(f"is {len(text)} characters long; at most {limit}", location=location)
    problem = banner_problem(text)
    if problem:
        raise InputError(problem, location=location)
    return text


def export_marking(
    ws: Any, case_ref: str, fmt: str, *, recipient: str | None, classification: str | None, revealed: bool
) -> ExportMarking:
    """The marking of one export, or bad input before anything is recorded or written: an export
    without a recipient is refused unless the workspace's settings allow it (a demo's synthetic data).
    An unknown case is named first: it is the mistake to fix before the recipient."""
    ws.cases.get(case_ref)
    settings = ws.settings
    who = None if recipient is None else _one_line(recipient, "--recipient", MAX_RECIPIENT_CHARS)
    if who is None and settings.require_export_recipient:
        raise InputError(
            'name whom the export is for (--recipient "Agency / officer / request no."): every export is '
            "marked with its recipient (MP-03). A demo or training workspace may allow unaddressed "
            "exports with require_export_recipient = false in settings.toml",
            location="--recipient",
        )
    label = (
        settings.export_classification
        if classification is None
        else _one_line(classification, "--classification", MAX_MARKING_CHARS)
    )
    allowed = settings.export_classifications
    if allowed and label not in allowed:
        raise InputError(
            f"{label!r} is not one of this workspace's classifications ({', '.join(allowed)}; "
            "export_classifications in settings.toml)",
            location="--classification",
        )
    return ExportMarking(
        classification=label,
        handling=settings.export_handling,
        recipient=who,
        case=case_ref,
        format=fmt,
        revealed=revealed,
    )


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


def _carries(path: Path, token: str) -> bool:
    """Whether the written file holds ``token`` (its export id), read through its compression."""
    with open(path, "rb") as raw:
        magic = raw.read(3)
    opener: Any = gzip.open if magic[:2] == b"\x1f\x8b" else bz2.open if magic == b"BZh" else open
    needle, tail = token.encode(), b""
    with opener(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            if needle in tail + block:
                return True
            tail = block[-len(needle) :]
    return False


@contextmanager
def audited_export(
    ws: Any, case_ref: str, command: str, out: Path, detail: dict[str, Any], marking: ExportMarking
) -> Iterator[Path]:
    """Yield a private temporary path beside ``out`` to write the export to; once written, record the
    export in the case's audit trail (who, what, the file's SHA-256, never its content) and only then
    move it to ``out``. If the audit record cannot be written there is no file (MP-01, AU-01): an
    export that leaks can be traced to the person and the moment, and told apart from any other by
    its digest. ``detail`` is filled in by the caller with counts while writing.

    ``marking`` (MP-03) is recorded too (export id, recipient, classification), and a file that does
    not carry its export id is not an export: nothing is recorded or written (a writer that forgot
    the marking fails here, not in a partner's hands).

    The temporary file is made by ``mkstemp``: owner-only (0600) from its first byte, under a name
    nobody can guess or plant a link at, and ending like ``out`` (``.graphml.gz`` is still
    compressed). A process killed while writing leaves it behind, hidden and owner-only.

    MP-01 asks for more than this gives: the export is written in the clear (owner-only, audited,
    marked), not sealed in an encrypted container; what leaves on a medium must be encrypted by the
    office's own means until Palermo can seal exports (docs/architecture.md, "Exports").
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
        if not _carries(temp, marking.export_id):
            raise DomainError(
                f"the {command} export was not written with its marking (export {marking.export_id}): "
                "nothing written",
                location=str(out),
            )
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
                detail={
                    **detail,
                    "file": target.name,
                    "sha256": digest.hexdigest(),
                    "export_id": marking.export_id,
                    "recipient": marking.recipient,
                    "classification": marking.classification,
                },
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
    recipient: RecipientOpt = None,
    classification: ClassificationOpt = None,
    workspace: WorkspaceOpt = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Write the analysed network (run ``palermo analyze`` first) with ids that ``--explain`` understands."""
    with opened(workspace) as ws:
        marking = export_marking(
            ws, case, fmt, recipient=recipient, classification=classification, revealed=reveal
        )
        if fmt not in FORMATS:
            raise InputError(
                f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}", location="--format"
            )
        export_target(out)
        analytics = ws.analytics
        detail: dict[str, Any] = {"format": fmt, "revealed": reveal}
        try:
            # bad input is named before anything is audited: a refused export reveals nobody
            require_analysis(analytics.connect(), case)
            if reveal:
                record_reveal(ws, case, "export graph")
            with audited_export(ws, case, "graph", out, detail, marking) as temp:
                count = analytics.export_graph(case, fmt, temp, redact_victims=not reveal, marking=marking)
                detail["items"] = count
        finally:
            analytics.close()
    emit(
        {"case": case, "format": fmt, "out": str(out), "items": count, **_marked(marking)},
        as_json,
        lambda: _say(f"wrote {count} nodes and links ({fmt}) to {out}", marking),
    )


def _marked(marking: ExportMarking) -> dict[str, Any]:
    return {
        "export_id": marking.export_id,
        "recipient": marking.recipient,
        "classification": marking.classification,
    }


def _say(done: str, marking: ExportMarking) -> None:
    """What was written and how it is marked, as written (a recipient's ``[ref]`` is not markup)."""
    console.print(f"{done}\nmarked {marking.banner}", markup=False, highlight=False, soft_wrap=True)


@app.command("ftm")
def ftm(
    case: Annotated[str, typer.Argument(help="Case reference.")],
    out: Annotated[Path, typer.Argument(help="JSON-lines file to write.")],
    reveal: RevealOpt = False,
    recipient: RecipientOpt = None,
    classification: ClassificationOpt = None,
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
        marking = export_marking(
            ws, case, "ftm", recipient=recipient, classification=classification, revealed=reveal
        )
        export_target(out)
        analytics = ws.analytics
        try:
            con = analytics.connect()
            require_analysis(con, case)  # before the audit: a refused export reveals nobody
            if reveal:
                record_reveal(ws, case, "export ftm")
            mask = ftm_mask(con, case, reveal=reveal, protected=analytics.protected(case))
            detail: dict[str, Any] = {"format": "ftm", "revealed": reveal}
            with audited_export(ws, case, "ftm", out, detail, marking) as temp:
                count = export_entities(
                    con, case, temp, mask=mask, marking=marking, withhold_details=not reveal
                )
                detail["items"] = count
        finally:
            analytics.close()
    emit(
        {"case": case, "out": str(out), "entities": count, **_marked(marking)},
        as_json,
        lambda: _say(f"wrote {count} FtM entities to {out}", marking),
    )
