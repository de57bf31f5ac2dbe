"""The facts file: strict parsing, field paths in every error, and the published JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from palermo.domain.counts import check_facts
from palermo.domain.facts import facts_schema, parse_facts, read_facts
from palermo.errors import FactsError
from palermo.law.library import default_library

SCHEMA = Path(__file__).resolve().parents[2] / "docs/law/facts.schema.json"


def _facts(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "jurisdiction": "us",
        "offence_date": "2019-03-01",
        "defendants": [{"id": "D1"}],
        "victims": [{"id": "V1", "age": 16}],
        "counts": [
            {
                "number": 1,
                "offence": "us-18-usc-1591",
                "defendant": "D1",
                "victim": "V1",
                "acts": ["harbouring"],
                "purposes": ["commercial_sex_act"],
            }
        ],
    }
    base.update(changes)
    return base


def _count(**changes: Any) -> list[dict[str, Any]]:
    return [{**_facts()["counts"][0], **changes}]


def _error(data: dict[str, Any]) -> str:
    with pytest.raises(FactsError) as info:
        check_facts(default_library(), parse_facts(data, "f.yaml"), "f.yaml")
    return str(info.value)


def test_published_schema_equals_the_generated_one() -> None:
    assert json.loads(SCHEMA.read_text(encoding="utf-8")) == facts_schema()


def test_dates_are_parsed() -> None:
    assert parse_facts(_facts()).offence_date.year == 2019


def test_unknown_key_is_rejected_with_its_path() -> None:
    assert "victims[0].agee" in _error(_facts(victims=[{"id": "V1", "agee": 16}]))


def test_unknown_victim_names_the_count_field() -> None:
    assert "counts[0].victim: unknown victim 'V9'" in _error(_facts(counts=_count(victim="V9")))


def test_unknown_offence_names_the_field() -> None:
    assert "counts[0].offence" in _error(_facts(counts=_count(offence="us-18-usc-9999")))


def test_unknown_vocabulary_term_names_the_field() -> None:
    assert "counts[0].acts[0]: unknown vocabulary term 'kidnaps'" in _error(
        _facts(counts=_count(acts=["kidnaps"]))
    )


def test_unknown_flag_names_the_field() -> None:
    assert "counts[0].flags[0]: unknown flag 'death_reslted'" in _error(
        _facts(counts=_count(flags=["death_reslted"]))
    )


def test_age_missing_where_it_decides_the_tier() -> None:
    assert "victims[0].age" in _error(_facts(victims=[{"id": "V1"}]))


def test_age_not_needed_when_force_decides_the_tier() -> None:
    data = _facts(victims=[{"id": "V1"}], counts=_count(means=["use_of_force"]))
    check_facts(default_library(), parse_facts(data), "f")


def test_duplicate_count_numbers_are_rejected() -> None:
    assert "counts[1].number" in _error(_facts(counts=_count() * 2))


def test_work_period_needs_exactly_one_hours_field() -> None:
    victims = [{"id": "V1", "age": 20, "work": [{"start": "2010-01-01", "end": "2010-01-07"}]}]
    assert "victims[0].work[0]" in _error(_facts(victims=victims))


def test_money_cannot_be_negative() -> None:
    assert "gross_income_to_defendant" in _error(
        _facts(victims=[{"id": "V1", "age": 16, "gross_income_to_defendant": -5}])
    )


def test_underlying_required_for_attempts() -> None:
    assert "counts[0].underlying" in _error(_facts(counts=_count(offence="us-18-usc-1594-a")))


def test_malformed_yaml_reports_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("jurisdiction: us\n  offence_date: [\n", encoding="utf-8")
    with pytest.raises(FactsError) as info:
        read_facts(path)
    assert f"{path}:2" in str(info.value)


def test_json_facts_are_read(tmp_path: Path) -> None:
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(_facts()), encoding="utf-8")
    assert read_facts(path).counts[0].offence == "us-18-usc-1591"


def test_documented_example_is_a_valid_matter() -> None:
    path = SCHEMA.parent / "facts.example.yaml"
    check_facts(default_library(), read_facts(path), str(path))
