"""Options every case-store command shares: which workspace, and JSON output.

``--workspace/-w`` defaults to ``$PALERMO_WORKSPACE`` or ``./workspace`` so an investigator working in
one case folder never has to repeat it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from palermo.errors import InputError
from palermo.workspace import Workspace

WorkspaceOpt = Annotated[
    Path,
    typer.Option(
        "--workspace", "-w", envvar="PALERMO_WORKSPACE", help="Workspace folder.", show_default=True
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
DEFAULT_WORKSPACE = Path("workspace")


@contextmanager
def opened(path: Path) -> Iterator[Workspace]:
    """Open the workspace for one command and close it afterwards."""
    ws = Workspace.open(path)
    try:
        yield ws
    finally:
        ws.close()


def parse_time(value: str | None, field: str) -> datetime | None:
    """An ISO 8601 time with a zone (``Z`` allowed), or InputError naming the option."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"{value!r} is not an ISO 8601 time", location=field) from exc
    if parsed.tzinfo is None:
        raise InputError(f"{value!r} needs a timezone, e.g. 2024-05-01T10:00:00Z", location=field)
    return parsed


def parse_json_object(value: str | None, field: str) -> dict[str, Any]:
    """A JSON object given on the command line, or InputError naming the option."""
    if not value:
        return {}
    try:
        data = json.loads(value)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg} at column {exc.colno}", location=field) from exc
    if not isinstance(data, dict):
        raise InputError('must be a JSON object like {"victim_age": 16}', location=field)
    return data


def short(text: str | None, width: int = 60) -> str:
    """Trim long labels for tables (JSON output keeps them whole)."""
    if text is None:
        return ""
    return text if len(text) <= width else text[: width - 1] + "…"
