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
