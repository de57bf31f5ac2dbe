"""Accounts, case membership and web sessions: ``ws.users``.

Persistence only; the rules (argon2id, lockout, timeouts, token hashing) come from an
:class:`AuthRules` object the Workspace passes in (``palermo.security.auth.Authenticator``), because
the store and security layers may not import each other. Sign-ins (both outcomes), locks, unlocks,
password changes, deactivations and reactivations, sign-outs and ended sessions, and every change of
case membership are audited in the same transaction as the change (CJIS AU-2, AC-2(4)); never a
password, its hash or a token.

Two storage choices worth knowing:

* Session ids and CSRF tokens are stored as SHA-256 digests (``web_sessions.id`` / ``csrf_token``);
  the plain tokens exist only in the browser, so a copied database holds no usable session.
* ``users.locked_until`` is ``LOCKED_FOREVER`` while an account is locked (until an administrator
  unlocks it) and empty otherwise; ``users.failures_since`` holds the start of the current 15-minute
  failure window while failures are being counted (revision 0004; before it, ``locked_until`` did
  both jobs).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from palermo.errors import (
    AccessDenied,
    ConfigurationError,
    DomainError,
    InputError,
    IntegrityError,
    NotFoundError,
)
from palermo.store.ports import StoreContext
from palermo.store.tables import Case, CaseKey, CaseMember, MasterKeyState, User, WebSession

_log = logging.getLogger(__name__)

SIGN_IN_FAILED = (
    "Sign-in failed: wrong username, password or code. After 5 failed attempts in 15 minutes the "
    "account is locked until an administrator unlocks it."
)
LOCKED_FOREVER = datetime(9999, 12, 31, tzinfo=UTC)
TOUCH_EVERY = timedelta(seconds=30)
"""``last_seen_at`` is written at most this often, so busy pages do not turn every read into a write."""
POLICY_ACTOR = "system:policy"
"""The audit actor of what the workspace's own rules do, not a person: disabling an account unused for
90 days (AC-09) and recording a session that ran out of time unseen."""
ADMIN_ROLE = "admin"
"""``palermo.security.access.Role.ADMIN`` (the role holding ``user:admin``); the store may not import it."""
DEFAULT_INACTIVE_AFTER = timedelta(days=90)


class FailureLike(Protocol):
    """The outcome of one failed sign-in (``palermo.security.auth.FailureState``)."""

    @property
    def failed_logins(self) -> int: ...
    @property
    def window_started_at(self) -> datetime | None: ...
    @property
    def locked(self) -> bool: ...


class AuthRules(Protocol):
    """What the service needs from ``palermo.security.auth.Authenticator``."""

    def hash_password(self, password: str, username: str) -> str: ...
    def verify_password(self, password_hash: str | None, password: str) -> bool: ...
    def check_role(self, role: str) -> str: ...
    def register_failure(
        self, failed_logins: int, window_started_at: datetime | None, now: datetime
    ) -> FailureLike: ...
    def is_locked(self, locked_until: datetime | None, now: datetime) -> bool: ...
    def session_end_reason(
        self, created_at: datetime, last_seen_at: datetime, now: datetime
    ) -> str | None: ...
    def session_ends_at(self, created_at: datetime, last_seen_at: datetime) -> datetime: ...
    def totp_step(self, secret: str, code: str, now: datetime) -> int | None: ...
    def new_totp_secret(self) -> str: ...
    @property
    def master_key_id(self) -> str | None: ...
    def seal_totp_secret(self, user_id: int, secret: str) -> bytes: ...
    def sealed_key_id(self, sealed: bytes) -> str: ...
    def open_totp_secret(self, user_id: int, sealed: bytes) -> str: ...
    def new_token(self) -> str: ...
    def hash_token(self, token: str) -> str: ...
    def tokens_match(self, token: str | None, expected_hash: str) -> bool: ...


@dataclass(frozen=True)
class UserPublic:
    """An account as every interface may show it: never the hash, never the TOTP secret."""

    id: int
    username: str
    role: str
    is_active: bool
    locked: bool
    has_totp: bool
    created_at: datetime
    last_login_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class NewSession:
    """A freshly started session: the two plain tokens go to the browser once and are never stored."""

    token: str
    csrf_token: str
    user: UserPublic


@dataclass(frozen=True)
class ActiveSession:
    """A session that is still valid at this request, with the digest its CSRF token must match."""

    session_hash: str
    user: UserPublic
    csrf_hash: str


@dataclass(frozen=True)
class SweepResult:
    """What :meth:`UserService.sweep` did: accounts disabled for inactivity, sessions recorded as ended."""

    disabled: list[str]
    sessions_ended: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    """A datetime read back from SQLite is naive; it was written as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class UserService:
    """Accounts, sign-in, sessions and case membership."""

    def __init__(
        self,
        ctx: StoreContext,
        auth: AuthRules,
        *,
        require_second_factor: bool = False,
        inactive_after: timedelta = DEFAULT_INACTIVE_AFTER,
    ) -> None:
        """``require_second_factor`` and ``inactive_after`` are the workspace's policy (``settings.toml``),
        passed in by the Workspace rather than read from a global, so two workspaces in one process
        keep their own."""
        self._db = ctx.db
        self._auth = auth
        self._audit = ctx.audit
        self.require_second_factor = require_second_factor
        self.inactive_after = inactive_after

    def _record(
        self,
        s: Session,
        actor: str,
        action: str,
        user_id: int | None,
        outcome: str = "success",
        *,
        case_id: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Audit sign-ins and account changes (CJIS AU-2) in the same transaction as the change."""
        self._audit.record(
            s,
            actor=actor,
            action=action,
            object_type="user",
            object_id=user_id,
            case_id=case_id,
            outcome=outcome,
            detail=detail,
        )

    def _public(self, row: User, now: datetime | None = None) -> UserPublic:
        return UserPublic(
            id=row.id,
            username=row.username,
            role=row.role,
            is_active=row.is_active,
            locked=self._auth.is_locked(row.locked_until, _now(now)),
            has_totp=row.totp_sealed is not None or row.totp_secret is not None,
            created_at=row.created_at,
            last_login_at=row.last_login_at,
        )

    def add(
        self,
        username: str,
        password: str,
        role: str,
        *,
        totp_secret: str | None = None,
        actor: str = "system",
        now: datetime | None = None,
    ) -> UserPublic:
        """Create an account; InputError for a taken or empty username, a weak password or an unknown role."""
        username = username.strip()
        if not username or len(username) > 120 or any(c.isspace() for c in username):
            raise InputError("must be 1–120 characters without spaces", location="username")
        role = self._auth.check_role(role)
        password_hash = self._auth.hash_password(password, username)
        with self._db.transaction() as s:
            if s.scalar(select(User.id).where(User.username == username)) is not None:
                raise InputError(f"user {username!r} already exists", location="username")
            row = User(username=username, password_hash=password_hash, role=role, created_at=_now(now))
            s.add(row)
            s.flush()
            if totp_secret is not None:
                self._require_current_master(s)
                row.totp_sealed = self._auth.seal_totp_secret(row.id, totp_secret)
            self._record(s, actor, "user.create", row.id, detail={"role": row.role})
            return self._public(row)

    def get(self, username: str) -> UserPublic:
        with self._db.transaction() as s:
            row = s.scalar(select(User).where(User.username == username))
            if row is None:
                raise NotFoundError(f"no user {username!r}", location="username")
            return self._public(row)

    def not_enrolled(self) -> list[str]:
        """Usernames of active accounts without a TOTP secret, in order: under
        ``require_second_factor`` they cannot sign in (``palermo serve`` names them on start)."""
        with self._db.read() as s:
            q = (
                select(User.username)
                .where(User.is_active.is_(True), User.totp_sealed.is_(None), User.totp_secret.is_(None))
                .order_by(User.username)
            )
            return list(s.scalars(q))

    def all(self) -> list[UserPublic]:
        with self._db.transaction() as s:
            return [self._public(r) for r in s.scalars(select(User).order_by(User.username))]

    def authenticate(
        self, username: str, password: str, totp: str | None = None, *, now: datetime | None = None
    ) -> UserPublic:
        """Check credentials; every failure raises the same AccessDenied so usernames cannot be probed."""
        now = _now(now)
        with self._db.transaction() as s:
            row = self._verified(s, username, password, totp, now)
            if row is not None:
                return self._public(row, now)
        raise AccessDenied(SIGN_IN_FAILED)

    def sign_in(
        self, username: str, password: str, totp: str | None = None, *, now: datetime | None = None
    ) -> NewSession:
        """:meth:`authenticate` and :meth:`start_session` in one transaction, holding the account's
        row: a password changed (or an account disabled) between the check and the session would
        otherwise leave a session opened with the old password alive, which the change meant to end."""
        now = _now(now)
        with self._db.transaction() as s:
            row = self._verified(s, username, password, totp, now)
            if row is not None:
                return self._open_session(s, row, now)
        raise AccessDenied(SIGN_IN_FAILED)

    def _verified(
        self, s: Session, username: str, password: str, totp: str | None, now: datetime
    ) -> User | None:
        """The account if the credentials hold (sign-in recorded), else None (failure recorded, counted)."""
        # FOR UPDATE (PostgreSQL; SQLite serialises writers anyway): two sign-ins racing with the
        # same TOTP code must not both see the old last step and both succeed
        row = s.scalar(select(User).where(User.username == username.strip()).with_for_update())
        ok = self._auth.verify_password(row.password_hash if row else None, password)
        if row is None:
            self._record(s, "anonymous", "login", None, "failure")
            return None
        self._lock_sessions(s, row.id)  # before _admit records: the sessions it may end come first
        return self._admit(s, row, ok, totp, now)

    def _admit(
        self, s: Session, row: User, ok: bool, totp: str | None, now: datetime, via: str | None = None
    ) -> User | None:
        """Everything a sign-in checks after the password (``ok``: whether it matched): inactivity,
        lock, the second factor and the workspace's policy on it. One path for :meth:`sign_in` and
        :meth:`start_session`, so neither can be a way around a rule the other enforces. Success and
        failure are audited as ``login`` (``via`` names the entry when it is not the password form)."""
        step: int | None = None
        if self._inactive(row, now):
            self._disable_inactive(s, row, now)  # committed with the failed sign-in below
        locked = self._auth.is_locked(row.locked_until, now)
        enrolled = row.totp_sealed is not None or row.totp_secret is not None
        detail: dict[str, Any] | None = {"via": via} if via else None
        if self.require_second_factor and not enrolled:
            # the policy wants two factors and this account has one: a failure like a wrong
            # password (same message, counted toward lockout). The reason is audited whatever the
            # password was, so the audit log does not become a record of which guesses were right.
            ok, detail = False, {**(detail or {}), "reason": "no_second_factor"}
        if ok and enrolled:
            # opened only once the password matched; a secret that cannot be opened fails the
            # sign-in like a wrong code (audited, counted), never with an error of its own
            secret = self._usable_totp_secret(s, row)
            step = self._auth.totp_step(secret, totp, now) if secret and totp else None
            # a code is single-use: its step must come after the last one accepted (replay)
            ok = step is not None and (row.totp_last_step is None or step > row.totp_last_step)
            if ok:
                row.totp_last_step = step  # used up even if the account turns out locked
        if ok and not locked and row.is_active:
            row.failed_logins, row.locked_until, row.last_login_at = 0, None, now
            row.failures_since = None
            self._record(s, row.username, "login", row.id, detail=detail)
            return row
        if not locked and row.is_active:
            # a disabled account cannot sign in whatever is typed, so its failures are recorded but
            # not counted: otherwise the attempts that find an account just disabled for inactivity
            # would lock it, and re-enabling it would hand back a locked account
            state = self._auth.register_failure(row.failed_logins, row.failures_since, now)
            row.failed_logins, row.failures_since = state.failed_logins, state.window_started_at
            row.locked_until = LOCKED_FOREVER if state.locked else None
            if state.locked:
                self._record(s, row.username, "user.lock", row.id)
        self._record(s, row.username, "login", row.id, "failure", detail=detail)
        return None

    def enrol_totp(self, username: str, *, actor: str = "system") -> str:
        """Give the account a new TOTP secret (replacing any old one) and return it, to be shown once;
        every open session of the account ends.

        From then on sign-in needs a code from the authenticator app holding that secret; codes of the
        old secret stop working at once. The audit event records that it happened, never the secret.
        """
        secret = self._auth.new_totp_secret()
        with self._db.transaction() as s:
            row = self._row(s, username, lock=True)
            self._require_current_master(s)
            row.totp_sealed, row.totp_secret, row.totp_last_step = (
                self._auth.seal_totp_secret(row.id, secret),
                None,
                None,
            )
            # a new secret usually means the old phone is lost or taken: whoever signed in with it is out
            ended = self._end_all_sessions(s, row.id)
            self._record(s, actor, "user.totp", row.id, detail={"sessions_ended": ended})
        return secret

    def seal_plain_totp_secrets(self) -> int:
        """Seal every TOTP secret still stored in plain text (accounts enrolled before revision
        0005); returns how many. ``Workspace.open`` runs it, so an upgraded workspace keeps no
        readable second factor even for accounts that never sign in again. A read comes first, so
        opening a workspace takes no write lock when there is nothing to seal; nothing is sealed
        when the workspace was opened with a master key its other keys are not under."""
        with self._db.read() as s:
            if s.scalar(select(User.id).where(User.totp_secret.is_not(None)).limit(1)) is None:
                return 0
        with self._db.transaction() as s:
            if not self._master_is_current(s, lock=True):
                return 0
            self._note_master(s)
            rows = list(s.scalars(select(User).where(User.totp_secret.is_not(None)).with_for_update()))
            for row in rows:
                sealed = self._auth.seal_totp_secret(row.id, row.totp_secret or "")
                row.totp_sealed, row.totp_secret = sealed, None
            return len(rows)

    def _usable_totp_secret(self, s: Session, row: User) -> str | None:
        """The account's TOTP secret in the clear, or None when it cannot be opened with this master
        key (logged for the operator: the account must be enrolled again). A legacy plain-text
        secret is sealed on the way, in the caller's transaction, if the master key is current."""
        if row.totp_sealed is None:
            secret = row.totp_secret
            if secret is not None and self._master_is_current(s, lock=True):
                self._note_master(s)
                row.totp_sealed, row.totp_secret = self._auth.seal_totp_secret(row.id, secret), None
            return secret
        try:
            return self._auth.open_totp_secret(row.id, row.totp_sealed)
        except (ConfigurationError, IntegrityError) as exc:
            _log.warning("the two-factor secret of account %s cannot be opened: %s", row.id, exc)
            return None

    def _master_is_current(self, s: Session, *, lock: bool = False) -> bool:
        """Whether the workspace's keys are under the master key this service was given (False: it
        was opened with a stale or foreign key file). ``master_key_state`` decides; a workspace from
        before revision 0005 has no such row, and then its case keys decide (with none, the first
        key to seal anything is taken, as the first case key is). ``lock`` holds the row, so a
        master-key rotation cannot interleave with the caller's sealing."""
        current = self._auth.master_key_id
        if current is None:
            return False
        query = select(MasterKeyState).where(MasterKeyState.id == 1)
        state = s.scalar(query.with_for_update() if lock else query)
        if state is not None:
            return state.key_id == current
        return set(s.scalars(select(CaseKey.master_key_id).distinct())) <= {current}

    def _note_master(self, s: Session) -> None:
        """Record the master key as the workspace's, if nothing recorded one yet."""
        current = self._auth.master_key_id
        if current is not None and s.get(MasterKeyState, 1) is None:
            s.add(MasterKeyState(id=1, key_id=current))

    def _require_current_master(self, s: Session) -> None:
        if self._master_is_current(s, lock=True):
            self._note_master(s)
        else:
            raise ConfigurationError(
                "this workspace's keys are under another master key than the one it was opened with: "
                "open it with the right master key file before enrolling two-factor sign-in",
                location="master",
            )

    def unlock(self, username: str, *, actor: str = "system") -> UserPublic:
        """Administrator release of a locked account (CJIS AC-7: no automatic unlock)."""
        with self._db.transaction() as s:
            row = self._row(s, username)
            row.failed_logins, row.locked_until, row.failures_since = 0, None, None
            self._record(s, actor, "user.unlock", row.id)
            return self._public(row)

    def set_password(self, username: str, password: str, *, actor: str = "system") -> UserPublic:
        """Replace the password and end every session of the account: whoever held a session under
        the old password (a shared or leaked one) is out at their next request. The policy check runs
        before the transaction, so a weak password changes nothing; the audit event says how many
        sessions ended, never the password or its hash."""
        password_hash = self._auth.hash_password(password, username)
        with self._db.transaction() as s:
            row = self._row(s, username, lock=True)
            row.password_hash = password_hash
            ended = self._end_all_sessions(s, row.id)
            self._record(s, actor, "user.password", row.id, detail={"sessions_ended": ended})
            return self._public(row)

    def deactivate(self, username: str, *, actor: str = "system", now: datetime | None = None) -> UserPublic:
        """Disable an account and kill all of its sessions at once (ASVS V7.4.2, CJIS AC-2(13)).

        Case memberships are kept, so :meth:`activate` restores exactly the old access; to take a case
        away for good, :meth:`remove_member` as well. DomainError for the last active administrator
        (see :meth:`_keep_an_administrator`)."""
        with self._db.transaction() as s:
            row, admins = self._lock_with_admins(s, username)
            self._keep_an_administrator(row, admins, "deactivate", _now(now))
            row.is_active = False
            ended = self._end_all_sessions(s, row.id)
            self._record(s, actor, "user.deactivate", row.id, detail={"sessions_ended": ended})
            return self._public(row)

    def activate(self, username: str, *, actor: str = "system", now: datetime | None = None) -> UserPublic:
        """Re-enable a deactivated account (its password, lock state and memberships are unchanged).

        The 90-day inactivity clock starts again now (``active_since``): an account disabled for
        inactivity would otherwise be disabled again at its next sign-in attempt. InputError for an
        account that is already active: re-enabling it would silently restart that clock, keeping an
        unused account alive past the limit (AC-09) without anyone having meant to."""
        with self._db.transaction() as s:
            row = self._row(s, username, lock=True)
            if row.is_active:
                raise InputError(f"user {username!r} is already active", location="username")
            row.is_active, row.active_since = True, _now(now)
            self._record(s, actor, "user.activate", row.id)
            return self._public(row)

    def set_role(
        self, username: str, role: str, *, actor: str = "system", now: datetime | None = None
    ) -> UserPublic:
        """Give the account another role and end its sessions: the next sign-in carries the new
        permissions, and a role change asks for re-authentication (CJIS IA-11). InputError for an
        unknown role, DomainError when it would demote the last active administrator. Audited as
        ``user.role`` with the old and new role; the same role again changes and records nothing."""
        new_role = self._auth.check_role(role)
        with self._db.transaction() as s:
            row, admins = self._lock_with_admins(s, username)
            if row.role == new_role:
                return self._public(row)
            if new_role != ADMIN_ROLE:
                self._keep_an_administrator(row, admins, "demote", _now(now))
            old_role, row.role = row.role, new_role
            ended = self._end_all_sessions(s, row.id)
            detail = {"from": old_role, "to": new_role, "sessions_ended": ended}
            self._record(s, actor, "user.role", row.id, detail=detail)
            return self._public(row)

    def _keep_an_administrator(self, row: User, admins: list[User], change: str, now: datetime) -> None:
        """Refuse to deactivate or demote the last administrator anyone can sign in as (DomainError).

        No web page manages accounts yet (``palermo user`` at the server does, and needs no account),
        but ``admin`` is the role meant to hold account administration (``user:admin``), and a slip
        that leaves a workspace with none would only show when one is needed. Only administrators
        who can actually sign in count (:meth:`_can_sign_in`): active, not locked, not past the
        inactivity limit and, under ``require_second_factor``, enrolled; an administrator who
        cannot sign in is no way out, and taking one away takes nothing away, so it is allowed.

        ``admins`` are the active administrators the caller locked with the account
        (:meth:`_lock_with_admins`), so two administrators deactivating each other at once cannot
        both succeed. Accounts are never deleted (usernames are not reused, CJIS IA-4(d)), so there
        is no removal to guard. The inactivity policy is not held back by this: an administrator
        account unused for 90 days is exactly what AC-2(3) disables, and ``palermo user activate``
        at the server re-enables it."""
        if row.role != ADMIN_ROLE or not self._can_sign_in(row, now):
            return
        others = [a for a in admins if a.id != row.id and a.role == ADMIN_ROLE and self._can_sign_in(a, now)]
        if not others:
            raise DomainError(
                f"cannot {change} {row.username!r}: it is the last active administrator who can sign in; "
                "make another account an administrator first (palermo user role NAME admin)",
                location="username",
            )

    def _can_sign_in(self, row: User, now: datetime) -> bool:
        """Whether the account's owner could sign in now, given the right password (and code)."""
        return (
            row.is_active
            and not self._auth.is_locked(row.locked_until, now)
            and not self._inactive(row, now)
            and not self._lacks_required_factor(row)
        )

    def _lock_with_admins(self, s: Session, username: str) -> tuple[User, list[User]]:
        """Lock the account and every active administrator in one statement, in username order, and
        return the account and those administrators.

        One order for every transaction that locks several accounts, the same as :meth:`sweep`'s:
        on PostgreSQL, rows are locked one at a time, and two transactions taking the same rows in
        different orders deadlock (one is killed with an error). Locking the account first and the
        administrators after did exactly that against a sweep or another ``deactivate``/``role``."""
        query = (
            select(User)
            .where(or_(User.username == username, and_(User.role == ADMIN_ROLE, User.is_active.is_(True))))
            .order_by(User.username)
            .with_for_update()
        )
        rows = list(s.scalars(query))
        row = next((r for r in rows if r.username == username), None)
        if row is None:
            raise NotFoundError(f"no user {username!r}", location="username")
        # a row another transaction changed while this one waited comes back as changed (PostgreSQL
        # re-checks it against the condition), so the list below is the administrators as they are now
        return row, [r for r in rows if r.role == ADMIN_ROLE and r.is_active]

    def _inactive(self, row: User, now: datetime) -> bool:
        """True for an enabled account whose last sign-in (or creation, or re-enabling, whichever is
        newest) is ``inactive_after`` or more ago (AC-09, CJIS AC-2(3))."""
        if not row.is_active:
            return False
        since = max(_utc(t) for t in (row.created_at, row.last_login_at, row.active_since) if t is not None)
        return now - since >= self.inactive_after

    def _disable_inactive(self, s: Session, row: User, now: datetime) -> None:
        """Disable an account for inactivity, ending its sessions; audited as ``user.deactivate`` by
        :data:`POLICY_ACTOR` with the reason, so the log tells it apart from an administrator's act."""
        row.is_active = False
        ended = self._end_all_sessions(s, row.id)
        detail = {"reason": "inactive", "days": self.inactive_after.days, "sessions_ended": ended}
        self._record(s, POLICY_ACTOR, "user.deactivate", row.id, detail=detail)

    def sweep(self, *, now: datetime | None = None) -> SweepResult:
        """Apply the time-based rules to every account and session at once (``palermo user sweep``).

        Disables each account not signed in to for ``inactive_after`` (AC-09) and records every
        session that ran out of time without coming back (idle, expired, or its account disabled)
        as ended (``session.end`` by :data:`POLICY_ACTOR`, with the time it actually ended), so the
        audit log shows every session's end, not only the ones someone signed out of. Sign-in
        applies both rules to the account signing in; the sweep covers the accounts and sessions
        nobody comes back to. One transaction: run it again and it finds nothing to do.

        Locks in the one order every account transaction keeps (accounts, then sessions, then the
        audit log's lock, taken by the first record): every active account, then every session, and
        only then disables anyone. On PostgreSQL a sign-out or a cookie coming back holds its
        session and then wants the audit lock; a sweep that had already recorded a disabling (so
        held the audit lock) and then wanted that session deadlocked with it."""
        now = _now(now)
        with self._db.transaction() as s:
            disabled = []
            rows = list(
                s.scalars(
                    select(User).where(User.is_active.is_(True)).order_by(User.username).with_for_update()
                )
            )
            self._lock_sessions(s)  # before the first audit record (see above)
            for row in rows:
                if self._inactive(row, now):
                    self._disable_inactive(s, row, now)
                    disabled.append(row.username)
            ended = self._end_abandoned(s, now)
            return SweepResult(disabled, ended)

    def _end_abandoned(self, s: Session, now: datetime, user_id: int | None = None) -> int:
        """Delete and audit the sessions (of one account, or all) that are no longer valid at ``now``;
        returns how many. ``detail.ended_at`` is when the session stopped being valid, which for a
        session nobody came back to is long before anyone noticed."""
        count = 0
        for sess in self._lock_sessions(s, user_id):
            ended = self._why_ended(sess, s.get(User, sess.user_id), now)
            if ended is not None:
                self._record_end(s, sess, *ended)
                count += 1
        return count

    @staticmethod
    def _lock_sessions(s: Session, user_id: int | None = None) -> list[WebSession]:
        """Lock the sessions (of one account, or all) in one order, and return them.

        Taken before the transaction's first audit record wherever sessions may be ended: the audit
        log's lock comes last in every account transaction (a sign-out holds its session and then
        wants it), so whoever holds it must never wait for a session."""
        query = select(WebSession).order_by(WebSession.created_at, WebSession.id)
        if user_id is not None:
            query = query.where(WebSession.user_id == user_id)
        return list(s.scalars(query.with_for_update()))

    def _why_ended(self, sess: WebSession, user: User | None, now: datetime) -> tuple[str, datetime] | None:
        """Why the session is no longer valid at ``now`` and when it stopped being valid, or None while
        it is: idle or expired (at the time it ran out), its account disabled or gone, or the account
        lacks the second factor the policy now requires (both noticed now)."""
        created, seen = _utc(sess.created_at), _utc(sess.last_seen_at)
        reason = self._auth.session_end_reason(created, seen, now)
        if reason is not None:
            return reason, self._auth.session_ends_at(created, seen)
        if now >= _utc(sess.expires_at):
            return "expired", _utc(sess.expires_at)
        if user is None or not user.is_active:
            return "inactive", now
        if self._lacks_required_factor(user):  # opened by password alone before the policy was on
            return "no_second_factor", now
        return None

    def _record_end(self, s: Session, sess: WebSession, reason: str, ended_at: datetime) -> None:
        """Delete a session that ran out and record its end as the workspace's rules' doing, the same
        whether the sweep, the account's next sign-in or the cookie coming back noticed it."""
        s.delete(sess)
        detail = {"reason": reason, "ended_at": ended_at.isoformat()}
        self._record(s, POLICY_ACTOR, "session.end", sess.user_id, detail=detail)

    @staticmethod
    def _end_all_sessions(s: Session, user_id: int) -> int:
        """Delete every session of the account; returns how many there were (for the audit detail)."""
        ids = list(s.scalars(select(WebSession.id).where(WebSession.user_id == user_id)))
        if ids:
            s.execute(delete(WebSession).where(WebSession.user_id == user_id))
        return len(ids)

    def _row(self, s: Session, username: str, *, lock: bool = False) -> User:
        query = select(User).where(User.username == username)
        row: User | None = s.scalar(query.with_for_update() if lock else query)
        if row is None:
            raise NotFoundError(f"no user {username!r}", location="username")
        return row

    def start_session(
        self, user_id: int, totp: str | None = None, *, now: datetime | None = None
    ) -> NewSession:
        """Open a server-side session for an account whose password the caller has already checked;
        the plain tokens are returned once, their digests stored.

        Everything else is checked as at :meth:`sign_in` (the same code): a disabled, locked or
        inactive account is refused, and an account that needs a second factor (enrolled, or any
        account under ``require_second_factor``) needs a valid, unused ``totp`` code here too, so this
        lower-level entry is no way around the workspace's policy. A refusal is the same
        AccessDenied as a failed sign-in, audited (``login``, ``via: start_session``) and counted."""
        now = _now(now)
        with self._db.transaction() as s:
            row = s.scalar(select(User).where(User.id == user_id).with_for_update())
            if row is not None:
                self._lock_sessions(s, row.id)  # before _admit records (see _lock_sessions)
            admitted = self._admit(s, row, True, totp, now, via="start_session") if row is not None else None
            if admitted is not None:
                return self._open_session(s, admitted, now)
        raise AccessDenied(SIGN_IN_FAILED)

    def _open_session(self, s: Session, row: User, now: datetime) -> NewSession:
        """Start the session, first recording the account's abandoned ones as ended: the person is
        back, so the sessions they walked away from are seen, and the audit log says when they ended."""
        self._end_abandoned(s, now, user_id=row.id)
        token, csrf = self._auth.new_token(), self._auth.new_token()
        s.add(
            WebSession(
                id=self._auth.hash_token(token),
                user_id=row.id,
                created_at=now,
                last_seen_at=now,
                csrf_token=self._auth.hash_token(csrf),
                expires_at=now + timedelta(hours=12),
            )
        )
        return NewSession(token, csrf, self._public(row, now))

    def resume_session(self, token: str | None, *, now: datetime | None = None) -> ActiveSession:
        """The session behind a cookie, if still valid; idle or expired sessions are deleted."""
        now = _now(now)
        if not token:
            raise AccessDenied("not signed in")
        digest = self._auth.hash_token(token)
        with self._db.read() as s:  # the common case: a live session seen less than TOUCH_EVERY ago
            sess = s.get(WebSession, digest)
            if sess is None:
                raise AccessDenied("not signed in")
            user = s.get(User, sess.user_id)
            if (
                user is not None
                and user.is_active
                and now < sess.expires_at
                and now - sess.last_seen_at < TOUCH_EVERY
                and not self._auth.session_end_reason(sess.created_at, sess.last_seen_at, now)
                and not self._lacks_required_factor(user)
            ):
                return ActiveSession(digest, self._public(user, now), sess.csrf_token)
        # Otherwise end or touch it, re-checked holding the row: a sweep, a sign-out or another request
        # ending the same session at the same moment waits, then finds it gone (one end recorded).
        with self._db.transaction() as s:
            sess = s.get(WebSession, digest, with_for_update=True)
            if sess is None:
                raise AccessDenied("not signed in")
            user = s.get(User, sess.user_id)
            ended = self._why_ended(sess, user, now)
            if ended is None and user is not None:
                if now - _utc(sess.last_seen_at) >= TOUCH_EVERY:
                    sess.last_seen_at = now
                return ActiveSession(digest, self._public(user, now), sess.csrf_token)
            reason, ended_at = ended if ended is not None else ("inactive", now)
            # recorded as the sweep records it (system:policy, ended_at): the rules ended it, at the
            # time it ran out, and the person whose cookie came back did not sign out
            self._record_end(s, sess, reason, ended_at)
        # committed above: raising inside the block would roll the end back
        why = "after 30 minutes without activity" if reason == "idle" else "because it expired"
        raise AccessDenied(f"your session ended {why}; please sign in again")

    def _lacks_required_factor(self, row: User) -> bool:
        """True when the policy requires a second factor and the account has none enrolled."""
        return self.require_second_factor and row.totp_sealed is None and row.totp_secret is None

    def csrf_ok(self, session: ActiveSession, token: str | None) -> bool:
        """True when ``token`` is this session's CSRF token (constant-time comparison)."""
        return self._auth.tokens_match(token, session.csrf_hash)

    def end_session(self, token: str | None) -> None:
        """Sign out: delete the session row, so the cookie is worthless even if copied (AC-07).

        Audited as ``session.end`` by the account's own name (AU-01); an unknown or already ended
        token changes nothing and records nothing."""
        if not token:
            return
        with self._db.transaction() as s:
            # held, so a sweep or request ending it at the same moment leaves one end in the log
            sess = s.get(WebSession, self._auth.hash_token(token), with_for_update=True)
            if sess is None:
                return
            user = s.get(User, sess.user_id)
            s.delete(sess)
            actor = user.username if user is not None else "system"
            self._record(s, actor, "session.end", sess.user_id, detail={"reason": "sign-out"})

    def _case_id(self, s: Session, case_ref: str) -> int:
        case_id = s.scalar(select(Case.id).where(Case.reference == case_ref))
        if case_id is None:
            raise NotFoundError(f"no case {case_ref!r}", location="case")
        return case_id

    def add_member(
        self, case_ref: str, username: str, role: str | None = None, *, actor: str = "system"
    ) -> None:
        """Give a user need-to-know access to a case (idempotent: granting it again records nothing).

        Audited as ``case.member.add`` (object: the user's id, with the case's id), because a grant is
        a permission change (AU-01)."""
        with self._db.transaction() as s:
            user = self._row(s, username)
            case_id = self._case_id(s, case_ref)
            if s.get(CaseMember, (case_id, user.id)) is None:
                member_role = role or user.role
                s.add(CaseMember(case_id=case_id, user_id=user.id, role=member_role))
                self._record(
                    s, actor, "case.member.add", user.id, case_id=case_id, detail={"role": member_role}
                )

    def remove_member(self, case_ref: str, username: str, *, actor: str = "system") -> None:
        """Take a user's access to a case away (AC-04): membership is read from the database on every
        request, so their very next request for the case answers as for a case that does not exist.

        NotFoundError for an unknown user or case, InputError when the user is not a member (a typo
        must not look like a revocation that happened). Audited as ``case.member.remove``."""
        with self._db.transaction() as s:
            user = self._row(s, username)
            case_id = self._case_id(s, case_ref)
            membership = s.get(CaseMember, (case_id, user.id))
            if membership is None:
                raise InputError(f"{username!r} is not a member of case {case_ref!r}", location="case")
            role = membership.role
            s.delete(membership)
            self._record(s, actor, "case.member.remove", user.id, case_id=case_id, detail={"role": role})

    def case_refs(self, user_id: int) -> list[str]:
        """References of the cases a user is a member of, in reference order."""
        with self._db.read() as s:
            q = (
                select(Case.reference)
                .join(CaseMember, CaseMember.case_id == Case.id)
                .where(CaseMember.user_id == user_id)
                .order_by(Case.reference)
            )
            return list(s.scalars(q))
