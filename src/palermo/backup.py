"""Backups of a workspace on the embedded default: one encrypted file, checked before it is trusted.

A workspace on SQLite is four things: the case store (``palermo.db``), the analytics database
(``analytics.duckdb``: imported statements, analysis results, analysts' judgements), the evidence
originals (``evidence/ab/cd/<sha256>``) and ``settings.toml``. :func:`create` puts all four in one
container sealed with a passphrase (:mod:`palermo.security.container`, MP-01), with a manifest first
that lists every file with its size and SHA-256, the rows of every table, the audit head and the data
keys held; :func:`verify` opens one and checks all of that; :func:`restore` rebuilds a workspace from it
into an empty folder and checks the result. See docs/decisions/0008-backups.md for the why of each step.

Consistency while the workspace is in use (DR-03):

* DuckDB allows one process per file. The backup opens it for writing, which takes its lock, so no
  import, analysis or judgement can commit meanwhile; ``CHECKPOINT`` folds the WAL into the file, and the
  file alone is then copied: the whole database as of that moment, without a WAL to carry. A process
  holding the file (an import, ``palermo serve`` after an analytics page) is waited for up to ``wait``
  seconds, then the backup is refused naming why.
* The case store is copied with SQLite's online backup (``Connection.backup``: one read transaction, so
  the copy is one committed state even while others write), *while* DuckDB's lock is still held, so the
  two databases are of the same moment as far as imports go; ``PRAGMA integrity_check`` must say ``ok``.
* Evidence originals are content-addressed and never change once written, and a blob is written before
  any row names it, so every exhibit the copied case store knows is on disk when the folder is read
  afterwards. Each is re-hashed as it streams into the container (EV-02): one that no longer matches its
  name refuses the backup.

Keys: the master key is **not** in a backup (it lives outside the workspace, SC-03): a backup is restored
with the same master key file, or its case keys stay wrapped. The per-case data keys are rows of the case
store, wrapped by the master key, so they travel with it; the manifest lists each (case, version), and
:func:`verify` reports a backup holding a key that was crypto-shredded after it was made (MP-02).

PostgreSQL workspaces are refused: their case store is backed up with the server's own tools.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO

import duckdb
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from palermo import __version__
from palermo.errors import ConfigurationError, InputError, IntegrityError
from palermo.security.audit import AUDIT, AuditLog
from palermo.security.container import OpeningReader, SealingWriter, check_passphrase
from palermo.security.crypto import CASE_KEYS, MasterKey
from palermo.settings import (
    ANALYTICS_FILE,
    DATABASE_FILE,
    EVIDENCE_DIR,
    PRIVATE_DIR_MODE,
    PRIVATE_FILE_MODE,
    SETTINGS_FILE,
    private_folder,
    read_master_key,
    resolve,
    write_settings,
)
from palermo.store.database import Database

FORMAT = "palermo-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PREFIX = "workspace/"
SUFFIX = ".pbak"
PASSPHRASE_ENV = "PALERMO_BACKUP_PASSPHRASE"
_BLOB = re.compile(rf"{EVIDENCE_DIR}/([0-9a-f]{{2}})/([0-9a-f]{{2}})/([0-9a-f]{{64}})")
_CHUNK = 1024 * 1024

POSTGRES_REFUSAL = (
    "this workspace keeps its case store in PostgreSQL, which `palermo backup` does not copy: back up the "
    "database with pg_dump (logical) or pg_basebackup with WAL archiving (physical, point-in-time), and the "
    "workspace folder (analytics.duckdb while nothing uses it, evidence/, settings.toml) with your file "
    "backup; see docs/cli.md, backup"
)


# --- helpers -----------------------------------------------------------------------------------


def _sha256_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _sqlite_file(settings_url: str, workspace: Path) -> Path:
    name = make_url(settings_url).database
    if not name or name == ":memory:":
        raise ConfigurationError("the case store is not a SQLite file", location="database_url")
    return Path(name)


def _sqlite_counts(con: sqlite3.Connection) -> dict[str, int]:
    names = [
        row[0]
        for row in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    return {name: int(con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]) for name in names}


def _duckdb_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    rows = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_type = 'BASE TABLE' AND table_catalog = current_database() ORDER BY 1, 2"
    ).fetchall()
    counts: dict[str, int] = {}
    for schema, name in rows:
        label = name if schema == "main" else f"{schema}.{name}"
        result = con.execute(f'SELECT count(*) FROM "{schema}"."{name}"').fetchone()
        counts[label] = int(result[0]) if result else 0
    return counts


@contextmanager
def _session_over(con: sqlite3.Connection) -> Iterator[Session]:
    """A SQLAlchemy session on an open sqlite3 connection (a snapshot, maybe in memory), adding no pragmas."""
    engine = create_engine("sqlite://", creator=lambda: con, poolclass=StaticPool)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def _case_store_facts(con: sqlite3.Connection) -> dict[str, Any]:
    """What the manifest says of a case-store copy: integrity, rows, keys held, exhibits, audit head."""
    check = [row[0] for row in con.execute("PRAGMA integrity_check").fetchall()]
    tables = _sqlite_counts(con)
    keys = [
        {"case_id": case_id, "case": ref, "version": version, "master_key_id": master}
        for case_id, ref, version, master in con.execute(
            "SELECT k.case_id, c.reference, k.version, k.master_key_id FROM case_keys k "
            "LEFT JOIN cases c ON c.id = k.case_id ORDER BY k.case_id, k.version"
        )
    ]
    exhibits = sorted({row[0] for row in con.execute("SELECT sha256 FROM evidence_items")})
    revision = (
        con.execute("SELECT version_num FROM alembic_version").fetchone()
        if "alembic_version" in tables
        else None
    )
    master = (
        con.execute("SELECT key_id FROM master_key_state WHERE id = 1").fetchone()
        if "master_key_state" in tables
        else None
    )
    genesis = con.execute("SELECT hash FROM audit_events WHERE seq = 1").fetchone()
    with _session_over(con) as session:
        log = AuditLog()
        head = log.head(session)
        problems = [str(p) for p in log.verify(session)]
    return {
        "integrity_check": check,
        "tables": tables,
        "keys": keys,
        "exhibits": exhibits,
        "schema_revision": revision[0] if revision else None,
        "master_key_id": master[0] if master else None,
        "audit": {
            "genesis": genesis[0] if genesis else None,
            "events": head.count if head else 0,
            "head_seq": head.seq if head else None,
            "head_hash": head.hash if head else None,
            "problems": problems,
        },
    }


class _HashingReader(io.RawIOBase):
    """Reads a file while hashing it: the digest is of exactly the bytes that went into the container."""

    def __init__(self, fh: BinaryIO) -> None:
        super().__init__()
        self._fh = fh
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._fh.read(len(buffer))
        buffer[: len(data)] = data
        self.digest.update(data)
        return len(data)


class _HashingWriter(io.RawIOBase):
    """Writes through to ``out`` while hashing: the container's own SHA-256, for the audit record."""

    def __init__(self, out: BinaryIO) -> None:
        super().__init__()
        self._out = out
        self.digest = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self._out.write(view)
        self.digest.update(view)
        self.size += len(view)
        return len(view)

    def flush(self) -> None:
        self._out.flush()


def _lock_duckdb(path: Path, wait: float) -> duckdb.DuckDBPyConnection:
    """Open the analytics file for writing (its lock keeps other processes out), waiting up to ``wait``."""
    deadline = time.monotonic() + max(wait, 0)
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.IOException as exc:
            if time.monotonic() >= deadline:
                raise ConfigurationError(
                    f"the analytics database is in use by another process (an import, an analysis, or "
                    f"`palermo serve` after an analytics page) and stayed so for {wait:g} s; a consistent "
                    f"copy needs it to itself: retry when it is free, or with a longer --wait ({exc})",
                    location=str(path),
                ) from exc
            time.sleep(0.5)


def _check_out(out: Path, workspace: Path) -> Path:
    out = Path(out).expanduser()
    if out.exists() or out.is_symlink():
        raise InputError(
            f"{out} exists: a backup never overwrites a file; choose a new name", location="--out"
        )
    if not out.parent.is_dir():
        raise InputError(f"the folder of {out} does not exist", location="--out")
    if out.parent.resolve().is_relative_to(workspace):
        raise InputError(
            f"{out} is inside the workspace folder: a backup must survive the loss of the workspace",
            location="--out",
        )
    return out.parent.resolve() / out.name


def _sqlite_settings(path: Path) -> Any:
    path = Path(path).expanduser().resolve()
    if not (path / SETTINGS_FILE).exists():
        raise InputError(f"{path} is not a Palermo workspace", location="workspace")
    settings = resolve(path)
    if not settings.is_sqlite:
        raise ConfigurationError(POSTGRES_REFUSAL, location=str(path))
    return settings


# --- create ------------------------------------------------------------------------------------


def create(
    workspace: Path,
    out: Path,
    passphrase: str,
    *,
    actor: str,
    wait: float = 30.0,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Write an encrypted backup of ``workspace`` to ``out`` (a new file) and record ``backup.create``.

    The file appears under its name only once it is complete, fsync'd and its creation audited; on any
    failure nothing is left behind (the snapshot copies inside the workspace folder are removed too).
    """
    check_passphrase(passphrase, PASSPHRASE_ENV)
    settings = _sqlite_settings(workspace)
    out = _check_out(out, settings.path)
    db_file = _sqlite_file(settings.database_url, settings.path)
    if not db_file.exists():
        raise ConfigurationError("the case store file does not exist", location=str(db_file))
    say = progress or (lambda _text: None)
    # snapshot copies stay inside the workspace folder (0700, same disk, same protection as the originals)
    # until they are sealed: analytics.duckdb holds phone numbers in the clear, /tmp is not the place
    staging = Path(tempfile.mkdtemp(prefix=".backup-", dir=settings.path))
    try:
        duck_tables: dict[str, int] = {}
        duck: duckdb.DuckDBPyConnection | None = None
        if settings.analytics_file.exists():
            say("locking and checkpointing analytics.duckdb")
            duck = _lock_duckdb(settings.analytics_file, wait)
        try:
            if duck is not None:
                duck.execute("CHECKPOINT")
                wal = settings.analytics_file.with_name(ANALYTICS_FILE + ".wal")
                if wal.exists() and wal.stat().st_size:
                    raise ConfigurationError("the DuckDB checkpoint left a WAL behind", location=str(wal))
                duck_tables = _duckdb_counts(duck)
                shutil.copyfile(settings.analytics_file, staging / ANALYTICS_FILE)
            say("copying the case store (SQLite online backup)")
            source = sqlite3.connect(db_file, timeout=30)
            target = sqlite3.connect(staging / DATABASE_FILE)
            try:
                source.backup(target)
            finally:
                source.close()
            try:
                target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
                facts = _case_store_facts(target)
            finally:
                target.close()
        finally:
            if duck is not None:
                duck.close()
        if facts["integrity_check"] != ["ok"]:
            raise IntegrityError(
                "the case store copy fails PRAGMA integrity_check: "
                + "; ".join(facts["integrity_check"][:5]),
                location=str(db_file),
            )
        files = _files(settings.path, staging)
        blobs = {f["sha256"] for f in files if f["path"].startswith(EVIDENCE_DIR + "/")}
        missing = [sha for sha in facts["exhibits"] if sha not in blobs]
        if missing:
            raise IntegrityError(
                f"{len(missing)} exhibit(s) the case store names have no stored file (first: {missing[0]}): "
                "run `palermo evidence verify`; no backup written",
                location=str(settings.evidence_dir),
            )
        backup_id = uuid.uuid4().hex
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "backup_id": backup_id,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "created_by": actor,
            "palermo_version": __version__,
            "duckdb_version": duckdb.__version__,
            "sqlite_version": sqlite3.sqlite_version,
            "workspace": {
                "path": str(settings.path),
                "schema_revision": facts["schema_revision"],
                "master_key_id": facts["master_key_id"],
            },
            "audit": facts["audit"],
            "tables": {"case_store": facts["tables"], "analytics": duck_tables},
            "keys": facts["keys"],
            "exhibits": len(facts["exhibits"]),
            "files": files,
            "not_included": [
                "the master key (kept outside the workspace; restore with the same master key file)",
                "accounts' sessions are included but expire as they would have",
            ],
        }
        say(f"sealing {len(files)} files")
        tmp_fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(tmp_fd, "wb") as raw:
                hashing = _HashingWriter(raw)
                sealed = SealingWriter(hashing, passphrase)  # type: ignore[arg-type]
                with tarfile.open(fileobj=sealed, mode="w|", format=tarfile.PAX_FORMAT) as archive:
                    _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
                    for entry in files:
                        source_path = (
                            staging if entry["path"] in (DATABASE_FILE, ANALYTICS_FILE) else settings.path
                        ) / entry["path"]
                        _add_file(archive, entry, source_path)
                sealed.close()
                raw.flush()
                os.fsync(raw.fileno())
            os.chmod(tmp, 0o600)
            try:
                os.link(tmp, out)  # never replaces a file that appeared meanwhile
            except FileExistsError:
                raise InputError(
                    f"{out} appeared while the backup was written; not replaced", location="--out"
                ) from None
            try:
                _record(
                    settings.database_url,
                    actor,
                    "backup.create",
                    backup_id,
                    {
                        "sha256": hashing.digest.hexdigest(),
                        "bytes": hashing.size,
                        "files": len(files),
                        "audit_head": facts["audit"]["head_seq"],
                        "key_versions": [[k["case_id"], k["version"]] for k in facts["keys"]],
                    },
                )
            except BaseException:
                out.unlink(missing_ok=True)  # a backup whose making cannot be audited does not exist
                raise
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(out.parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {
        "file": str(out),
        "sha256": hashing.digest.hexdigest(),
        "bytes": hashing.size,
        "backup_id": backup_id,
        "files": len(files),
        "exhibits": len(facts["exhibits"]),
        "tables": manifest["tables"],
        "keys": facts["keys"],
        "audit": {k: v for k, v in facts["audit"].items() if k != "genesis"},
    }


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _files(root: Path, staging: Path) -> list[dict[str, Any]]:
    """Every file the backup holds, in the order it is written: settings, databases, then evidence."""
    entries: list[dict[str, Any]] = []
    for name, folder in ((SETTINGS_FILE, root), (DATABASE_FILE, staging), (ANALYTICS_FILE, staging)):
        if not (folder / name).exists():  # a workspace whose analytics were never created
            continue
        sha, size = _sha256_file(folder / name)
        entries.append({"path": name, "size": size, "sha256": sha})
    evidence = root / EVIDENCE_DIR
    if evidence.is_dir():
        for path in sorted(evidence.rglob("*")):
            relative = path.relative_to(root).as_posix()
            match = _BLOB.fullmatch(relative)
            # only stored originals: `tmp/incoming-*` is an import still being copied (no row names it yet)
            if match and path.is_file() and not path.is_symlink() and match[3][:4] == match[1] + match[2]:
                entries.append({"path": relative, "size": path.stat().st_size, "sha256": match[3]})
    return entries


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
    archive.addfile(info, io.BytesIO(data))


def _add_file(archive: tarfile.TarFile, entry: dict[str, Any], path: Path) -> None:
    info = tarfile.TarInfo(PREFIX + entry["path"])
    info.size, info.mode, info.mtime = int(entry["size"]), 0o600, int(time.time())
    with path.open("rb") as fh:
        reader = _HashingReader(fh)
        archive.addfile(info, reader)
    if reader.digest.hexdigest() != entry["sha256"]:
        raise IntegrityError(
            f"{entry['path']} changed or does not match its digest {entry['sha256']} (modified on disk?): "
            "run `palermo evidence verify`; no backup written",
            location=str(path),
        )


def _record(database_url: str, actor: str, action: str, backup_id: str, detail: dict[str, Any]) -> None:
    db = Database(database_url)
    try:
        with db.transaction() as session:
            AuditLog().record(
                session, actor=actor, action=action, object_type="backup", object_id=backup_id, detail=detail
            )
    finally:
        db.dispose()


# --- reading a backup --------------------------------------------------------------------------


def _manifest(member: tarfile.TarInfo | None, archive: tarfile.TarFile, name: str) -> dict[str, Any]:
    if member is None or member.name != MANIFEST or not member.isfile():
        raise IntegrityError("holds no manifest first: not a Palermo backup", location=name)
    fh = archive.extractfile(member)
    assert fh is not None
    try:
        manifest = json.loads(fh.read())
    except ValueError as exc:
        raise IntegrityError(f"its manifest is not JSON ({exc})", location=name) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IntegrityError("its manifest is not a Palermo backup manifest", location=name)
    if manifest.get("version") != FORMAT_VERSION:
        raise IntegrityError(
            f"is backup format version {manifest.get('version')}; this Palermo reads {FORMAT_VERSION}",
            location=name,
        )
    return manifest


def _walk(
    file: Path, passphrase: str, sink: Callable[[dict[str, Any], str, IO[bytes]], None]
) -> dict[str, Any]:
    """Open, authenticate and read the whole backup; each file goes to ``sink(entry, path, stream)``
    (which must read the stream to its end) and is checked against the manifest's size and SHA-256."""
    name = str(file)
    if not file.is_file():
        raise InputError(f"{file} is not a file", location="FILE")
    with file.open("rb") as raw:
        reader = OpeningReader(raw, passphrase, name)
        buffered = io.BufferedReader(reader, buffer_size=_CHUNK)
        try:
            with tarfile.open(fileobj=buffered, mode="r|") as archive:
                manifest = _manifest(archive.next(), archive, name)
                expected = {f["path"]: f for f in manifest["files"]}
                seen: set[str] = set()
                while (member := archive.next()) is not None:
                    relative = member.name.removeprefix(PREFIX)
                    entry = expected.get(relative)
                    if (
                        not member.name.startswith(PREFIX)
                        or entry is None
                        or relative in seen
                        or not member.isfile()
                    ):
                        raise IntegrityError(
                            f"holds {member.name!r}, which its manifest does not list", location=name
                        )
                    seen.add(relative)
                    fh = archive.extractfile(member)
                    assert fh is not None
                    hashing = _HashingReader(fh)  # type: ignore[arg-type]
                    counted = _CountingStream(hashing)
                    sink(entry, relative, counted)  # type: ignore[arg-type]
                    while counted.read(_CHUNK):
                        pass
                    if counted.size != entry["size"] or hashing.digest.hexdigest() != entry["sha256"]:
                        raise IntegrityError(
                            f"{relative} does not match the manifest (size or SHA-256)", location=name
                        )
            reader.read_to_end()
        except tarfile.TarError as exc:
            raise IntegrityError(f"its archive is damaged ({exc})", location=name) from None
    missing = sorted(set(expected) - seen)
    if missing:
        raise IntegrityError(
            f"lacks {len(missing)} file(s) its manifest lists (first: {missing[0]})", location=name
        )
    return manifest


class _CountingStream(io.RawIOBase):
    def __init__(self, inner: io.RawIOBase) -> None:
        super().__init__()
        self._inner = inner
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._inner.readinto(buffer) or 0
        self.size += count
        return count


def _compare(label: str, expected: dict[str, int], actual: dict[str, int]) -> list[str]:
    return [
        f"{label} table {table}: {actual.get(table, 'missing')} rows, "
        f"the manifest says {expected.get(table, 'none')}"
        for table in sorted(set(expected) | set(actual))
        if expected.get(table) != actual.get(table)
    ]


def _check_case_store(facts: dict[str, Any], manifest: dict[str, Any]) -> list[str]:
    problems = []
    if facts["integrity_check"] != ["ok"]:
        problems.append("case store fails PRAGMA integrity_check: " + "; ".join(facts["integrity_check"][:5]))
    problems += _compare("case store", manifest["tables"]["case_store"], facts["tables"])
    blobs = {f["sha256"] for f in manifest["files"] if f["path"].startswith(EVIDENCE_DIR + "/")}
    problems += [
        f"exhibit {sha} has no stored file in the backup" for sha in facts["exhibits"] if sha not in blobs
    ]
    problems += [f"audit log: {p}" for p in facts["audit"]["problems"]]
    held = manifest["audit"]
    if (facts["audit"]["head_seq"], facts["audit"]["head_hash"]) != (held["head_seq"], held["head_hash"]):
        problems.append(
            f"audit log ends at {facts['audit']['head_seq']}, "
            f"the manifest says {held['head_seq']} {held['head_hash']}"
        )
    return problems


def shredded_keys(manifest: dict[str, Any], workspace: Path) -> tuple[list[dict[str, Any]], str]:
    """The data keys the backup holds that ``workspace`` has since crypto-shredded (MP-02), and a note.

    Compared only when ``workspace`` is the one the backup was made of (its audit log begins with the
    same event); a key counts as shredded when the workspace no longer has it and a ``case.key.shred``
    of its case was recorded after the backup's audit head.
    """
    path = Path(workspace).expanduser().resolve()
    if not (path / SETTINGS_FILE).exists():
        return [], f"no workspace at {path} to compare keys with"
    db = Database(resolve(path).database_url)
    try:
        with db.read() as session:
            genesis = session.execute(select(AUDIT.c.hash).where(AUDIT.c.seq == 1)).scalar()
            if genesis is None or genesis != manifest["audit"].get("genesis"):
                return (
                    [],
                    f"{path} is not the workspace this backup was made of (its audit log begins elsewhere)",
                )
            live = {
                (int(c), int(v))
                for c, v in session.execute(select(CASE_KEYS.c.case_id, CASE_KEYS.c.version)).all()
            }
            shreds = session.execute(
                select(AUDIT.c.case_id, AUDIT.c.seq, AUDIT.c.at, AUDIT.c.actor)
                .where(
                    AUDIT.c.action == "case.key.shred", AUDIT.c.seq > (manifest["audit"].get("head_seq") or 0)
                )
                .order_by(AUDIT.c.seq)
            ).all()
    finally:
        db.dispose()
    shredded = {int(case_id): (seq, at, actor) for case_id, seq, at, actor in shreds if case_id is not None}
    flagged = []
    for key in manifest["keys"]:
        case_id, version = int(key["case_id"]), int(key["version"])
        if (case_id, version) not in live and case_id in shredded:
            seq, at, actor = shredded[case_id]
            flagged.append(
                {
                    "case": key.get("case"),
                    "case_id": case_id,
                    "version": version,
                    "shredded_at": at.isoformat() if hasattr(at, "isoformat") else str(at),
                    "audit_seq": seq,
                    "by": actor,
                }
            )
    return flagged, f"keys compared with {path}"


# --- verify ------------------------------------------------------------------------------------


def verify(file: Path, passphrase: str, *, workspace: Path | None = None) -> dict[str, Any]:
    """Decrypt and check the whole backup; raises IntegrityError naming the first thing that is wrong.

    The case store is checked in memory (``sqlite3`` deserialize): nothing of it is written to disk.
    """
    case_store = bytearray()

    def sink(entry: dict[str, Any], relative: str, stream: IO[bytes]) -> None:
        if relative == DATABASE_FILE:
            while chunk := stream.read(_CHUNK):
                case_store.extend(chunk)

    manifest = _walk(Path(file), passphrase, sink)
    con = sqlite3.connect(":memory:")
    try:
        con.deserialize(bytes(case_store))
        facts = _case_store_facts(con)
    except sqlite3.DatabaseError as exc:
        raise IntegrityError(
            f"its case store is not a readable SQLite database ({exc})", location=str(file)
        ) from None
    finally:
        con.close()
    problems = _check_case_store(facts, manifest)
    if problems:
        raise IntegrityError("backup does not verify: " + "; ".join(problems), location=str(file))
    report = _summary(manifest)
    report["ok"] = True
    if workspace is not None:
        flagged, note = shredded_keys(manifest, workspace)
        report["shredded_keys"], report["shredded_keys_note"] = flagged, note
    return report


def _summary(manifest: dict[str, Any]) -> dict[str, Any]:
    files = manifest["files"]
    return {
        "backup_id": manifest["backup_id"],
        "created_at": manifest["created_at"],
        "created_by": manifest["created_by"],
        "workspace": manifest["workspace"]["path"],
        "files": len(files),
        "exhibits": sum(1 for f in files if f["path"].startswith(EVIDENCE_DIR + "/")),
        "bytes": sum(int(f["size"]) for f in files),
        "tables": manifest["tables"],
        "audit_events": manifest["audit"]["events"],
        "keys": [
            {"case": k.get("case"), "case_id": k["case_id"], "version": k["version"]}
            for k in manifest["keys"]
        ],
    }


# --- restore -----------------------------------------------------------------------------------


def restore(
    file: Path, passphrase: str, into: Path, *, actor: str, master_key_file: Path | None = None
) -> dict[str, Any]:
    """Rebuild a workspace from ``file`` in the empty or new folder ``into``, then check it.

    A backup that does not open, authenticate or match its manifest leaves nothing behind. Once the
    files are in place, the case store's integrity, every table's row count (both databases) and the
    audit chain (which must end at the manifest's head) are checked; a restored workspace that fails
    those is kept for investigation and reported (IntegrityError). Only when it passes is the restore
    recorded in the restored workspace's own audit log (``backup.restore``).
    """
    target = Path(into).expanduser()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError(
            f"{target} is not an empty folder: restore only into a new or empty one", location="--into"
        )
    created = not target.exists()
    private_folder(target)
    target = target.resolve()
    if master_key_file is not None and Path(master_key_file).expanduser().resolve().is_relative_to(target):
        raise InputError(
            "the master key must live outside the workspace folder", location="--master-key-file"
        )
    try:

        def sink(entry: dict[str, Any], relative: str, stream: IO[bytes]) -> None:
            path = target / relative
            if not path.resolve().is_relative_to(target):
                raise IntegrityError(f"names a path outside the workspace: {relative}", location=str(file))
            for parent in reversed(path.relative_to(target).parents):
                if parent != Path("."):
                    (target / parent).mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(_CHUNK):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())

        manifest = _walk(Path(file), passphrase, sink)
        revision = manifest["workspace"].get("schema_revision")
        if revision is not None and not _known_revision(revision):
            raise ConfigurationError(
                f"the backup's case store is at schema revision {revision}, which this Palermo "
                f"({__version__}) does not know: restore it with the version that made it or a newer one",
                location=str(file),
            )
        for entry in manifest["files"]:
            if entry["path"].startswith(EVIDENCE_DIR + "/"):
                os.chmod(
                    target / entry["path"], 0o400
                )  # originals are read-only, as the evidence store keeps them
    except BaseException:
        _empty(target, remove=created)
        raise
    if master_key_file is not None:
        settings = resolve(target, database_url=f"sqlite:///{target / DATABASE_FILE}")
        write_settings(
            replace(settings, master_key_file=Path(master_key_file).expanduser()), record_database_url=False
        )
    problems = _check_restored(target, manifest)
    if problems:
        raise IntegrityError(
            f"restored into {target}, but the result does not verify (kept for investigation): "
            + "; ".join(problems),
            location=str(file),
        )
    key_status = _master_key_status(target, manifest)
    url = f"sqlite:///{target / DATABASE_FILE}"
    _record(
        url,
        actor,
        "backup.restore",
        manifest["backup_id"],
        {
            "created_at": manifest["created_at"],
            "audit_head": manifest["audit"]["head_seq"],
            "files": len(manifest["files"]),
        },
    )
    report = _summary(manifest)
    report.update(ok=True, restored_into=str(target), master_key=key_status)
    return report


def _known_revision(revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    from palermo.store.database import alembic_config

    try:
        script = ScriptDirectory.from_config(alembic_config(create_engine("sqlite://")))
        return script.get_revision(revision) is not None
    except CommandError:
        return False


def _empty(target: Path, *, remove: bool) -> None:
    """Undo a failed restore: everything written into ``target`` goes (it was empty before)."""
    for child in list(target.iterdir()) if target.exists() else []:
        if child.is_dir() and not child.is_symlink():
            for path in child.rglob("*"):
                with suppress(OSError):
                    path.chmod(0o700 if path.is_dir() else 0o600)
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
    if remove:
        with suppress(OSError):
            target.rmdir()


def _check_restored(target: Path, manifest: dict[str, Any]) -> list[str]:
    con = sqlite3.connect(f"file:{target / DATABASE_FILE}?mode=ro", uri=True)
    try:
        facts = _case_store_facts(con)
    finally:
        con.close()
    problems = _check_case_store(facts, manifest)
    if (target / ANALYTICS_FILE).exists():
        try:
            duck = duckdb.connect(str(target / ANALYTICS_FILE), read_only=True)
        except duckdb.Error as exc:  # e.g. a storage format this DuckDB cannot read
            made_with = manifest.get("duckdb_version", "an unknown version")
            return [
                *problems,
                f"analytics.duckdb does not open with DuckDB {duckdb.__version__} "
                f"(made with {made_with}): {exc}",
            ]
        try:
            problems += _compare("analytics", manifest["tables"]["analytics"], _duckdb_counts(duck))
        finally:
            duck.close()
    return problems


def _master_key_status(target: Path, manifest: dict[str, Any]) -> str:
    wanted = manifest["workspace"].get("master_key_id")
    key_file = resolve(target).master_key_file
    try:
        found = MasterKey(read_master_key(key_file)).key_id
    except ConfigurationError as exc:
        return f"not usable ({exc}); install the master key the backup's keys are wrapped by ({wanted})"
    if wanted is not None and found != wanted:
        return (
            f"{key_file} is master key {found}, but the backup's case keys are wrapped by {wanted}: "
            "point --master-key-file (or settings.toml) at that key"
        )
    return f"{key_file} matches ({found})"


__all__ = ["POSTGRES_REFUSAL", "create", "restore", "shredded_keys", "verify"]
