"""Exposure engine: statutory range, class, supervised release, assessments, fine — and totals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from engine_facts import LABOUR, SEX, matter

from palermo.domain.exposure import assess_exposure, felony_class
from palermo.errors import DomainError
from palermo.law.library import default_library

LAW = default_library()


def _one(count: dict[str, Any], age: int = 30, **extra: Any):  # type: ignore[no-untyped-def]
    return assess_exposure(LAW, matter([count], [{"id": "V1", "age": age}], **extra))[0]


def test_1591_age_13_is_b1() -> None:
    assert _one(SEX, age=13).counts[0].tier == "b1-under-14"


def test_1591_age_14_is_b2() -> None:
    assert _one(SEX, age=14).counts[0].min_months == 120


def test_force_with_an_adult_is_b1() -> None:
    assert _one({**SEX, "means": ["use_of_force"]}).counts[0].min_months == 180


def test_adult_without_means_has_no_tier() -> None:
    with pytest.raises(DomainError, match="no penalty tier"):
        _one(SEX, age=18)


def test_death_resulting_raises_1589_to_life() -> None:
    assert _one({**LABOUR, "flags": ["death_resulted"]}).counts[0].life is True


def test_felony_class_follows_the_maximum() -> None:
    assert [felony_class(LAW, m)[0] for m in (None, 360, 240, 60, 24)] == ["A", "B", "C", "D", "E"]


def test_3583k_gives_five_years_to_life_for_1591() -> None:
    count = _one({**SEX, "means": ["fraud"]}).counts[0]
    assert (count.supervised_release_min_months, count.supervised_release_life) == (60, True)


def test_forced_labour_gets_the_class_term_of_supervised_release() -> None:
    assert _one(LABOUR).counts[0].supervised_release_max_months == 36


def test_indigent_defendant_owes_no_jvta_assessment() -> None:
    result = _one(LABOUR, defendants=[{"id": "D1", "indigent": True}])
    assert result.counts[0].jvta_assessment == Decimal(0)


def test_offence_before_the_jvta_owes_no_jvta_assessment() -> None:
    assert _one(LABOUR, offence_date="2015-05-28").counts[0].jvta_assessment == Decimal(0)


def test_maximum_fine_for_an_individual_felony() -> None:
    assert _one(LABOUR).counts[0].fine_max == Decimal(250000)


def test_totals_add_assessments_per_count() -> None:
    result = assess_exposure(LAW, matter([LABOUR, LABOUR]))[0]
    assert result.total_assessments == Decimal(10200)


def test_every_count_explains_the_tier_with_facts() -> None:
    steps = _one(SEX, age=16).counts[0].explanation
    chosen = next(s for s in steps if s.rule == "18 U.S.C. § 1591(b)(2)")
    assert chosen.facts == ["victim age 16 < 18"]


def test_higher_tiers_passed_over_say_why() -> None:
    first = _one(LABOUR).counts[0].explanation[0]
    assert first.effect.endswith("does not apply") and first.facts[0].startswith(
        "no flags among death_resulted"
    )
