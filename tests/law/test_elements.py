"""Elements engine: satisfied / missing / not required, with the rule and facts that decided it."""

from __future__ import annotations

from datetime import date
from typing import Any

from engine_facts import LABOUR, SEX, matter

from palermo.domain.elements import assess_elements, elements_to_prove
from palermo.law.library import default_library
from palermo.law.model import Element, ElementKind, InForce, MinorRule, Provision

LAW = default_library()


def _statuses(**count: Any) -> dict[str, str]:
    victims = [{"id": "V1", "age": count.pop("age", 30)}]
    result = assess_elements(LAW, matter([count], victims))[0]
    return {e.id: e.status for e in result.elements}


def _toy() -> Provision:
    return Provision(
        id="xx-toy-1",
        jurisdiction="xx",
        citation="Toy Act s. 1",
        title="toy",
        kind="offence",
        source="https://example.invalid/toy",
        in_force=InForce(start=date(2000, 1, 1)),
        verified=False,
        elements=[
            Element(id="act", kind=ElementKind.ACT, label="recruits", alternatives=["recruitment"]),
            Element(id="means", kind=ElementKind.MEANS, label="force", alternatives=["use_of_force"]),
        ],
        minor_rule=MinorRule(age_below=18, elements_not_required=["means"], citation="Toy Act s. 1(2)"),
        notes="constructed in code to test the generic minor rule",
    )


def test_minor_drops_means_on_a_constructed_provision() -> None:
    assert [(e.id, required) for e, required, _ in elements_to_prove(_toy(), 17)] == [
        ("act", True),
        ("means", False),
    ]


def test_unknown_age_keeps_every_element_required() -> None:
    assert all(required for _, required, _ in elements_to_prove(_toy(), None))


def test_age_only_exception_applies_in_elements_to_prove() -> None:
    rows = {e.id: required for e, required, _ in elements_to_prove(LAW.get("us-18-usc-1591"), 30)}
    assert rows["minor"] is False and rows["means"] is True


def test_minor_under_1591_needs_no_means() -> None:
    assert _statuses(**SEX, age=16)["means"] == "not_required"


def test_adult_under_1591_without_means_is_missing() -> None:
    assert _statuses(**SEX, age=30)["means"] == "missing"


def test_advertising_with_recklessness_fails() -> None:
    statuses = _statuses(**{**SEX, "acts": ["advertises"]}, means=["fraud"], mens_rea="reckless")
    assert statuses["knowledge_of_means"] == "missing"


def test_advertising_with_knowledge_succeeds() -> None:
    statuses = _statuses(**{**SEX, "acts": ["advertises"]}, means=["fraud"], mens_rea="knowing")
    assert statuses["knowledge_of_means"] == "satisfied"


def test_observation_substitutes_for_knowledge_of_age_under_a1() -> None:
    statuses = _statuses(**SEX, age=16, mens_rea=None, flags=["reasonable_opportunity_to_observe"])
    assert statuses["knowledge_of_age"] == "satisfied"


def test_observation_does_not_help_a_venture_count() -> None:
    count = {**SEX, "acts": ["benefits_from_venture", "harbouring"]}
    statuses = _statuses(**count, age=16, mens_rea=None, flags=["reasonable_opportunity_to_observe"])
    assert statuses["knowledge_of_age"] == "missing"


def test_forced_labour_needs_means_even_for_a_child() -> None:
    assert _statuses(**{**LABOUR, "means": []}, age=12)["means"] == "missing"


def test_result_explains_with_the_facts_used() -> None:
    result = assess_elements(LAW, matter([LABOUR]))[0]
    means = next(e for e in result.elements if e.id == "means")
    assert means.explanation[0].facts == ["means: threat_of_serious_harm"]


def test_made_out_only_when_nothing_is_missing() -> None:
    assert assess_elements(LAW, matter([{**LABOUR, "means": []}]))[0].made_out is False


def test_knowledge_does_not_prove_intent() -> None:
    count = {"offence": "us-18-usc-2421", "acts": ["transportation"], "purposes": ["commercial_sex_act"]}
    assert _statuses(**count, mens_rea="knowing")["intent"] == "missing"


def test_intent_proves_knowledge() -> None:
    assert _statuses(**LABOUR, mens_rea="intent")["knowledge"] == "satisfied"
