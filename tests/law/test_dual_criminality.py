"""Dual criminality through the vocabulary, with penalty tiers and the extradition threshold."""

from __future__ import annotations

from pathlib import Path

import pytest

from palermo.domain.conduct import Conduct, parse_conduct
from palermo.domain.dual_criminality import check_dual_criminality
from palermo.errors import FactsError, NotFoundError
from palermo.law.library import LawLibrary, default_library

FIXTURES = Path(__file__).parent / "fixtures"


def conduct(**data: object) -> Conduct:
    return parse_conduct(data, default_library().vocabulary, "test")


FORCED_LABOUR = {
    "acts": ["recruitment", "transportation", "harbouring", "obtaining_labour_or_services"],
    "means": ["threat_of_serious_harm", "abuse_of_legal_process"],
    "purposes": ["forced_labour"],
    "victim_age": 34,
}


def test_us_to_gb_forced_labour_is_punishable_in_both() -> None:
    result = check_dual_criminality(default_library(), conduct(**FORCED_LABOUR), "us", "gb")
    assert result.verdict == "satisfied"
    assert result.requested.best is not None and result.requested.best.life
    assert "us-18-usc-1589" in result.cited and "gb-msa-2015-s2" in result.cited


def test_conduct_without_means_is_not_punishable_where_means_are_required() -> None:
    adult = conduct(acts=["recruitment", "transportation"], purposes=["forced_labour"], victim_age=30)
    result = check_dual_criminality(default_library(), adult, "gb", "ph")
    assert result.verdict == "not_satisfied"
    assert result.requesting.status == "satisfied" and result.requested.status == "not_satisfied"
    assert any("ph-ra9208" not in r and "means — conduct means (none)" in r for r in result.reasons)


def test_means_fall_away_for_a_child_and_the_qualified_tier_applies() -> None:
    child = conduct(acts=["recruitment"], purposes=["exploitation_of_prostitution"], victim_age=15)
    finding = check_dual_criminality(default_library(), child, "gb", "ph").requested
    match = next(m for m in finding.offences if m.provision == "ph-ra9208-s4")
    assert match.status == "satisfied"
    assert [c.status for c in match.elements if c.element == "means"] == ["not_required"]
    assert match.tier == "s10-c-qualified-child" and match.life


def test_a_maximum_below_the_threshold_fails_the_verdict() -> None:
    labour = conduct(**FORCED_LABOUR)
    result = check_dual_criminality(default_library(), labour, "gb", "fr", threshold_months=100)
    assert result.requested.status == "satisfied"
    assert result.requested.best is not None and result.requested.best.max_months == 84
    assert result.verdict == "not_satisfied"


def test_national_terms_meet_through_protocol_terms() -> None:
    provides = conduct(acts=["provides"], means=["coercion"], purposes=["commercial_sex_act"], victim_age=25)
    result = check_dual_criminality(default_library(), provides, "us", "gb")
    s2 = next(m for m in result.requested.offences if m.provision == "gb-msa-2015-s2")
    act = next(c for c in s2.elements if c.element == "act")
    assert act.status == "satisfied" and "provides → transfer ← transfer" in act.reason


def test_a_us_only_act_is_not_trafficking_elsewhere() -> None:
    buyer = conduct(acts=["patronizes"], means=["use_of_force"], purposes=["commercial_sex_act"],
                    victim_age=25)
    assert check_dual_criminality(default_library(), buyer, "us", "gb").requested.status == "not_satisfied"


def test_elements_a_conduct_cannot_show_are_assumed_not_failed() -> None:
    result = check_dual_criminality(default_library(), conduct(**FORCED_LABOUR), "us", "gb")
    s2 = next(m for m in result.requested.offences if m.provision == "gb-msa-2015-s2")
    assert {c.element: c.status for c in s2.elements}["travel"] == "assumed"


def test_draft_bill_terms_take_part_in_dual_criminality() -> None:
    library = LawLibrary.load(extra_paths=[FIXTURES / "national-terms"])
    lured = parse_conduct({"acts": ["lures"], "purposes": ["forced_labour"], "victim_age": 20},
                          library.vocabulary)
    result = check_dual_criminality(library, lured, "xy", "gb")
    assert result.verdict == "satisfied"


def test_unknown_conduct_term_is_a_facts_error_naming_the_field() -> None:
    with pytest.raises(FactsError, match=r"means\[0\]: unknown means term 'forse'"):
        conduct(acts=["recruitment"], means=["forse"])


def test_unknown_jurisdiction_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="'zz'"):
        check_dual_criminality(default_library(), conduct(**FORCED_LABOUR), "us", "zz")
