"""Shared output helpers so every command prints tables for people and JSON for scripts alike."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table
from rich.text import Text

console = Console()
err_console = Console(stderr=True)


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_json(data: Any) -> str:
    """Serialise results (pydantic models, dataclasses with ``to_dict``, dates) to JSON."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    return json.dumps(data, default=_default, indent=2, ensure_ascii=False)


def emit(data: Any, as_json: bool, render: Callable[[], None]) -> None:
    """Print ``data`` as JSON when asked, otherwise call ``render`` to draw it for a person."""
    if as_json:
        print(to_json(data))
    else:
        render()


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Draw a simple Rich table. Cells are shown as written, never read as Rich markup: evidence and
    names reach them, and "[number withheld]" (what redaction leaves of a number) was taken for a tag
    and vanished; a cell that is meant to be styled is passed as a ``rich.text.Text``."""
    t = Table(title=Text(title) if title is not None else None, show_lines=False)
    for col in columns:
        t.add_column(col)
    for row in rows:
        t.add_row(*[v if isinstance(v, Text) else Text("" if v is None else str(v)) for v in row])
    console.print(t)
