"""``palermo backup create|verify|restore`` end to end: a real SQLite case store, DuckDB and evidence store.

Requirements DR-03 (back up, protect cryptographically, test for integrity; restore with per-table row
counts), MP-01 (a backup is an encrypted container with a manifest), MP-02 (backups holding a shredded
key are flagged) and SC-02 (no victim canary in the clear in a backup).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from palermo.cli.main import run
from palermo.workspace import Workspace

PASSPHRASE = "correct horse battery staple"
IDENTITY = ("Zqxwyvna Canarytest", "17 Qwpzzk Canary Lane", "+1 555 0142 9931")
EXHIBIT_CANARY = "Qwertzcanary Springfield"  # a place name only the exhibit has, in the clear
CALLER = "+12025550187"  # a number only the exhibit has; DuckDB stores it normalised, in the clear


class Cli:
    """Runs ``palermo`` in-process as the console script does: (exit code, stdout, stderr)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        self.monkeypatch, self.capsys = monkeypatch, capsys
        monkeypatch.setenv("PALERMO_USER", "officer.backup")
        monkeypatch.setenv("PALERMO_BACKUP_PASSPHRASE", PASSPHRASE)
        monkeypatch.setenv("COLUMNS", "200")

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.monkeypatch.setattr(sys, "argv", ["palermo", *args])
        try:
            run()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(monkeypatch, capsys)


@pytest.fixture
def ws(tmp_path: Path, key_file: Path, test_law: object) -> Iterator[Workspace]:
    """A SQLite workspace with a case, a victim whose identity is the canary, and an imported call record."""
    workspace = Workspace.init(tmp_path / "ws", master_key_file=key_file, law=test_law, actor="officer.test")  # type: ignore[arg-type]
    workspace.cases.create("HT-1", "Test ring", "zz")
    workspace.cases.create("HT-2", "Second ring", "zz")
    workspace.parties.add_victim(
        "HT-1", "V1", age_at_offence=16, legal_name=IDENTITY[0], address=IDENTITY[1], contact=IDENTITY[2]
    )
    cdr = tmp_path / "incoming" / "cdr.csv"
    cdr.parent.mkdir()
    cdr.write_text(
        "record_id,start_time,caller,callee,duration_s,type,cell_id,cell_city\n"
        f"r1,2025-03-14T22:41:07,(202) 555-0187,+1 202 555 0178,65,voice,C-101,{EXHIBIT_CANARY}\n"
        "r2,2025-03-14T23:02:00,+1 202 555 0178,(202) 555-0187,0,sms,C-101,Springfield\n",
        encoding="utf-8",
    )
    evidence = workspace.evidence.add("HT-1", cdr, source="test", acquired_by="analyst")
    analytics = workspace.analytics
    analytics.ingest("HT-1", evidence.id, "cdr_csv", {"region": "US"})
    analytics.close()
    yield workspace
    workspace.close()


def _counts(ws_path: Path) -> tuple[dict[str, int], dict[str, int]]:
    import sqlite3

    con = sqlite3.connect(ws_path / "palermo.db")
    names = [
        r[0]
        for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
    ]
    store = {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    con.close()
    duck = duckdb.connect(str(ws_path / "analytics.duckdb"), read_only=True)
    tables = [
        r[0]
        for r in duck.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type='BASE TABLE'"
        ).fetchall()
    ]
    analytics = {t: duck.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # type: ignore[index]
    duck.close()
    return store, analytics


def _create(cli: Cli, ws: Workspace, out: Path) -> dict[str, Any]:
    code, stdout, err = cli("backup", "create", "--out", str(out), "-w", str(ws.path), "--json")
    assert code == 0, err
    report: dict[str, Any] = json.loads(stdout)
    return report


def test_create_verify_restore_round_trip(cli: Cli, ws: Workspace, tmp_path: Path) -> None:
    wal = ws.path / "palermo.db-wal"
    assert (
        wal.exists() and wal.stat().st_size > 0
    )  # committed rows still in the WAL: a file copy would miss them
    before_store, before_analytics = _counts(ws.path)
    assert before_analytics["calls"] == 2
    out = tmp_path / "offsite" / "ws.pbak"
    out.parent.mkdir()

    report = _create(cli, ws, out)
    assert out.stat().st_mode & 0o777 == 0o600
    assert report["files"] == 4 and report["exhibits"] == 1  # settings, two databases, one original
    assert report["tables"] == {"case_store": before_store, "analytics": before_analytics}
    assert [(k["case"], k["version"]) for k in report["keys"]] == [("HT-1", 1), ("HT-2", 1)]
    assert not list(ws.path.glob(".backup-*"))  # the snapshot copies are gone
    event = ws.audit.events()[-1]
    assert (event.action, event.actor, event.object_id) == (
        "backup.create",
        "officer.backup",
        report["backup_id"],
    )
    import hashlib

    assert event.detail["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest() == report["sha256"]
    assert event.detail["key_versions"] == [[1, 1], [2, 1]]

    code, stdout, err = cli("backup", "verify", str(out), "-w", str(ws.path), "--json")
    assert code == 0, err
    verified = json.loads(stdout)
    assert verified["ok"] and verified["files"] == 4 and verified["exhibits"] == 1
    assert verified["tables"]["case_store"] == before_store and verified["shredded_keys"] == []

    target = tmp_path / "restored"
    code, stdout, err = cli("backup", "restore", str(out), "--into", str(target), "--json")
    assert code == 0, err
    restored = json.loads(stdout)
    assert restored["ok"] and "matches" in restored["master_key"]
    after_store, after_analytics = _counts(target)
    assert after_analytics == before_analytics
    assert after_store["audit_events"] == before_store["audit_events"] + 1  # + backup.restore
    assert {k: v for k, v in after_store.items() if k != "audit_events"} == {
        k: v for k, v in before_store.items() if k != "audit_events"
    }
    assert (target / "palermo.db").stat().st_mode & 0o777 == 0o600
    blob = next(p for p in (target / "evidence").rglob("*") if p.is_file())
    assert blob.stat().st_mode & 0o777 == 0o400

    code, stdout, err = cli("audit", "verify", "-w", str(target))
    assert code == 0 and "audit log intact" in stdout, err
    code, stdout, err = cli("evidence", "verify", "-w", str(target))
    assert code == 0, err
    with Workspace.open(target, actor="officer.test") as back:
        victim = next(p for p in back.parties.list("HT-1") if p.role == "victim")
        assert back.parties.reveal_identity(victim.id, user="advocate.a").legal_name == IDENTITY[0]
        actions = [e.action for e in back.audit.events()]
        assert actions[before_store["audit_events"] :][:1] == ["backup.restore"]  # the first after the backup


def test_the_backup_holds_no_victim_canary_in_the_clear(cli: Cli, ws: Workspace, tmp_path: Path) -> None:
    """SC-02: the workspace holds the canaries in the clear (the exhibit, DuckDB); the backup must not."""
    plain = b"".join(p.read_bytes() for p in ws.path.rglob("*") if p.is_file())
    assert EXHIBIT_CANARY.encode() in plain and CALLER.encode() in plain  # there is something to leak
    out = tmp_path / "ws.pbak"
    _create(cli, ws, out)
    sealed = out.read_bytes()
    canaries = (*IDENTITY, EXHIBIT_CANARY, CALLER, "2025-03-14T22:41:07", "HT-1", "Test ring", "audit_events")
    assert [c for c in canaries if c.encode() in sealed] == []
    assert [c for c in canaries if c.encode("utf-16-le") in sealed] == []


@pytest.mark.parametrize(
    ("where", "message"),
    [
        (lambda size: 40, "does not open with this passphrase"),  # inside the header
        (lambda size: size // 2, "does not authenticate"),
        (lambda size: size - 1, "does not authenticate"),  # the last chunk's tag
    ],
    ids=["header", "middle", "last-byte"],
)
def test_one_flipped_byte_is_refused(
    cli: Cli, ws: Workspace, tmp_path: Path, where: object, message: str
) -> None:
    out = tmp_path / "ws.pbak"
    _create(cli, ws, out)
    data = bytearray(out.read_bytes())
    data[where(len(data))] ^= 0x01  # type: ignore[operator]
    out.write_bytes(bytes(data))
    code, _stdout, err = cli("backup", "verify", str(out), "-w", str(ws.path))
    assert code == 1 and message in err and "Traceback" not in err
    target = tmp_path / "restored"
    code, _stdout, err = cli("backup", "restore", str(out), "--into", str(target))
    assert code == 1 and message in err
    assert not target.exists()  # nothing half-restored


def test_a_truncated_backup_or_a_wrong_passphrase_is_refused(
    cli: Cli, ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "ws.pbak"
    _create(cli, ws, out)
    short = tmp_path / "short.pbak"
    short.write_bytes(out.read_bytes()[:-300])
    code, _stdout, err = cli("backup", "verify", str(short))
    assert code == 1 and ("truncated" in err or "does not authenticate" in err)
    monkeypatch.setenv("PALERMO_BACKUP_PASSPHRASE", PASSPHRASE + "!")
    code, _stdout, err = cli("backup", "verify", str(out))
    assert code == 1 and "does not open with this passphrase" in err


def test_restore_refuses_a_folder_that_is_not_empty(cli: Cli, ws: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "ws.pbak"
    _create(cli, ws, out)
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    code, _stdout, err = cli("backup", "restore", str(out), "--into", str(target))
    assert code == 2 and "not an empty folder" in err
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]


def test_verify_flags_a_backup_holding_a_key_since_shredded(cli: Cli, ws: Workspace, tmp_path: Path) -> None:
    """MP-02: crypto-shredding HT-1 deletes its key from the workspace, not from the backup made before."""
    old = tmp_path / "before.pbak"
    _create(cli, ws, old)
    ws.keys.shred("HT-1")
    code, stdout, err = cli("backup", "verify", str(old), "-w", str(ws.path), "--json")
    assert code == 0, err
    flagged = json.loads(stdout)["shredded_keys"]
    assert [(k["case"], k["version"], k["by"]) for k in flagged] == [("HT-1", 1, "officer.test")]
    assert "crypto-shredded" in err and "HT-1" in err and "MP-02" in err
    new = tmp_path / "after.pbak"
    _create(cli, ws, new)
    code, stdout, err = cli("backup", "verify", str(new), "-w", str(ws.path), "--json")
    assert code == 0 and json.loads(stdout)["shredded_keys"] == [] and "crypto-shredded" not in err
    assert "shredded keys checked against workspace" in err  # the check is said, even when it finds none


def test_a_busy_analytics_database_is_waited_for_then_refused(
    cli: Cli, ws: Workspace, tmp_path: Path
) -> None:
    """Another process holding DuckDB (an import, the web app) means no consistent copy: refused, nothing left
    behind."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
            "time.sleep(60)",
            str(ws.path / "analytics.duckdb"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        out = tmp_path / "ws.pbak"
        started = time.monotonic()
        code, _stdout, err = cli("backup", "create", "--out", str(out), "--wait", "1", "-w", str(ws.path))
        assert code == 1 and "in use by another process" in err and "--wait" in err
        assert time.monotonic() - started >= 1
        assert (
            not out.exists()
            and not list(tmp_path.glob(".palermo-backup-*"))
            and not list(ws.path.glob(".backup-*"))
        )
    finally:
        holder.kill()
        holder.wait()


def test_a_postgresql_workspace_is_refused_naming_pg_dump(cli: Cli, tmp_path: Path, key_file: Path) -> None:
    folder = tmp_path / "pgws"
    folder.mkdir()
    (folder / "settings.toml").write_text(
        f'database_url = "postgresql+psycopg://palermo@db.example/cases"\nmaster_key_file = "{key_file}"\n'
    )
    code, _stdout, err = cli("backup", "create", "--out", str(tmp_path / "pg.pbak"), "-w", str(folder))
    assert code == 1 and "PostgreSQL" in err and "pg_dump" in err and "pg_basebackup" in err
    assert not (tmp_path / "pg.pbak").exists()


def test_bad_targets_and_passphrases_are_refused_before_anything_is_written(
    cli: Cli, ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = len(ws.audit.events())
    existing = tmp_path / "old.pbak"
    existing.write_text("keep me")
    code, _stdout, err = cli("backup", "create", "--out", str(existing), "-w", str(ws.path))
    assert code == 2 and "never overwrites" in err and existing.read_text() == "keep me"
    code, _stdout, err = cli("backup", "create", "--out", str(ws.path / "inside.pbak"), "-w", str(ws.path))
    assert code == 2 and "inside the workspace folder" in err
    monkeypatch.setenv("PALERMO_BACKUP_PASSPHRASE", "short")
    code, _stdout, err = cli("backup", "create", "--out", str(tmp_path / "a.pbak"), "-w", str(ws.path))
    assert code == 2 and "at least 12 characters" in err
    monkeypatch.delenv("PALERMO_BACKUP_PASSPHRASE")
    monkeypatch.setattr(sys, "stdin", open(os.devnull))  # noqa: SIM115  (not a terminal: nobody to ask)
    code, _stdout, err = cli("backup", "create", "--out", str(tmp_path / "a.pbak"), "-w", str(ws.path))
    assert code == 2 and "PALERMO_BACKUP_PASSPHRASE" in err
    assert not (tmp_path / "a.pbak").exists() and len(ws.audit.events()) == events


def _reseal(source: Path, target: Path, edit: Any) -> None:
    """Re-write a backup with the same passphrase and its manifest edited: an authentic container whose
    content does not match what its manifest says (as a bug in the writer would make it)."""
    import io
    import tarfile

    from palermo.security.container import OpeningReader, SealingWriter

    with source.open("rb") as raw, target.open("wb") as out:
        reader = io.BufferedReader(OpeningReader(raw, PASSPHRASE, str(source)))
        writer = SealingWriter(out, PASSPHRASE)
        with tarfile.open(fileobj=reader, mode="r|") as old, tarfile.open(fileobj=writer, mode="w|") as new:
            while (member := old.next()) is not None:
                fh = old.extractfile(member)
                assert fh is not None
                data = fh.read()
                if member.name == "manifest.json":
                    manifest = json.loads(data)
                    edit(manifest)
                    data = json.dumps(manifest).encode()
                    member.size = len(data)
                new.addfile(member, io.BytesIO(data))
        writer.close()


def test_a_backup_whose_files_do_not_match_its_manifest_is_refused(
    cli: Cli, ws: Workspace, tmp_path: Path
) -> None:
    out, bad = tmp_path / "ws.pbak", tmp_path / "bad.pbak"
    _create(cli, ws, out)

    def wrong_digest(manifest: dict[str, Any]) -> None:
        entry = next(f for f in manifest["files"] if f["path"] == "palermo.db")
        entry["sha256"] = "0" * 64

    _reseal(out, bad, wrong_digest)
    code, _stdout, err = cli("backup", "verify", str(bad))
    assert code == 1 and "palermo.db does not match the manifest" in err
    target = tmp_path / "restored"
    code, _stdout, err = cli("backup", "restore", str(bad), "--into", str(target))
    assert code == 1 and "palermo.db does not match the manifest" in err and not target.exists()


def test_a_restore_whose_row_counts_differ_is_reported_and_kept(
    cli: Cli, ws: Workspace, tmp_path: Path
) -> None:
    out, bad = tmp_path / "ws.pbak", tmp_path / "bad.pbak"
    _create(cli, ws, out)

    def one_call_more(manifest: dict[str, Any]) -> None:
        manifest["tables"]["analytics"]["calls"] += 1

    _reseal(out, bad, one_call_more)
    target = tmp_path / "restored"
    code, _stdout, err = cli("backup", "restore", str(bad), "--into", str(target))
    assert code == 1 and "analytics table calls: 2 rows, the manifest says 3" in err
    assert "kept for investigation" in err and not target.exists()  # nobody takes it for a good one
    (kept,) = tmp_path.glob(".restored.restoring-*")
    assert str(kept) in err and (kept / "palermo.db").exists()
    with Workspace.open(kept, actor="x") as back:
        events = [e.action for e in back.audit.events()]
    assert "backup.restore" not in events  # a restore that does not verify is not recorded as done


def test_a_backup_taken_while_another_process_writes_is_one_consistent_state(
    cli: Cli, ws: Workspace, tmp_path: Path, key_file: Path
) -> None:
    """DR-03: cases and their audit records are written by another process throughout the backup; the
    restored workspace has exactly as many cases as case.create events, and its chain verifies."""
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pathlib\n"
            "from palermo.workspace import Workspace\n"
            "ws = Workspace.open(pathlib.Path(sys.argv[1]), actor='writer')\n"
            "i = 0\n"
            "print('writing', flush=True)\n"
            "while not pathlib.Path(sys.argv[2]).exists():\n"
            "    i += 1\n"
            "    ws.cases.create(f'W-{i}', 'written during the backup', 'zz')\n"
            "print(i, flush=True)\n",
            str(ws.path),
            str(stop),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PALERMO_MASTER_KEY_FILE": str(key_file)},
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "writing"
        time.sleep(0.3)
        out = tmp_path / "busy.pbak"
        _create(cli, ws, out)
    finally:
        stop.touch()
        written = int(writer.communicate(timeout=60)[0].strip() or 0)
    assert written > 0
    target = tmp_path / "restored"
    code, _stdout, err = cli("backup", "restore", str(out), "--into", str(target), "--json")
    assert code == 0, err
    with Workspace.open(target, actor="x") as back:
        cases = back.cases.list()
        creates = [e for e in back.audit.events() if e.action == "case.create"]
        assert back.audit.verify() == []
    assert len(cases) == len(creates) > 2  # HT-1, HT-2 and some of the writer's


def test_restore_into_an_empty_folder_with_another_master_key_file_says_it_does_not_match(
    cli: Cli, ws: Workspace, tmp_path: Path
) -> None:
    out = tmp_path / "ws.pbak"
    _create(cli, ws, out)
    target = tmp_path / "empty"
    target.mkdir()
    other = tmp_path / "elsewhere" / "other.key"
    other.parent.mkdir()
    other.write_bytes(os.urandom(32))
    other.chmod(0o600)
    args = ("backup", "restore", str(out), "--into", str(target), "--master-key-file", str(other), "--json")
    code, stdout, err = cli(*args)
    assert code == 0, err
    status = json.loads(stdout)["master_key"]
    assert "the backup's case keys are wrapped by" in status and str(other) in status
    assert "warning: master key" in err  # exit 0 (the right key can be installed later), but said
    assert f'master_key_file = "{other}"' in (target / "settings.toml").read_text()


def _sealed(chunks: int = 3) -> tuple[bytes, int]:
    """A container of ``chunks`` 16-byte chunks, and where its first chunk starts."""
    import io
    import struct

    from palermo.security.container import MAGIC, SealingWriter

    buffer = io.BytesIO()
    writer = SealingWriter(buffer, PASSPHRASE, chunk_bytes=16)
    writer.write(bytes(range(16 * chunks)))
    writer.close()
    data = buffer.getvalue()
    (length,) = struct.unpack(">I", data[len(MAGIC) : len(MAGIC) + 4])
    return data, len(MAGIC) + 4 + length + 32


@pytest.mark.parametrize(
    ("alter", "message"),
    [
        (
            lambda d, s: d[:s] + d[s + 36 : s + 72] + d[s : s + 36] + d[s + 72 :],
            "chunk 0",
        ),  # two chunks swapped
        (lambda d, s: d[:s] + d[s + 36 :], "chunk 0"),  # the first chunk dropped
        (lambda d, s: d[: s + 36] + d[s : s + 36] + d[s + 36 :], "chunk 1"),  # a chunk repeated
        (lambda d, s: d[: s + 72], "truncated"),  # cut after a whole chunk
        (lambda d, s: d + b"\x00", "data after its last chunk"),
    ],
    ids=["swapped", "dropped", "repeated", "cut", "appended"],
)
def test_the_container_refuses_chunks_moved_dropped_cut_or_appended(alter: Any, message: str) -> None:
    import io

    from palermo.errors import IntegrityError
    from palermo.security.container import OpeningReader

    data, start = _sealed()
    assert OpeningReader(io.BytesIO(data), PASSPHRASE, "ok").read() == bytes(range(48))
    with pytest.raises(IntegrityError, match=message):
        OpeningReader(io.BytesIO(alter(data, start)), PASSPHRASE, "altered").read()


def _forged(kdf: dict[str, Any]) -> bytes:
    """A container header anyone can write without the passphrase, with the given KDF settings."""
    import base64
    import struct

    from palermo.security.container import MAGIC

    header = json.dumps(
        {
            "cipher": "AES-256-GCM",
            "chunk_bytes": 1 << 20,
            "nonce_prefix": base64.b64encode(os.urandom(7)).decode(),
            "kdf": {"name": "argon2id", "salt": base64.b64encode(os.urandom(16)).decode(), **kdf},
        }
    ).encode()
    return MAGIC + struct.pack(">I", len(header)) + header + os.urandom(32) + os.urandom(64)


@pytest.mark.parametrize(
    ("kdf", "field"),
    [
        ({"time_cost": 64, "memory_kib": 65536, "parallelism": 4}, "time_cost"),  # minutes of work
        ({"time_cost": 0, "memory_kib": 65536, "parallelism": 4}, "time_cost"),
        ({"time_cost": 1, "memory_kib": 4 * 1024 * 1024, "parallelism": 4}, "memory_kib"),  # 4 GiB
        ({"time_cost": 1, "memory_kib": 64, "parallelism": 1}, "memory_kib"),  # below the default
        ({"time_cost": 1, "memory_kib": 800000, "parallelism": 100000}, "parallelism"),  # threads fail
        ({"time_cost": 1, "memory_kib": 65536, "parallelism": 0}, "parallelism"),  # too few lanes
        ({"time_cost": True, "memory_kib": 65536, "parallelism": 4}, "time_cost"),
        ({"time_cost": "3", "memory_kib": 65536, "parallelism": 4}, "time_cost"),
    ],
    ids=["time-64", "time-0", "memory-4g", "memory-64k", "lanes-100000", "lanes-0", "time-bool", "time-str"],
)
def test_a_forged_header_with_costs_out_of_bounds_is_refused_before_deriving(
    kdf: dict[str, Any], field: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The KDF costs are read before the header MAC can be checked: a forged header must cost nothing."""
    import io

    from palermo.errors import IntegrityError
    from palermo.security import container

    def never(*_args: object, **_kwargs: object) -> bytes:
        raise AssertionError("argon2 ran on a forged header's costs")

    monkeypatch.setattr(container, "hash_secret_raw", never)
    with pytest.raises(IntegrityError, match=f"{field} = .* is outside") as raised:
        container.OpeningReader(io.BytesIO(_forged(kdf)), PASSPHRASE, "forged.pbak")
    assert raised.value.location == "forged.pbak"


def test_costs_argon2_cannot_run_are_an_integrity_error_not_a_traceback(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from argon2.exceptions import HashingError

    from palermo.security import container

    def failing(*_args: object, **_kwargs: object) -> bytes:
        raise HashingError("Threading failure")

    monkeypatch.setattr(container, "hash_secret_raw", failing)
    forged = tmp_path / "forged.pbak"
    forged.write_bytes(_forged({"time_cost": 3, "memory_kib": 65536, "parallelism": 16}))
    code, _stdout, err = cli("backup", "verify", str(forged), "-w", str(tmp_path / "none"))
    assert code == 1 and "cannot be run here" in err and "Threading failure" in err
    assert "Traceback" not in err


def test_the_passphrase_is_nfc_normalised_before_the_kdf() -> None:
    """'é' typed as one code point or as e + combining accent is the same passphrase."""
    import io

    from palermo.security.container import OpeningReader, SealingWriter

    composed, decomposed = "caf\u00e9 au lait noir", "cafe\u0301 au lait noir"
    buffer = io.BytesIO()
    writer = SealingWriter(buffer, composed)
    writer.write(b"payload")
    writer.close()
    assert OpeningReader(io.BytesIO(buffer.getvalue()), decomposed, "nfc").read() == b"payload"


def _identity_readable(path: Path) -> bool:
    from palermo.errors import IntegrityError

    with Workspace.open(path, actor="officer.test") as back:
        victim = next(p for p in back.parties.list("HT-1") if p.role == "victim")
        try:
            return back.parties.reveal_identity(victim.id, user="advocate.a").legal_name == IDENTITY[0]
        except IntegrityError:
            return False


def _restored_events(path: Path) -> list[Any]:
    with Workspace.open(path, actor="officer.test") as back:
        return back.audit.events()


def test_restore_shreds_again_a_key_the_original_workspace_shredded_since(
    cli: Cli, ws: Workspace, tmp_path: Path, key_file: Path
) -> None:
    """MP-02 (review HIGH 1): a backup made before HT-1 was shredded must not bring HT-1's victims back."""
    from palermo.security.crypto import shred_list_file

    old = tmp_path / "before.pbak"
    _create(cli, ws, old)
    ws.keys.shred("HT-1")
    shred_list_file(key_file).unlink()  # only the original workspace can tell
    target = tmp_path / "restored"
    code, stdout, err = cli("backup", "restore", str(old), "--into", str(target), "--json")
    assert code == 0, err
    report = json.loads(stdout)
    assert [(k["case"], k["version"]) for k in report["shredded_keys_reapplied"]] == [("HT-1", 1)]
    assert report["shreds_known"] and "shredded again: case HT-1" in err and "MP-02" in err
    assert not _identity_readable(target)
    events = _restored_events(target)
    restore_event, shred_event = events[-2], events[-1]
    assert restore_event.action == "backup.restore"
    assert restore_event.detail["shredded_keys_reapplied"] == [[1, 1]]
    assert (shred_event.action, shred_event.case_id, shred_event.detail["versions"]) == (
        "case.key.shred",
        1,
        [1],
    )
    assert "re-applied on restore" in shred_event.detail["reason"]
    assert shred_event.detail["shredded_by"] == "officer.test"


def test_restore_shreds_again_from_the_list_beside_the_master_key_when_the_workspace_is_lost(
    cli: Cli, ws: Workspace, tmp_path: Path
) -> None:
    old = tmp_path / "before.pbak"
    _create(cli, ws, old)
    ws.keys.shred("HT-1")
    ws.path.rename(tmp_path / "lost")  # the disk that held the workspace is gone
    target = tmp_path / "restored"
    code, stdout, err = cli("backup", "restore", str(old), "--into", str(target), "--json")
    assert code == 0, err
    report = json.loads(stdout)
    assert [(k["case"], k["version"]) for k in report["shredded_keys_reapplied"]] == [("HT-1", 1)]
    assert report["shredded_keys_reapplied"][0]["source"].startswith("shred list ")
    assert not _identity_readable(target)
    assert _restored_events(target)[-1].action == "case.key.shred"


def test_restore_says_loudly_when_it_cannot_know_what_was_shredded(
    cli: Cli, ws: Workspace, tmp_path: Path, key_file: Path
) -> None:
    from palermo.security.crypto import shred_list_file

    old = tmp_path / "before.pbak"
    _create(cli, ws, old)
    shred_list_file(key_file).unlink()  # a master key from before shred lists were kept
    ws.path.rename(tmp_path / "lost")
    target = tmp_path / "restored"
    code, stdout, err = cli("backup", "restore", str(old), "--into", str(target), "--json")
    assert code == 0, err
    report = json.loads(stdout)
    assert report["shreds_known"] is False and "CANNOT TELL" in report["shreds_note"]
    assert "WARNING" in err and "CANNOT TELL" in err and "MP-02" in err
    assert _restored_events(target)[-1].detail["shreds_known"] is False


def _hostile(source: Path, target: Path, extra: list[tuple[str, bytes]], edit: Any = None) -> None:
    """Re-seal a backup with the right passphrase, adding files (listed in its manifest with their true size
    and SHA-256) and editing its manifest: an authentic container from someone who had the passphrase."""
    import hashlib
    import io
    import tarfile

    from palermo.security.container import OpeningReader, SealingWriter

    with source.open("rb") as raw:
        reader = io.BufferedReader(OpeningReader(raw, PASSPHRASE, str(source)))
        with tarfile.open(fileobj=reader, mode="r|") as old:
            members = []
            while (member := old.next()) is not None:
                fh = old.extractfile(member)
                assert fh is not None
                members.append((member.name, fh.read()))
    manifest = json.loads(members[0][1])
    files = dict(members[1:])
    for path, data in extra:
        manifest["files"].append(
            {"path": path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        )
        files["workspace/" + path] = data
    if edit is not None:
        edit(manifest, files)
    with target.open("wb") as out:
        writer = SealingWriter(out, PASSPHRASE)
        with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as new:
            for name, data in [("manifest.json", json.dumps(manifest).encode()), *files.items()]:
                info = tarfile.TarInfo(name)
                info.size, info.mode = len(data), 0o600
                new.addfile(info, io.BytesIO(data))
        writer.close()


@pytest.mark.parametrize(
    "extra",
    [
        [(".bashrc", b"echo pwned\n")],
        [("evidence/tmp/evil.sh", b"#!/bin/sh\n")],
        [("palermo.db-journal", b"junk")],  # would crash the check (OperationalError)
        [("analytics.duckdb.wal", b"\0" * 100)],  # DuckDB would replay it at the next open
        [("evidence/aa", b"x"), ("evidence/aa/bb/cc", b"y")],
        [("evidence/00/00/" + "0" * 64, b"not the blob its name says")],
        [("../escaped", b"x")],
    ],
    ids=["bashrc", "evidence-tmp", "db-journal", "duckdb-wal", "file-as-dir", "blob-misnamed", "dotdot"],
)
def test_an_authentic_backup_listing_a_file_a_workspace_does_not_hold_is_refused(
    cli: Cli, ws: Workspace, tmp_path: Path, extra: list[tuple[str, bytes]]
) -> None:
    out, bad = tmp_path / "ws.pbak", tmp_path / "bad.pbak"
    _create(cli, ws, out)
    _hostile(out, bad, extra)
    code, _stdout, err = cli("backup", "verify", str(bad), "-w", str(ws.path))
    assert code == 1 and "which a workspace does not hold" in err and "Traceback" not in err
    target = tmp_path / "restored"
    code, _stdout, err = cli("backup", "restore", str(bad), "--into", str(target))
    assert code == 1 and "which a workspace does not hold" in err
    assert (
        not target.exists() and not list(tmp_path.glob(".restored.*")) and not (tmp_path / "escaped").exists()
    )


def _drop_audit(manifest: dict[str, Any], _files: dict[str, bytes]) -> None:
    del manifest["audit"]


def _files_as_text(manifest: dict[str, Any], _files: dict[str, bytes]) -> None:
    manifest["files"] = "nope"


def _key_without_version(manifest: dict[str, Any], _files: dict[str, bytes]) -> None:
    del manifest["keys"][0]["version"]


@pytest.mark.parametrize("edit", [_drop_audit, _files_as_text, _key_without_version])
def test_a_malformed_manifest_is_an_integrity_error_not_a_traceback(
    cli: Cli, ws: Workspace, tmp_path: Path, edit: Any
) -> None:
    out, bad = tmp_path / "ws.pbak", tmp_path / "bad.pbak"
    _create(cli, ws, out)
    _hostile(out, bad, [], edit)
    for args in (
        ("verify", str(bad), "-w", str(ws.path)),
        ("restore", str(bad), "--into", str(tmp_path / "r")),
    ):
        code, _stdout, err = cli("backup", *args)
        assert code == 1 and "its manifest is malformed" in err and "Traceback" not in err, err
    assert not (tmp_path / "r").exists()


def _settings(text: bytes) -> Any:
    import hashlib

    def edit(manifest: dict[str, Any], files: dict[str, bytes]) -> None:
        files["workspace/settings.toml"] = files["workspace/settings.toml"] + text
        entry = next(f for f in manifest["files"] if f["path"] == "settings.toml")
        entry["size"] = len(files["workspace/settings.toml"])
        entry["sha256"] = hashlib.sha256(files["workspace/settings.toml"]).hexdigest()

    return edit


def test_a_restored_settings_toml_cannot_point_the_workspace_at_another_database(
    cli: Cli, ws: Workspace, tmp_path: Path
) -> None:
    """The checks ran on the restored palermo.db: the restored workspace must use that one, no other."""
    from palermo.settings import resolve

    out, bad = tmp_path / "ws.pbak", tmp_path / "bad.pbak"
    _create(cli, ws, out)
    elsewhere = tmp_path / "other.db"
    _hostile(out, bad, [], _settings(f'database_url = "sqlite:///{elsewhere}"\n'.encode()))
    target = tmp_path / "restored"
    code, stdout, err = cli("backup", "restore", str(bad), "--into", str(target), "--json")
    assert code == 0, err
    assert json.loads(stdout)["settings_dropped"] == ["database_url"] and "dropped" in err
    assert "database_url" not in (target / "settings.toml").read_text()
    assert resolve(target).database_url == f"sqlite:///{target / 'palermo.db'}"

    unknown = tmp_path / "unknown.pbak"
    _hostile(out, unknown, [], _settings(b'plugin = "/tmp/evil.py"\n'))
    code, _stdout, err = cli("backup", "restore", str(unknown), "--into", str(tmp_path / "r2"))
    assert code == 1 and "unknown settings: plugin" in err and not (tmp_path / "r2").exists()


def test_a_relative_master_key_file_is_recorded_as_an_absolute_path(
    cli: Cli, ws: Workspace, tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "ws.pbak"
    _create(cli, ws, out)
    monkeypatch.chdir(key_file.parent)
    target = tmp_path / "restored"
    code, _stdout, err = cli(
        "backup", "restore", str(out), "--into", str(target), "--master-key-file", "master.key"
    )
    assert code == 0, err
    assert f'master_key_file = "{key_file}"' in (target / "settings.toml").read_text()


def test_verify_without_a_workspace_compares_with_the_one_in_the_manifest(
    cli: Cli, ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LOW 7: the shredded-key check must not be skipped silently because -w was not given."""
    old = tmp_path / "before.pbak"
    _create(cli, ws, old)
    ws.keys.shred("HT-1")
    monkeypatch.chdir(tmp_path)  # ./workspace, the usual default, is not this workspace
    code, _stdout, err = cli("backup", "verify", str(old))
    assert code == 0, err
    assert "crypto-shredded" in err and "HT-1" in err and f"checked against workspace {ws.path}" in err


def test_a_restore_interrupted_before_it_is_done_leaves_no_workspace_under_the_name(
    cli: Cli, ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LOW 9: a restore killed part-way must not leave a folder that looks like a (good) workspace."""
    import palermo.backup as backup_module

    out = tmp_path / "ws.pbak"
    _create(cli, ws, out)

    def killed(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(backup_module, "_record_restore", killed)
    target = tmp_path / "restored"
    with pytest.raises(KeyboardInterrupt):
        backup_module.restore(out, PASSPHRASE, target, actor="x")
    assert not target.exists()


def test_a_failed_restore_removes_the_parent_folders_it_made(cli: Cli, ws: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "ws.pbak"
    _create(cli, ws, out)
    short = tmp_path / "short.pbak"
    short.write_bytes(out.read_bytes()[:-300])
    code, _stdout, err = cli("backup", "restore", str(short), "--into", str(tmp_path / "a" / "b" / "c"))
    assert code == 1, err
    assert not (tmp_path / "a").exists()


def test_a_backup_to_a_disk_without_hard_links_is_written(
    cli: Cli, ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MED 3: FAT32/exFAT USB sticks and many SMB shares refuse os.link with EPERM."""
    import errno

    import palermo.backup as backup_module

    def no_links(src: object, dst: object, *_args: object, **_kwargs: object) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted", str(src), None, str(dst))

    monkeypatch.setattr(backup_module.os, "link", no_links)
    out = tmp_path / "stick" / "ws.pbak"
    out.parent.mkdir()
    report = _create(cli, ws, out)
    assert out.exists() and out.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in out.parent.iterdir()) == ["ws.pbak"]
    code, _stdout, err = cli("backup", "verify", str(out), "-w", str(ws.path))
    assert code == 0 and report["backup_id"] in _stdout, err


def test_a_backup_too_large_for_the_disk_names_the_fat32_limit(
    cli: Cli, ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import palermo.backup as backup_module

    real = backup_module._HashingWriter.write

    def fat32(self: Any, data: Any) -> int:
        if self.size > 1000:
            raise OSError(errno.EFBIG, "File too large")
        return real(self, data)

    monkeypatch.setattr(backup_module._HashingWriter, "write", fat32)
    out = tmp_path / "ws.pbak"
    code, _stdout, err = cli("backup", "create", "--out", str(out), "-w", str(ws.path))
    assert code == 2 and "4 GiB" in err and "FAT32" in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".palermo-backup-*"))


def test_a_crashed_backups_leftovers_are_removed_by_the_next_and_snapshots_are_private(
    cli: Cli, ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MED 4: a crash mid-backup left a plaintext copy of analytics.duckdb inside the workspace for good."""
    import fcntl
    import shutil

    import palermo.backup as backup_module

    crashed = ws.path / ".backup-crashed"  # as the version before lock files left it
    crashed.mkdir(mode=0o700)
    (crashed / "analytics.duckdb").write_bytes(CALLER.encode())
    old = time.time() - 3600
    os.utime(crashed, (old, old))
    locked_dead = ws.path / ".backup-dead"  # a lock file nobody holds: its process died
    locked_dead.mkdir(mode=0o700)
    (locked_dead / ".lock").touch()
    running = ws.path / ".backup-running"  # another backup, running now: left alone
    running.mkdir(mode=0o700)
    (running / ".lock").touch()
    held = (running / ".lock").open("rb")
    fcntl.flock(held.fileno(), fcntl.LOCK_EX)
    out = tmp_path / "offsite" / "ws.pbak"
    out.parent.mkdir()
    partial = out.parent / ".palermo-backup-old.pbak.x1y2.partial"
    partial.write_bytes(b"half a backup")

    modes: dict[str, int] = {}
    real_copy = shutil.copyfile

    def copy_and_look(src: Any, dst: Any, *args: Any, **kwargs: Any) -> Any:
        result = real_copy(src, dst, *args, **kwargs)
        modes["analytics.duckdb"] = os.stat(dst).st_mode & 0o777
        return result

    real_facts = backup_module._case_store_facts

    def facts_and_look(con: Any) -> Any:
        for path in Path(con.execute("PRAGMA database_list").fetchone()[2]).parent.iterdir():
            modes.setdefault(path.name, path.stat().st_mode & 0o777)
        return real_facts(con)

    monkeypatch.setattr(backup_module.shutil, "copyfile", copy_and_look)
    monkeypatch.setattr(backup_module, "_case_store_facts", facts_and_look)
    try:
        _create(cli, ws, out)
        assert not crashed.exists() and not locked_dead.exists() and not partial.exists()
        assert running.exists()
    finally:
        held.close()
    assert modes["analytics.duckdb"] == 0o600 and modes["palermo.db"] == 0o600
    assert sorted(p.name for p in ws.path.glob(".backup-*")) == [".backup-running"]


def test_the_analytics_database_is_locked_against_other_processes_while_it_is_copied(
    cli: Cli, ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LOW 8, DR-03: the copy of analytics.duckdb is consistent because no other process can open it for
    writing (an import, an analysis) while it is copied."""
    import shutil

    import palermo.backup as backup_module

    probes: list[str] = []
    real_copy = shutil.copyfile

    def copy_while_probing(src: Any, dst: Any, *args: Any, **kwargs: Any) -> Any:
        probe = subprocess.run(
            [
                sys.executable,
                "-c",
                "import duckdb, sys\n"
                "try:\n"
                "    duckdb.connect(sys.argv[1]).close()\n"
                "except duckdb.IOException:\n"
                "    print('locked')\n"
                "else:\n"
                "    print('open')\n",
                str(src),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        probes.append(probe.stdout.strip() or probe.stderr)
        return real_copy(src, dst, *args, **kwargs)

    monkeypatch.setattr(backup_module.shutil, "copyfile", copy_while_probing)
    _create(cli, ws, tmp_path / "ws.pbak")
    assert probes == ["locked"]


def test_a_restore_that_cannot_create_its_folder_says_so_without_a_traceback(
    cli: Cli, ws: Workspace, tmp_path: Path
) -> None:
    out = tmp_path / "ws.pbak"
    _create(cli, ws, out)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, _stdout, err = cli("backup", "restore", str(out), "--into", str(blocker / "restored"))
    assert code == 2 and "cannot create the restored workspace" in err and "Traceback" not in err


# --- review round 2: workspace instances, start lines, cleanup ---------------------------------------


def _restore(cli: Cli, file: Path, target: Path, *extra: str) -> dict[str, Any]:
    code, stdout, err = cli("backup", "restore", str(file), "--into", str(target), "--json", *extra)
    assert code == 0, err
    report: dict[str, Any] = json.loads(stdout)
    return report


def test_a_shred_in_a_restore_drill_is_not_applied_to_the_live_workspace_backups(
    cli: Cli, ws: Workspace, tmp_path: Path
) -> None:
    """Review 2 HIGH 1: a copy restored for a drill shares the live workspace's genesis, but its shreds are
    its own. Shredding HT-1 in the drill must not flag, nor shred on restore, HT-1 in live backups."""
    _create(cli, ws, tmp_path / "b3a.pbak")
    drill = tmp_path / "drill3"
    drill_report = _restore(cli, tmp_path / "b3a.pbak", drill)
    with Workspace.open(drill, actor="officer.drill") as copy:
        copy.keys.shred("HT-1")
    assert not _identity_readable(drill)
    _create(cli, ws, tmp_path / "b3b.pbak")
    code, stdout, err = cli("backup", "verify", str(tmp_path / "b3b.pbak"), "--json")
    assert code == 0, err
    assert json.loads(stdout)["shredded_keys"] == [] and "crypto-shredded" not in err
    assert "other copies of this workspace" in err  # said, not silently dropped
    ws.path.rename(tmp_path / "lost")  # only the shred list is left to go by
    code, stdout, err = cli(
        "backup", "restore", str(tmp_path / "b3b.pbak"), "--into", str(tmp_path / "r3"), "--json"
    )
    assert code == 0, err
    report = json.loads(stdout)
    assert "is a new copy (instance" in err
    assert report["shredded_keys_reapplied"] == [] and report["shreds_known"]
    assert _identity_readable(tmp_path / "r3")
    assert report["instance"] != drill_report["instance"]
    event = next(e for e in _restored_events(drill) if e.action == "backup.restore")
    assert event.detail["instance"] == drill_report["instance"]


def test_a_live_shred_after_a_drill_was_restored_is_applied_to_the_drill_backups(
    cli: Cli, ws: Workspace, tmp_path: Path
) -> None:
    """Review 2 HIGH 1, the other direction: the drill's audit seqs run past the live shred's, yet the drill's
    backups hold the key the live workspace shredded after the drill was restored from it."""
    _create(cli, ws, tmp_path / "b1.pbak")
    drill = tmp_path / "drill"
    _restore(cli, tmp_path / "b1.pbak", drill)
    with Workspace.open(drill, actor="officer.drill") as copy:
        copy.cases.create("HT-3", "Drill case", "zz")
        copy.cases.create("HT-4", "Drill case", "zz")
        copy.cases.create("HT-5", "Drill case", "zz")
    ws.keys.shred("HT-1")
    code, _stdout, err = cli(
        "backup", "create", "--out", str(tmp_path / "bd.pbak"), "-w", str(drill), "--json"
    )
    assert code == 0, err
    report = _restore(cli, tmp_path / "bd.pbak", tmp_path / "r")
    assert [(k["case"], k["version"]) for k in report["shredded_keys_reapplied"]] == [("HT-1", 1)]
    assert report["shreds_known"]
    assert not _identity_readable(tmp_path / "r")


def test_a_backup_from_before_the_shred_list_was_started_cannot_tell(
    cli: Cli, ws: Workspace, tmp_path: Path, key_file: Path
) -> None:
    """Review 2 HIGH 2: an upgraded install's key had no list; the first shred starts one, which knows
    nothing of the shreds before it: a backup older than that start must say CANNOT TELL, not "checked"."""
    from palermo.security.crypto import shred_list_file

    shred_list_file(key_file).unlink()  # a master key from before shred lists were kept
    _create(cli, ws, tmp_path / "old.pbak")
    ws.keys.shred("HT-1")  # the first shred since the upgrade: the list starts here
    _create(cli, ws, tmp_path / "new.pbak")
    ws.path.rename(tmp_path / "lost")
    old = _restore(cli, tmp_path / "old.pbak", tmp_path / "r-old")
    assert old["shreds_known"] is False and "CANNOT TELL" in old["shreds_note"]
    assert [k["case"] for k in old["shredded_keys_reapplied"]] == ["HT-1"]  # what is known is still applied
    new = _restore(cli, tmp_path / "new.pbak", tmp_path / "r-new")
    assert new["shreds_known"] is True and new["shredded_keys_reapplied"] == []


def test_rewrap_starts_the_new_list_from_now_and_later_shreds_go_beside_the_new_key(
    cli: Cli, ws: Workspace, tmp_path: Path, key_file: Path
) -> None:
    """Review 2 HIGH 2 and LOW 8: rewrap from a key without a list must not start an empty list that claims
    to know everything; after the rewrap, shreds are listed beside the new key, not the old one."""
    from palermo.security.crypto import read_shreds, shred_list_file
    from palermo.settings import ensure_master_key

    shred_list_file(key_file).unlink()
    _create(cli, ws, tmp_path / "old.pbak")
    new_key = tmp_path / "keys2" / "master.key"
    ensure_master_key(new_key, workspace=ws.path)
    ws.keys.rewrap(new_key)
    ws.keys.shred("HT-2")
    assert [e["case"] for e in read_shreds(new_key) or []] == ["HT-2"]
    assert not shred_list_file(key_file).exists()
    ws.path.rename(tmp_path / "lost")
    report = _restore(cli, tmp_path / "old.pbak", tmp_path / "r", "--master-key-file", str(new_key))
    assert report["shreds_known"] is False and "CANNOT TELL" in report["shreds_note"]
    assert [k["case"] for k in report["shredded_keys_reapplied"]] == ["HT-2"]


def test_a_restore_that_fails_after_its_check_leaves_no_decrypted_copy(
    cli: Cli, ws: Workspace, tmp_path: Path, key_file: Path
) -> None:
    """Review 2 MED 3: an unreadable shred list stops the restore after the files were written and checked;
    the decrypted copy in ``.restored.restoring-*`` must go too (only a copy that does not verify is kept)."""
    from palermo.security.crypto import shred_list_file

    _create(cli, ws, tmp_path / "ws.pbak")
    with shred_list_file(key_file).open("a", encoding="utf-8") as fh:
        fh.write("not json\n{}\n")  # a damaged line in the middle: not a torn last line
    code, _stdout, err = cli("backup", "restore", str(tmp_path / "ws.pbak"), "--into", str(tmp_path / "r"))
    assert code != 0 and "of the shred list is unreadable" in err
    assert not list(tmp_path.glob(".r.restoring-*")) and not (tmp_path / "r").exists()


def test_the_original_workspace_overrules_the_list_for_its_own_shreds(
    cli: Cli, ws: Workspace, tmp_path: Path, key_file: Path
) -> None:
    """Review 2 HIGH 1: a listed shred whose transaction then failed (the line is written before the commit)
    is no shred where the workspace's own audit log can say so; without the workspace, the list errs toward
    the victim."""
    import sqlite3

    from palermo.security.crypto import shred_list_file

    _create(cli, ws, tmp_path / "ws.pbak")
    con = sqlite3.connect(ws.path / "palermo.db")
    genesis, head = con.execute(
        "SELECT (SELECT hash FROM audit_events WHERE seq = 1), max(seq) FROM audit_events"
    ).fetchone()
    con.close()
    line = {"kind": "shred", "workspace_genesis": genesis, "instance": genesis, "case_id": 2, "case": "HT-2"}
    line.update(versions=[1], audit_seq=head + 1, at="2026-11-29T12:00:00+00:00", by="officer.test")
    with shred_list_file(key_file).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line) + "\n")  # then the commit failed: HT-2 still has its key in the workspace
    here = _restore(cli, tmp_path / "ws.pbak", tmp_path / "r1")
    assert here["shredded_keys_reapplied"] == [] and here["shreds_known"]
    ws.path.rename(tmp_path / "lost")
    gone = _restore(cli, tmp_path / "ws.pbak", tmp_path / "r2")
    assert [k["case"] for k in gone["shredded_keys_reapplied"]] == ["HT-2"]


def test_a_backup_holding_no_case_key_has_nothing_to_tell(
    cli: Cli, tmp_path: Path, key_file: Path, test_law: object
) -> None:
    """No key held, none can come back: no CANNOT TELL for a backup of a workspace without cases, even with
    neither the workspace nor a shred list at hand (a false alarm teaches people to ignore the real one)."""
    from palermo.security.crypto import shred_list_file

    empty = Workspace.init(tmp_path / "empty", master_key_file=key_file, law=test_law, actor="t")  # type: ignore[arg-type]
    empty.close()
    _create(cli, empty, tmp_path / "empty.pbak")
    shred_list_file(key_file).unlink()
    (tmp_path / "empty").rename(tmp_path / "lost")
    report = _restore(cli, tmp_path / "empty.pbak", tmp_path / "r")
    assert report["shreds_known"] is True and "holds no case keys" in report["shreds_note"]


def test_a_restore_whose_check_breaks_leaves_no_decrypted_copy(
    cli: Cli, ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 2 MED 3: the check itself failing (interrupted, say) is not a result kept for investigation."""
    import palermo.backup as backup_module

    _create(cli, ws, tmp_path / "ws.pbak")

    def interrupted(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(backup_module, "_check_restored", interrupted)
    with pytest.raises(KeyboardInterrupt):
        backup_module.restore(tmp_path / "ws.pbak", PASSPHRASE, tmp_path / "r", actor="t")
    assert not list(tmp_path.glob(".r.restoring-*")) and not (tmp_path / "r").exists()
