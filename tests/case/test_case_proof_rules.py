"""Pure proof-matrix rules (no database): status order, independence, pinpoints."""

from __future__ import annotations

import pytest

from palermo.domain.proof import (
    ChargeFact,
    ElementFact,
    LinkFact,
    Stance,
    Status,
    build_matrix,
    element_status,
    parse_pinpoint,
)

ELEMENT = ElementFact(1, 10, "act", "recruits", "act", True)


def link(evidence_id: int, source: str, stance: Stance = Stance.SUPPORTS) -> LinkFact:
    return LinkFact(evidence_id, 1, evidence_id, source, stance)


def test_sources_differing_only_in_case_and_spacing_are_one_source() -> None:
    assert element_status(ELEMENT, [link(1, "Phone  A"), link(2, "phone a")]).status is Status.WEAK


def test_not_required_wins_over_contradiction() -> None:
    dropped = ElementFact(2, 10, "means", "force", "means", False, "minor")
    contra = LinkFact(1, 2, 1, "x", Stance.CONTRADICTS)
    assert element_status(dropped, [contra]).status is Status.NOT_REQUIRED


def test_charge_without_required_elements_is_ready() -> None:
    charge = ChargeFact(10, 1, "o", "c", "D", ("V1",))
    dropped = ElementFact(2, 10, "means", "force", "means", False, "minor")
    assert build_matrix("C", [charge], [dropped], []).charges[0].ready


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("page:3", "page:3"),
        ("Page: 3 ; line:10-12", "page:3;line:10-12"),
        ("row:52", "row:52"),
        ("timestamp:2023-04-01T10:15:00Z", "timestamp:2023-04-01T10:15:00Z"),
        ("message:abc-1", "message:abc-1"),
    ],
)
def test_valid_pinpoints_are_canonicalised(text: str, canonical: str) -> None:
    assert parse_pinpoint(text) == canonical


@pytest.mark.parametrize("text", ["", "page", "page:x", "volume:2", "timestamp:yesterday"])
def test_invalid_pinpoints_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_pinpoint(text)


def test_a_charge_resting_on_a_link_flagged_for_review_is_not_ready_and_shows_in_the_gaps() -> None:
    """A flagged link (its lead's imported rows were forgotten) still counts towards the element's
    status, but the charge is not called ready on it, and the gaps say which lead to look at."""
    charge = ChargeFact(10, 1, "o", "c", "D", ("V1",))
    flagged = LinkFact(2, 1, 2, "bank", Stance.SUPPORTS, lead_id=7, review="import 3 forgotten")
    matrix = build_matrix("C", [charge], [ELEMENT], [link(1, "phone"), flagged])
    [readiness] = matrix.charges
    assert (readiness.elements[0].status, readiness.proven, readiness.to_review) == (Status.PROVEN, 1, 1)
    assert not readiness.ready
    [gap] = matrix.gaps()
    assert gap.status is Status.PROVEN and "lead 7" in gap.missing and "flagged for review" in gap.missing
    assert matrix.to_dict()["charges"][0]["to_review"] == 1
    confirmed = build_matrix("C", [charge], [ELEMENT], [link(1, "phone"), link(2, "bank")])
    assert confirmed.charges[0].ready and confirmed.gaps() == []
