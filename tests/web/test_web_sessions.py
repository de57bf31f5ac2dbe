"""Session lookup: the common case is a read; idle, expired and stale sessions still take the write path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from palermo.errors import AccessDenied
from palermo.store.users import POLICY_ACTOR
from palermo.workspace import Workspace

from .conftest import PASSWORD, Seeded

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _start(ws: Workspace) -> str:
    user = ws.users.get("pat")
    token: str = ws.users.start_session(user.id, now=T0).token
    return token


def test_live_session_resumes_without_touching(web_ws: Workspace, seeded: Seeded) -> None:
    token = _start(web_ws)
    assert web_ws.users.resume_session(token, now=T0 + timedelta(seconds=10)).user.username == "pat"


def test_session_used_every_20_minutes_stays_alive_past_the_idle_timeout(
    web_ws: Workspace, seeded: Seeded
) -> None:
    token = _start(web_ws)
    for minutes in (20, 40, 60):
        web_ws.users.resume_session(token, now=T0 + timedelta(minutes=minutes))
    assert web_ws.users.resume_session(token, now=T0 + timedelta(minutes=75)).user.username == "pat"


def test_idle_session_is_refused(web_ws: Workspace, seeded: Seeded) -> None:
    token = _start(web_ws)
    with pytest.raises(AccessDenied, match="30 minutes"):
        web_ws.users.resume_session(token, now=T0 + timedelta(minutes=31))


def test_idle_session_is_deleted(web_ws: Workspace, seeded: Seeded) -> None:
    token = _start(web_ws)
    with pytest.raises(AccessDenied):
        web_ws.users.resume_session(token, now=T0 + timedelta(minutes=31))
    with pytest.raises(AccessDenied, match="not signed in"):
        web_ws.users.resume_session(token, now=T0 + timedelta(seconds=1))


def test_deactivated_user_session_is_refused(web_ws: Workspace, seeded: Seeded) -> None:
    token = _start(web_ws)
    web_ws.users.deactivate("pat")
    with pytest.raises(AccessDenied):
        web_ws.users.resume_session(token, now=T0 + timedelta(seconds=5))


@pytest.mark.parametrize(
    ("minutes", "reason", "ended_at"),
    [(31, "idle", T0 + timedelta(minutes=30)), (12 * 60 + 1, "expired", T0 + timedelta(hours=12))],
)
def test_a_session_ended_by_time_is_audited_as_the_sweep_records_it(
    web_ws: Workspace, seeded: Seeded, minutes: int, reason: str, ended_at: datetime
) -> None:
    """The cookie coming back after the session ran out records the same end as the sweep would have:
    the rules' doing (``system:policy``), with the time it ran out, not a sign-out by the person."""
    token = _start(web_ws)
    if reason == "expired":  # keep it from going idle, so only its age ends it
        for step in range(20, 12 * 60, 20):
            web_ws.users.resume_session(token, now=T0 + timedelta(minutes=step))
    with pytest.raises(AccessDenied):
        web_ws.users.resume_session(token, now=T0 + timedelta(minutes=minutes))
    [event] = [e for e in web_ws.audit.events() if e.action == "session.end"]
    assert (event.actor, event.object_id, event.detail) == (
        POLICY_ACTOR,
        str(web_ws.users.get("pat").id),
        {"reason": reason, "ended_at": ended_at.isoformat()},
    )


def test_signing_in_checks_the_password_and_opens_the_session_as_one(web_ws: Workspace) -> None:
    """The web's sign-in is one transaction holding the account's row: a password change cannot come
    between the check and the session and leave a session of the old password alive."""
    web_ws.users.add("sid", PASSWORD, "analyst")
    opened = web_ws.users.sign_in("sid", PASSWORD)
    assert web_ws.users.resume_session(opened.token).user.username == "sid"
    web_ws.users.set_password("sid", PASSWORD + "-new")
    with pytest.raises(AccessDenied):
        web_ws.users.resume_session(opened.token)
    with pytest.raises(AccessDenied):
        web_ws.users.sign_in("sid", PASSWORD)
    assert web_ws.users.sign_in("sid", PASSWORD + "-new").token


def test_a_new_second_factor_ends_every_open_session(web_ws: Workspace) -> None:
    """A new TOTP secret usually means the old phone was lost or taken: its sessions must not last."""
    web_ws.users.add("tia", PASSWORD, "analyst")
    opened = web_ws.users.sign_in("tia", PASSWORD)
    web_ws.users.enrol_totp("tia")
    with pytest.raises(AccessDenied):
        web_ws.users.resume_session(opened.token)
    [event] = [e for e in web_ws.audit.events() if e.action == "user.totp"]
    assert event.detail == {"sessions_ended": 1}
