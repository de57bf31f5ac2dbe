"""The condition language: what fired, and how a missing fact is treated."""

from __future__ import annotations

import pytest

from palermo.domain.conditions import CountView, MissingFact, evaluate
from palermo.law.model import Condition

TIER_B1 = Condition.model_validate({"any_of": [{"means_any": ["force", "fraud"]}, {"victim_age_lt": 14}]})


def test_force_with_an_adult_fires_the_means_branch_and_says_so() -> None:
    outcome = evaluate(TIER_B1, CountView(victim_age=25, means=frozenset({"force"})))
    assert outcome.holds
    assert outcome.reasons == ("means include force",)


def test_a_branch_that_holds_is_enough_when_another_lacks_the_age() -> None:
    outcome = evaluate(TIER_B1, CountView(victim_age=None, means=frozenset({"fraud"})))
    assert outcome.holds


def test_missing_age_is_raised_when_no_other_branch_holds() -> None:
    with pytest.raises(MissingFact) as err:
        evaluate(TIER_B1, CountView(victim_age=None))
    assert err.value.fact == "victim_age"


def test_age_thirteen_fires_and_fourteen_does_not() -> None:
    assert evaluate(TIER_B1, CountView(victim_age=13)).holds
    assert not evaluate(TIER_B1, CountView(victim_age=14)).holds


def test_not_negates_with_reasons() -> None:
    cond = Condition.model_validate({"not": {"flags_any": ["death_resulted"]}})
    outcome = evaluate(cond, CountView(flags=frozenset({"death_resulted"})))
    assert not outcome.holds
    assert outcome.reasons[0].startswith("not (")


def test_every_field_must_hold() -> None:
    cond = Condition(victim_age_gte=14, victim_age_lt=18)
    assert evaluate(cond, CountView(victim_age=17)).holds
    assert not evaluate(cond, CountView(victim_age=18)).holds
