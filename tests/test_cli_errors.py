"""Bad input at the command line ends with a message and exit 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PALERMO = [sys.executable, "-m", "palermo.cli.main"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PALERMO, *args], capture_output=True, text=True, timeout=120)


def test_binary_facts_file_is_bad_input(tmp_path: Path) -> None:
    facts = tmp_path / "facts.yaml"
    facts.write_bytes(b"\xff\xfe\x00garbage")
    done = _run("law", "restitution", str(facts))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "UTF-8" in done.stderr


def test_unwritable_output_path_is_bad_input(tmp_path: Path) -> None:
    # Folders are created on demand; a path under a regular file cannot be.
    (tmp_path / "file-not-dir").write_text("not a folder", encoding="utf-8")
    done = _run("scenario", "generate", str(tmp_path / "file-not-dir" / "x"), "--scale", "0.1")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "file-not-dir" in done.stderr


def test_unknown_command_is_a_usage_error() -> None:
    done = _run("no-such-command")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_table_cells_are_shown_as_written_never_as_markup(capsys: pytest.CaptureFixture[str]) -> None:
    """Redaction leaves "[number withheld]" in evidence text; Rich took it for a tag and printed nothing,
    and a stored "[/x]" (an actor, a name) raised. Styled cells are passed as Text on purpose."""
    from rich.text import Text

    from palermo.cli.output import table

    table(
        "Red flags of [case]",
        ["detail", "status"],
        [["she called [number withheld]", Text("open", style="red")], ["[/x]", None]],
    )
    out = capsys.readouterr().out
    assert "she called [number withheld]" in out and "[/x]" in out and "Red flags of [case]" in out
    assert "open" in out
