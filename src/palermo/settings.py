"""Where a workspace keeps its data, and where its secrets live instead.

A workspace is a folder (``palermo.db``, ``analytics.duckdb``, ``evidence/``, ``settings.toml``), but
the master key that unwraps the per-case data keys must *not* be in that folder: a stolen copy of the
folder must be useless. The key therefore defaults to ``~/.config/palermo/master.key`` and may be
pointed elsewhere (a mounted vault, a removable token) with ``PALERMO_MASTER_KEY_FILE``.

Resolution order for the database, most specific first: an explicit ``database_url`` argument, the
``PALERMO_DATABASE_URL`` environment variable, the ``database_url`` recorded in ``settings.toml`` at
init, then the SQLite file inside the folder. Passwords are never written to ``settings.toml``; give
them through the environment or a ``.pgpass`` file.
"""

from __future__ import annotations

import difflib
import json
import os
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from palermo.errors import ConfigurationError

SETTINGS_FILE = "settings.toml"
DATABASE_FILE = "palermo.db"
EVIDENCE_DIR = "evidence"
ANALYTICS_FILE = "analytics.duckdb"
MASTER_KEY_BYTES = 32  # AES-256
#: A workspace holds victim identities and evidence: only its owner may enter it or read its files.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
DEFAULT_UPLOAD_LIMIT = 2 * 1024**3
DEFAULT_INACTIVE_ACCOUNT_DAYS = 90
"""CJIS AC-2(3) / requirement AC-09: an account not signed in to for 90 days is disabled."""
MAX_INACTIVE_ACCOUNT_DAYS = 90
"""The most ``inactive_account_days`` may be: CJIS AC-2(3) allows at most 90 days, so a longer setting
would quietly take the workspace out of the policy it is meant to meet; an office may choose fewer."""
#: The classification an export is marked with when neither ``settings.toml`` nor ``--classification``
#: says otherwise (MP-03). Neutral on purpose: offices write their own scheme's label
#: (``OFFICIAL-SENSITIVE``, ``LAW ENFORCEMENT SENSITIVE``, ``TLP:AMBER+STRICT``) in ``settings.toml``.
DEFAULT_EXPORT_CLASSIFICATION = "RESTRICTED"
#: The handling caveat every export carries beside its classification.
DEFAULT_EXPORT_HANDLING = (
    "Law enforcement and prosecution use only. Holds personal data of victims and witnesses: "
    "do not copy or pass on without the originator's consent."
)
#: The longest classification or handling text accepted (one line each, written into every export).
MAX_MARKING_CHARS = 500
#: What a classification or recipient may not contain: the banner joins its parts with ``·`` and ends
#: with ``Palermo export <id>``, so either inside one value could forge a banner that reads as another
#: classification, another recipient or another export (``UNCLASSIFIED · for public release``).
BANNER_PARTS = ("·", "palermo export")


def banner_problem(text: str) -> str | None:
    """Why ``text`` may not be a classification or recipient in an export's banner, or None."""
    low = text.casefold()
    for part in BANNER_PARTS:
        if part in low:
            shown = "Palermo export" if part == "palermo export" else part
            return f"must not contain {shown!r}: it would read as another part of the export's banner"
    return None


def default_master_key_file() -> Path:
    """The master key path: ``PALERMO_MASTER_KEY_FILE`` or ``~/.config/palermo/master.key``."""
    env = os.environ.get("PALERMO_MASTER_KEY_FILE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".config" / "palermo" / "master.key"


@dataclass(frozen=True)
class Settings:
    """Resolved settings of one workspace."""

    path: Path
    database_url: str
    master_key_file: Path
    upload_limit_bytes: int = DEFAULT_UPLOAD_LIMIT
    require_second_factor: bool = False
    """Refuse sign-in to accounts without an enrolled TOTP secret (CJIS IA-2(1)/(2)); opt-in, so
    existing workspaces keep working until every account is enrolled."""
    inactive_account_days: int = DEFAULT_INACTIVE_ACCOUNT_DAYS
    """Disable an account after this many days without a sign-in (AC-09); on by default because the
    requirement is not optional, shorter if an office wants it stricter."""
    export_classification: str = DEFAULT_EXPORT_CLASSIFICATION
    """The classification marked on every export unless ``--classification`` gives another (MP-03)."""
    export_handling: str = DEFAULT_EXPORT_HANDLING
    """The handling caveat marked on every export (distribution limits, MP-03)."""
    require_export_recipient: bool = True
    """Refuse an export that names no recipient (``--recipient``): the marking of a file that leaks must
    say whom it was given to. ``false`` only for a demo or training workspace of synthetic data."""
    export_classifications: tuple[str, ...] = ()
    """The classifications an export may be marked with (the office's scheme); empty: any. When set,
    ``--classification`` must be one of them (a typo would otherwise mark a file with no scheme's
    label), and so must ``export_classification``."""

    @property
    def evidence_dir(self) -> Path:
        return self.path / EVIDENCE_DIR

    @property
    def analytics_file(self) -> Path:
        return self.path / ANALYTICS_FILE

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


#: The keys ``settings.toml`` may hold.
SETTING_KEYS = frozenset(
    {
        "database_url",
        "master_key_file",
        "upload_limit_bytes",
        "require_second_factor",
        "inactive_account_days",
        "export_classification",
        "export_handling",
        "require_export_recipient",
        "export_classifications",
    }
)


def _read_file(path: Path) -> dict[str, object]:
    file = path / SETTINGS_FILE
    if not file.exists():
        return {}
    try:
        stored = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"invalid TOML: {exc}", location=str(file)) from exc
    # a misspelt key must not be ignored: `require_2fa = true` would leave sign-in at one factor
    unknown = sorted(set(stored) - SETTING_KEYS)
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(SETTING_KEYS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigurationError(
            f"unknown setting {unknown[0]!r} (known: {', '.join(sorted(SETTING_KEYS))}){hint}",
            location=str(file),
        )
    return stored


def _check_url(url: str, origin: str) -> str:
    try:
        make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"not a database URL: {exc}", location=origin) from exc
    return url


def resolve(path: Path, *, database_url: str | None = None, master_key_file: Path | None = None) -> Settings:
    """Combine argument, environment, ``settings.toml`` and defaults into :class:`Settings`."""
    path = path.expanduser().resolve()
    stored = _read_file(path)
    url: str
    if database_url:
        url = _check_url(database_url, "database_url argument")
    elif os.environ.get("PALERMO_DATABASE_URL"):
        url = _check_url(os.environ["PALERMO_DATABASE_URL"], "PALERMO_DATABASE_URL")
    elif isinstance(stored.get("database_url"), str):
        url = _check_url(str(stored["database_url"]), str(path / SETTINGS_FILE))
    else:
        url = f"sqlite:///{path / DATABASE_FILE}"
    key_file = master_key_file or (
        Path(str(stored["master_key_file"])) if isinstance(stored.get("master_key_file"), str) else None
    )
    limit = stored.get("upload_limit_bytes")
    second_factor = stored.get("require_second_factor", False)
    if not isinstance(second_factor, bool):
        # a quoted "true" or a 1 must not silently leave sign-in at one factor: refuse to start
        raise ConfigurationError(
            f"require_second_factor must be true or false, found {second_factor!r}",
            location=str(path / SETTINGS_FILE),
        )
    inactive_days = stored.get("inactive_account_days", DEFAULT_INACTIVE_ACCOUNT_DAYS)
    # bool is an int in Python: `true` must not read as one day
    if (
        not isinstance(inactive_days, int)
        or isinstance(inactive_days, bool)
        or not 1 <= inactive_days <= MAX_INACTIVE_ACCOUNT_DAYS
    ):
        raise ConfigurationError(
            f"inactive_account_days must be a whole number of days from 1 to {MAX_INACTIVE_ACCOUNT_DAYS} "
            f"(CJIS AC-2(3) allows at most {MAX_INACTIVE_ACCOUNT_DAYS}), found {inactive_days!r}",
            location=str(path / SETTINGS_FILE),
        )
    origin = str(path / SETTINGS_FILE)
    recipient_required = stored.get("require_export_recipient", True)
    if not isinstance(recipient_required, bool):
        raise ConfigurationError(
            f"require_export_recipient must be true or false, found {recipient_required!r}", location=origin
        )
    classification = marking_text(
        stored.get("export_classification", DEFAULT_EXPORT_CLASSIFICATION), "export_classification", origin
    )
    allowed = _classifications(stored.get("export_classifications", []), origin)
    if allowed and classification not in allowed:
        raise ConfigurationError(
            f"export_classification {classification!r} is not one of export_classifications "
            f"({', '.join(allowed)})",
            location=origin,
        )
    return Settings(
        path=path,
        database_url=url,
        master_key_file=(key_file or default_master_key_file()).expanduser(),
        upload_limit_bytes=limit if isinstance(limit, int) else DEFAULT_UPLOAD_LIMIT,
        require_second_factor=second_factor,
        inactive_account_days=inactive_days,
        export_classification=classification,
        export_handling=marking_text(
            stored.get("export_handling", DEFAULT_EXPORT_HANDLING), "export_handling", origin
        ),
        require_export_recipient=recipient_required,
        export_classifications=allowed,
    )


def _classifications(value: object, origin: str) -> tuple[str, ...]:
    """``export_classifications``: a list of classification texts (each checked as one is)."""
    if not isinstance(value, list):
        raise ConfigurationError(
            f"export_classifications must be a list of texts, found {value!r}", location=origin
        )
    return tuple(marking_text(v, "export_classifications", origin) for v in value)


def marking_text(value: object, name: str, origin: str) -> str:
    """A classification or handling text as written into every export: one line of printable text.

    An empty value would mark exports with nothing; a line break or a control character could end the
    marking early in a format that reads lines, or hide part of it in a terminal."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{name} must be a non-empty text, found {value!r}", location=origin)
    text = value.strip()
    if not text.isprintable():
        raise ConfigurationError(f"{name} must be one line of printable text", location=origin)
    if len(text) > MAX_MARKING_CHARS:
        raise ConfigurationError(
            f"{name} is {len(text)} characters long; at most {MAX_MARKING_CHARS}", location=origin
        )
    problem = banner_problem(text) if name != "export_handling" else None
    if problem:
        raise ConfigurationError(f"{name} {problem}", location=origin)
    return text


def write_settings(settings: Settings, *, record_database_url: bool) -> None:
    """Write ``settings.toml`` (no secrets: the URL is stored without its password)."""
    lines = ["# Palermo workspace settings. No secrets here: keys and passwords live elsewhere."]
    if record_database_url and not settings.is_sqlite:
        safe = make_url(settings.database_url)._replace(password=None)  # .set(password=None) keeps it
        lines.append(f'database_url = "{safe.render_as_string(hide_password=False)}"')
    lines.append(f'master_key_file = "{settings.master_key_file}"')
    lines.append(f"upload_limit_bytes = {settings.upload_limit_bytes}")
    lines.append("# true: accounts without an enrolled TOTP code (palermo user totp NAME) cannot sign in")
    lines.append(f"require_second_factor = {'true' if settings.require_second_factor else 'false'}")
    lines.append("# accounts without a sign-in for this many days are disabled (CJIS AC-2(3): at most 90)")
    lines.append(f"inactive_account_days = {settings.inactive_account_days}")
    lines.append(
        "# every export is marked with this classification and caveat (palermo export --classification)"
    )
    lines.append(f"export_classification = {_toml_string(settings.export_classification)}")
    lines.append(f"export_handling = {_toml_string(settings.export_handling)}")
    lines.append("# the only classifications --classification may give (empty: any)")
    choices = ", ".join(_toml_string(c) for c in settings.export_classifications)
    lines.append(f"export_classifications = [{choices}]")
    lines.append("# false: exports may leave without --recipient (a demo or training workspace only)")
    lines.append(f"require_export_recipient = {'true' if settings.require_export_recipient else 'false'}")
    fd = os.open(settings.path / SETTINGS_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


def _toml_string(text: str) -> str:
    """``text`` as a TOML basic string (JSON's escaping is valid TOML for printable text)."""
    return json.dumps(text, ensure_ascii=False)


def private_folder(path: Path) -> None:
    """Create ``path`` (or adopt it) readable, writable and enterable by its owner only (0700)."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    os.chmod(path, PRIVATE_DIR_MODE)


def fsync_folder(path: Path) -> None:
    """Make a new or renamed name in folder ``path`` durable: a file's own fsync keeps its bytes, not
    the folder entry that names it, so a crash could otherwise lose a backup, a blob or a shred list
    that was already reported as written."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def private_file(path: Path) -> None:
    """Create an empty file only its owner can read and write (0600), before a database fills it.

    Created empty *before* SQLite opens it, so the database (and its -wal/-shm files, which SQLite
    gives the database's mode) is never readable by others, not even for a moment.
    """
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    os.chmod(path, PRIVATE_FILE_MODE)


def ensure_master_key(key_file: Path, *, workspace: Path) -> None:
    """Create a random 256-bit master key (mode 0600) if none exists; refuse one inside the workspace.

    The key is kept apart from the data it protects (CJIS SC-12): a key inside the workspace folder
    would travel with every copy of the folder.
    """
    key_file = key_file.expanduser().resolve()
    if key_file.is_relative_to(workspace.resolve()):
        raise ConfigurationError(
            "the master key must live outside the workspace folder", location=str(key_file)
        )
    if key_file.exists():
        return
    key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_bytes(MASTER_KEY_BYTES))
        fh.flush()
        os.fsync(fh.fileno())


def read_master_key(key_file: Path) -> bytes:
    """Read the master key, checking its length and that others cannot read it."""
    try:
        mode = key_file.stat().st_mode
        data = key_file.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigurationError(
            "master key not found (set PALERMO_MASTER_KEY_FILE)", location=str(key_file)
        ) from exc
    if mode & 0o077:
        raise ConfigurationError("master key is readable by others: chmod 600 it", location=str(key_file))
    if len(data) != MASTER_KEY_BYTES:
        raise ConfigurationError(
            f"master key must be {MASTER_KEY_BYTES} bytes, found {len(data)}", location=str(key_file)
        )
    return data
