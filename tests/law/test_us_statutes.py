"""The US statute files load, and encode what the statute text says (checked against the reference text)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from palermo.law.library import LawLibrary, default_library
from palermo.law.model import Provision
from palermo.law.tables import guideline_range, minimum_wage_on

US = Path(__file__).resolve().parents[2] / "src/palermo/law/statutes/us"
OFFENCES = [
    "us-18-usc-1581",
    "us-18-usc-1583",
    "us-18-usc-1584",
    "us-18-usc-1589",
    "us-18-usc-1590",
    "us-18-usc-1591",
    "us-18-usc-1592",
    "us-18-usc-1593a",
    "us-18-usc-1594-a",
    "us-18-usc-1594-b",
    "us-18-usc-1594-c",
    "us-18-usc-2421",
    "us-18-usc-2421a",
    "us-18-usc-2422-a",
    "us-18-usc-2422-b",
    "us-18-usc-2423-a",
]
CONSEQUENCES = [
    "us-18-usc-1593",
    "us-18-usc-3013",
    "us-18-usc-3014",
    "us-18-usc-3559",
    "us-18-usc-3571",
    "us-18-usc-3583",
]


def _get(provision_id: str) -> Provision:
    return default_library().get(provision_id)


def test_the_us_folder_validates_without_problems() -> None:
    report = LawLibrary.check()
    assert [p for p in report.problems if "/us/" in str(p.path)] == []


@pytest.mark.parametrize("provision_id", OFFENCES)
def test_every_brief_offence_is_an_offence(provision_id: str) -> None:
    assert _get(provision_id).kind == "offence"


@pytest.mark.parametrize("provision_id", CONSEQUENCES)
def test_every_consequence_is_a_consequence(provision_id: str) -> None:
    assert _get(provision_id).kind == "consequence"


def test_1591_has_both_b_tiers_with_their_minimums() -> None:
    tiers = {p.id: (p.min_months, p.life) for p in _get("us-18-usc-1591").penalties}
    assert tiers == {"b1-means": (180, True), "b1-under-14": (180, True), "b2": (120, True)}


def test_1591_minor_rule_drops_means_elements_only() -> None:
    rule = _get("us-18-usc-1591").minor_rule
    assert rule is not None and rule.elements_not_required == ["means", "knowledge_of_means"]


def test_1591_advertising_is_excluded_from_reckless_disregard() -> None:
    element = next(e for e in _get("us-18-usc-1591").elements if e.id == "knowledge_of_means")
    assert element.reckless_suffices_when is not None
    assert "advertises" not in (element.reckless_suffices_when.acts_any or [])


def test_1591c_observation_list_omits_advertising() -> None:
    element = next(e for e in _get("us-18-usc-1591").elements if e.id == "knowledge_of_age")
    assert element.deemed_when is not None and "advertises" not in (element.deemed_when.acts_any or [])


def test_1589_life_tier_omits_attempted_aggravated_sexual_abuse() -> None:
    aggravated = _get("us-18-usc-1589").penalties[0]
    assert aggravated.when is not None and "attempted_aggravated_sexual_abuse" not in (
        aggravated.when.flags_any or []
    )


def test_1590_life_tier_includes_attempted_aggravated_sexual_abuse() -> None:
    aggravated = _get("us-18-usc-1590").penalties[0]
    assert aggravated.when is not None and "attempted_aggravated_sexual_abuse" in (
        aggravated.when.flags_any or []
    )


def test_1583_base_maximum_is_thirty_years() -> None:
    assert _get("us-18-usc-1583").penalties[-1].max_months == 360


def test_3583k_covers_1594c_but_not_attempts() -> None:
    covered = _get("us-18-usc-3583").applies_to
    assert "us-18-usc-1594-c" in covered and "us-18-usc-1594-a" not in covered


def test_3014_window_starts_on_jvta_enactment() -> None:
    assert _get("us-18-usc-3014").in_force.start == date(2015, 5, 29)


def test_every_us_file_explains_its_modelling() -> None:
    unexplained = [p.id for p in default_library().provisions("us") if len(p.notes) < 40]
    assert unexplained == []


def test_sentencing_table_cells_match_the_commission() -> None:
    assert (guideline_range(34, "I").min_months, guideline_range(34, "I").max_months) == (151, 188)


def test_sentencing_table_life_is_none() -> None:
    assert guideline_range(43, "I").min_months is None


def test_sentencing_table_clamps_levels_below_one() -> None:
    assert guideline_range(-3, "II") == guideline_range(1, "II")


def test_minimum_wage_changes_on_24_july_2009() -> None:
    assert (
        str(minimum_wage_on(date(2009, 7, 23)).hourly),
        str(minimum_wage_on(date(2009, 7, 24)).hourly),
    ) == ("6.55", "7.25")


def test_element_conditions_use_vocabulary_terms() -> None:
    # ``palermo law check`` validates penalty conditions; these element conditions are checked here.
    library = default_library()
    known = library.vocabulary.ids()
    used = {
        term
        for p in library.provisions("us")
        for e in p.elements
        for cond in (e.reckless_suffices_when, e.deemed_when)
        if cond is not None
        for term in [*(cond.acts_any or []), *(cond.means_any or []), *(cond.purposes_any or [])]
    }
    assert used and used <= known
