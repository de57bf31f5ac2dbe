"""The commands around the web app: `palermo user …`, `palermo serve` argument handling, `palermo demo`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from palermo.cli.main import app
from palermo.errors import AccessDenied, InputError, NotFoundError
from palermo.security.audit import AuditRecord
from palermo.workspace import Workspace

from .conftest import PASSWORD, Seeded, csrf, login

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


# --- Taking access away (AC-04, AC-07, AC-09): the CLI changes the database the running app reads
# on every request, so each test signs in through the web app, runs the command against the same
# workspace, and repeats the request with the same cookie.

OPERATOR = "ops.admin"
NEW_PASSWORD = "a brand new passphrase 77"


@pytest.fixture
def operator(monkeypatch: pytest.MonkeyPatch) -> str:
    """The name the CLI audits its changes under (``PALERMO_USER``)."""
    monkeypatch.setenv("PALERMO_USER", OPERATOR)
    return OPERATOR


def _cli(web_ws: Workspace, *args: str, stdin: str | None = None) -> Result:
    return runner.invoke(app, ["user", *args, "-w", str(web_ws.path)], input=stdin)


def _events(web_ws: Workspace, action: str) -> list[AuditRecord]:
    return [e for e in web_ws.audit.events() if e.action == action]


def _user_id(web_ws: Workspace, username: str) -> str:
    return str(web_ws.users.get(username).id)


def test_removing_a_member_takes_the_case_away_at_the_next_request(
    pat: TestClient, seeded: Seeded, web_ws: Workspace, operator: str
) -> None:
    page = f"/cases/{seeded.case_ref}"
    assert pat.get(page).status_code == 200
    result = _cli(web_ws, "member", "pat", seeded.case_ref, "--remove")
    assert result.exit_code == 0, result.output
    assert pat.get(page).status_code == 404  # same cookie, same session: only the membership changed
    assert seeded.case_ref not in pat.get("/cases").text
    [event] = [e for e in web_ws.audit.events(seeded.case_ref) if e.action == "case.member.remove"]
    assert (event.actor, event.object_type, event.object_id) == (operator, "user", _user_id(web_ws, "pat"))
    assert event.detail == {"role": "prosecutor"}


def test_granting_membership_is_audited_once(seeded: Seeded, web_ws: Workspace, operator: str) -> None:
    for _ in range(2):  # granting twice is one grant
        assert _cli(web_ws, "member", "vic", seeded.case_ref).exit_code == 0
    [event] = [
        e
        for e in web_ws.audit.events(seeded.case_ref)
        if e.action == "case.member.add" and e.object_id == _user_id(web_ws, "vic")
    ]
    assert (event.actor, event.object_type, event.detail) == (operator, "user", {"role": "viewer"})


@pytest.mark.parametrize(
    ("username", "case", "error", "message"),
    [
        ("vic", None, InputError, "not a member"),
        ("nobody", None, NotFoundError, "no user 'nobody'"),
        ("pat", "NO-SUCH-CASE", NotFoundError, "no case 'NO-SUCH-CASE'"),
    ],
)
def test_member_remove_refuses_what_it_cannot_remove(
    seeded: Seeded, web_ws: Workspace, username: str, case: str | None, error: type, message: str
) -> None:
    before = web_ws.audit.generation()
    result = _cli(web_ws, "member", username, case or seeded.case_ref, "--remove")
    assert isinstance(result.exception, error), result.output
    assert result.exception.exit_code == 2
    assert message in str(result.exception)
    assert web_ws.audit.generation() == before  # nothing removed, nothing recorded


def test_deactivating_ends_a_live_session_and_activating_restores_access(
    pat: TestClient, seeded: Seeded, web_ws: Workspace, operator: str
) -> None:
    page = f"/cases/{seeded.case_ref}"
    assert pat.get(page).status_code == 200
    assert _cli(web_ws, "deactivate", "pat").exit_code == 0
    answer = pat.get(page, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    with pytest.raises(AssertionError):
        login(pat, "pat")  # a disabled account cannot sign in again either
    [event] = _events(web_ws, "user.deactivate")
    assert (event.actor, event.object_id, event.detail) == (
        operator,
        _user_id(web_ws, "pat"),
        {"sessions_ended": 1},
    )

    assert _cli(web_ws, "activate", "pat").exit_code == 0
    assert login(pat, "pat").get(page).status_code == 200  # memberships were kept
    assert _events(web_ws, "user.activate")[0].actor == operator


def test_password_command_ends_sessions_and_retires_the_old_password(
    pat: TestClient, seeded: Seeded, web_ws: Workspace, operator: str
) -> None:
    page = f"/cases/{seeded.case_ref}"
    assert pat.get(page).status_code == 200
    result = _cli(web_ws, "password", "pat", stdin=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert pat.get(page, follow_redirects=False).status_code == 303
    with pytest.raises(AccessDenied):
        web_ws.users.authenticate("pat", PASSWORD)
    assert login(pat, "pat", NEW_PASSWORD).get(page).status_code == 200
    [event] = _events(web_ws, "user.password")
    assert (event.actor, event.object_id, event.detail) == (
        operator,
        _user_id(web_ws, "pat"),
        {"sessions_ended": 1},
    )
    everything = json.dumps([e.to_dict() for e in web_ws.audit.events()])
    assert NEW_PASSWORD not in everything and PASSWORD not in everything and "argon2" not in everything


def test_password_generate_prints_one_that_signs_in(seeded: Seeded, web_ws: Workspace) -> None:
    result = _cli(web_ws, "password", "pat", "--generate", "--json")
    assert result.exit_code == 0, result.output
    assert web_ws.users.authenticate("pat", json.loads(result.output)["password"]).username == "pat"


def test_a_weak_new_password_changes_nothing(pat: TestClient, seeded: Seeded, web_ws: Workspace) -> None:
    result = _cli(web_ws, "password", "pat", stdin="password1234\npassword1234\n")
    assert isinstance(result.exception, InputError) and result.exception.exit_code == 2
    assert "password" in str(result.exception)
    assert pat.get(f"/cases/{seeded.case_ref}").status_code == 200  # the session lives on
    assert web_ws.users.authenticate("pat", PASSWORD).username == "pat"
    assert not _events(web_ws, "user.password")


def test_password_of_an_unknown_user_fails_before_the_prompt(seeded: Seeded, web_ws: Workspace) -> None:
    result = _cli(web_ws, "password", "nobody")
    assert isinstance(result.exception, NotFoundError) and result.exception.exit_code == 2
    assert "password" not in result.output.lower()


def test_signing_out_is_audited_without_the_token(pat: TestClient, seeded: Seeded, web_ws: Workspace) -> None:
    token = pat.cookies.get("palermo_session")
    assert token
    answer = pat.post("/logout", headers={"X-CSRF-Token": csrf(pat)}, follow_redirects=False)
    assert answer.status_code == 303
    [event] = _events(web_ws, "session.end")
    assert (event.actor, event.object_type, event.object_id) == ("pat", "user", _user_id(web_ws, "pat"))
    assert event.detail == {"reason": "sign-out"}
    assert token not in json.dumps([e.to_dict() for e in web_ws.audit.events()])
