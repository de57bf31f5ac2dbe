"""``palermo law elements|exposure|guidelines|restitution FACTS`` through ``main.run``.

In-process, as the console script runs them, so exit codes and messages are the real ones.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from palermo.cli.main import run

GOOD = """\
jurisdiction: us
offence_date: 2019-03-01
defendants: [{id: D1, acceptance_of_responsibility: true}]
victims:
  - id: V1
    age: 16
  - id: V2
    age: 30
    work: [{start: 2010-01-04, end: 2010-01-10, hours_per_week: 60}]
counts:
  - {number: 1, offence: us-18-usc-1591, defendant: D1, victim: V1, acts: [harbouring],
     purposes: [commercial_sex_act], established: [commerce]}
  - {number: 2, offence: us-18-usc-1589, defendant: D1, victim: V2, acts: [obtains],
     means: [threat_of_serious_harm], purposes: [labor_or_services]}
"""

Call = Callable[..., tuple[int, str, str]]


@pytest.fixture
def palermo(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Call:
    monkeypatch.setenv("COLUMNS", "200")

    def call(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["palermo", "law", *args])
        code = 0
        try:
            run()
        except SystemExit as exc:
            code = int(exc.code or 0)
        out = capsys.readouterr()
        return code, out.out, out.err

    return call


@pytest.fixture
def facts(tmp_path: Path) -> Path:
    path = tmp_path / "matter.yaml"
    path.write_text(GOOD, encoding="utf-8")
    return path


def _bad(tmp_path: Path, old: str, new: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace(old, new), encoding="utf-8")
    return path


@pytest.mark.parametrize("command", ["elements", "exposure", "guidelines", "restitution"])
def test_each_command_prints_json(palermo: Call, facts: Path, command: str) -> None:
    code, out, _ = palermo(command, str(facts), "--json")
    assert code == 0 and json.loads(out)


def test_exposure_table_shows_the_tier_and_its_rule(palermo: Call, facts: Path) -> None:
    code, out, _ = palermo("exposure", str(facts))
    assert code == 0 and "b2" in out and "18 U.S.C. § 1591(b)(2)" in out


def test_guidelines_table_names_the_edition(palermo: Call, facts: Path) -> None:
    assert "November 1, 2016" in palermo("guidelines", str(facts))[1]


def test_restitution_json_total(palermo: Call, facts: Path) -> None:
    assert json.loads(palermo("restitution", str(facts), "--json")[1])["total"] == "507.50"


def test_elements_table_shows_not_required_means(palermo: Call, facts: Path) -> None:
    assert "not_required" in palermo("elements", str(facts))[1]


def test_unknown_offence_exits_2_with_path(palermo: Call, tmp_path: Path) -> None:
    code, _, err = palermo("exposure", str(_bad(tmp_path, "us-18-usc-1589", "us-18-usc-1588")))
    assert code == 2 and "counts[1].offence" in err and "Traceback" not in err


def test_missing_age_exits_2_with_path(palermo: Call, tmp_path: Path) -> None:
    code, _, err = palermo("exposure", str(_bad(tmp_path, "age: 16", "age: null")))
    assert code == 2 and "victims[0].age" in err


def test_unknown_vocabulary_term_exits_2_with_path(palermo: Call, tmp_path: Path) -> None:
    code, _, err = palermo("elements", str(_bad(tmp_path, "acts: [obtains]", "acts: [obtain]")))
    assert code == 2 and "counts[1].acts[0]" in err


def test_malformed_yaml_exits_2_with_line(palermo: Call, tmp_path: Path) -> None:
    code, _, err = palermo("restitution", str(_bad(tmp_path, "counts:", "counts: [")))
    assert code == 2 and "not valid YAML" in err and "Traceback" not in err


def test_missing_file_exits_2(palermo: Call, tmp_path: Path) -> None:
    code, _, err = palermo("guidelines", str(tmp_path / "nope.yaml"))
    assert code == 2 and "cannot read" in err


@pytest.mark.parametrize("command", ["elements", "exposure", "guidelines", "restitution"])
def test_each_command_has_a_worked_example_in_the_docs(command: str) -> None:
    page = Path(__file__).resolve().parents[2] / "docs/law" / f"{command}.md"
    assert f"$ palermo law {command} docs/law/facts.example.yaml" in page.read_text(encoding="utf-8")
