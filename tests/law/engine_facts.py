"""Small builders of facts for the engine tests (synthetic pseudonyms only)."""

from __future__ import annotations

from typing import Any

from palermo.domain.counts import check_facts
from palermo.domain.facts import Matter, parse_facts
from palermo.law.library import default_library


def matter(
    counts: list[dict[str, Any]],
    victims: list[dict[str, Any]] | None = None,
    defendants: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> Matter:
    """A checked matter; counts default to defendant D1 and victim V1."""
    data: dict[str, Any] = {
        "jurisdiction": "us",
        "offence_date": "2019-03-01",
        "defendants": defendants or [{"id": "D1"}],
        "victims": victims or [{"id": "V1", "age": 30}],
        "counts": [{"number": i + 1, "defendant": "D1", "victim": "V1", **c} for i, c in enumerate(counts)],
        **extra,
    }
    parsed = parse_facts(data)
    check_facts(default_library(), parsed)
    return parsed


LABOUR: dict[str, Any] = {
    "offence": "us-18-usc-1589",
    "acts": ["obtains"],
    "means": ["threat_of_serious_harm"],
    "purposes": ["labor_or_services"],
}
SEX: dict[str, Any] = {
    "offence": "us-18-usc-1591",
    "acts": ["harbouring"],
    "purposes": ["commercial_sex_act"],
    "established": ["commerce"],
}
