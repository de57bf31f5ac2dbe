"""``palermo law`` through ``main.run``, the console-script entry point, so exit codes are the real ones.

In-process rather than a subprocess: the full CLI takes seconds to import, once is enough.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from palermo.cli.main import run

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


Palermo = Callable[..., Result]


@pytest.fixture
def palermo(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Palermo:
    """Run ``palermo law ARGS`` as the console script does; capture exit code and output."""
    monkeypatch.setenv("COLUMNS", "200")

    def call(*args: str) -> Result:
        monkeypatch.setattr(sys, "argv", ["palermo", "law", *args])
        code = 0
        try:
            run()
        except SystemExit as exc:
            code = int(exc.code or 0)
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return call


def test_check_of_the_packaged_library_exits_zero_with_a_count(palermo: Palermo) -> None:
    result = palermo("check")
    assert result.returncode == 0
    assert result.stdout.startswith("ok: ") and "provisions, no problems" in result.stdout


def test_check_reports_each_problem_as_file_line_field_and_exits_two(palermo: Palermo) -> None:
    result = palermo("check", "--law-path", str(FIXTURES / "bad"))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert f"{FIXTURES / 'bad' / 'unknown_key' / 'extra.yaml'}:14: elements[0].penalty_note: unknown key " \
           "(not part of the law-data format; see `palermo law schema`)" in lines
    assert lines[-1].startswith("7 problem(s)")
    assert "Traceback" not in result.stderr


def test_show_of_an_unknown_id_is_a_one_line_error_with_exit_two(palermo: Palermo) -> None:
    result = palermo("show", "gb-msa-2015-s99")
    assert result.returncode == 2
    assert "no provision 'gb-msa-2015-s99'" in result.stderr
    assert "Traceback" not in result.stderr


def test_list_json_gives_ids_for_one_jurisdiction(palermo: Palermo) -> None:
    rows = json.loads(palermo("list", "--jurisdiction", "fr", "--json").stdout)
    assert {r["id"] for r in rows} == {"fr-cp-225-4-1", "fr-cp-225-4-2", "fr-cp-225-4-3", "fr-cp-225-4-7"}


def test_schema_prints_the_provision_json_schema(palermo: Palermo) -> None:
    schema = json.loads(palermo("schema").stdout)
    assert schema["title"] == "Palermo law-library provision"
    assert "elements" in schema["properties"]


def test_gaps_on_a_draft_bill_folder_reports_through_the_cli(palermo: Palermo) -> None:
    result = palermo("gaps", "--jurisdiction", "xx", "--law-path", str(FIXTURES / "draft-bill"), "--json")
    report = json.loads(result.stdout)
    assert result.returncode == 0
    assert {f["item"]: f["status"] for f in report["findings"]}["P-1"] == "not_met"


def test_dual_criminality_accepts_the_conduct_as_options(palermo: Palermo) -> None:
    result = palermo("dual-criminality", "--from", "gb", "--to", "ph", "--act", "recruitment",
                     "--purpose", "forced_labour", "--victim-age", "30", "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["verdict"] == "not_satisfied"


def test_dual_criminality_with_an_unknown_term_exits_two(palermo: Palermo) -> None:
    result = palermo("dual-criminality", "--from", "gb", "--to", "ph", "--act", "recruitmnt")
    assert result.returncode == 2
    assert "unknown act term 'recruitmnt'" in result.stderr
