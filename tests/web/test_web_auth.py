"""Sign-in, lockout, idle timeout, CSRF, logout, and "no page without login"."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from palermo.errors import AccessDenied, InputError
from palermo.store.tables import WebSession
from palermo.web.app import WebSettings, create_app
from palermo.workspace import Workspace

from .conftest import PASSWORD, Seeded, csrf, login, login_token


def _post_login(client: TestClient, username: str, password: str) -> int:
    return client.post(
        "/login",
        data={"username": username, "password": password, "login_token": login_token(client)},
        follow_redirects=False,
    ).status_code


PAGES = [
    "/",
    "/cases",
    "/cases/WEB-1",
    "/cases/WEB-1/proof",
    "/cases/WEB-1/proof/matrix",
    "/cases/WEB-1/leads/1/accept-form",
    "/cases/WEB-1/evidence",
    "/cases/WEB-1/evidence/1",
    "/cases/WEB-1/network",
    "/cases/WEB-1/timeline",
    "/cases/WEB-1/calculators",
    "/law",
    "/law/us-18-usc-1591",
]


def _fill(path: str) -> str:
    for name, value in {
        "case_ref": "WEB-1",
        "evidence_id": "1",
        "lead_id": "1",
        "party_id": "1",
        "provision_id": "us-18-usc-1591",
        "item_id": "x",
    }.items():
        path = path.replace("{" + name + "}", value)
    return path


def _api_get_paths(client: TestClient) -> list[str]:
    schema = client.app.openapi()  # type: ignore[attr-defined]
    return ["/api/v1/openapi.json"] + [_fill(p) for p, ops in schema["paths"].items() if "get" in ops]


def test_every_page_redirects_to_login_without_a_session(app_client: TestClient, seeded: Seeded) -> None:
    for path in PAGES:
        response = app_client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login"), path


def test_every_api_route_answers_401_without_a_session(app_client: TestClient, seeded: Seeded) -> None:
    routes = _api_get_paths(app_client)
    assert len(routes) >= 15
    for path in routes:
        response = app_client.get(path)
        assert response.status_code == 401, path
        assert response.json()["error"]["type"] == "LoginRequired"


def test_correct_password_signs_in(app_client: TestClient, seeded: Seeded) -> None:
    login(app_client, "pat")
    assert "WEB-1" in app_client.get("/cases").text


def test_unknown_user_and_wrong_password_get_the_same_answer(app_client: TestClient, seeded: Seeded) -> None:
    unknown = app_client.post(
        "/login", data={"username": "nobody", "password": "x" * 14, "login_token": login_token(app_client)}
    )
    wrong = app_client.post(
        "/login", data={"username": "pat", "password": "x" * 14, "login_token": login_token(app_client)}
    )
    assert unknown.status_code == wrong.status_code == 401
    assert "Sign-in failed" in unknown.text and "Sign-in failed" in wrong.text


def test_five_failures_lock_the_account_even_for_the_right_password(
    app_client: TestClient, seeded: Seeded, web_ws: Workspace
) -> None:
    for _ in range(5):
        assert _post_login(app_client, "pat", "not the password at all") == 401
    assert _post_login(app_client, "pat", PASSWORD) == 401
    assert web_ws.users.get("pat").locked


def test_an_administrator_unlock_restores_sign_in(
    app_client: TestClient, seeded: Seeded, web_ws: Workspace
) -> None:
    for _ in range(5):
        _post_login(app_client, "pat", "not the password at all")
    web_ws.users.unlock("pat")
    assert _post_login(app_client, "pat", PASSWORD) == 303


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(
    seeded: Seeded, web_ws: Workspace
) -> None:
    start = datetime.now(UTC) - timedelta(minutes=30)
    for i in range(6):
        with pytest.raises(AccessDenied):
            web_ws.users.authenticate("pat", "wrong password!!", now=start + timedelta(minutes=4 * i))
    assert not web_ws.users.get("pat").locked


def test_a_failed_sign_in_does_not_lock_the_account_when_the_clock_steps_back(
    seeded: Seeded, web_ws: Workspace
) -> None:
    """The failure window has its own column: the window start once sat in ``locked_until``, so a
    clock stepped back by a few seconds (NTP) made the account look locked after one typo."""
    now = datetime.now(UTC)
    with pytest.raises(AccessDenied):
        web_ws.users.authenticate("pat", "wrong password!!", now=now)
    assert web_ws.users.authenticate("pat", PASSWORD, now=now - timedelta(seconds=5)).username == "pat"


def test_a_session_idle_for_thirty_minutes_ends(pat: TestClient, web_ws: Workspace) -> None:
    stale = datetime.now(UTC) - timedelta(minutes=30, seconds=1)
    with web_ws.ctx.db.transaction() as session:
        session.execute(update(WebSession).values(last_seen_at=stale))
    response = pat.get("/cases", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_a_session_used_within_thirty_minutes_stays_valid(pat: TestClient, web_ws: Workspace) -> None:
    recent = datetime.now(UTC) - timedelta(minutes=29)
    with web_ws.ctx.db.transaction() as session:
        session.execute(update(WebSession).values(last_seen_at=recent))
    assert pat.get("/cases", follow_redirects=False).status_code == 200


def test_form_post_without_csrf_token_is_rejected(pat: TestClient) -> None:
    response = pat.post("/cases", data={"reference": "NEW-1", "title": "x"})
    assert response.status_code == 403
    assert "CSRF" in response.text


def test_api_post_with_a_wrong_csrf_header_is_rejected(pat: TestClient) -> None:
    response = pat.post(
        "/api/v1/cases", json={"reference": "NEW-2", "title": "x"}, headers={"X-CSRF-Token": "forged"}
    )
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "CsrfRejected"


def test_api_post_with_the_session_csrf_header_is_accepted(pat: TestClient) -> None:
    response = pat.post(
        "/api/v1/cases", json={"reference": "NEW-3", "title": "x"}, headers={"X-CSRF-Token": csrf(pat)}
    )
    assert response.status_code == 201


def test_login_form_without_its_token_is_refused(app_client: TestClient, seeded: Seeded) -> None:
    response = app_client.post("/login", data={"username": "pat", "password": PASSWORD})
    assert response.status_code == 400
    assert "expired" in response.text


def test_logout_kills_the_server_session(pat: TestClient) -> None:
    cookie = pat.cookies.get("palermo_session")
    pat.post("/logout", data={"csrf_token": csrf(pat)}, follow_redirects=False)
    pat.cookies.set("palermo_session", cookie or "")
    assert pat.get("/cases", follow_redirects=False).status_code == 303


def test_session_and_csrf_tokens_are_stored_only_as_digests(pat: TestClient, web_ws: Workspace) -> None:
    with web_ws.ctx.db.transaction() as session:
        row = session.query(WebSession).one()
        assert row.id != pat.cookies.get("palermo_session")
        assert row.csrf_token != pat.cookies.get("palermo_csrf")
        assert len(row.id) == 64


def test_short_password_is_refused(web_ws: Workspace) -> None:
    with pytest.raises(InputError, match="at least 12"):
        web_ws.users.add("shorty", "abc123", "viewer")


def test_password_is_hashed_with_argon2id(seeded: Seeded, web_ws: Workspace) -> None:
    from palermo.store.tables import User

    with web_ws.ctx.db.transaction() as session:
        stored = session.query(User).filter_by(username="pat").one().password_hash
    assert stored.startswith("$argon2id$")


def test_sign_in_failures_are_audited(app_client: TestClient, seeded: Seeded, web_ws: Workspace) -> None:
    _post_login(app_client, "pat", "not the password at all")
    events = [e for e in web_ws.audit.events() if e.action == "login"]
    assert events[-1].outcome == "failure"


def test_totp_is_required_when_the_account_has_a_secret(web_ws: Workspace) -> None:
    import pyotp

    secret = pyotp.random_base32()
    web_ws.users.add("tess", PASSWORD, "analyst", totp_secret=secret)
    with pytest.raises(AccessDenied):
        web_ws.users.authenticate("tess", PASSWORD)
    assert web_ws.users.authenticate("tess", PASSWORD, pyotp.TOTP(secret).now()).username == "tess"


def test_responses_forbid_caching_and_framing(pat: TestClient) -> None:
    response = pat.get("/cases")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_the_workspaces_upload_limit_holds_when_serve_passes_its_own_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``palermo serve`` passes settings for its cookies; a lower limit in settings.toml used to be
    lifted back to the default by them. And HSTS is sent, for when a TLS proxy is in front."""
    monkeypatch.setenv("PALERMO_MASTER_KEY_FILE", str(tmp_path / "keys" / "master.key"))
    monkeypatch.delenv("PALERMO_DATABASE_URL", raising=False)
    Workspace.init(tmp_path / "ws", actor="fixture").close()
    toml = tmp_path / "ws" / "settings.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(re.sub(r"upload_limit_bytes = \d+", "upload_limit_bytes = 4096", text), encoding="utf-8")
    ws = Workspace.open(tmp_path / "ws")
    try:
        app = create_app(ws, WebSettings(secure_cookies=True))
        assert app.state.settings.upload_limit_bytes == 4096 and app.state.settings.secure_cookies
        with TestClient(app, raise_server_exceptions=False) as client:
            # the guard allows 64 KiB over the limit, for the form around a file
            body = b"x" * (4096 + 80 * 1024)
            response = client.post("/login", content=body, headers={"Content-Type": "text/plain"})
            assert response.status_code == 413
            assert client.get("/login").headers["strict-transport-security"] == "max-age=31536000"
    finally:
        ws.close()
