"""Restitution engine: § 2259 losses plus the greater of gross income and the FLSA value."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from engine_facts import LABOUR, matter

from palermo.domain.facts import WorkPeriod
from palermo.domain.restitution import assess_restitution, period_value
from palermo.law.library import default_library

LAW = default_library()


def _period(start: date, end: date, hours: str, paid: str = "0") -> WorkPeriod:
    return WorkPeriod(start=start, end=end, hours_per_week=Decimal(hours), wages_paid=Decimal(paid))


def test_week_spanning_24_july_2009_uses_both_rates() -> None:
    value, steps = period_value(_period(date(2009, 7, 20), date(2009, 7, 26), "40"))
    assert (value, len(steps)) == (Decimal("274.00"), 2)


def test_overtime_is_time_and_a_half_over_40_hours() -> None:
    assert period_value(_period(date(2010, 1, 4), date(2010, 1, 10), "60"))[0] == Decimal("507.50")


def test_forty_hours_earn_no_overtime() -> None:
    assert period_value(_period(date(2010, 1, 4), date(2010, 1, 10), "40"))[0] == Decimal("290.00")


def _victim(**victim: Any) -> dict[str, Any]:
    return {"id": "V1", "age": 30, **victim}


def test_wages_paid_reduce_the_flsa_value() -> None:
    work = [{"start": "2010-01-04", "end": "2010-01-10", "hours_per_week": 60, "wages_paid": 200}]
    result = assess_restitution(LAW, matter([LABOUR], [_victim(work=work)]))
    assert result.total == Decimal("307.50")


def test_greater_gross_income_wins() -> None:
    work = [{"start": "2010-01-04", "end": "2010-01-10", "hours_per_week": 60}]
    result = assess_restitution(LAW, matter([LABOUR], [_victim(work=work, gross_income_to_defendant=900)]))
    assert result.victims[0].labour_measure == "gross_income"


def test_losses_a_to_f_are_added() -> None:
    losses = {
        "medical": 100,
        "therapy": 200,
        "transport_housing_childcare": 300,
        "lost_income": 400,
        "attorneys_fees": 500,
        "other": 6.25,
    }
    assert assess_restitution(LAW, matter([LABOUR], [_victim(losses=losses)])).total == Decimal("1506.25")


def test_money_is_decimal_to_the_cent() -> None:
    work = [{"start": "2010-01-04", "end": "2010-01-06", "hours_per_week": 10}]
    total = assess_restitution(LAW, matter([LABOUR], [_victim(work=work)])).total
    assert total == Decimal("31.07") and total.as_tuple().exponent == -2


def test_victim_of_a_chapter_117_count_only_is_not_under_1593() -> None:
    count = {"offence": "us-18-usc-2421", "acts": ["transportation"], "purposes": ["commercial_sex_act"]}
    assert assess_restitution(LAW, matter([count], [_victim(losses={"medical": 50})])).victims == []
