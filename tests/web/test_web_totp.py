"""Two-factor sign-in: enrolment through the CLI, and each TOTP code accepted once (IA-02, RFC 6238 § 5.2)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from palermo.cli.main import app
from palermo.errors import AccessDenied
from palermo.workspace import Workspace

from .conftest import PASSWORD, login_token

T0 = datetime(2026, 11, 29, 12, 0, 10, tzinfo=UTC)  # 10 s into a 30-second step


@pytest.fixture
def tess(web_ws: Workspace) -> pyotp.TOTP:
    web_ws.users.add("tess", PASSWORD, "analyst")
    return pyotp.TOTP(web_ws.users.enrol_totp("tess", actor="admin.a"))


def _sign_in(ws: Workspace, code: str | None, at: datetime) -> str:
    return ws.users.authenticate("tess", PASSWORD, code, now=at).username


def test_a_code_signs_in_once_and_never_again(web_ws: Workspace, tess: pyotp.TOTP) -> None:
    code = tess.at(T0)
    assert _sign_in(web_ws, code, T0) == "tess"
    with pytest.raises(AccessDenied):
        _sign_in(web_ws, code, T0 + timedelta(seconds=5))  # same step: a replay


def test_the_next_steps_code_is_accepted_after_one_was_used(web_ws: Workspace, tess: pyotp.TOTP) -> None:
    assert _sign_in(web_ws, tess.at(T0), T0) == "tess"
    later = T0 + timedelta(seconds=30)
    assert _sign_in(web_ws, tess.at(later), later) == "tess"


def test_an_older_code_still_inside_the_drift_window_is_refused_after_a_newer_one(
    web_ws: Workspace, tess: pyotp.TOTP
) -> None:
    now = T0 + timedelta(seconds=30)
    assert _sign_in(web_ws, tess.at(now), now) == "tess"
    with pytest.raises(AccessDenied):
        _sign_in(web_ws, tess.at(T0), now)  # the previous step's code would pass the ±1 step drift


def test_codes_outside_one_step_of_drift_and_malformed_codes_are_refused(
    web_ws: Workspace, tess: pyotp.TOTP
) -> None:
    for code in (tess.at(T0 - timedelta(seconds=60)), tess.at(T0 + timedelta(seconds=60)), "12345", "abcdef"):
        with pytest.raises(AccessDenied):
            _sign_in(web_ws, code, T0)
    with pytest.raises(AccessDenied):
        _sign_in(web_ws, None, T0)


def test_enrolling_again_replaces_the_secret(web_ws: Workspace, tess: pyotp.TOTP) -> None:
    fresh = pyotp.TOTP(web_ws.users.enrol_totp("tess"))
    with pytest.raises(AccessDenied):
        _sign_in(web_ws, tess.at(T0), T0)
    assert _sign_in(web_ws, fresh.at(T0), T0) == "tess"


def test_enrolment_is_audited_without_the_secret(web_ws: Workspace, tess: pyotp.TOTP) -> None:
    events = [e for e in web_ws.audit.events() if e.action == "user.totp"]
    assert [e.actor for e in events] == ["admin.a"]
    assert tess.secret not in json.dumps([vars(e) for e in events], default=str)


def test_the_web_sign_in_refuses_a_replayed_code(
    app_client: TestClient, web_ws: Workspace, tess: pyotp.TOTP
) -> None:
    code = tess.now()

    def post(code: str) -> int:
        token = login_token(app_client)
        form = {"username": "tess", "password": PASSWORD, "totp": code, "login_token": token}
        return app_client.post("/login", data=form, follow_redirects=False).status_code

    assert post(code) == 303
    app_client.cookies.clear()
    assert post(code) == 401


def test_cli_enrols_and_shows_a_secret_that_signs_in(web_ws: Workspace) -> None:
    web_ws.users.add("tess", PASSWORD, "analyst")
    result = CliRunner().invoke(app, ["user", "totp", "tess", "--json", "-w", str(web_ws.path)])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["uri"].startswith("otpauth://totp/Palermo:tess?secret=" + shown["secret"])
    assert _sign_in(web_ws, pyotp.TOTP(shown["secret"]).at(T0), T0) == "tess"


def test_a_code_in_other_scripts_digits_is_a_failed_sign_in_not_a_crash(
    web_ws: Workspace, tess: pyotp.TOTP
) -> None:
    """ "١٢٣٤٥٦" passes str.isdigit(); it once made compare_digest raise, so a right password with it
    answered 500 (unaudited, not counted toward lockout): a password oracle that lockout did not stop."""
    with pytest.raises(AccessDenied):
        _sign_in(web_ws, "١٢٣٤٥٦", T0)
    assert [e.outcome for e in web_ws.audit.events() if e.action == "login"][-1] == "failure"


def test_a_good_code_sent_to_a_locked_account_is_used_up(web_ws: Workspace, tess: pyotp.TOTP) -> None:
    for _ in range(5):
        with pytest.raises(AccessDenied):
            web_ws.users.authenticate("tess", "wrong password!!", tess.at(T0), now=T0)
    code = tess.at(T0)
    with pytest.raises(AccessDenied):
        _sign_in(web_ws, code, T0)  # locked
    web_ws.users.unlock("tess")
    with pytest.raises(AccessDenied):
        _sign_in(web_ws, code, T0 + timedelta(seconds=10))  # that code was seen: a replay now
    later = T0 + timedelta(seconds=30)
    assert _sign_in(web_ws, tess.at(later), later) == "tess"


def _row(ws: Workspace) -> tuple[str | None, bytes | None]:
    with ws.ctx.db.engine.connect() as conn:
        found = conn.execute(text("SELECT totp_secret, totp_sealed FROM users WHERE username = 'tess'")).one()
    return found[0], found[1]


def test_the_secret_is_stored_sealed_never_in_plain_text(web_ws: Workspace, tess: pyotp.TOTP) -> None:
    plain, sealed = _row(web_ws)
    assert plain is None and sealed is not None and tess.secret.encode() not in sealed


def test_a_plain_text_secret_from_before_revision_0005_is_sealed_when_the_workspace_opens(
    web_ws: Workspace, tess: pyotp.TOTP
) -> None:
    with web_ws.ctx.db.engine.begin() as conn:  # as an older Palermo stored it
        conn.execute(
            text("UPDATE users SET totp_secret = :s, totp_sealed = NULL WHERE username = 'tess'"),
            {"s": tess.secret},
        )
    assert web_ws.users.get("tess").has_totp
    Workspace.open(web_ws.path).close()  # opening seals it
    assert web_ws.users.seal_plain_totp_secrets() == 0
    plain, sealed = _row(web_ws)
    assert plain is None and sealed is not None
    assert _sign_in(web_ws, tess.at(T0), T0) == "tess"  # the same authenticator app still works


def test_a_plain_text_secret_still_signs_in_and_is_sealed_on_the_way(
    web_ws: Workspace, tess: pyotp.TOTP
) -> None:
    with web_ws.ctx.db.engine.begin() as conn:
        conn.execute(
            text("UPDATE users SET totp_secret = :s, totp_sealed = NULL WHERE username = 'tess'"),
            {"s": tess.secret},
        )
    assert _sign_in(web_ws, tess.at(T0), T0) == "tess"
    assert _row(web_ws)[0] is None
