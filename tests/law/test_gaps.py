"""Gap analysis of statute data against the Protocol / UNTOC / TVPA checklist."""

from __future__ import annotations

from pathlib import Path

import pytest

from palermo.domain.gaps import analyse_gaps
from palermo.errors import NotFoundError
from palermo.law.library import LawLibrary, default_library

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def draft() -> dict[str, str]:
    library = LawLibrary.load(extra_paths=[FIXTURES / "draft-bill"])
    return {f.item: f.status for f in analyse_gaps(library, "xx").findings}


def reasons(jurisdiction: str) -> dict[str, str]:
    return {f.item: f.reason for f in analyse_gaps(default_library(), jurisdiction).findings}


def test_deficient_draft_misses_acts_means_and_purposes(draft: dict[str, str]) -> None:
    assert (draft["P-1"], draft["P-2"], draft["P-3"]) == ("not_met", "not_met", "not_met")


def test_deficient_draft_requires_means_for_children(draft: dict[str, str]) -> None:
    assert draft["P-5"] == "not_met"


def test_deficient_draft_lacks_ancillary_liability(draft: dict[str, str]) -> None:
    assert [draft[i] for i in ("P-7", "P-8", "P-9", "P-10")] == ["not_met"] * 4


def test_deficient_draft_penalty_is_below_the_serious_crime_threshold(draft: dict[str, str]) -> None:
    assert draft["P-11"] == "not_met"


def test_deficient_draft_has_no_confiscation_compensation_or_non_punishment(draft: dict[str, str]) -> None:
    assert [draft[i] for i in ("P-12", "P-19", "P-29", "T-3")] == ["not_met"] * 4


def test_deficient_draft_does_not_cover_labour_trafficking(draft: dict[str, str]) -> None:
    assert draft["T-1"] == "not_met"


def test_commensurate_cannot_be_told_without_a_comparator(draft: dict[str, str]) -> None:
    assert draft["T-2"] == "cannot_tell"


def test_missing_terms_are_named() -> None:
    library = LawLibrary.load(extra_paths=[FIXTURES / "draft-bill"])
    p1 = next(f for f in analyse_gaps(library, "xx").findings if f.item == "P-1")
    assert p1.reason == "3 of 5 protocol act terms not covered: harbouring, receipt, transfer"
    assert p1.cited == ["xx-draft-s1"]


def test_uk_has_no_means_element_so_every_means_is_covered() -> None:
    assert "gb-msa-2015-s2: no means element" in reasons("gb")["P-2"]


def test_uk_non_punishment_defence_is_found() -> None:
    finding = next(f for f in analyse_gaps(default_library(), "gb").findings if f.item == "P-29")
    assert finding.status == "met" and finding.cited == ["gb-msa-2015-s45"]


def test_uk_trafficking_penalty_is_commensurate_with_rape() -> None:
    finding = next(f for f in analyse_gaps(default_library(), "gb").findings if f.item == "T-2")
    assert finding.status == "met" and "gb-soa-2003-s1" in finding.cited


def test_french_text_names_neither_abduction_nor_deception() -> None:
    assert reasons("fr")["P-2"] == "2 of 9 protocol means terms not covered: abduction, deception"


def test_unverified_figures_are_flagged_as_caveats() -> None:
    finding = next(f for f in analyse_gaps(default_library(), "ph").findings if f.item == "P-11")
    assert finding.caveats and "not verified" in finding.caveats[0]


def test_unknown_jurisdiction_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="'zz'"):
        analyse_gaps(default_library(), "zz")
