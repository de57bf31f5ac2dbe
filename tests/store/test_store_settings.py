"""Workspace settings and the master key's place outside the workspace."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from palermo.errors import ConfigurationError, InputError
from palermo.law.library import LawLibrary
from palermo.workspace import Workspace


def test_init_creates_folder_layout_and_private_key(
    tmp_path: Path, key_file: Path, test_law: LawLibrary
) -> None:
    Workspace.init(tmp_path / "ws", master_key_file=key_file, law=test_law).close()
    assert {p.name for p in (tmp_path / "ws").iterdir()} >= {"palermo.db", "evidence", "settings.toml"}
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and len(key_file.read_bytes()) == 32


def test_master_key_inside_the_workspace_is_refused(tmp_path: Path, test_law: LawLibrary) -> None:
    with pytest.raises(ConfigurationError, match="outside"):
        Workspace.init(tmp_path / "ws", master_key_file=tmp_path / "ws" / "master.key", law=test_law)


def test_open_of_a_non_workspace_is_input_error(tmp_path: Path, key_file: Path) -> None:
    with pytest.raises(InputError, match="not a Palermo workspace"):
        Workspace.open(tmp_path)


def test_key_readable_by_others_is_refused(tmp_path: Path, key_file: Path, test_law: LawLibrary) -> None:
    Workspace.init(tmp_path / "ws", master_key_file=key_file, law=test_law).close()
    key_file.chmod(0o644)
    with pytest.raises(ConfigurationError, match="readable by others"):
        Workspace.open(tmp_path / "ws")


def test_postgres_url_is_recorded_without_password(tmp_path: Path, key_file: Path) -> None:
    from palermo.settings import resolve, write_settings

    folder = tmp_path / "ws"
    folder.mkdir()
    settings = resolve(folder, database_url="postgresql+psycopg://u:s3cret@db.example/palermo")
    write_settings(settings, record_database_url=True)
    text = (folder / "settings.toml").read_text()
    assert "db.example" in text and "s3cret" not in text


def test_environment_database_url_overrides_sqlite_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from palermo.settings import resolve

    monkeypatch.setenv("PALERMO_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert resolve(tmp_path).database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize("key", ["require_2fa", "require_second_factors", "Require_Second_Factor", "auth"])
def test_an_unknown_setting_is_refused_not_ignored(
    tmp_path: Path, key_file: Path, test_law: LawLibrary, key: str
) -> None:
    """A misspelt security setting left ignored would leave sign-in at one factor without a word."""
    Workspace.init(tmp_path / "ws", master_key_file=key_file, law=test_law).close()
    toml = tmp_path / "ws" / "settings.toml"
    extra = "[auth]\nrequire_second_factor = true\n" if key == "auth" else f"{key} = true\n"
    toml.write_text(toml.read_text(encoding="utf-8") + extra, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=f"unknown setting '{key}'"):
        Workspace.open(tmp_path / "ws", master_key_file=key_file)


def test_export_marking_settings_are_written_read_and_checked(
    tmp_path: Path, key_file: Path, test_law: LawLibrary
) -> None:
    """The classification every export is marked with, its caveat, and whether an export may leave
    without a recipient: written at init, read back, and a value that would mark exports with
    nothing (or with a broken line) is refused on open, like any other bad setting."""
    Workspace.init(tmp_path / "ws", master_key_file=key_file, law=test_law).close()
    ws = Workspace.open(tmp_path / "ws", master_key_file=key_file)
    try:
        assert ws.settings.export_classification == "RESTRICTED" and ws.settings.require_export_recipient
        assert "victims" in ws.settings.export_handling
    finally:
        ws.close()
    toml = tmp_path / "ws" / "settings.toml"
    written = toml.read_text(encoding="utf-8")
    for bad, message in (
        ('require_export_recipient = "false"', "require_export_recipient must be true or false"),
        ('export_classification = ""', "export_classification must be a non-empty text"),
        ('export_classification = "SECRET\\nREL TO ALL"', "one line"),
        ("export_handling = 3", "export_handling must be a non-empty text"),
    ):
        key = bad.split(" = ")[0]
        lines = [bad if line.startswith(f"{key} = ") else line for line in written.splitlines()]
        toml.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with pytest.raises(ConfigurationError, match=message):
            Workspace.open(tmp_path / "ws", master_key_file=key_file)
    toml.write_text(written.replace("RESTRICTED", 'OFFICIAL-SENSITIVE \\"ORCON\\"'), encoding="utf-8")
    ws = Workspace.open(tmp_path / "ws", master_key_file=key_file)
    try:
        assert ws.settings.export_classification == 'OFFICIAL-SENSITIVE "ORCON"'
    finally:
        ws.close()


def test_a_demo_workspace_may_export_without_a_recipient(
    tmp_path: Path, key_file: Path, test_law: LawLibrary
) -> None:
    Workspace.init(
        tmp_path / "ws", master_key_file=key_file, law=test_law, require_export_recipient=False
    ).close()
    assert "require_export_recipient = false" in (tmp_path / "ws" / "settings.toml").read_text()
    ws = Workspace.open(tmp_path / "ws", master_key_file=key_file)
    try:
        assert not ws.settings.require_export_recipient
    finally:
        ws.close()
