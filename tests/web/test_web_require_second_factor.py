"""The workspace policy ``require_second_factor`` (IA-02, CJIS IA-2(1)/(2)): when it is on, a password
alone opens no account, enrolled or not; when it is off (the default), sign-in is as before."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from argon2 import profiles
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from palermo.cli.main import app
from palermo.errors import AccessDenied, ConfigurationError
from palermo.security.audit import AuditRecord
from palermo.security.auth import Authenticator, PasswordHasher
from palermo.store.users import POLICY_ACTOR, SIGN_IN_FAILED, UserService
from palermo.web.app import WebSettings, create_app
from palermo.workspace import Workspace

from .conftest import PASSWORD, login_token

runner = CliRunner()


def _strict(ws: Workspace) -> None:
    """Give ``ws`` the cheap-hash UserService of the fixtures, with the policy on."""
    ws._users = UserService(
        ws.ctx,
        Authenticator(hasher=PasswordHasher(profiles.CHEAPEST), master=ws._master),
        require_second_factor=True,
    )


@pytest.fixture
def strict_client(web_ws: Workspace) -> Iterator[TestClient]:
    _strict(web_ws)
    web_ws.users.add("pat", PASSWORD, "prosecutor")
    with TestClient(create_app(web_ws, WebSettings()), raise_server_exceptions=False) as client:
        yield client


def _post(client: TestClient, username: str, password: str = PASSWORD, totp: str = "") -> tuple[int, str]:
    form = {"username": username, "password": password, "totp": totp, "login_token": login_token(client)}
    response = client.post("/login", data=form, follow_redirects=False)
    return response.status_code, response.text


def _logins(ws: Workspace) -> list[AuditRecord]:
    return [e for e in ws.audit.events() if e.action == "login"]


def test_with_the_policy_on_a_password_alone_gets_the_generic_401_and_is_audited(
    strict_client: TestClient, web_ws: Workspace
) -> None:
    status, page = _post(strict_client, "pat")
    assert status == 401
    wrong_status, wrong_page = _post(strict_client, "pat", "a wrong passphrase 99")
    assert wrong_status == 401
    # the same message as a wrong password: the answer never says which part was missing
    first_sentence = SIGN_IN_FAILED.split(":")[0]
    assert first_sentence in page and first_sentence in wrong_page
    assert "second factor" not in page.lower() and "enrol" not in page.lower()
    assert strict_client.cookies.get("palermo_session") is None
    right, wrong = _logins(web_ws)
    assert (right.actor, right.outcome, right.detail) == ("pat", "failure", {"reason": "no_second_factor"})
    # recorded whatever the password, so the log does not tell which guesses were right
    assert (wrong.outcome, wrong.detail) == ("failure", {"reason": "no_second_factor"})


def test_a_code_sent_to_an_account_without_a_secret_does_not_help(
    strict_client: TestClient, web_ws: Workspace
) -> None:
    assert _post(strict_client, "pat", totp="123456")[0] == 401


def test_after_enrolment_the_account_signs_in_with_a_code(
    strict_client: TestClient, web_ws: Workspace
) -> None:
    assert _post(strict_client, "pat")[0] == 401
    totp = pyotp.TOTP(web_ws.users.enrol_totp("pat", actor="admin.a"))
    assert _post(strict_client, "pat")[0] == 401  # enrolled now, but no code given
    assert _post(strict_client, "pat", totp=totp.now())[0] == 303
    assert _logins(web_ws)[-1].outcome == "success"


def test_with_the_policy_off_a_password_alone_still_signs_in(
    app_client: TestClient, web_ws: Workspace
) -> None:
    assert not web_ws.settings.require_second_factor
    assert not web_ws.users.require_second_factor
    web_ws.users.add("pat", PASSWORD, "prosecutor")
    assert _post(app_client, "pat")[0] == 303
    assert [(e.outcome, e.detail) for e in _logins(web_ws)] == [("success", {})]


def test_the_policy_counts_toward_lockout_like_any_failed_sign_in(web_ws: Workspace) -> None:
    _strict(web_ws)
    web_ws.users.add("pat", PASSWORD, "prosecutor")
    for _ in range(5):
        with pytest.raises(AccessDenied):
            web_ws.users.authenticate("pat", PASSWORD)
    assert web_ws.users.get("pat").locked


def test_a_session_opened_by_password_alone_before_the_policy_ends_at_its_next_request(
    web_ws: Workspace, app_client: TestClient
) -> None:
    web_ws.users.add("pat", PASSWORD, "prosecutor")
    assert _post(app_client, "pat")[0] == 303  # policy off: a password was enough
    assert app_client.get("/cases", follow_redirects=False).status_code == 200
    _strict(web_ws)  # the operator turns the policy on and restarts the server
    assert app_client.get("/cases", follow_redirects=False).status_code == 303  # back to /login
    [ended] = [e for e in web_ws.audit.events() if e.action == "session.end"]
    assert (ended.actor, ended.detail["reason"]) == (POLICY_ACTOR, "no_second_factor")
    assert set(ended.detail) == {"reason", "ended_at"}


def test_an_enrolled_accounts_session_survives_the_policy(web_ws: Workspace, app_client: TestClient) -> None:
    web_ws.users.add("pat", PASSWORD, "prosecutor")
    totp = pyotp.TOTP(web_ws.users.enrol_totp("pat"))
    assert _post(app_client, "pat", totp=totp.now())[0] == 303
    _strict(web_ws)
    assert app_client.get("/cases", follow_redirects=False).status_code == 200


def test_init_with_the_flag_writes_the_setting_and_a_reopened_workspace_enforces_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PALERMO_MASTER_KEY_FILE", str(tmp_path / "keys" / "master.key"))
    monkeypatch.delenv("PALERMO_DATABASE_URL", raising=False)
    folder = tmp_path / "ws"
    result = runner.invoke(app, ["init", str(folder), "--require-second-factor", "--json"])
    assert result.exit_code == 0, result.output
    stored = tomllib.loads((folder / "settings.toml").read_text(encoding="utf-8"))
    assert stored["require_second_factor"] is True
    with Workspace.open(folder) as ws:  # the production wiring, real argon2id
        assert ws.settings.require_second_factor and ws.users.require_second_factor
        ws.users.add("pat", PASSWORD, "prosecutor")
        with pytest.raises(AccessDenied):
            ws.users.sign_in("pat", PASSWORD)
        assert _logins(ws)[-1].detail == {"reason": "no_second_factor"}
        # as_actor (one view per web request) keeps the policy
        with pytest.raises(AccessDenied):
            ws.as_actor("someone").users.authenticate("pat", PASSWORD)


def test_init_without_the_flag_writes_it_off_and_editing_the_file_turns_it_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PALERMO_MASTER_KEY_FILE", str(tmp_path / "keys" / "master.key"))
    monkeypatch.delenv("PALERMO_DATABASE_URL", raising=False)
    folder = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(folder)]).exit_code == 0
    settings = folder / "settings.toml"
    assert tomllib.loads(settings.read_text(encoding="utf-8"))["require_second_factor"] is False
    settings.write_text(
        settings.read_text(encoding="utf-8").replace(
            "require_second_factor = false", "require_second_factor = true"
        ),
        encoding="utf-8",
    )
    with Workspace.open(folder) as ws:
        assert ws.users.require_second_factor


def test_a_setting_that_is_not_a_boolean_is_refused_not_read_as_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PALERMO_MASTER_KEY_FILE", str(tmp_path / "keys" / "master.key"))
    monkeypatch.delenv("PALERMO_DATABASE_URL", raising=False)
    Workspace.init(tmp_path / "ws").close()
    settings = tmp_path / "ws" / "settings.toml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace("require_second_factor = false", 'require_second_factor = "yes"'))
    with pytest.raises(ConfigurationError, match="require_second_factor"):
        Workspace.open(tmp_path / "ws")


def _serve(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    monkeypatch.setattr("palermo.cli.serve.serve_workspace", lambda *_a, **_k: None)
    result = runner.invoke(app, ["serve", str(ws.path)])
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def test_serve_names_the_active_accounts_the_policy_will_keep_out(
    web_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    web_ws.users.add("pat", PASSWORD, "prosecutor")
    web_ws.users.add("adv.b", PASSWORD, "victim_advocate")
    web_ws.users.add("gone", PASSWORD, "viewer")
    web_ws.users.deactivate("gone")
    secret = web_ws.users.enrol_totp("pat")
    settings = web_ws.path / "settings.toml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace(
            "require_second_factor = false", "require_second_factor = true"
        ),
        encoding="utf-8",
    )
    out, err = _serve(web_ws, monkeypatch)
    assert "palermo user totp" in err
    named = " ".join(err.split()).rsplit("NAME`:", 1)[1].split(", ")
    assert [n.strip() for n in named] == ["adv.b"]  # not pat (enrolled), not gone (inactive)
    assert secret not in out + err


def test_serve_says_nothing_about_enrolment_with_the_policy_off(
    web_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    web_ws.users.add("adv.b", PASSWORD, "victim_advocate")
    out, err = _serve(web_ws, monkeypatch)
    assert "adv.b" not in out + err and "two-factor" not in out + err


def test_serve_sweeps_on_start_and_names_who_it_disabled(
    web_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    web_ws.users.add("gone", PASSWORD, "viewer", now=datetime.now(UTC) - timedelta(days=91))
    web_ws.users.add("here", PASSWORD, "viewer")
    _out, err = _serve(web_ws, monkeypatch)
    assert "gone" in err and "without a sign-in" in err and "here" not in err
    assert not web_ws.users.get("gone").is_active and web_ws.users.get("here").is_active
