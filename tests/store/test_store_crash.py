"""Crash test: SIGKILL a multi-file import mid-way; committed items stay whole, a re-run completes it.

Each file is stored and fsync'd before its row commits, and row + custody + audit commit together,
so after a kill -9 every visible item has its original, its "received" event and its audit event,
and running the same import again adds exactly the missing ones.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from palermo.law.library import LawLibrary
from palermo.workspace import Workspace

FILES = 60
IMPORT = """
import sys
from pathlib import Path
from palermo.workspace import Workspace
ws = Workspace.open(Path(sys.argv[1]), database_url=sys.argv[2] or None, actor="importer")
files = sorted(Path(sys.argv[3]).iterdir())
ws.evidence.add_many("CR-1", files, source="seized laptop", acquired_by="Det. Ada")
"""


def run_import(ws: Workspace, url: str | None, folder: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", IMPORT, str(ws.path), url or "", str(folder)],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.fixture
def crashed(tmp_path: Path, workspace: Workspace, database_url: str | None) -> tuple[Workspace, Path, int]:
    """Start an import of FILES files, SIGKILL it once some (not all) are committed."""
    workspace.cases.create("CR-1", "crash test", "zz")
    folder = tmp_path / "seized"
    folder.mkdir()
    for i in range(FILES):
        (folder / f"file{i:04d}.bin").write_bytes(os.urandom(8 * 1024) + i.to_bytes(4, "big"))
    proc = run_import(workspace, database_url, folder)
    deadline = time.monotonic() + 60
    seen = 0
    while time.monotonic() < deadline and proc.poll() is None:
        seen = len(workspace.evidence.list("CR-1"))
        if seen >= 5:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < seen < FILES, f"could not kill mid-import (saw {seen} items, rc {proc.returncode})"
    return workspace, folder, seen


def test_committed_items_are_whole_after_kill(crashed: tuple[Workspace, Path, int]) -> None:
    ws, _, _ = crashed
    items = ws.evidence.list("CR-1")
    assert ws.evidence.verify("CR-1").mismatches == []
    assert all(ws.evidence.custody_log(i.id)[0].event_type == "received" for i in items)
    assert len([e for e in ws.audit.events("CR-1") if e.action == "evidence.add"]) == len(items)


def test_rerun_completes_without_duplicates(
    crashed: tuple[Workspace, Path, int], database_url: str | None, test_law: LawLibrary
) -> None:
    ws, folder, _ = crashed
    proc = run_import(ws, database_url, folder)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()[-2000:]
    items = ws.evidence.list("CR-1")
    assert len(items) == FILES and len({i.sha256 for i in items}) == FILES
    assert ws.evidence.verify_custody(case_ref="CR-1").mismatches == []
