"""Proof links and the proof matrix on a real workspace."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from palermo.domain.proof import Status
from palermo.errors import InputError
from palermo.store.tables import ProofLink
from palermo.workspace import Workspace

OFFENCE = "zz-sex-trafficking"


@pytest.fixture
def setup(workspace: Workspace, case_ref: str, exhibit_files: list[Path]) -> dict[str, int]:
    """A charge (minor victim) and three exhibits: two from the phone, one from the bank."""
    charge = workspace.charges.add(case_ref, OFFENCE, "D. Roe", ["V1"], 1)
    ids = {e.element_key: e.id for e in charge.elements}
    phone = workspace.evidence.add_many(
        case_ref, exhibit_files[:2], source="phone of D. Roe", acquired_by="Ada"
    )
    bank = workspace.evidence.add(case_ref, exhibit_files[2], source="First Bank subpoena", acquired_by="Bo")
    return {**ids, "phone1": phone[0].id, "phone2": phone[1].id, "bank": bank.id}


def status_of(ws: Workspace, case: str, element_id: int) -> Status:
    matrix = ws.proof.matrix(case)
    return next(e.status for c in matrix.charges for e in c.elements if e.element.element_id == element_id)


def test_element_without_links_is_open(workspace: Workspace, case_ref: str, setup: dict[str, int]) -> None:
    assert status_of(workspace, case_ref, setup["act"]) is Status.OPEN


def test_two_exhibits_from_one_source_are_weak(
    workspace: Workspace, case_ref: str, setup: dict[str, int]
) -> None:
    workspace.proof.link(setup["act"], setup["phone1"], pinpoint="line:3")
    workspace.proof.link(setup["act"], setup["phone2"], pinpoint="line:9")
    assert status_of(workspace, case_ref, setup["act"]) is Status.WEAK


def test_two_independent_sources_prove(workspace: Workspace, case_ref: str, setup: dict[str, int]) -> None:
    workspace.proof.link(setup["act"], setup["phone1"], pinpoint="message:m-77")
    workspace.proof.link(setup["act"], setup["bank"], pinpoint="row:52")
    assert status_of(workspace, case_ref, setup["act"]) is Status.PROVEN


def test_a_contradiction_contests_a_proven_element(
    workspace: Workspace, case_ref: str, setup: dict[str, int]
) -> None:
    workspace.proof.link(setup["act"], setup["phone1"])
    workspace.proof.link(setup["act"], setup["bank"])
    workspace.proof.link(setup["act"], setup["phone2"], stance="contradicts", note="alibi message")
    assert status_of(workspace, case_ref, setup["act"]) is Status.CONTESTED


def test_means_for_a_minor_is_not_required(
    workspace: Workspace, case_ref: str, setup: dict[str, int]
) -> None:
    assert status_of(workspace, case_ref, setup["means"]) is Status.NOT_REQUIRED


def test_readiness_counts_required_elements_only(
    workspace: Workspace, case_ref: str, setup: dict[str, int]
) -> None:
    for key in ("act", "commerce", "commercial_sex"):
        workspace.proof.link(setup[key], setup["phone1"])
        workspace.proof.link(setup[key], setup["bank"])
    (charge,) = workspace.proof.matrix(case_ref).charges
    assert (charge.proven, charge.required, charge.ready) == (3, 3, True)


def test_gaps_list_what_is_missing(workspace: Workspace, case_ref: str, setup: dict[str, int]) -> None:
    workspace.proof.link(setup["act"], setup["phone1"])
    gaps = {g.element_key: g for g in workspace.proof.gaps(case_ref)}
    assert set(gaps) == {"act", "commerce", "commercial_sex"}
    assert "one source" in gaps["act"].missing


def test_link_to_another_cases_evidence_is_refused_and_nothing_stored(
    workspace: Workspace, case_ref: str, setup: dict[str, int], tmp_path: Path
) -> None:
    workspace.cases.create("OTHER-1", "Another investigation", "zz")
    foreign_file = tmp_path / "foreign.txt"
    foreign_file.write_text("other case")
    foreign = workspace.evidence.add("OTHER-1", foreign_file, source="x", acquired_by="y")
    with pytest.raises(InputError) as info:
        workspace.proof.link(setup["act"], foreign.id)
    assert info.value.location == "evidence_id"
    with workspace.ctx.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ProofLink)) == 0


def test_invalid_pinpoint_is_refused(workspace: Workspace, case_ref: str, setup: dict[str, int]) -> None:
    with pytest.raises(InputError) as info:
        workspace.proof.link(setup["act"], setup["phone1"], pinpoint="page:three")
    assert info.value.location == "pinpoint"


def test_unknown_stance_is_refused(workspace: Workspace, case_ref: str, setup: dict[str, int]) -> None:
    with pytest.raises(InputError, match="stance"):
        workspace.proof.link(setup["act"], setup["phone1"], stance="maybe")
