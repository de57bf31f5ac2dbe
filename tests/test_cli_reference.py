"""The command reference documents every command the CLI offers (as datasette's docs tests do)."""

from __future__ import annotations

from pathlib import Path

from typer.main import get_command

from palermo.cli.main import app

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def _commands() -> list[str]:
    found: list[str] = []

    def walk(command: object, prefix: list[str]) -> None:
        subs = getattr(command, "commands", None)
        if subs:
            for name, sub in subs.items():
                if not getattr(sub, "hidden", False):
                    walk(sub, [*prefix, name])
        else:
            found.append(" ".join(prefix))

    walk(get_command(app), ["palermo"])
    return found


def test_every_command_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [c for c in _commands() if f"`{c}" not in text]
    assert not missing, f"add these commands to docs/cli.md: {missing}"


def test_the_main_nouns_are_there() -> None:
    main = {"palermo law check", "palermo evidence add", "palermo proof matrix", "palermo demo"}
    assert main <= set(_commands())
