"""Field encryption of victim identity: AES-256-GCM, per-case data keys, master-key wrapping.

Why this shape (security requirements SC-02, SC-05, SC-06, MP-02):

* **AES-256-GCM** from ``cryptography``; a fresh 96-bit random nonce per encryption.
* **Per-case data keys** (DEK): each case has its own 256-bit key, stored only *wrapped* (encrypted)
  by the master key (KEK) in ``case_keys``. The master key lives outside the workspace folder, so a
  stolen database or folder copy does not decrypt.
* **Associated data** binds every ciphertext to ``table.column:row_id`` (and the DEK to its case and
  version), so a ciphertext copied into another row or column fails to decrypt instead of
  silently showing the wrong person's name.
* **Rotation** (:meth:`Keyring.rotate`) makes a new DEK version, re-encrypts the case's identity rows
  and deletes the old key; :meth:`Keyring.rewrap` re-wraps every DEK under a new master key.
* **Crypto-shredding** (:meth:`Keyring.shred`) deletes a case's keys: its identities can then never
  be decrypted again, in the database or in any backup that lacks the key rows. A backup made before
  the shred still holds them, so each shred is also written to a **shred list** beside the master key
  file (:func:`record_shred`), outside the workspace like the key itself: a restore reads it and shreds
  those keys again, even when the workspace it was made of is gone (MP-02). Each entry names the workspace
  *instance* it was made in (a restored copy is a new one, :func:`workspace_lineage`), so a restore applies
  only shreds of the backup's own line of descent; start lines say from when the list is complete for which
  instance, so a list begun after a backup was made is never taken as knowing what came before.

This module knows the ``case_keys`` and ``party_identities`` tables by name only (lightweight
table clauses) so that ``security`` stays independent of ``store``.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Boolean, DateTime, Integer, LargeBinary, String, column, delete, select, table, update
from sqlalchemy.orm import Session

from palermo.errors import ConfigurationError, IntegrityError
from palermo.settings import fsync_folder

FORMAT = b"\x01"  # ciphertext layout: FORMAT | nonce(12) | ciphertext+tag
NONCE_BYTES = 12
IDENTITY_COLUMNS = ("legal_name", "date_of_birth", "contact", "address")

CASE_KEYS = table(
    "case_keys",
    column("id", Integer),
    column("case_id", Integer),
    column("version", Integer),
    column("wrapped_key", LargeBinary),
    column("master_key_id", String),
    column("active", Boolean),
    column("created_at", DateTime(timezone=True)),
)
IDENTITIES = table(
    "party_identities",
    column("party_id", Integer),
    column("key_version", Integer),
    *(column(name, LargeBinary) for name in IDENTITY_COLUMNS),
)
PARTIES = table("parties", column("id", Integer), column("case_id", Integer))


SHRED_LIST_SUFFIX = ".shredded"
#: A start line's ``instance`` meaning "every workspace whose keys this master key wraps, from its first
#: event": written only when the list is made together with a brand-new key, which nothing used before.
EVERY_INSTANCE = "*"
RESTORE_ACTION = "backup.restore"
#: The line an append writes after a torn last line (a crash mid-append), so a reader ignores that one.
TORN_ABOVE = "torn-line-above"


def shred_list_file(master_key_file: Path) -> Path:
    """Where shreds of keys wrapped by ``master_key_file`` are listed: beside it (``master.key.shredded``).

    Beside the key, because that is the one place that is outside every workspace and survives the loss of
    one: whoever restores a backup needs the key file anyway, so its list comes along.
    """
    path = Path(master_key_file).expanduser()
    return path.with_name(path.name + SHRED_LIST_SUFFIX)


def workspace_lineage(session: Session) -> list[dict[str, Any]]:
    """The line of descent of the workspace whose audit log ``session`` reads, oldest first.

    A workspace *instance* is one copy with its own future: the original (named by the hash of its first
    audit event, its genesis) and every copy made by restoring a backup (named by the ``instance`` its
    ``backup.restore`` event records, or that event's hash for a restore made before instances were
    recorded). Each restored copy continues the audit log of the one it came from, so its history up to
    ``from_head`` (the backup's audit head) is its parent's, and its own starts after. A shred made in one
    copy is a fact of that copy's line only: a restore drill's shred is not a shred of the live workspace.
    Returns ``[{"instance", "from_instance", "from_head"}, ...]``; the last is the workspace's own.
    """
    from palermo.security.audit import AUDIT

    genesis = session.execute(select(AUDIT.c.hash).where(AUDIT.c.seq == 1)).scalar()
    if genesis is None:
        return []
    lineage: list[dict[str, Any]] = [{"instance": str(genesis), "from_instance": None, "from_head": None}]
    restores = session.execute(
        select(AUDIT.c.seq, AUDIT.c.hash, AUDIT.c.detail)
        .where(AUDIT.c.action == RESTORE_ACTION)
        .order_by(AUDIT.c.seq)
    ).all()
    for seq, digest, detail in restores:
        named = (detail or {}).get("instance") if isinstance(detail, dict) else None
        lineage.append(
            {
                "instance": named if isinstance(named, str) and named else str(digest),
                "from_instance": lineage[-1]["instance"],
                "from_head": int(seq) - 1,  # the restore is recorded right after the backup's head
            }
        )
    return lineage


def lineage_thresholds(lineage: list[dict[str, Any]], head: int) -> dict[str, int]:
    """For a copy of the workspace at audit ``head``: each instance of its line and the audit seq after
    which that instance's shreds are *not* in the copy (its own: ``head``; an ancestor's: where the line
    left it). A shred of any other instance (a drill restored from it, a sibling copy) never applies."""
    thresholds: dict[str, int] = {}
    at = head
    for segment in reversed(lineage):
        thresholds.setdefault(str(segment["instance"]), at)
        if segment["from_head"] is not None:
            at = min(at, int(segment["from_head"]))
    return thresholds


class ShredList:
    """A read shred list: the shreds, the start lines (from when the list is complete for which workspace
    instance), and a torn last line, if any, that was ignored."""

    def __init__(self, path: Path, shreds: list[dict[str, Any]], starts: list[dict[str, Any]], torn: bool):
        self.path, self.shreds, self.starts, self.torn = path, shreds, starts, torn

    def complete_after(self, instance: str) -> int | None:
        """The audit seq after which every shred of ``instance`` under this key is listed, or None when
        the list cannot say (it was started after the key had been used, for another workspace).

        A start line naming the instance wins over the key-wide one (a rewrap that brought the workspace
        to this key writes one); of several, the latest seq is taken, the one that claims the least."""
        named = [int(s["audit_seq"]) for s in self.starts if s.get("instance") == instance]
        if named:
            return max(named)
        if any(s.get("instance") == EVERY_INSTANCE for s in self.starts):
            return 0
        return None


def _private_append(path: Path, lines: list[dict[str, Any]]) -> None:
    """Append JSON lines to the list at ``path``, creating it (0600, folder fsync'd) only when asked by
    the caller; a list that ends in a torn line (a crash mid-write) gets a newline first, so the next
    line never joins onto it. Any OSError is a ConfigurationError naming the path: a master key on a
    read-only disk cannot take shreds, and whoever installed it must say where the list can live."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "r+b") as fh:
            info = os.fstat(fh.fileno())
            if info.st_mode & 0o077:
                os.fchmod(fh.fileno(), 0o600)  # it says which victims' cases were shredded
            torn = False
            if info.st_size:
                fh.seek(info.st_size - 1)
                torn = fh.read(1) != b"\n"
            if torn:  # end the torn line, and say it was torn, so that it never reads as damage later
                lines = [{"kind": TORN_ABOVE, "at": _now()}, *lines]
            text = "".join(json.dumps(line, sort_keys=True, default=str) + "\n" for line in lines)
            fh.write((("\n" if torn else "") + text).encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        if not info.st_size:
            fsync_folder(path.parent)  # a new list's name is on disk too
    except OSError as exc:
        raise ConfigurationError(
            f"the shred list beside the master key cannot be written ({exc.strerror or exc}): the master "
            "key's folder must be writable by Palermo (a crypto-shred is listed there, MP-02); nothing was "
            "shredded",
            location=str(path),
        ) from None


def start_shred_list(master_key_file: Path) -> None:
    """Start the shred list of a *brand-new* master key, complete for every workspace from the start
    (nothing was wrapped by the key before). Never for a key that existed already: its earlier shreds are
    unknown, and a list claiming otherwise would let a restore say it checked."""
    path = shred_list_file(master_key_file)
    if not path.exists():
        _private_append(
            path,
            [{"kind": "start", "instance": EVERY_INSTANCE, "audit_seq": 0, "at": _now(), "reason": "new"}],
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def record_shred(master_key_file: Path, entry: dict[str, Any]) -> None:
    """Append one shred to the list beside the master key file (one JSON object a line), on disk before
    returning. ``entry`` names the workspace (``workspace_genesis``: the hash of its first audit event,
    and ``instance``: which copy of it, see :func:`workspace_lineage`), the case, the key versions deleted
    and the shred's ``audit_seq``. When the list does not yet say it is complete for that instance (a key
    from before lists, a list started for another workspace), a start line goes first: complete from this
    shred on, and nothing said of before. The caller writes it before its transaction commits, so a
    failure here undoes the shred; a commit that fails afterwards leaves a line naming a shred that did
    not happen, which errs toward the victim (a restore would shred that key too)."""
    path = shred_list_file(master_key_file)
    try:
        current = read_shred_list(master_key_file)
    except ConfigurationError:
        current = None  # a damaged line must not block a shred; restores name it until it is mended
    lines: list[dict[str, Any]] = []
    instance = str(entry["instance"])
    if current is None or current.complete_after(instance) is None:
        lines.append(
            {
                "kind": "start",
                "instance": instance,
                "workspace_genesis": entry.get("workspace_genesis"),
                "audit_seq": int(entry["audit_seq"]) - 1,
                "at": _now(),
                "reason": "first shred listed for this workspace under this key",
            }
        )
    lines.append({"kind": "shred", **entry})
    _private_append(path, lines)


def add_to_shred_list(master_key_file: Path, lines: list[dict[str, Any]]) -> None:
    """Append lines read from another list (a rewrap carrying them), as they are."""
    if lines:
        _private_append(shred_list_file(master_key_file), lines)


def read_shred_list(master_key_file: Path) -> ShredList | None:
    """The list beside ``master_key_file``, or None when there is none (shreds unknown).

    A line that cannot be read is a :class:`ConfigurationError` naming it: a list that is silently
    partly read would let a shredded key come back. The one exception is a torn line: the last line,
    without its newline, that does not parse (a crash mid-write, whose shred therefore never committed),
    or such a line that a later append ended and marked (``torn-line-above``); it is ignored, and
    ``torn`` says so for the caller to report.
    """
    path = shred_list_file(master_key_file)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"the shred list cannot be read ({exc})", location=str(path)) from None
    lines = text.split("\n")
    last_unterminated = lines[-1] if lines[-1] else None
    body = lines[:-1]
    shreds: list[dict[str, Any]] = []
    starts: list[dict[str, Any]] = []
    torn = False
    numbered = list(enumerate(body, start=1))
    if last_unterminated is not None:
        numbered.append((len(body) + 1, last_unterminated))
    marked = {
        number - 1 for number, line in numbered if line.startswith("{") and f'"kind": "{TORN_ABOVE}"' in line
    }
    for number, line in numbered:
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            if not isinstance(entry, dict):
                raise ValueError("not an object")
            if entry.get("kind") == TORN_ABOVE:
                continue
            if entry.get("kind") == "start":
                entry["audit_seq"] = int(entry["audit_seq"])
                if not isinstance(entry.get("instance"), str):
                    raise ValueError("a start line names no instance")
                starts.append(entry)
                continue
            entry["case_id"], entry["versions"] = int(entry["case_id"]), [int(v) for v in entry["versions"]]
            if not isinstance(entry.get("workspace_genesis"), str):
                raise ValueError("no workspace_genesis")
        except (ValueError, KeyError, TypeError) as exc:
            if line is last_unterminated or number in marked:
                torn = True  # a crash mid-append: that shred never committed
                continue
            raise ConfigurationError(
                f"line {number} of the shred list is unreadable ({exc})", location=str(path)
            ) from None
        shreds.append(entry)
    return ShredList(path, shreds, starts, torn)


def read_shreds(master_key_file: Path) -> list[dict[str, Any]] | None:
    """Every shred listed beside ``master_key_file`` (start lines left out), or None when there is no
    list."""
    found = read_shred_list(master_key_file)
    return None if found is None else found.shreds


def field_aad(table_name: str, column_name: str, row_id: int | str) -> bytes:
    """Associated data binding a ciphertext to one cell."""
    return f"palermo:{table_name}.{column_name}:{row_id}".encode()


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt with AES-256-GCM under a fresh random nonce."""
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Decrypt; a wrong key, wrong cell or edited byte raises :class:`IntegrityError`."""
    if not blob.startswith(FORMAT) or len(blob) < 1 + NONCE_BYTES + 16:
        raise IntegrityError("ciphertext has an unknown format")
    try:
        return AESGCM(key).decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], aad)
    except InvalidTag as exc:
        raise IntegrityError(f"ciphertext does not authenticate for {aad.decode()}") from exc


class MasterKey:
    """The key-encryption key. ``key_id`` names it without revealing it."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ConfigurationError("the master key must be 32 bytes (AES-256)")
        self._key = key
        self.key_id = hashlib.sha256(b"palermo-master-key-id:" + key).hexdigest()[:16]

    def derive(self, purpose: str) -> bytes:
        """A 256-bit key for one purpose (HKDF-SHA256), so the key-encryption key itself never
        encrypts data: e.g. ``derive("user-secrets")`` seals the accounts' TOTP secrets."""
        return HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=f"palermo:{purpose}".encode()
        ).derive(self._key)

    def wrap(self, dek: bytes, case_id: int, version: int) -> bytes:
        return seal(self._key, dek, field_aad("case_keys", "wrapped_key", f"{case_id}/{version}"))

    def unwrap(self, wrapped: bytes, case_id: int, version: int) -> bytes:
        return open_sealed(self._key, wrapped, field_aad("case_keys", "wrapped_key", f"{case_id}/{version}"))


class Keyring:
    """Per-case data keys in ``case_keys``, used inside the caller's session (one transaction)."""

    def __init__(self, master: MasterKey) -> None:
        self.master = master

    def _active(self, session: Session, case_id: int) -> tuple[int, bytes]:
        row = session.execute(
            select(CASE_KEYS.c.version, CASE_KEYS.c.wrapped_key, CASE_KEYS.c.master_key_id)
            .where(CASE_KEYS.c.case_id == case_id, CASE_KEYS.c.active.is_(True))
            .order_by(CASE_KEYS.c.version.desc())
            .limit(1)
        ).first()
        if row is None:
            raise IntegrityError(f"case {case_id} has no data key (it was crypto-shredded or never created)")
        if row.master_key_id != self.master.key_id:
            raise ConfigurationError(
                f"case {case_id} key is wrapped by master key {row.master_key_id}, "
                f"but {self.master.key_id} is loaded (PALERMO_MASTER_KEY_FILE)"
            )
        return row.version, self.master.unwrap(row.wrapped_key, case_id, row.version)

    def active_version(self, session: Session, case_id: int) -> int | None:
        """The version of the case's active data key, or None once it was crypto-shredded (nothing is
        unwrapped: a caller can tell which identities are still readable without reading any)."""
        version = session.execute(
            select(CASE_KEYS.c.version)
            .where(CASE_KEYS.c.case_id == case_id, CASE_KEYS.c.active.is_(True))
            .order_by(CASE_KEYS.c.version.desc())
            .limit(1)
        ).scalar()
        return None if version is None else int(version)

    def _key(self, session: Session, case_id: int, version: int) -> bytes:
        active_version, key = self._active(session, case_id)
        if active_version != version:
            raise IntegrityError(f"case {case_id} has no data key version {version}")
        return key

    def create(self, session: Session, case_id: int, version: int = 1) -> int:
        """Generate and store a new wrapped DEK for a case; returns its version."""
        dek = AESGCM.generate_key(bit_length=256)
        session.execute(
            CASE_KEYS.insert().values(
                case_id=case_id,
                version=version,
                wrapped_key=self.master.wrap(dek, case_id, version),
                master_key_id=self.master.key_id,
                active=True,
                created_at=datetime.now(UTC),
            )
        )
        return version

    def encrypt(
        self, session: Session, case_id: int, table_name: str, column_name: str, row_id: int, value: str
    ) -> tuple[int, bytes]:
        """Encrypt one cell under the case's active key: ``(key_version, ciphertext)``."""
        version, key = self._active(session, case_id)
        return version, seal(key, value.encode("utf-8"), field_aad(table_name, column_name, row_id))

    def decrypt(
        self,
        session: Session,
        case_id: int,
        table_name: str,
        column_name: str,
        row_id: int,
        version: int,
        blob: bytes,
    ) -> str:
        """Decrypt one cell; raises :class:`IntegrityError` if moved, edited or shredded."""
        key = self._key(session, case_id, version)
        return open_sealed(key, blob, field_aad(table_name, column_name, row_id)).decode("utf-8")

    def rotate(self, session: Session, case_id: int) -> int:
        """New DEK version; re-encrypt every identity of the case; delete the old key. Returns rows done."""
        old_version, old_key = self._active(session, case_id)
        new_version = self.create(session, case_id, old_version + 1)
        _, new_key = self._active(session, case_id)
        party_ids = select(PARTIES.c.id).where(PARTIES.c.case_id == case_id)
        rows = (
            session.execute(select(IDENTITIES).where(IDENTITIES.c.party_id.in_(party_ids))).mappings().all()
        )
        for row in rows:
            values: dict[str, object] = {"key_version": new_version}
            for name in IDENTITY_COLUMNS:
                blob = row[name]
                if blob is not None:
                    aad = field_aad("party_identities", name, row["party_id"])
                    values[name] = seal(new_key, open_sealed(old_key, blob, aad), aad)
            session.execute(
                update(IDENTITIES).where(IDENTITIES.c.party_id == row["party_id"]).values(**values)
            )
        session.execute(
            delete(CASE_KEYS).where(CASE_KEYS.c.case_id == case_id, CASE_KEYS.c.version == old_version)
        )
        return len(rows)

    def rewrap(self, session: Session, new_master: MasterKey) -> int:
        """Re-wrap every case key under ``new_master`` (master-key rotation); returns keys done."""
        rows = session.execute(select(CASE_KEYS)).mappings().all()
        for row in rows:
            dek = self.master.unwrap(row["wrapped_key"], row["case_id"], row["version"])
            session.execute(
                update(CASE_KEYS)
                .where(CASE_KEYS.c.id == row["id"])
                .values(
                    wrapped_key=new_master.wrap(dek, row["case_id"], row["version"]),
                    master_key_id=new_master.key_id,
                )
            )
        return len(rows)  # the caller switches ``master`` once its transaction has committed

    def versions(self, session: Session, case_id: int) -> list[int]:
        """The versions of the case's keys held (what a shred would delete), oldest first."""
        rows = session.execute(
            select(CASE_KEYS.c.version).where(CASE_KEYS.c.case_id == case_id).order_by(CASE_KEYS.c.version)
        ).scalars()
        return [int(v) for v in rows]

    def shred(self, session: Session, case_id: int) -> int:
        """Delete every key of the case: its encrypted identities become unrecoverable."""
        result = session.execute(delete(CASE_KEYS).where(CASE_KEYS.c.case_id == case_id))
        return int(getattr(result, "rowcount", 0) or 0)
