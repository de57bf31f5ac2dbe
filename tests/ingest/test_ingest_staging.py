"""Staging a CSV file: every record keeps the physical line an editor shows (``line:N``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from palermo.ingest.base import BadRow
from palermo.ingest.staging import count_newlines, stage_csv


def _lines(tmp_path: Path, text: str, options: dict[str, Any] | None = None) -> tuple[list[int], list[str]]:
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode())
    con = duckdb.connect()
    bad: list[BadRow] = []
    staged = stage_csv(con, path, options=options, bad_rows=bad)
    lines = [int(r[0]) for r in con.execute(f"SELECT _line FROM {staged.table} ORDER BY _line").fetchall()]
    return lines, [f"{b.line}" for b in bad]


@pytest.mark.parametrize(
    ("text", "options", "expected"),
    [
        ('a,"b\nc"\n1,x\n2,"y\nz"\n3,w\n', None, [3, 4, 6]),  # a header over two lines
        ("a\tb\n1\tx\n\n2\ty\n", {"delimiter": "\\t"}, [2, 4]),  # tab given as \t, a blank line
        ("a|b\n1|x\n\n\n2|y\n", None, [2, 5]),  # a delimiter found from the header
        ("a,b\n1,x\n2,y\n\n\n", None, [2, 3]),  # blank lines at the end only
        ("a,b\r\n1,x\r\n\r\n2,y\r\n", None, [2, 4]),
    ],
)
def test_records_keep_their_physical_lines(
    tmp_path: Path, text: str, options: dict[str, Any] | None, expected: list[int]
) -> None:
    assert _lines(tmp_path, text, options)[0] == expected


def test_a_broken_record_between_blank_lines_is_reported_at_its_line(tmp_path: Path) -> None:
    lines, bad = _lines(tmp_path, "a,b\n1,x\n\n2,y,EXTRA\n\n3,z\n4\n5,q\n")
    assert lines == [2, 6, 8] and bad == ["4", "7"]


def test_blank_lines_at_the_end_are_not_counted(tmp_path: Path) -> None:
    """A trailing blank line must not send a clean file down the slow, line-by-line path."""
    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b\n1,x\n2,y\n\n\r\n")
    assert count_newlines(path) == 3
    path.write_bytes(b"a,b\n1,x\n2,y")
    assert count_newlines(path) == 3
