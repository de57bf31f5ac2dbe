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
  those keys again, even when the workspace it was made of is gone (MP-02).

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


def shred_list_file(master_key_file: Path) -> Path:
    """Where shreds of keys wrapped by ``master_key_file`` are listed: beside it (``master.key.shredded``).

    Beside the key, because that is the one place that is outside every workspace and survives the loss of
    one: whoever restores a backup needs the key file anyway, so its list comes along.
    """
    path = Path(master_key_file).expanduser()
    return path.with_name(path.name + SHRED_LIST_SUFFIX)


def start_shred_list(master_key_file: Path) -> None:
    """Create an empty shred list (0600) beside a new master key: from then on, a missing list means
    the shreds cannot be known, not that there were none."""
    path = shred_list_file(master_key_file)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def record_shred(master_key_file: Path, entry: dict[str, Any]) -> None:
    """Append one shred to the list beside the master key file (one JSON object a line), on disk before
    returning. ``entry`` names the workspace (``workspace_genesis``: the hash of its first audit event,
    as a path can change and a master key may serve several workspaces), the case and the key versions
    deleted. The caller writes it before its transaction commits, so a failure here undoes the shred; a
    commit that fails afterwards leaves a line naming a shred that did not happen, which errs toward
    the victim (a restore would shred that key too)."""
    path = shred_list_file(master_key_file)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, sort_keys=True, default=str) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def read_shreds(master_key_file: Path) -> list[dict[str, Any]] | None:
    """Every shred listed beside ``master_key_file``, or None when there is no list (shreds unknown).

    A line that cannot be read is a :class:`ConfigurationError` naming it: a list that is silently
    partly read would let a shredded key come back.
    """
    path = shred_list_file(master_key_file)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigurationError(f"the shred list cannot be read ({exc})", location=str(path)) from None
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            if not isinstance(entry, dict):
                raise ValueError("not an object")
            entry["case_id"], entry["versions"] = int(entry["case_id"]), [int(v) for v in entry["versions"]]
            if not isinstance(entry.get("workspace_genesis"), str):
                raise ValueError("no workspace_genesis")
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(
                f"line {number} of the shred list is unreadable ({exc})", location=str(path)
            ) from None
        entries.append(entry)
    return entries


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
