"""Leads: nothing machine-made enters the proof matrix until a person accepts it."""

from __future__ import annotations

from pathlib import Path

import pytest

from palermo.domain.proof import Status
from palermo.errors import InputError
from palermo.workspace import Workspace

OFFENCE = "zz-sex-trafficking"


@pytest.fixture
def lead_setup(workspace: Workspace, case_ref: str, exhibit_files: list[Path]) -> dict[str, int]:
    charge = workspace.charges.add(case_ref, OFFENCE, "D. Roe", ["V1"], 1)
    element = next(e.id for e in charge.elements if e.element_key == "commercial_sex")
    item = workspace.evidence.add(case_ref, exhibit_files[1], source="bank", acquired_by="Bo")
    lead = workspace.leads.propose(
        case_ref,
        summary="Payments from ad site to D. Roe",
        origin="indicator:FUNNEL",
        evidence_id=item.id,
        locator="row:52",
        element_id=element,
        detail={"amount": 1200},
    )
    return {"element": element, "evidence": item.id, "lead": lead.id}


def element_links(ws: Workspace, case: str, element_id: int) -> int:
    matrix = ws.proof.matrix(case)
    return sum(len(e.links) for c in matrix.charges for e in c.elements if e.element.element_id == element_id)


def test_proposed_lead_is_not_in_the_matrix(
    workspace: Workspace, case_ref: str, lead_setup: dict[str, int]
) -> None:
    assert element_links(workspace, case_ref, lead_setup["element"]) == 0


def test_accept_creates_a_link_with_provenance(
    workspace: Workspace, case_ref: str, lead_setup: dict[str, int]
) -> None:
    link = workspace.leads.accept(lead_setup["lead"], author="prosecutor.p")
    assert (link.lead_id, link.accepted_by, link.author, link.pinpoint) == (
        lead_setup["lead"],
        "prosecutor.p",
        "indicator:FUNNEL",
        "row:52",
    )
    assert workspace.leads.get(lead_setup["lead"]).status == "accepted"


def test_accepted_lead_counts_in_the_matrix(
    workspace: Workspace, case_ref: str, lead_setup: dict[str, int]
) -> None:
    workspace.leads.accept(lead_setup["lead"], author="prosecutor.p")
    matrix = workspace.proof.matrix(case_ref)
    status = next(
        e.status for c in matrix.charges for e in c.elements if e.element.element_id == lead_setup["element"]
    )
    assert status is Status.WEAK


def test_reject_keeps_the_lead_with_reason_and_no_link(
    workspace: Workspace, case_ref: str, lead_setup: dict[str, int]
) -> None:
    lead = workspace.leads.reject(lead_setup["lead"], author="prosecutor.p", reason="refund, not payment")
    assert (lead.status, lead.reason) == ("rejected", "refund, not payment")
    assert element_links(workspace, case_ref, lead_setup["element"]) == 0


def test_a_decided_lead_cannot_be_accepted_again(
    workspace: Workspace, case_ref: str, lead_setup: dict[str, int]
) -> None:
    workspace.leads.accept(lead_setup["lead"], author="p")
    with pytest.raises(InputError, match="already accepted"):
        workspace.leads.accept(lead_setup["lead"], author="p")


def test_list_filters_by_status(workspace: Workspace, case_ref: str, lead_setup: dict[str, int]) -> None:
    workspace.leads.propose(case_ref, summary="Shared phone", origin="person:jsmith")
    workspace.leads.accept(lead_setup["lead"], author="p")
    assert [x.origin for x in workspace.leads.list(case_ref, status="proposed")] == ["person:jsmith"]


def test_lead_without_exhibit_cannot_be_accepted(
    workspace: Workspace, case_ref: str, lead_setup: dict[str, int]
) -> None:
    lead = workspace.leads.propose(
        case_ref, summary="Tip", origin="person:jsmith", element_id=lead_setup["element"]
    )
    with pytest.raises(InputError) as info:
        workspace.leads.accept(lead.id, author="p")
    assert info.value.location == "evidence_id"
