"""``palermo scenario generate`` writes the files and reports them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from palermo.cli.main import app


def test_generate_prints_files_and_row_counts_as_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["scenario", "generate", str(tmp_path), "--seed", "2", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    adapters = {s["adapter"] for s in doc["sources"]}
    assert adapters == {"bank_csv", "cdr_csv", "ads_jsonl", "phone_json"}
    assert all(Path(s["path"]).is_file() and s["rows"] > 0 for s in doc["sources"])


def test_generate_refuses_a_zero_scale(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["scenario", "generate", str(tmp_path), "--scale", "0"])
    assert result.exit_code != 0
