"""Authentication rules: password hashing, lockout, session lifetime, CSRF and TOTP.

The rules follow the CJIS Security Policy and OWASP ASVS figures in
``shared/reference/security/security-requirements.md``:

* passwords are hashed with argon2id (RFC 9106 low-memory profile, random 128-bit salt), never
  truncated, at least :data:`PASSWORD_MIN_LENGTH` characters, not the username, not one of the 30,000
  most common passwords (vendored, checked offline; IA-03, IA-04, ASVS V6.2.4);
* an account locks after 5 failed logons within 15 minutes and stays locked until an administrator
  releases it (CJIS AC-7, requirement AC-05): a time-based auto-unlock would let an attacker keep
  guessing at 5 tries per quarter hour forever;
* a session ends after 30 minutes idle and after 12 hours in any case (AC-06);
* session ids and CSRF tokens are random 256-bit values stored only as SHA-256 digests, so a stolen
  copy of the database cannot be replayed as a live session;
* TOTP (RFC 6238) is an optional second factor via ``pyotp``.

This module is pure policy: it holds no database handle. ``palermo.store.users`` persists users and
sessions and calls these functions through the Workspace, which keeps the layers independent.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import resources

import pyotp
from argon2 import Parameters, Type
from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from palermo.errors import ConfigurationError, InputError
from palermo.security.crypto import MasterKey, field_aad, open_sealed, seal

PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 1024
LOCKED_FOREVER = datetime(9999, 12, 31, tzinfo=UTC)
"""``locked_until`` value meaning "until an administrator unlocks the account"."""

# Words a Palermo deployment's users are likely to reach for, on top of the vendored list below.
CONTEXT_PASSWORDS = frozenset(
    {
        "123456789012",
        "1234567890ab",
        "password1234",
        "passwordpassword",
        "qwertyuiop12",
        "qwertyuiopas",
        "iloveyou1234",
        "letmein12345",
        "welcome12345",
        "administrator",
        "changeme1234",
        "trustno1trustno1",
        "abc123abc123",
        "111111111111",
        "000000000000",
        "palermo",
        "palermo12345",
        "prosecutor",
        "trafficking",
        "correcthorsebatterystaple",
    }
)
COMMON_PASSWORDS_FILE = "common-passwords-zxcvbn-4.5.0.txt"
"""The 30,000 most common passwords, most frequent first (``security/vendor/VENDORED.md`` records its
source, licence and SHA-256): ASVS V6.2.4 asks for at least the top 3,000, checked offline."""
_PADDING = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_SEPARATORS = re.compile(r"[\W_]+")
_CUTS = (re.compile(r"\s+"), _SEPARATORS, re.compile(r"[\W\d_]+"))
"""Where :func:`is_common_password` cuts a password into the parts it looks for one repeated listed one:
spaces, any separator, anything but letters."""
MIN_LISTED_WORD = 4
"""The shortest listed word :func:`is_common_password` looks for inside a longer password."""
MIN_LISTED_PART = 6
"""The shortest listed number :func:`is_common_password` looks for at either end of a longer all-digit one."""


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The vendored blocklist and :data:`CONTEXT_PASSWORDS`, lower case (read once per process)."""
    text = resources.files("palermo.security").joinpath("vendor", COMMON_PASSWORDS_FILE).read_text("utf-8")
    return frozenset(line for line in text.splitlines() if line) | CONTEXT_PASSWORDS


def normalised(password: str) -> str:
    """The form passwords are compared in: NFKC (fullwidth ``Ｐａｓｓ`` is ``Pass``, ligatures are
    letters), case-folded, and every decimal digit of any script written as its ASCII digit (NFKC
    leaves Arabic-Indic ``١٢٣`` as they are), so a listed password typed in another script width,
    case or set of digits is still it."""
    text = unicodedata.normalize("NFKC", password).casefold()
    return "".join(_ascii_digit(c) for c in text)


def _ascii_digit(char: str) -> str:
    value = unicodedata.decimal(char, None)
    return char if value is None else str(value)


def is_common_password(password: str) -> bool:
    """True when ``password`` is on the blocklist, ignoring case and character width, or is made of a
    listed one the way guessers make them (the 12-character minimum alone would let a listed password
    through padded to length, which is the first thing a guesser tries):

    * a listed word of four or more letters with only digits, spaces or symbols around it
      (``Dragon2026!``, ``password1234``), or a listed password repeated, with or without
      separators (``dragondragon``, ``password.password``, ``monkey monkey monkey``), or a password
      whose only word, repeated, is a listed one (``dragon1 dragon2``);
    * for a password with fewer than four letters (none of them can be a listed word; the digits
      carry it): its digits a listed number repeated (``123456123456``), or starting or ending with
      a listed number that makes up at least half of them (``1234567890123``, ``2026-123456``,
      ``123456789012a``).

    A passphrase of several words with a listed word among them is not refused for it."""
    text = normalised(password)
    listed = common_passwords()
    if text in listed:
        return True
    core = _PADDING.sub("", text)
    if len(core) >= MIN_LISTED_WORD and (
        core in listed
        or _repeats_listed(core, listed)
        or any(_repeats_listed(_SEPARATORS.sub("", s), listed) for s in (core, text))  # padding repeated too
        or _one_listed_part_repeated(text, listed)
    ):
        return True
    if sum(c.isalpha() for c in text) >= MIN_LISTED_WORD:
        return False
    digits = "".join(c for c in text if c.isdecimal())
    return digits in listed or _repeats_listed(digits, listed) or _ends_in_listed(digits, listed)


def _repeats_listed(text: str, listed: frozenset[str]) -> bool:
    """True when ``text`` is a listed password written two or more times over."""
    for size in range(1, len(text) // 2 + 1):
        times, rest = divmod(len(text), size)
        if not rest and text[:size] * times == text and text[:size] in listed:
            return True
    return False


def _one_listed_part_repeated(text: str, listed: frozenset[str]) -> bool:
    """True when ``text``, cut at spaces, at any separator or around its letters, is one listed
    password (of four or more characters) two or more times, each with only digits or symbols
    around it: ``p@ssw0rd p@ssw0rd``, ``letmein!letmein!``, ``dragon1 dragon2``."""
    for cut in _CUTS:
        parts = [_PADDING.sub("", p) or p for p in cut.split(text) if p]
        if (
            len(parts) >= 2
            and len(set(parts)) == 1
            and len(parts[0]) >= MIN_LISTED_WORD
            and parts[0] in listed
        ):
            return True
    return False


def _ends_in_listed(digits: str, listed: frozenset[str]) -> bool:
    """True when a listed number of at least :data:`MIN_LISTED_PART` digits, and at least half the
    whole, begins or ends ``digits``: what is left is a short guessable tail (a year, a count)."""
    least = max(MIN_LISTED_PART, (len(digits) + 1) // 2)
    return any(digits[:k] in listed or digits[-k:] in listed for k in range(least, len(digits)))


@dataclass(frozen=True)
class AuthPolicy:
    """The numbers the login flow enforces; tests shorten nothing, they move the clock instead."""

    max_failures: int = 5
    failure_window: timedelta = timedelta(minutes=15)
    idle_timeout: timedelta = timedelta(minutes=30)
    absolute_timeout: timedelta = timedelta(hours=12)


DEFAULT_POLICY = AuthPolicy()


class PasswordHasher:
    """argon2id hashing; by default RFC 9106's low-memory profile (t=3, m=64 MiB, p=4, 16-byte salt).

    ``parameters`` exists so a test suite can use ``argon2.profiles.CHEAPEST`` (still argon2id, still
    salted) instead of spending 0.4 s per hash; production code never passes it.
    """

    def __init__(self, parameters: Parameters | None = None) -> None:
        self._argon = _Argon2.from_parameters(parameters) if parameters else _Argon2(type=Type.ID)
        self._decoy: str | None = None

    def hash(self, password: str) -> str:
        """Return the PHC-format argon2id hash of ``password`` (salt and parameters included)."""
        return self._argon.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """True when ``password`` matches; False on mismatch or on a malformed stored hash."""
        try:
            return self._argon.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def decoy_verify(self, password: str) -> None:
        """Spend the time of one verification, so an unknown username answers as slowly as a known one."""
        if self._decoy is None:
            self._decoy = self.hash(secrets.token_hex(16))
        self.verify(self._decoy, password)


def check_password_strength(password: str, username: str) -> None:
    """Reject weak passwords with a reason a person can act on (raises InputError on field ``password``)."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise InputError(f"must be at least {PASSWORD_MIN_LENGTH} characters long", location="password")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise InputError(f"must be at most {PASSWORD_MAX_LENGTH} characters long", location="password")
    lowered, name = normalised(password), normalised(username)
    if lowered == name or (len(name) >= 4 and name in lowered):
        raise InputError("must not contain the username", location="password")
    if is_common_password(password):
        raise InputError(
            "is one of the most common passwords (or one with digits or symbols added, or repeated); "
            "choose a passphrase",
            location="password",
        )
    if len(set(password)) < 4:
        raise InputError("is too repetitive; choose a passphrase", location="password")


def new_token() -> str:
    """A fresh 256-bit URL-safe random token (session id, CSRF token, one-time password)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a token: what the database stores instead of the token itself."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def tokens_match(token: str | None, expected_hash: str) -> bool:
    """Constant-time check that ``token`` hashes to ``expected_hash`` (False for a missing token)."""
    if not token:
        return False
    return hmac.compare_digest(hash_token(token), expected_hash)


def utcnow() -> datetime:
    """Timezone-aware current UTC time (audit and session times are always UTC)."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Treat a naive datetime read back from SQLite as UTC, which is how it was written."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class FailureState:
    """Counter of consecutive failed logons inside the current window, and whether the account locks."""

    failed_logins: int
    window_started_at: datetime | None
    locked: bool


def register_failure(
    failed_logins: int,
    window_started_at: datetime | None,
    now: datetime,
    policy: AuthPolicy = DEFAULT_POLICY,
) -> FailureState:
    """Count one more failed logon; a failure outside the 15-minute window starts a new window."""
    if window_started_at is None or now - as_utc(window_started_at) > policy.failure_window:
        failed_logins, window_started_at = 0, now
    failed_logins += 1
    return FailureState(failed_logins, window_started_at, failed_logins >= policy.max_failures)


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    """True while the account is locked (``LOCKED_FOREVER`` means until an administrator unlocks it)."""
    return locked_until is not None and as_utc(locked_until) > now


def session_end_reason(
    created_at: datetime,
    last_seen_at: datetime,
    now: datetime,
    policy: AuthPolicy = DEFAULT_POLICY,
) -> str | None:
    """Why a session is no longer valid at ``now`` ("idle" or "expired"), or None while it is alive."""
    if now - as_utc(last_seen_at) >= policy.idle_timeout:
        return "idle"
    if now - as_utc(created_at) >= policy.absolute_timeout:
        return "expired"
    return None


def session_ends_at(
    created_at: datetime, last_seen_at: datetime, policy: AuthPolicy = DEFAULT_POLICY
) -> datetime:
    """When a session stops being valid if nothing touches it again: 30 minutes after it was last
    seen, or 12 hours after it started, whichever comes first (what an abandoned session's
    ``session.end`` event records as ``ended_at``)."""
    return min(as_utc(last_seen_at) + policy.idle_timeout, as_utc(created_at) + policy.absolute_timeout)


class Authenticator:
    """The policy bundle ``palermo.store.users.UserService`` is given by the Workspace.

    The store may not import ``palermo.security`` (sibling layers), so the Workspace hands it this
    object; the store persists, this decides.
    """

    def __init__(
        self,
        policy: AuthPolicy = DEFAULT_POLICY,
        hasher: PasswordHasher | None = None,
        master: MasterKey | None = None,
    ) -> None:
        self.policy = policy
        self.hasher = hasher or PasswordHasher()
        self._secrets_key = master.derive("user-secrets") if master is not None else None
        self._master_key_id = master.key_id if master is not None else None

    def hash_password(self, password: str, username: str) -> str:
        """Check the password policy, then hash; raises InputError naming ``password``."""
        check_password_strength(password, username)
        return self.hasher.hash(password)

    def verify_password(self, password_hash: str | None, password: str) -> bool:
        """Verify, spending the same time when there is no user (``password_hash`` None)."""
        if password_hash is None:
            self.hasher.decoy_verify(password)
            return False
        return self.hasher.verify(password_hash, password)

    def check_role(self, role: str) -> str:
        """Normalise a role name, raising InputError for an unknown one."""
        from palermo.security.access import parse_role

        return parse_role(role).value

    def register_failure(
        self, failed_logins: int, window_started_at: datetime | None, now: datetime
    ) -> FailureState:
        return register_failure(failed_logins, window_started_at, now, self.policy)

    def is_locked(self, locked_until: datetime | None, now: datetime) -> bool:
        return is_locked(locked_until, now)

    def session_end_reason(self, created_at: datetime, last_seen_at: datetime, now: datetime) -> str | None:
        return session_end_reason(created_at, last_seen_at, now, self.policy)

    def session_ends_at(self, created_at: datetime, last_seen_at: datetime) -> datetime:
        return session_ends_at(created_at, last_seen_at, self.policy)

    def totp_step(self, secret: str, code: str, now: datetime) -> int | None:
        return totp_step(secret, code, now)

    def new_totp_secret(self) -> str:
        return new_totp_secret()

    @property
    def master_key_id(self) -> str | None:
        """Id of the master key secrets are sealed under (None: no key given)."""
        return self._master_key_id

    def seal_totp_secret(self, user_id: int, secret: str) -> bytes:
        """AES-256-GCM under a key derived from the workspace master key, bound to the account: a
        copied database holds no usable second factor (ASVS V13.3.1, SC-02). The blob starts with
        the master key's id, so a secret sealed under another key is recognised, never guessed at."""
        blob = seal(self._key(), secret.encode(), field_aad("users", "totp_sealed", user_id))
        return (self.master_key_id or "").encode() + b":" + blob

    def sealed_key_id(self, sealed: bytes) -> str:
        """The id of the master key a sealed secret was sealed under."""
        return sealed.split(b":", 1)[0].decode("ascii", "replace")

    def open_totp_secret(self, user_id: int, sealed: bytes) -> str:
        """The secret in the clear; ConfigurationError when it was sealed under another master key."""
        key_id, _, blob = sealed.partition(b":")
        if key_id.decode("ascii", "replace") != self.master_key_id:
            raise ConfigurationError(
                f"this two-factor secret is sealed under master key {key_id.decode('ascii', 'replace')}, "
                f"not the workspace's {self.master_key_id}",
                location="master",
            )
        return open_sealed(self._key(), blob, field_aad("users", "totp_sealed", user_id)).decode()

    def _key(self) -> bytes:
        if self._secrets_key is None:
            raise ConfigurationError("two-factor secrets need the workspace master key", location="master")
        return self._secrets_key

    new_token = staticmethod(new_token)
    hash_token = staticmethod(hash_token)
    tokens_match = staticmethod(tokens_match)


_SIX_DIGITS = re.compile(r"[0-9]{6}")


def new_totp_secret() -> str:
    """A random base32 TOTP secret for an authenticator app."""
    return pyotp.random_base32()


def totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (Unix time // 30) a 6-digit TOTP code belongs to, or None if it is wrong.

    One step of clock drift is allowed either way. The caller must refuse a step at or before the
    last one accepted for the account (RFC 6238 § 5.2): that is what makes a code single-use.
    """
    cleaned = code.replace(" ", "")
    # ASCII digits only: str.isdigit() accepts "١٢٣٤٥٦", on which compare_digest raises, which
    # turned a right password with such a code into a server error, unaudited and uncounted
    if not _SIX_DIGITS.fullmatch(cleaned):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), cleaned):
            return step
    return None


def totp_provisioning_uri(secret: str, username: str, issuer: str = "Palermo") -> str:
    """The ``otpauth://`` URI an authenticator app reads (typed in, or shown as a QR code)."""
    return str(pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer))
