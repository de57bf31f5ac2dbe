"""A kill -9 in the middle of an import: what was committed stays, nothing half-imported is visible."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from palermo.ingest.service import ingest

HANGING_IMPORT = """
import sys, time
from pathlib import Path
from palermo.ingest.base import Batch
from palermo.ingest.phone import cols
from palermo.ingest.service import ingest

class Hang:
    name = "hang"
    description = "writes a batch, then waits to be killed"

    def read(self, path, *, evidence_id, options):
        rows = [(evidence_id, f"line:{i}", f"{evidence_id}:line:{i}", None, "+1", "+2", 1, "voice", None,
                 None) for i in range(2, 5002)]
        yield Batch("calls", cols("calls"), rows)
        Path(sys.argv[3]).write_text("ready")
        time.sleep(120)

ingest(sys.argv[1], "C-1", 2, sys.argv[2], Hang())
"""


def test_killed_import_leaves_only_committed_rows(fx: Path, tmp_path: Path) -> None:
    db = tmp_path / "analytics.duckdb"
    ingest(db, "C-1", 1, fx / "cdr_ok.csv", "cdr_csv")
    script, ready = tmp_path / "hang.py", tmp_path / "ready"
    script.write_text(HANGING_IMPORT)
    proc = subprocess.Popen([sys.executable, str(script), str(db), str(fx / "ads.jsonl"), str(ready)])
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists(), "the hanging import never reached its first batch"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    with duckdb.connect(str(db)) as con:
        assert con.execute("SELECT count(*), count(DISTINCT evidence_id) FROM calls").fetchone() == (3, 1)
        assert con.execute("SELECT evidence_id FROM imports").fetchall() == [(1,)]
