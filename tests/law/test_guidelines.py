"""Guidelines engine: offence levels, Chapter Three, grouping, the table and §5G1.1."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine_facts import LABOUR, SEX, matter

from palermo.domain.guidelines import assess_guidelines, statutory_bounds, units_increase
from palermo.law.library import default_library

LAW = default_library()


def _estimate(counts: list[dict[str, Any]], victims: list[dict[str, Any]] | None = None, **defendant: Any):  # type: ignore[no-untyped-def]
    return assess_guidelines(LAW, matter(counts, victims, defendants=[{"id": "D1", **defendant}]))[0]


def test_names_the_2016_edition() -> None:
    assert "2016" in _estimate([LABOUR]).edition


def test_research_oracle_1591_b2_computer_sex_act_acceptance() -> None:
    result = _estimate(
        [{**SEX, "flags": ["computer_used", "sex_act"]}],
        [{"id": "V1", "age": 15}],
        acceptance_of_responsibility=True,
        government_motion_3e1_1b=True,
    )
    assert (result.total_offense_level, result.range_min_months, result.range_max_months) == (31, 108, 135)


def test_statutory_minimum_lifts_the_bottom_of_the_range() -> None:
    result = _estimate(
        [{**SEX, "flags": ["computer_used", "sex_act"]}],
        [{"id": "V1", "age": 15}],
        acceptance_of_responsibility=True,
        government_motion_3e1_1b=True,
    )
    assert result.guideline_min_months == 120


def test_statutory_minimum_above_the_range_is_the_guideline_sentence() -> None:
    assert statutory_bounds(51, 63, 120, None)[:2] == (120, 120)


def test_statutory_maximum_below_the_range_is_the_guideline_sentence() -> None:
    assert statutory_bounds(235, 293, 0, 60)[:2] == (60, 60)


def test_units_table() -> None:
    units = ["1", "1.5", "2", "2.5", "3", "3.5", "5", "5.5"]
    assert [units_increase(Decimal(u)) for u in units] == [0, 1, 2, 3, 3, 4, 4, 5]


def test_each_victim_is_its_own_group() -> None:
    result = _estimate(
        [{**LABOUR}, {**LABOUR, "victim": "V2"}], [{"id": "V1", "age": 30}, {"id": "V2", "age": 31}]
    )
    assert [g.victim for g in result.groups] == ["V1", "V2"]


def test_two_equal_groups_add_two_levels() -> None:
    result = _estimate(
        [{**LABOUR}, {**LABOUR, "victim": "V2"}], [{"id": "V1", "age": 30}, {"id": "V2", "age": 31}]
    )
    assert result.combined_offense_level == 24


def test_acceptance_takes_only_two_below_level_16() -> None:
    count = {"offence": "us-18-usc-2421", "acts": ["transportation"], "purposes": ["commercial_sex_act"]}
    result = _estimate([count], acceptance_of_responsibility=True, government_motion_3e1_1b=True)
    assert result.total_offense_level == 12


def test_duration_of_180_days_adds_two_levels() -> None:
    assert _estimate([{**LABOUR, "duration_held_days": 180}]).total_offense_level == 24


def test_organiser_of_extensive_activity_adds_four() -> None:
    assert _estimate([LABOUR], role="organiser_leader", extensive=True).total_offense_level == 26


def test_each_step_names_its_rule() -> None:
    assert _estimate([LABOUR]).explanation[0].rule.startswith("count 1 (§2H4.1): USSG §2H4.1(a)(1)")
