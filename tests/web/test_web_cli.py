"""The commands around the web app: `palermo user …`, `palermo serve` argument handling, `palermo demo`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from palermo.cli.main import app
from palermo.workspace import Workspace

runner = CliRunner()


@pytest.fixture
def ws_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PALERMO_MASTER_KEY_FILE", str(tmp_path / "keys" / "master.key"))
    monkeypatch.delenv("PALERMO_DATABASE_URL", raising=False)
    Workspace.init(tmp_path / "ws").close()
    return tmp_path / "ws"


def test_user_add_with_a_generated_password_can_sign_in(ws_path: Path) -> None:
    result = runner.invoke(
        app, ["user", "add", "rita", "--role", "investigator", "--generate", "--json", "-w", str(ws_path)]
    )
    assert result.exit_code == 0, result.output
    password = json.loads(result.output)["password"]
    with Workspace.open(ws_path) as ws:
        assert ws.users.authenticate("rita", password).role == "investigator"


def test_user_add_with_an_unknown_role_fails_naming_the_roles(ws_path: Path) -> None:
    result = runner.invoke(app, ["user", "add", "sam", "--role", "sheriff", "--generate", "-w", str(ws_path)])
    assert result.exit_code != 0
    assert "victim_advocate" in str(result.exception)


def test_user_list_never_prints_password_hashes(ws_path: Path) -> None:
    runner.invoke(app, ["user", "add", "rita", "--role", "viewer", "--generate", "-w", str(ws_path)])
    result = runner.invoke(app, ["user", "list", "--json", "-w", str(ws_path)])
    assert "rita" in result.output
    assert "argon2" not in result.output


def test_demo_builds_a_case_and_prints_the_login(tmp_path: Path) -> None:
    env = {**os.environ, "PALERMO_MASTER_KEY_FILE": str(tmp_path / "keys" / "master.key")}
    env.pop("PALERMO_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "palermo.cli.main", "demo", "--path", str(tmp_path / "demo"), "--no-serve"],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Login:     demo / " in done.stdout
    assert "http://127.0.0.1:8000/cases/" in done.stdout
    with Workspace.open(tmp_path / "demo") as ws:
        case_ref = ws.cases.list()[0].reference
        assert ws.charges.list(case_ref)
        assert ws.leads.list(case_ref, status="proposed")


def test_demo_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file.txt").write_text("x")
    result = runner.invoke(app, ["demo", "--path", str(tmp_path / "busy"), "--no-serve"])
    assert result.exit_code != 0
    assert "not empty" in str(result.exception)


def test_serve_takes_options_after_the_workspace_and_names_a_missing_one(tmp_path: Path) -> None:
    result = runner.invoke(app, ["serve", str(tmp_path / "nowhere"), "--port", "8123"])
    assert result.exit_code != 0
    assert "not a Palermo workspace" in str(result.exception)
