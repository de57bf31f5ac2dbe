"""Account changes that run at the same time on PostgreSQL, where rows are locked one by one (SQLite
takes one write lock per transaction and cannot deadlock): the sweep, ``user deactivate`` and
``user role`` lock accounts in one order, and a session ends once in the audit log however many
requests see it end.

No sleeps decide an outcome: a paused transaction goes on as soon as PostgreSQL shows another one
waiting for a lock it holds (``pg_blocking_pids``), or once every thread has reached the pause."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from palermo.errors import AccessDenied, DomainError
from palermo.store.users import POLICY_ACTOR, UserService
from palermo.workspace import Workspace

from .conftest import PASSWORD, cheap_users

T0 = datetime.now(UTC) - timedelta(hours=2)


@pytest.fixture
def pg_ws(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, worker_database_url: str
) -> Iterator[tuple[Workspace, Workspace]]:
    """Two handles on one PostgreSQL workspace, as two commands (or a command and the server) have."""
    from .conftest import _fixtures

    _fixtures.reset_schema(worker_database_url)
    monkeypatch.setenv("PALERMO_MASTER_KEY_FILE", str(tmp_path / "keys" / "master.key"))
    monkeypatch.delenv("PALERMO_DATABASE_URL", raising=False)
    first = Workspace.init(tmp_path / "ws", actor="fixture", database_url=worker_database_url)
    second = Workspace.open(tmp_path / "ws", actor="fixture")
    first._users, second._users = cheap_users(first), cheap_users(second)
    yield first, second
    first.close()
    second.close()


class Rendezvous:
    """Pause a transaction (while it holds its locks) until another waits on it or all have arrived."""

    def __init__(self, url: str, parties: int) -> None:
        self._engine = sa.create_engine(url)
        self._parties = parties
        self._arrived = 0
        self._lock = threading.Lock()

    def pause(self, s: Session) -> None:
        pid = s.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with self._lock:
            self._arrived += 1
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with self._lock:
                if self._arrived >= self._parties:
                    return
            if self.someone_waits_on(pid):
                return
            time.sleep(0.02)

    def someone_waits_on(self, pid: int) -> bool:
        with self._engine.connect() as conn:
            query = sa.text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")
            return bool(conn.execute(query, {"pid": pid}).scalar())

    def close(self) -> None:
        self._engine.dispose()


def _in_threads(jobs: dict[str, Callable[[], object]]) -> dict[str, str]:
    """Run the jobs side by side; each one's outcome is "ok" or its exception's type and message."""
    out: dict[str, str] = {}

    def run(name: str, job: Callable[[], object]) -> None:
        try:
            job()
            out[name] = "ok"
        except Exception as exc:  # the outcome is what the test compares
            out[name] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"

    threads = [threading.Thread(target=run, args=item) for item in jobs.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return out


def _pause_in_guard(monkeypatch: pytest.MonkeyPatch, meet: Rendezvous) -> None:
    """Pause ``deactivate`` / ``set_role`` once they hold their locks, before the last-administrator check.

    (Before the fix the pause was in ``_keep_an_administrator``, after the account's own row was
    locked and before the administrators' were: both tests deadlocked there.)"""
    original = UserService._lock_with_admins

    def paused(self: UserService, s: Session, *args: Any, **kwargs: Any) -> Any:
        locked = original(self, s, *args, **kwargs)
        meet.pause(s)
        return locked

    monkeypatch.setattr(UserService, "_lock_with_admins", paused)


def test_two_administrators_taken_away_at_once_do_not_deadlock(
    pg_ws: tuple[Workspace, Workspace], worker_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, other = pg_ws
    one.users.add("alice", PASSWORD, "admin")
    one.users.add("bob", PASSWORD, "admin")
    meet = Rendezvous(worker_database_url, 2)
    _pause_in_guard(monkeypatch, meet)
    out = _in_threads(
        {
            "deactivate": lambda: one.users.deactivate("alice"),
            "demote": lambda: other.users.set_role("bob", "viewer"),
        }
    )
    meet.close()
    assert "OperationalError" not in str(out), out
    # one of them goes first and succeeds; the other then finds the last administrator and is refused
    refused = "demote 'bob'" if out["deactivate"] == "ok" else "deactivate 'alice'"
    [first, second] = sorted(out.values())
    assert second == "ok" and first.startswith("DomainError: username: cannot " + refused), out
    admins = [u.username for u in one.users.all() if u.role == "admin" and u.is_active]
    assert len(admins) == 1


def test_the_sweep_and_a_deactivation_at_once_do_not_deadlock(
    pg_ws: tuple[Workspace, Workspace], worker_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, other = pg_ws
    one.users.add("alice", PASSWORD, "admin")
    one.users.add("zed", PASSWORD, "admin")
    one.users.add("old", PASSWORD, "analyst", now=datetime.now(UTC) - timedelta(days=100))
    meet = Rendezvous(worker_database_url, 2)  # the sweep never reaches the guard: only a waiter ends it
    _pause_in_guard(monkeypatch, meet)
    swept: dict[str, list[str]] = {}

    def sweep() -> None:
        deadline = time.monotonic() + 10  # start once the deactivation holds its locks
        while meet._arrived == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        swept["disabled"] = one.users.sweep().disabled

    out = _in_threads({"deactivate": lambda: other.users.deactivate("zed"), "sweep": sweep})
    meet.close()
    assert out == {"deactivate": "ok", "sweep": "ok"}
    assert swept["disabled"] == ["old"]
    assert [(u.username, u.is_active) for u in one.users.all()] == [
        ("alice", True),
        ("old", False),
        ("zed", False),
    ]


@pytest.mark.parametrize("request_kind", ["cookie comes back", "sign-out"])
def test_a_session_ended_by_the_sweep_and_a_request_at_once_ends_once(
    pg_ws: tuple[Workspace, Workspace],
    worker_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    request_kind: str,
) -> None:
    one, other = pg_ws
    one.users.add("pat", PASSWORD, "prosecutor", now=T0)
    token = one.users.sign_in("pat", PASSWORD, now=T0).token
    later = T0 + timedelta(minutes=45)  # idle since T0 + 30 minutes
    meet = Rendezvous(worker_database_url, 2)  # only a waiter ends the pause: the request never pauses
    original = UserService._end_abandoned
    swept = threading.Event()

    def paused(self: UserService, s: Session, now: datetime, user_id: int | None = None) -> int:
        count = original(self, s, now, user_id)
        if self is one.users:  # the sweep's session: deleted and audited, not yet committed
            s.flush()
            swept.set()
            meet.pause(s)
        return count

    monkeypatch.setattr(UserService, "_end_abandoned", paused)

    def request() -> None:
        swept.wait(10)
        if request_kind == "sign-out":
            other.users.end_session(token)
        else:
            other.users.resume_session(token, now=later)

    out = _in_threads({"sweep": lambda: one.users.sweep(now=later), "request": request})
    meet.close()
    assert out["sweep"] == "ok"
    assert out["request"] in ("ok", "AccessDenied: not signed in"), out
    ended = [(e.actor, e.detail) for e in one.audit.events() if e.action == "session.end"]
    assert ended == [(POLICY_ACTOR, {"reason": "idle", "ended_at": (T0 + timedelta(minutes=30)).isoformat()})]
    with pytest.raises(AccessDenied):
        one.users.resume_session(token, now=later)


def test_the_guard_holds_on_postgresql_too(pg_ws: tuple[Workspace, Workspace]) -> None:
    one, _ = pg_ws
    one.users.add("root", PASSWORD, "admin")
    with pytest.raises(DomainError, match="last active administrator"):
        one.users.deactivate("root")


def _pause_before_recording_an_end(
    monkeypatch: pytest.MonkeyPatch, service: UserService, meet: Rendezvous
) -> threading.Event:
    """Pause ``service`` where it holds a session it ends (a sign-out, a cookie that ran out) and is
    about to record the end (so to take the audit log's lock); the returned event is set once it got
    there."""
    original = UserService._record
    holding = threading.Event()

    def paused(self: UserService, s: Session, actor: str, action: str, *args: Any, **kwargs: Any) -> None:
        if self is service and action == "session.end" and not holding.is_set():
            holding.set()
            meet.pause(s)
        original(self, s, actor, action, *args, **kwargs)

    monkeypatch.setattr(UserService, "_record", paused)
    return holding


@pytest.mark.parametrize("request_kind", ["sign-out", "cookie comes back"])
def test_a_sweep_that_disables_someone_and_a_request_ending_a_session_at_once_do_not_deadlock(
    pg_ws: tuple[Workspace, Workspace],
    worker_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    request_kind: str,
) -> None:
    """The sweep disables an account (recording it takes the audit lock) and ends sessions; a sign-out,
    or a cookie coming back after its session ran out, holds the session and then wants the audit
    lock. The sweep now locks every session before it records anything, so it waits for the request
    instead of holding what the request needs. (Before: PostgreSQL killed one, "deadlock detected".)"""
    one, other = pg_ws
    one.users.add("alice", PASSWORD, "admin", now=T0)
    one.users.add("old", PASSWORD, "analyst", now=datetime.now(UTC) - timedelta(days=100))
    token = one.users.sign_in("alice", PASSWORD, now=T0).token  # idle since T0 + 30 minutes
    meet = Rendezvous(worker_database_url, 2)  # only a waiter ends the pause: the sweep never pauses
    holding = _pause_before_recording_an_end(monkeypatch, other.users, meet)
    swept: dict[str, list[str]] = {}

    def sweep() -> None:
        holding.wait(10)
        swept["disabled"] = one.users.sweep().disabled

    def request() -> None:
        if request_kind == "sign-out":
            other.users.end_session(token)
        else:
            other.users.resume_session(token)

    out = _in_threads({"request": request, "sweep": sweep})
    meet.close()
    assert out["sweep"] == "ok", out
    assert swept["disabled"] == ["old"]
    ends = [(e.actor, e.detail) for e in one.audit.events() if e.action == "session.end"]
    if request_kind == "sign-out":
        assert out["request"] == "ok"
        assert ends == [("alice", {"reason": "sign-out"})]
    else:
        assert out["request"].startswith("AccessDenied: your session ended after 30 minutes"), out
        ended_at = (T0 + timedelta(minutes=30)).isoformat()
        assert ends == [(POLICY_ACTOR, {"reason": "idle", "ended_at": ended_at})]
    with pytest.raises(AccessDenied):
        one.users.resume_session(token)


def test_a_sign_in_and_a_sign_out_of_the_same_accounts_old_session_at_once_do_not_deadlock(
    pg_ws: tuple[Workspace, Workspace], worker_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sign-in records the ``login`` (the audit lock) and then ends the account's abandoned
    sessions; a sign-out from an old tab holds one of them and wants the audit lock. The sign-in
    now locks the account's sessions before it records anything."""
    one, other = pg_ws
    one.users.add("pat", PASSWORD, "prosecutor", now=T0)
    stale = one.users.sign_in("pat", PASSWORD, now=T0).token  # idle since T0 + 30 minutes
    meet = Rendezvous(worker_database_url, 2)
    holding = _pause_before_recording_an_end(monkeypatch, other.users, meet)
    fresh: dict[str, str] = {}

    def sign_in() -> None:
        holding.wait(10)
        fresh["token"] = one.users.sign_in("pat", PASSWORD).token

    out = _in_threads({"sign-out": lambda: other.users.end_session(stale), "sign-in": sign_in})
    meet.close()
    assert out == {"sign-out": "ok", "sign-in": "ok"}, out
    ends = [(e.actor, e.detail) for e in one.audit.events() if e.action == "session.end"]
    assert ends == [("pat", {"reason": "sign-out"})]  # ended once: by the sign-out that held it
    assert one.users.resume_session(fresh["token"]).user.username == "pat"
