"""Account lifecycle: inactive accounts disabled (AC-09, CJIS AC-2(3)), the last administrator kept,
``start_session`` held to the sign-in rules, and every session's end in the audit log (AC-06, AU-2).

The clock is moved, never waited for: every call takes ``now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from argon2 import profiles
from typer.testing import CliRunner

from palermo.cli.main import app
from palermo.errors import AccessDenied, ConfigurationError, DomainError, InputError
from palermo.security.audit import AuditRecord
from palermo.security.auth import Authenticator, PasswordHasher
from palermo.settings import resolve
from palermo.store.users import POLICY_ACTOR, SweepResult, UserService
from palermo.workspace import Workspace

from .conftest import PASSWORD

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
runner = CliRunner()


def _events(ws: Workspace, action: str) -> list[AuditRecord]:
    return [e for e in ws.audit.events() if e.action == action]


def _uid(ws: Workspace, username: str) -> str:
    return str(ws.users.get(username).id)


def _with_policy(ws: Workspace, **policy: object) -> None:
    """The fixtures' cheap-hash UserService, with the given workspace policy."""
    auth = Authenticator(hasher=PasswordHasher(profiles.CHEAPEST), master=ws._master)
    ws._users = UserService(ws.ctx, auth, **policy)  # type: ignore[arg-type]


# --- AC-09: 90 days without a sign-in -----------------------------------------------------------


def test_an_account_unused_for_90_days_is_disabled_at_its_next_sign_in_attempt(web_ws: Workspace) -> None:
    web_ws.users.add("ina", PASSWORD, "analyst", now=T0)
    web_ws.users.sign_in("ina", PASSWORD, now=T0 + timedelta(days=10))
    assert web_ws.users.sign_in("ina", PASSWORD, now=T0 + timedelta(days=99, hours=23)).user.is_active
    with pytest.raises(AccessDenied):  # 90 days after the last sign-in, right password or not
        web_ws.users.sign_in("ina", PASSWORD, now=T0 + timedelta(days=189, hours=23))
    assert not web_ws.users.get("ina").is_active
    [disabled] = _events(web_ws, "user.deactivate")
    assert (disabled.actor, disabled.object_id) == (POLICY_ACTOR, _uid(web_ws, "ina"))
    assert disabled.detail == {"reason": "inactive", "days": 90, "sessions_ended": 1}


def test_an_account_never_signed_in_counts_from_its_creation(web_ws: Workspace) -> None:
    web_ws.users.add("new", PASSWORD, "analyst", now=T0)
    with pytest.raises(AccessDenied):
        web_ws.users.sign_in("new", PASSWORD, now=T0 + timedelta(days=90))
    assert not web_ws.users.get("new").is_active


def test_reactivated_account_gets_a_fresh_90_days(web_ws: Workspace) -> None:
    web_ws.users.add("back", PASSWORD, "analyst", now=T0)
    web_ws.users.sweep(now=T0 + timedelta(days=200))
    web_ws.users.activate("back", now=T0 + timedelta(days=201))
    assert web_ws.users.sign_in("back", PASSWORD, now=T0 + timedelta(days=202)).user.is_active


def test_activating_an_active_account_is_refused_and_keeps_its_clock(web_ws: Workspace) -> None:
    """Re-enabling an account that is not disabled would silently restart its 90 days."""
    web_ws.users.add("ina", PASSWORD, "analyst", now=T0)
    with pytest.raises(InputError, match="already active"):
        web_ws.users.activate("ina", now=T0 + timedelta(days=80))
    assert _events(web_ws, "user.activate") == []
    assert web_ws.users.sweep(now=T0 + timedelta(days=90)).disabled == ["ina"]
    result = runner.invoke(app, ["user", "activate", "ina", "-w", str(web_ws.path)])
    assert result.exit_code == 0, result.output  # disabled now: activating it is what it is for
    result = runner.invoke(app, ["user", "activate", "ina", "-w", str(web_ws.path)])
    assert isinstance(result.exception, InputError) and result.exception.exit_code == 2


def test_sign_in_attempts_on_a_disabled_account_do_not_lock_it(web_ws: Workspace) -> None:
    """The attempts that find an account just disabled for inactivity are audited, not counted:
    re-enabling it must hand back an account its owner can sign in to."""
    web_ws.users.add("ina", PASSWORD, "analyst", now=T0)
    for _ in range(6):
        with pytest.raises(AccessDenied):
            web_ws.users.sign_in("ina", PASSWORD, now=T0 + timedelta(days=91))
    assert not web_ws.users.get("ina").locked and _events(web_ws, "user.lock") == []
    assert len([e for e in _events(web_ws, "login") if e.outcome == "failure"]) == 6
    web_ws.users.activate("ina", now=T0 + timedelta(days=92))
    assert web_ws.users.sign_in("ina", PASSWORD, now=T0 + timedelta(days=92)).user.username == "ina"


def test_the_sweep_disables_only_the_inactive_and_a_second_sweep_finds_nothing(db_ws: Workspace) -> None:
    db_ws.users.add("old", PASSWORD, "analyst", now=T0)
    db_ws.users.add("recent", PASSWORD, "analyst", now=T0 + timedelta(days=60))
    first = db_ws.users.sweep(now=T0 + timedelta(days=95))
    assert (first.disabled, db_ws.users.get("recent").is_active) == (["old"], True)
    assert db_ws.users.sweep(now=T0 + timedelta(days=95)).disabled == []
    assert [e.detail["reason"] for e in _events(db_ws, "user.deactivate")] == ["inactive"]


def test_the_number_of_days_comes_from_the_workspace_policy(web_ws: Workspace) -> None:
    _with_policy(web_ws, inactive_after=timedelta(days=30))
    web_ws.users.add("short", PASSWORD, "analyst", now=T0)
    assert web_ws.users.sweep(now=T0 + timedelta(days=29)).disabled == []
    assert web_ws.users.sweep(now=T0 + timedelta(days=30)).disabled == ["short"]


def test_settings_toml_sets_the_days_and_refuses_nonsense(tmp_path: Path) -> None:
    assert resolve(tmp_path).inactive_account_days == 90
    values = (("30", True), ("90", True), ("0", False), ("true", False), ('"90"', False), ("90.5", False))
    for value, ok in (*values, ("91", False), ("3650", False)):  # CJIS AC-2(3): at most 90 days
        (tmp_path / "settings.toml").write_text(f"inactive_account_days = {value}\n")
        if ok:
            assert resolve(tmp_path).inactive_account_days == int(value)
        else:
            with pytest.raises(ConfigurationError, match="inactive_account_days"):
                resolve(tmp_path)


def test_a_new_workspace_writes_the_setting_and_uses_it(tmp_path: Path, web_ws: Workspace) -> None:
    text = (web_ws.path / "settings.toml").read_text()
    assert "inactive_account_days = 90" in text
    (web_ws.path / "settings.toml").write_text(text.replace("= 90", "= 7"))
    reopened = Workspace.open(web_ws.path)
    try:
        assert reopened.users.inactive_after == timedelta(days=7)
    finally:
        reopened.close()


def test_user_sweep_command_disables_and_reports(web_ws: Workspace) -> None:
    web_ws.users.add("gone", PASSWORD, "analyst", now=datetime.now(UTC) - timedelta(days=120))
    result = runner.invoke(app, ["user", "sweep", "--json", "-w", str(web_ws.path)])
    assert result.exit_code == 0, result.output
    assert '"disabled": [\n    "gone"\n  ]' in result.output
    assert not web_ws.users.get("gone").is_active


def test_a_running_server_sweeps_on_its_own_and_a_failed_sweep_does_not_stop_it(
    web_ws: Workspace, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A server left running for months disables accounts as they reach the limit, not at its next
    restart; one sweep failing (a database hiccup) is logged and the next turn sweeps."""
    import time

    from fastapi.testclient import TestClient

    from palermo.web.app import WebSettings, create_app

    web_ws.users.add("gone", PASSWORD, "viewer", now=datetime.now(UTC) - timedelta(days=91))
    real, calls = web_ws.users.sweep, []

    def flaky(**kw: object) -> object:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database restarting")
        return real(**kw)  # type: ignore[arg-type]

    monkeypatch.setattr(web_ws.users, "sweep", flaky)
    app = create_app(web_ws, WebSettings(sweep_every=timedelta(milliseconds=20)))
    with TestClient(app), caplog.at_level("WARNING", logger="palermo.web.app"):
        deadline = time.monotonic() + 10
        while web_ws.users.get("gone").is_active and time.monotonic() < deadline:
            time.sleep(0.02)
    assert not web_ws.users.get("gone").is_active and len(calls) >= 2
    assert "the periodic account sweep failed" in caplog.text
    assert "disabled for inactivity (no sign-in): gone" in caplog.text


def test_stopping_the_server_waits_for_a_sweep_under_way(
    web_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep runs in a worker thread that cancelling does not stop: the server used to return at
    once and ``palermo serve`` closed the workspace under the sweep, still writing. Stopping now
    waits for it, and starts no other."""
    import threading

    from fastapi.testclient import TestClient

    from palermo.web.app import WebSettings, create_app

    started, release, finished = threading.Event(), threading.Event(), threading.Event()
    calls = []

    def slow_sweep(**kw: object) -> object:
        calls.append(1)
        started.set()
        release.wait(10)  # still under way when the server is told to stop
        finished.set()
        return SweepResult([], 0)

    monkeypatch.setattr(web_ws.users, "sweep", slow_sweep)
    app = create_app(web_ws, WebSettings(sweep_every=timedelta(milliseconds=10)))
    with TestClient(app):
        assert started.wait(10)
        threading.Timer(0.5, release.set).start()
    assert finished.is_set(), "the server stopped while its sweep was still running"
    assert len(calls) == 1


def test_palermo_serve_sweeps_every_hour(web_ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    from palermo.cli.serve import serve_workspace

    served = []
    monkeypatch.setattr("uvicorn.run", lambda application, **_kw: served.append(application))
    serve_workspace(web_ws, "127.0.0.1", 8000)
    assert served[0].state.settings.sweep_every == timedelta(hours=1)


# --- the last administrator -------------------------------------------------------------------


def test_the_last_active_administrator_cannot_be_deactivated(db_ws: Workspace) -> None:
    db_ws.users.add("root", PASSWORD, "admin")
    with pytest.raises(DomainError, match="last active administrator"):
        db_ws.users.deactivate("root")
    assert db_ws.users.get("root").is_active and _events(db_ws, "user.deactivate") == []
    db_ws.users.add("deputy", PASSWORD, "admin")
    db_ws.users.deactivate("root")  # with another one, it can
    with pytest.raises(DomainError, match="last active administrator"):
        db_ws.users.deactivate("deputy")


def test_the_last_active_administrator_cannot_be_demoted(db_ws: Workspace) -> None:
    db_ws.users.add("root", PASSWORD, "admin")
    with pytest.raises(DomainError, match="cannot demote 'root'"):
        db_ws.users.set_role("root", "viewer")
    assert db_ws.users.get("root").role == "admin"
    db_ws.users.add("deputy", PASSWORD, "viewer")
    db_ws.users.set_role("deputy", "admin", actor="op")
    assert db_ws.users.set_role("root", "viewer").role == "viewer"
    assert [e.detail for e in _events(db_ws, "user.role")] == [
        {"from": "viewer", "to": "admin", "sessions_ended": 0},
        {"from": "admin", "to": "viewer", "sessions_ended": 0},
    ]


def _lock(ws: Workspace, username: str) -> None:
    for _ in range(5):
        with pytest.raises(AccessDenied):
            ws.users.sign_in(username, "wrong password!!")
    assert ws.users.get(username).locked


def test_an_administrator_who_cannot_sign_in_does_not_count_as_another(db_ws: Workspace) -> None:
    """Locked, 90 days unused, or not enrolled when the policy asks for two factors: no way in, so
    no reason to let the last administrator who can sign in go."""
    now = datetime.now(UTC)
    db_ws.users.add("root", PASSWORD, "admin")
    db_ws.users.add("locked", PASSWORD, "admin")
    _lock(db_ws, "locked")
    db_ws.users.add("stale", PASSWORD, "admin", now=now - timedelta(days=100))  # not swept yet
    for change in (lambda: db_ws.users.deactivate("root"), lambda: db_ws.users.set_role("root", "viewer")):
        with pytest.raises(DomainError, match="last active administrator"):
            change()
    db_ws.users.unlock("locked")  # now one can sign in: root may go
    db_ws.users.deactivate("root")
    assert not db_ws.users.get("root").is_active


def test_under_the_second_factor_policy_an_unenrolled_administrator_does_not_count(db_ws: Workspace) -> None:
    _with_policy(db_ws, require_second_factor=True)
    db_ws.users.add("root", PASSWORD, "admin")
    db_ws.users.enrol_totp("root")
    db_ws.users.add("deputy", PASSWORD, "admin")
    with pytest.raises(DomainError, match="last active administrator"):
        db_ws.users.deactivate("root")
    db_ws.users.enrol_totp("deputy")
    db_ws.users.deactivate("root")


def test_an_administrator_who_cannot_sign_in_may_be_taken_away(db_ws: Workspace) -> None:
    """Deactivating a locked administrator takes no way in away, so even the last one may go."""
    db_ws.users.add("root", PASSWORD, "admin")
    _lock(db_ws, "root")
    assert not db_ws.users.deactivate("root").is_active


def test_a_role_change_ends_the_sessions_of_the_account(web_ws: Workspace) -> None:
    web_ws.users.add("ann", PASSWORD, "viewer")
    token = web_ws.users.sign_in("ann", PASSWORD).token
    web_ws.users.set_role("ann", "analyst")
    with pytest.raises(AccessDenied):
        web_ws.users.resume_session(token)


def test_cli_refuses_the_last_administrator_with_exit_1(web_ws: Workspace) -> None:
    web_ws.users.add("root", PASSWORD, "admin")
    for args in (["deactivate", "root"], ["role", "root", "analyst"]):
        result = runner.invoke(app, ["user", *args, "-w", str(web_ws.path)])
        assert isinstance(result.exception, DomainError), result.output
        assert result.exception.exit_code == 1
        assert "last active administrator" in str(result.exception)


def test_a_transaction_the_database_breaks_off_is_a_message_not_a_traceback(
    web_ws: Workspace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """PostgreSQL ends one of two deadlocked transactions with an error; whatever still can meet one
    (a lost connection, a serialisation failure) reaches the operator as one line and exit 1."""
    import psycopg
    from sqlalchemy.exc import OperationalError

    from palermo.cli.main import run

    def deadlock(self: UserService, **_kw: object) -> None:
        orig = psycopg.errors.DeadlockDetected("deadlock detected\nDETAIL:  Process 1 waits for ShareLock")
        raise OperationalError("SELECT users", {}, orig)

    monkeypatch.setattr(UserService, "sweep", deadlock)
    monkeypatch.setattr("sys.argv", ["palermo", "user", "sweep", "-w", str(web_ws.path)])
    with pytest.raises(SystemExit) as exited:
        run()
    err = " ".join(capsys.readouterr().err.split())
    assert exited.value.code == 1
    assert "Traceback" not in err and "DETAIL" not in err
    assert (
        "error: the database broke off the command (deadlock detected)" in err
        and "run the command again" in err
    )


# --- start_session honours the workspace policy -----------------------------------------------


def test_start_session_refuses_an_unenrolled_account_when_two_factors_are_required(
    web_ws: Workspace,
) -> None:
    _with_policy(web_ws, require_second_factor=True)
    web_ws.users.add("pat", PASSWORD, "prosecutor")
    with pytest.raises(AccessDenied):
        web_ws.users.start_session(web_ws.users.get("pat").id, now=T0)
    with web_ws.ctx.db.read() as s:
        from sqlalchemy import func, select

        from palermo.store.tables import WebSession

        assert s.scalar(select(func.count()).select_from(WebSession)) == 0
    [failed] = _events(web_ws, "login")
    assert failed.outcome == "failure"
    assert failed.detail == {"via": "start_session", "reason": "no_second_factor"}


def test_start_session_needs_the_code_of_an_enrolled_account(web_ws: Workspace) -> None:
    _with_policy(web_ws, require_second_factor=True)
    web_ws.users.add("pat", PASSWORD, "prosecutor")
    secret = web_ws.users.enrol_totp("pat")
    uid = web_ws.users.get("pat").id
    with pytest.raises(AccessDenied):
        web_ws.users.start_session(uid, now=T0)
    code = pyotp.TOTP(secret).at(T0)
    assert web_ws.users.start_session(uid, code, now=T0).user.username == "pat"
    with pytest.raises(AccessDenied):  # single-use here too
        web_ws.users.start_session(uid, code, now=T0)


def test_start_session_refuses_a_locked_account(web_ws: Workspace) -> None:
    web_ws.users.add("pat", PASSWORD, "prosecutor")
    for _ in range(5):
        with pytest.raises(AccessDenied):
            web_ws.users.sign_in("pat", "wrong password!!", now=T0)
    with pytest.raises(AccessDenied):
        web_ws.users.start_session(web_ws.users.get("pat").id, now=T0)


# --- every session's end is recorded -----------------------------------------------------------


def test_the_sweep_records_abandoned_sessions_as_ended_with_the_time_they_ended(db_ws: Workspace) -> None:
    db_ws.users.add("pat", PASSWORD, "prosecutor", now=T0)
    db_ws.users.add("vic", PASSWORD, "viewer", now=T0)
    db_ws.users.sign_in("pat", PASSWORD, now=T0)  # walked away: idle after 30 minutes
    kept = db_ws.users.sign_in("vic", PASSWORD, now=T0 + timedelta(minutes=20))
    result = db_ws.users.sweep(now=T0 + timedelta(minutes=45))
    assert result.sessions_ended == 1
    [ended] = _events(db_ws, "session.end")
    assert (ended.actor, ended.object_id) == (POLICY_ACTOR, _uid(db_ws, "pat"))
    assert ended.detail == {"reason": "idle", "ended_at": (T0 + timedelta(minutes=30)).isoformat()}
    assert db_ws.users.resume_session(kept.token, now=T0 + timedelta(minutes=46)).user.username == "vic"
    assert db_ws.users.sweep(now=T0 + timedelta(minutes=46)).sessions_ended == 0


def test_a_session_kept_busy_past_12_hours_is_recorded_as_expired(web_ws: Workspace) -> None:
    web_ws.users.add("pat", PASSWORD, "prosecutor", now=T0)
    token = web_ws.users.sign_in("pat", PASSWORD, now=T0).token
    for minutes in range(20, 12 * 60, 20):
        web_ws.users.resume_session(token, now=T0 + timedelta(minutes=minutes))
    web_ws.users.sweep(now=T0 + timedelta(hours=12, minutes=5))
    [ended] = _events(web_ws, "session.end")
    assert ended.detail == {"reason": "expired", "ended_at": (T0 + timedelta(hours=12)).isoformat()}


def test_signing_in_again_records_the_accounts_abandoned_sessions(web_ws: Workspace) -> None:
    web_ws.users.add("pat", PASSWORD, "prosecutor", now=T0)
    web_ws.users.sign_in("pat", PASSWORD, now=T0)
    web_ws.users.sign_in("pat", PASSWORD, now=T0 + timedelta(days=1))
    [ended] = _events(web_ws, "session.end")
    assert (ended.object_id, ended.detail["reason"]) == (_uid(web_ws, "pat"), "idle")


def test_every_session_started_has_an_end_in_the_audit_log(db_ws: Workspace) -> None:
    db_ws.users.add("pat", PASSWORD, "prosecutor", now=T0)
    db_ws.users.add("vic", PASSWORD, "viewer", now=T0)
    signed_out = db_ws.users.sign_in("pat", PASSWORD, now=T0)
    db_ws.users.sign_in("vic", PASSWORD, now=T0)
    db_ws.users.sign_in("pat", PASSWORD, now=T0 + timedelta(minutes=5))
    db_ws.users.end_session(signed_out.token)
    db_ws.users.sweep(now=T0 + timedelta(hours=13))
    started = [e for e in _events(db_ws, "login") if e.outcome == "success"]
    assert len(_events(db_ws, "session.end")) == len(started) == 3
