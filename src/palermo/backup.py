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
:func:`verify` reports a backup holding a key that was crypto-shredded after it was made (MP-02), and
:func:`restore` shreds such a key again in the restored workspace. What was shredded is learnt from the
workspace the backup was made of (if it is still there) and from the shred list kept beside the master
key file (``master.key.shredded``, outside every workspace, so it survives the loss of one); when
neither is there, both say loudly that they cannot tell.

Reading a backup trusts nothing of it before it is checked: the container's KDF costs are bounded before
any key is derived, the manifest's shape is checked, and only the files a workspace holds are accepted
(``settings.toml``, ``palermo.db``, ``analytics.duckdb``, evidence originals named by their own SHA-256).

PostgreSQL workspaces are refused: their case store is backed up with the server's own tools.
"""

from __future__ import annotations

import errno
import fcntl
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
import tomllib
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO

import duckdb
from sqlalchemy import create_engine, delete, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from palermo import __version__
from palermo.errors import ConfigurationError, InputError, IntegrityError, PalermoError
from palermo.security.audit import AUDIT, AuditLog
from palermo.security.container import OpeningReader, SealingWriter, check_passphrase
from palermo.security.crypto import (
    CASE_KEYS,
    MasterKey,
    lineage_thresholds,
    read_shred_list,
    shred_list_file,
    workspace_lineage,
)
from palermo.settings import (
    ANALYTICS_FILE,
    DATABASE_FILE,
    EVIDENCE_DIR,
    PRIVATE_DIR_MODE,
    PRIVATE_FILE_MODE,
    SETTING_KEYS,
    SETTINGS_FILE,
    default_master_key_file,
    fsync_folder,
    private_file,
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
STAGING_PREFIX = ".backup-"
PARTIAL_PREFIX = ".palermo-backup-"
PARTIAL_SUFFIX = ".partial"
LOCK_FILE = ".lock"
PASSPHRASE_ENV = "PALERMO_BACKUP_PASSPHRASE"
_BLOB = re.compile(rf"{EVIDENCE_DIR}/([0-9a-f]{{2}})/([0-9a-f]{{2}})/([0-9a-f]{{64}})")
_HEX64 = re.compile(r"[0-9a-f]{64}")
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
        lineage = workspace_lineage(session)
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
            "instance": lineage[-1]["instance"] if lineage else None,
            "lineage": lineage,
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
    _remove_stale(settings.path, f"{STAGING_PREFIX}*")  # a crashed backup's plaintext snapshot copies
    _remove_stale(out.parent, f"{PARTIAL_PREFIX}*{PARTIAL_SUFFIX}")  # and its unfinished output
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=settings.path))
    staging_lock = _hold(staging / LOCK_FILE)  # tells a later backup this folder is in use, not stale
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
                private_file(staging / ANALYTICS_FILE)  # 0600 before it holds anything
                shutil.copyfile(settings.analytics_file, staging / ANALYTICS_FILE)
            say("copying the case store (SQLite online backup)")
            source = sqlite3.connect(db_file, timeout=30)
            private_file(staging / DATABASE_FILE)
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
        tmp_fd, tmp_name = tempfile.mkstemp(
            dir=out.parent, prefix=f"{PARTIAL_PREFIX}{out.name}.", suffix=PARTIAL_SUFFIX
        )
        tmp = Path(tmp_name)
        raw = os.fdopen(tmp_fd, "wb")
        try:
            fcntl.flock(raw.fileno(), fcntl.LOCK_EX)  # held until the file has its name: not stale
            hashing = _HashingWriter(raw)
            try:
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
            except OSError as exc:
                if exc.errno == errno.EFBIG:
                    raise InputError(
                        f"the file system of {out.parent} refuses a file this large ({hashing.size} bytes "
                        "written so far; FAT32, common on USB sticks, holds at most 4 GiB per file): write "
                        "the backup to an exFAT, NTFS, ext4 or APFS disk",
                        location="--out",
                    ) from None
                raise
            os.chmod(tmp, 0o600)
            _give_name(tmp, out)
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
            raw.close()
            tmp.unlink(missing_ok=True)
        fsync_folder(out.parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        staging_lock.close()
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


#: Hard links are not supported here (FAT32, exFAT, many SMB and NFS shares).
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK}


def _give_name(tmp: Path, out: Path) -> None:
    """Give the finished backup its name without ever replacing a file that appeared under it meanwhile.

    A hard link fails if the name is taken. Where the file system has no hard links (a FAT32 or exFAT
    USB stick, many network shares), the name is checked to be free and the file renamed: a file that
    appears under that name in the instant between the check and the rename would be replaced. That race
    needs another program writing the same new name in the same moment; refusing every backup to such
    disks, the usual way backups leave the building, would be worse.
    """
    try:
        os.link(tmp, out)
        return
    except FileExistsError:
        raise InputError(
            f"{out} appeared while the backup was written; not replaced", location="--out"
        ) from None
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
    if out.exists() or out.is_symlink():
        raise InputError(f"{out} appeared while the backup was written; not replaced", location="--out")
    os.rename(tmp, out)


def _hold(lock_file: Path) -> IO[bytes]:
    """Create and lock ``lock_file`` (flock, released when the process ends, even by a crash)."""
    fd = os.open(lock_file, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE)
    handle = os.fdopen(fd, "wb")
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    return handle


def _remove_stale(folder: Path, pattern: str) -> list[Path]:
    """Remove what a crashed backup left in ``folder`` (snapshot folders, unfinished output files).

    A leftover is stale when nobody holds its lock: a running backup holds the lock of its snapshot
    folder (``.lock`` inside) and of its unfinished file, and the operating system drops a lock when
    its process dies, however it died. A snapshot folder without a lock file (made by an older version,
    or caught in the instant before its lock was taken) is stale only once it is a minute old.
    """
    removed = []
    for path in sorted(folder.glob(pattern)):
        lock = path / LOCK_FILE if path.is_dir() and not path.is_symlink() else path
        try:
            if not lock.exists():
                if time.time() - path.lstat().st_mtime < 60:
                    continue
            else:
                with lock.open("rb") as fh:
                    try:
                        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue  # a backup running now
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
        except OSError:
            continue  # not ours to fight over: the next backup tries again
    return removed



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
    _check_manifest(manifest, name)
    return manifest


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_manifest(manifest: dict[str, Any], name: str) -> None:
    """Refuse a manifest of the wrong shape (IntegrityError), and any file it lists that a workspace
    does not hold: only ``settings.toml``, ``palermo.db``, ``analytics.duckdb`` and evidence originals
    named by their own SHA-256. An authentic container is only as trustworthy as whoever had the
    passphrase; it must not plant a ``.bashrc``, a script under ``evidence/tmp/``, a ``-journal`` or a
    ``.wal`` that the databases would replay, nor a blob under a name that is not its digest."""

    def need(ok: bool, what: str) -> None:
        if not ok:
            raise IntegrityError(f"its manifest is malformed: {what}", location=name)

    for field in ("backup_id", "created_at", "created_by"):
        need(isinstance(manifest.get(field), str), f"{field} is not text")
    workspace: Any = manifest.get("workspace")
    need(isinstance(workspace, dict) and isinstance(workspace.get("path"), str), "workspace.path")
    for field in ("schema_revision", "master_key_id"):
        need(isinstance(workspace.get(field), str | None), f"workspace.{field}")
    audit: Any = manifest.get("audit")
    need(isinstance(audit, dict), "audit")
    need(_is_int(audit.get("events")), "audit.events")
    need(audit.get("head_seq") is None or _is_int(audit.get("head_seq")), "audit.head_seq")
    for field in ("genesis", "head_hash", "instance"):
        need(isinstance(audit.get(field), str | None), f"audit.{field}")
    lineage: Any = audit.get("lineage", [])  # absent from backups made before instances were recorded
    need(
        isinstance(lineage, list)
        and all(
            isinstance(s, dict)
            and isinstance(s.get("instance"), str)
            and isinstance(s.get("from_instance"), str | None)
            and (s.get("from_head") is None or _is_int(s.get("from_head")))
            for s in lineage
        ),
        "audit.lineage",
    )
    tables: Any = manifest.get("tables")
    need(isinstance(tables, dict), "tables")
    for group in ("case_store", "analytics"):
        counts: Any = tables.get(group)
        need(
            isinstance(counts, dict) and all(isinstance(k, str) and _is_int(v) for k, v in counts.items()),
            f"tables.{group}",
        )
    keys: Any = manifest.get("keys")
    need(isinstance(keys, list), "keys")
    for key in keys:
        need(
            isinstance(key, dict)
            and _is_int(key.get("case_id"))
            and _is_int(key.get("version"))
            and isinstance(key.get("case"), str | None),
            f"keys entry {key!r}",
        )
    files: Any = manifest.get("files")
    need(isinstance(files, list), "files")
    seen: set[str] = set()
    for entry in files:
        need(
            isinstance(entry, dict)
            and isinstance(entry.get("path"), str)
            and _is_int(entry.get("size"))
            and entry["size"] >= 0
            and isinstance(entry.get("sha256"), str)
            and _HEX64.fullmatch(entry["sha256"]) is not None,
            f"files entry {entry!r}",
        )
        path = entry["path"]
        blob = _BLOB.fullmatch(path)
        allowed = path in (SETTINGS_FILE, DATABASE_FILE, ANALYTICS_FILE) or (
            blob is not None and blob[3] == entry["sha256"] and blob[3][:4] == blob[1] + blob[2]
        )
        if not allowed:
            raise IntegrityError(
                f"its manifest lists {path!r}, which a workspace does not hold (only settings.toml, "
                "palermo.db, analytics.duckdb and evidence/ab/cd/<its own SHA-256>): refused",
                location=name,
            )
        need(path not in seen, f"{path} is listed twice")
        seen.add(path)
    need(DATABASE_FILE in seen and SETTINGS_FILE in seen, "it lists no palermo.db or no settings.toml")


def _walk(
    file: Path, passphrase: str, sink: Callable[[dict[str, Any], str, IO[bytes]], None]
) -> dict[str, Any]:
    """Open, authenticate and read the whole backup; each file goes to ``sink(entry, path, stream)``
    (which must read the stream to its end) and is checked against the manifest's size and SHA-256."""
    name = str(file)
    if not file.is_file():
        raise InputError(f"{file} is not a file", location="FILE")
    try:
        raw_file = file.open("rb")
    except OSError as exc:
        raise InputError(f"{file} cannot be read ({exc.strerror})", location="FILE") from None
    with raw_file as raw:
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
    if ("lineage" in held and held["lineage"] != facts["audit"]["lineage"]) or (
        "instance" in held and held["instance"] != facts["audit"]["instance"]
    ):
        problems.append("the workspace's line of descent in its audit log is not the one the manifest says")
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
    flagged, note, _compared = _shredded_in_workspace(manifest, workspace)
    return flagged, note


def _backup_line(manifest: dict[str, Any]) -> dict[str, int]:
    """Each instance of the backup's line of descent and the audit seq after which its shreds are not in
    the backup (:func:`palermo.security.crypto.lineage_thresholds`)."""
    audit = manifest["audit"]
    lineage = audit.get("lineage")
    if not lineage and audit.get("genesis"):
        lineage = [{"instance": audit["genesis"], "from_instance": None, "from_head": None}]
    return lineage_thresholds(lineage or [], audit.get("head_seq") or 0)


def _shredded_in_workspace(
    manifest: dict[str, Any], workspace: Path
) -> tuple[list[dict[str, Any]], str, str | None]:
    """:func:`shredded_keys`, and the instance whose shreds the comparison covers (None when none).

    The workspace counts only when it is on the backup's line of descent: the copy the backup was made
    of, or one it descends from (whose shreds after the backup's line left it apply). A copy restored
    from the backup's workspace (a drill) or a sibling has a future of its own: its shreds are not this
    backup's, and its audit seqs do not compare with the backup's."""
    path = Path(workspace).expanduser().resolve()
    if not (path / SETTINGS_FILE).exists():
        return [], f"no workspace at {path} to compare keys with", None
    line = _backup_line(manifest)
    try:
        db = Database(resolve(path).database_url)
        try:
            with db.read() as session:
                lineage = workspace_lineage(session)
                if not lineage or lineage[0]["instance"] != manifest["audit"].get("genesis"):
                    return (
                        [],
                        f"{path} is not the workspace this backup was made of "
                        "(its audit log begins elsewhere)",
                        None,
                    )
                instance = str(lineage[-1]["instance"])
                if instance not in line:
                    return (
                        [],
                        f"{path} is a copy restored from this backup's workspace line, not on it "
                        "(its shreds are its own)",
                        None,
                    )
                live = {
                    (int(c), int(v))
                    for c, v in session.execute(select(CASE_KEYS.c.case_id, CASE_KEYS.c.version)).all()
                }
                shreds = session.execute(
                    select(AUDIT.c.case_id, AUDIT.c.seq, AUDIT.c.at, AUDIT.c.actor)
                    .where(AUDIT.c.action == "case.key.shred", AUDIT.c.seq > line[instance])
                    .order_by(AUDIT.c.seq)
                ).all()
        finally:
            db.dispose()
    except (PalermoError, SQLAlchemyError, OSError) as exc:
        return [], f"the workspace at {path} could not be read to compare keys ({exc})", None
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
                    "source": f"workspace {path}",
                }
            )
    return flagged, f"keys compared with {path}", instance


def _shredded_in_lists(
    manifest: dict[str, Any], key_files: list[Path], overruled: str | None
) -> tuple[list[dict[str, Any]], list[str], list[str], set[str]]:
    """The keys the backup holds whose case a shred list (beside a master key file) says was shredded, on
    the backup's line of descent, after the backup's copy of it; the lists read, notes (lists missing,
    torn, shreds of other copies left out) and the instances the lists are complete for.

    Entries of ``overruled`` (the instance whose own audit log was compared) are left to that log: a line
    for a shred whose transaction then failed is not a shred. An entry written before instances were
    recorded names only the workspace's genesis; it is matched as before, by genesis and seq."""
    genesis = manifest["audit"].get("genesis")
    head = manifest["audit"].get("head_seq") or 0
    line = _backup_line(manifest)
    flagged: list[dict[str, Any]] = []
    read: list[str] = []
    notes: list[str] = []
    complete: set[str] = set()
    seen: set[Path] = set()
    elsewhere = 0
    for key_file in key_files:
        key_file = Path(key_file).expanduser().resolve()
        if key_file in seen:
            continue
        seen.add(key_file)
        found = read_shred_list(key_file)
        name = shred_list_file(key_file)
        if found is None:
            notes.append(f"no shred list at {name}")
            continue
        read.append(f"shred list {name}")
        if found.torn:
            notes.append(
                f"the last line of {name} is torn (a crash while a shred was being listed, so that shred "
                "never committed): ignored"
            )
        for instance, after in line.items():
            since = found.complete_after(instance)
            if since is not None and since <= after:
                complete.add(instance)
        for entry in found.shreds:
            seq: Any = entry.get("audit_seq")
            listed: Any = entry.get("instance")
            if entry["workspace_genesis"] != genesis:
                continue  # another workspace's
            if listed is None:  # listed before instances were recorded
                if _is_int(seq) and seq <= head:
                    continue
            elif listed not in line:
                elsewhere += 1  # a drill's or a sibling copy's shred: not this backup's line
                continue
            elif listed == overruled or (_is_int(seq) and seq <= line[listed]):
                continue
            flagged += [
                {
                    "case": key.get("case"),
                    "case_id": key["case_id"],
                    "version": key["version"],
                    "shredded_at": str(entry.get("at")),
                    "audit_seq": seq,
                    "by": entry.get("by"),
                    "source": f"shred list {name}",
                }
                for key in manifest["keys"]
                if int(key["case_id"]) == entry["case_id"]
            ]
    if elsewhere:
        notes.append(
            f"{elsewhere} listed shred(s) made in other copies of this workspace (restored elsewhere) "
            "left out: they are not of this backup's line"
        )
    return flagged, read, notes, complete


def known_shreds(manifest: dict[str, Any], workspace: Path | None, key_files: list[Path]) -> dict[str, Any]:
    """Every key the backup holds that was crypto-shredded after it was made, as far as can be known.

    Two sources, because the workspace the backup was made of is often exactly what was lost: that
    workspace (``workspace``, by default the path in the manifest, if it is there on the backup's line of
    descent), and the shred lists kept beside the master key files (outside every workspace). Each
    instance of the backup's line must be covered by one of them from where the backup left it: the
    workspace covers its own instance, a list the instances it says it is complete for. Otherwise
    ``known`` is False: a key shredded since the backup cannot be told from one that never was, and the
    caller must say so (what was found is still reported and re-applied).
    """
    place = Path(workspace) if workspace is not None else Path(manifest["workspace"]["path"])
    flagged, note, compared = _shredded_in_workspace(manifest, place)
    from_lists, lists, notes, complete = _shredded_in_lists(manifest, key_files, compared)
    merged: dict[tuple[int, int], dict[str, Any]] = {}
    for key in [*flagged, *from_lists]:
        merged.setdefault((key["case_id"], key["version"]), key)
    sources = ([f"workspace {place.expanduser().resolve()}"] if compared else []) + lists
    line = _backup_line(manifest)
    uncovered = [i for i in line if i != compared and i not in complete]
    known = (bool(line) and not uncovered) or not manifest["keys"]  # no key held: none can come back
    if not manifest["keys"]:
        summary = "the backup holds no case keys: nothing shredded can come back"
    elif known:
        summary = "shredded keys checked against " + ", ".join(sources)
        if notes:
            summary += " (" + "; ".join(notes) + ")"
    else:
        why = [note] if not compared else []
        if sources:
            why.append(
                "checked " + ", ".join(sources) + f", but nothing covers {len(uncovered)} of the "
                f"{len(line)} copies on this backup's line since it (a shred list started after the backup "
                "was made, or made before lists were kept)"
            )
        summary = (
            "CANNOT TELL which case keys were crypto-shredded since this backup was made: "
            + "; ".join([*why, *notes])
            + ". Any such key is back, and its victims' identities can be decrypted again (MP-02)"
        )
    return {
        "keys": sorted(merged.values(), key=lambda k: (k["case_id"], k["version"])),
        "sources": sources,
        "known": known,
        "note": summary,
    }


# --- verify ------------------------------------------------------------------------------------


def verify(file: Path, passphrase: str, *, workspace: Path | None = None) -> dict[str, Any]:
    """Decrypt and check the whole backup; raises IntegrityError naming the first thing that is wrong.

    The case store is checked in memory (``sqlite3`` deserialize): nothing of it is written to disk.
    Keys shredded since the backup are looked for in ``workspace`` (by default the one named in the
    manifest) and in the shred list beside its master key file (or the default master key file).
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
    manifest["audit"].setdefault("lineage", facts["audit"]["lineage"])  # a backup from before instances
    report = _summary(manifest)
    report["ok"] = True
    place = Path(workspace) if workspace is not None else Path(manifest["workspace"]["path"])
    shreds = known_shreds(manifest, place, [_key_file_of(place)])
    report["shredded_keys"], report["shredded_keys_note"] = shreds["keys"], shreds["note"]
    report["shreds_known"] = shreds["known"]
    return report


def _key_file_of(workspace: Path) -> Path:
    """The master key file ``workspace`` uses, or the default one when it is not there to say."""
    try:
        if (Path(workspace).expanduser() / SETTINGS_FILE).exists():
            return resolve(Path(workspace)).master_key_file
    except PalermoError:
        pass
    return default_master_key_file()


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
        "workspace_instance": manifest["audit"].get("instance"),
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

    The files are written to a private sibling folder (``.NAME.restoring-*``) and moved to ``into``
    only once everything below is done, so a restore that is killed part-way never leaves a folder
    that looks like a workspace. A backup that does not open, authenticate or match its manifest
    leaves nothing behind (nor the parent folders made for it). Once the files are in place, the case
    store's integrity, every table's row count (both databases) and the audit chain (which must end at
    the manifest's head) are checked; a result that fails is kept for investigation in the sibling
    folder, not under ``into``, and reported (IntegrityError).

    Keys crypto-shredded since the backup was made (MP-02) are shredded again in the restored case
    store, as far as they can be known (:func:`known_shreds`): each is deleted and recorded as a
    ``case.key.shred`` "re-applied on restore", in the same transaction as ``backup.restore``. When
    they cannot be known, the report says so (``shreds_known`` False).
    """
    target = Path(into).expanduser()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError(
            f"{target} is not an empty folder: restore only into a new or empty one", location="--into"
        )
    target = target.resolve()
    key_file = Path(master_key_file).expanduser().resolve() if master_key_file is not None else None
    if key_file is not None and key_file.is_relative_to(target):
        raise InputError(
            "the master key must live outside the workspace folder", location="--master-key-file"
        )
    made: list[Path] = []
    try:
        _make_parents(target.parent, made)
        stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.restoring-", dir=target.parent))
    except OSError as exc:
        _remove_parents(made)
        raise InputError(
            f"cannot create the restored workspace beside {target} ({exc.strerror or exc})", location="--into"
        ) from None
    try:

        def sink(entry: dict[str, Any], relative: str, stream: IO[bytes]) -> None:
            path = stage / relative
            if not path.resolve().is_relative_to(stage):
                raise IntegrityError(f"names a path outside the workspace: {relative}", location=str(file))
            for parent in reversed(path.relative_to(stage).parents):
                if parent != Path("."):
                    (stage / parent).mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(_CHUNK):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())

        try:
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
                    os.chmod(stage / entry["path"], 0o400)  # read-only, as the evidence store keeps them
            dropped = _settle_settings(stage, key_file, str(file))
        except OSError as exc:
            raise ConfigurationError(
                f"the restored workspace could not be written ({exc.strerror or exc})", location=str(stage)
            ) from None
    except BaseException:
        _empty(stage, remove=True)
        _remove_parents(made)
        raise
    try:
        problems, facts = _check_restored(stage, manifest)
    except BaseException:  # the check itself broke (interrupted, say): not a result kept for investigation
        _empty(stage, remove=True)
        _remove_parents(made)
        raise
    if problems:
        raise IntegrityError(
            f"restored into {stage} (not moved to {target}), but the result does not verify "
            "(kept for investigation): " + "; ".join(problems),
            location=str(file),
        )
    try:
        manifest["audit"].setdefault("lineage", facts["audit"]["lineage"])  # a backup from before instances
        key_status, key_ok = _master_key_status(stage, manifest)
        restored_key_file = resolve(stage).master_key_file
        source = Path(manifest["workspace"]["path"])
        shreds = known_shreds(manifest, source, [restored_key_file, _key_file_of(source)])
        instance = _record_restore(f"sqlite:///{stage / DATABASE_FILE}", actor, manifest, shreds)
    except BaseException:
        # a decrypted copy of every case must not be left behind by a failure that is not the restored
        # data's fault (an unreadable shred list, a full disk while recording): only a result that does not
        # verify is kept, above, for investigation
        _empty(stage, remove=True)
        _remove_parents(made)
        raise
    try:
        _move_into_place(stage, target)
    except OSError as exc:
        raise ConfigurationError(
            f"the restored workspace is complete and recorded in {stage}, but could not be moved to {target} "
            f"({exc.strerror or exc}): move it there by hand",
            location=str(target),
        ) from None
    fsync_folder(target.parent)
    report = _summary(manifest)
    report.update(
        ok=True,
        restored_into=str(target),
        master_key=key_status,
        master_key_matches=key_ok,
        shredded_keys_reapplied=shreds["keys"],
        shreds_known=shreds["known"],
        shreds_note=shreds["note"],
        settings_dropped=dropped,
        instance=instance,
    )
    return report


def _make_parents(folder: Path, made: list[Path]) -> None:
    """Create ``folder`` and its missing parents, adding each to ``made`` as it is created (deepest
    first once done), so a failure part-way can still undo what was made."""
    missing = []
    current = folder
    while not current.exists() and not current.is_symlink():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        path.mkdir(mode=PRIVATE_DIR_MODE)
        made.insert(0, path)


def _remove_parents(made: list[Path]) -> None:
    for path in made:  # deepest first; a folder someone else has put something in stays
        with suppress(OSError):
            path.rmdir()


def _settle_settings(stage: Path, key_file: Path | None, name: str) -> list[str]:
    """Rewrite the restored ``settings.toml`` from the known settings only; returns those dropped.

    The restored case store is the ``palermo.db`` in the folder: a ``database_url`` would point the
    workspace at another database than the one just restored and checked, so it is dropped. An unknown
    key, or a value of the wrong type, refuses the backup. ``key_file`` (``--master-key-file``) is
    recorded in place of the backed-up path.
    """
    path = stage / SETTINGS_FILE
    try:
        stored = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise IntegrityError(f"its settings.toml is not valid TOML ({exc})", location=name) from None
    unknown = sorted(set(stored) - SETTING_KEYS)
    if unknown:
        raise IntegrityError(f"its settings.toml holds unknown settings: {', '.join(unknown)}", location=name)
    dropped = ["database_url"] if "database_url" in stored else []
    if dropped:
        path.write_text(
            "".join(f"{k} = {json.dumps(v)}\n" for k, v in stored.items() if k != "database_url"),
            encoding="utf-8",
        )
    try:
        settings = resolve(stage, database_url=f"sqlite:///{stage / DATABASE_FILE}", master_key_file=key_file)
    except ConfigurationError as exc:
        raise IntegrityError(
            f"its settings.toml does not hold valid settings ({exc.message})", location=name
        ) from None
    write_settings(settings, record_database_url=False)
    return dropped


def _move_into_place(stage: Path, target: Path) -> None:
    """Give the restored workspace its name: one rename (an empty ``target`` folder is replaced); where
    that is impossible (``target`` is a mount point), the files are moved in one by one."""
    try:
        os.rename(stage, target)
        return
    except OSError:
        if not target.is_dir():
            raise
    for child in stage.iterdir():
        os.rename(child, target / child.name)
    stage.rmdir()
    os.chmod(target, PRIVATE_DIR_MODE)


def _record_restore(url: str, actor: str, manifest: dict[str, Any], shreds: dict[str, Any]) -> str:
    """Record ``backup.restore`` and re-apply each known shred, in one transaction: a restore is never
    recorded as done while a key shredded since the backup is still there. Returns the restored copy's
    new instance id.

    The restored workspace is a new *instance* (:func:`palermo.security.crypto.workspace_lineage`): the
    event names it, and the instance it came from (its audit head is ``audit_head``), so that a shred
    made in it (a restore drill, say) is never taken for a shred of the workspace it was restored from,
    nor the other way round."""
    instance = uuid.uuid4().hex
    line = manifest["audit"].get("lineage") or []
    by_case: dict[int, list[dict[str, Any]]] = {}
    for key in shreds["keys"]:
        by_case.setdefault(int(key["case_id"]), []).append(key)
    db = Database(url)
    try:
        with db.transaction() as session:
            log = AuditLog()
            log.record(
                session,
                actor=actor,
                action="backup.restore",
                object_type="backup",
                object_id=manifest["backup_id"],
                detail={
                    "created_at": manifest["created_at"],
                    "audit_head": manifest["audit"]["head_seq"],
                    "files": len(manifest["files"]),
                    "shredded_keys_reapplied": [[k["case_id"], k["version"]] for k in shreds["keys"]],
                    "shreds_checked_against": shreds["sources"],
                    "shreds_known": shreds["known"],
                    "instance": instance,
                    "restored_from_instance": line[-1]["instance"] if line else manifest["audit"]["genesis"],
                },
            )
            for case_id, keys in sorted(by_case.items()):
                result = session.execute(
                    delete(CASE_KEYS).where(
                        CASE_KEYS.c.case_id == case_id,
                        CASE_KEYS.c.version.in_([int(k["version"]) for k in keys]),
                    )
                )
                log.record(
                    session,
                    actor=actor,
                    action="case.key.shred",
                    object_type="case",
                    object_id=case_id,
                    case_id=case_id,
                    detail={
                        "keys": int(getattr(result, "rowcount", 0) or 0),
                        "versions": [int(k["version"]) for k in keys],
                        "reason": "re-applied on restore: shredded after the backup was made",
                        "backup_id": manifest["backup_id"],
                        "shredded_at": keys[0]["shredded_at"],
                        "shredded_by": keys[0]["by"],
                        "source": keys[0]["source"],
                    },
                )
    finally:
        db.dispose()
    return instance


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


def _check_restored(target: Path, manifest: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
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
            ], facts
        try:
            problems += _compare("analytics", manifest["tables"]["analytics"], _duckdb_counts(duck))
        finally:
            duck.close()
    return problems, facts


def _master_key_status(target: Path, manifest: dict[str, Any]) -> tuple[str, bool]:
    """What the restored workspace's master key file is, and whether it opens the backup's case keys."""
    wanted = manifest["workspace"].get("master_key_id")
    key_file = resolve(target).master_key_file
    try:
        found = MasterKey(read_master_key(key_file)).key_id
    except ConfigurationError as exc:
        return (
            f"not usable ({exc}); install the master key the backup's keys are wrapped by ({wanted})",
            False,
        )
    if wanted is not None and found != wanted:
        return (
            f"{key_file} is master key {found}, but the backup's case keys are wrapped by {wanted}: "
            "point --master-key-file (or settings.toml) at that key",
            False,
        )
    return f"{key_file} matches ({found})", True


__all__ = ["POSTGRES_REFUSAL", "create", "known_shreds", "restore", "shredded_keys", "verify"]
