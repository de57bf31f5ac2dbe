"""The law loader and library: located errors, cross-file checks, lookups, the published schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from palermo.errors import LawDataError, NotFoundError
from palermo.law.library import LawLibrary, default_library
from palermo.law.loader import provision_schema

FIXTURES = Path(__file__).parent / "fixtures"
BAD = FIXTURES / "bad"
REPO = Path(__file__).resolve().parents[2]


def problems_in(folder: Path) -> list[str]:
    return [str(p) for p in LawLibrary.check(extra_paths=[folder]).problems]


def test_malformed_yaml_reports_the_parser_line() -> None:
    with pytest.raises(LawDataError) as err:
        LawLibrary.load(extra_paths=[BAD / "malformed"])
    assert str(err.value).startswith(f"{BAD / 'malformed' / 'broken.yaml'}:4: ")
    assert "malformed YAML" in str(err.value)


def test_unknown_key_names_file_line_and_field() -> None:
    assert problems_in(BAD / "unknown_key") == [
        f"{BAD / 'unknown_key' / 'extra.yaml'}:14: elements[0].penalty_note: unknown key "
        "(not part of the law-data format; see `palermo law schema`)"
    ]


def test_unknown_vocabulary_term_in_an_element_is_located() -> None:
    found = problems_in(BAD / "unknown_term")
    assert any(p.endswith("term.yaml:13: elements[0].alternatives[1]: unknown act term 'recruitmnt'; "
                          "known: see `palermo law vocabulary`") for p in found)


def test_term_of_the_wrong_category_is_an_error() -> None:
    found = problems_in(BAD / "unknown_term")
    assert any(":17: elements[1].alternatives[0]: term 'forced_labour' is a purpose, not a means" in p
               for p in found)


def test_unknown_term_inside_a_penalty_condition_is_located() -> None:
    found = problems_in(BAD / "unknown_term")
    assert any(":22: penalties[0].when.means_any[0]: unknown means term 'decepton'" in p for p in found)


def test_duplicate_id_across_files_points_at_the_first() -> None:
    found = problems_in(BAD / "duplicate")
    assert found == [f"{BAD / 'duplicate' / 'two.yaml'}:1: id: duplicate provision id 'xx-same' "
                     f"(first defined in {BAD / 'duplicate' / 'one.yaml'})"]


def test_reference_to_a_missing_provision_is_an_error() -> None:
    assert problems_in(BAD / "reference") == [
        f"{BAD / 'reference' / 'ref.yaml'}:9: references[1]: unknown provision 'xx-nowhere'"
    ]


def test_check_collects_every_problem_not_just_the_first() -> None:
    report = LawLibrary.check(extra_paths=[BAD])
    assert len(report.problems) == 7
    assert not report.ok


def test_packaged_library_checks_clean() -> None:
    report = LawLibrary.check()
    assert report.problems == []
    assert report.provisions >= 30


def test_get_unknown_id_suggests_close_matches() -> None:
    with pytest.raises(NotFoundError, match="did you mean gb-msa-2015-s2"):
        default_library().get("gb-msa-2015-s22")


def test_provisions_filter_by_jurisdiction_and_kind() -> None:
    offences = default_library().provisions("gb", kind="offence")
    assert {p.id for p in offences} >= {"gb-msa-2015-s1", "gb-msa-2015-s2", "gb-msa-2015-s4"}
    assert all(p.jurisdiction == "gb" and p.kind == "offence" for p in offences)


def test_jurisdictions_include_the_non_us_statutes() -> None:
    assert {"intl", "gb", "ca", "ph", "fr"} <= set(default_library().jurisdictions())


def test_extra_folder_is_loaded_alongside_the_packaged_data() -> None:
    library = LawLibrary.load(extra_paths=[FIXTURES / "draft-bill"])
    assert library.get("xx-draft-s1").jurisdiction == "xx"
    assert "gb-msa-2015-s2" in library


def test_extra_folder_vocabulary_adds_national_terms() -> None:
    library = LawLibrary.load(extra_paths=[FIXTURES / "national-terms"])
    assert library.vocabulary.protocol_terms("lures") == {"recruitment"}


def test_missing_extra_folder_is_a_problem() -> None:
    report = LawLibrary.check(extra_paths=[FIXTURES / "no-such-folder"])
    assert [p.problem for p in report.problems] == ["not a folder of provision YAML files"]


def test_committed_schema_matches_the_model() -> None:
    committed = (REPO / "docs" / "law" / "provision.schema.json").read_text(encoding="utf-8")
    assert committed == provision_schema()


def test_checklist_model_conducts_are_checked_against_the_vocabulary() -> None:
    root = FIXTURES / "root-bad-checklist"
    report = LawLibrary.check(root)
    assert [str(p) for p in report.problems] == [
        f"{root / 'checklists' / 'items.yaml'}:11: items[0].patterns[0].purposes[0]: unknown purpose term "
        "'forced_labor'; known: see `palermo law vocabulary`"
    ]
