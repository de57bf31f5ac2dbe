"""Concurrent writers: two processes writing at once never fork the audit chain or lose a write."""

from __future__ import annotations

import os
import subprocess
import sys

from palermo.workspace import Workspace

WRITER = """
import sys
from pathlib import Path
from palermo.workspace import Workspace
ws = Workspace.open(Path(sys.argv[1]), database_url=sys.argv[2] or None, actor=sys.argv[3])
for i in range(12):
    ws.cases.create(f"{sys.argv[3]}-{i}", "concurrent", "zz")
"""


def test_two_processes_writing_at_once_keep_one_valid_chain(
    workspace: Workspace, database_url: str | None
) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(workspace.path), database_url or "", name],
            env=os.environ.copy(),
            stderr=subprocess.PIPE,
        )
        for name in ("w1", "w2")
    ]
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    assert len(workspace.cases.list()) == 24
    assert workspace.audit.verify() == []
