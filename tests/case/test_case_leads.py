"""Leads: nothing machine-made enters the proof matrix until a person accepts it."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from palermo.domain.proof import Status
from palermo.errors import InputError
from palermo.store import repository
from palermo.store.leads import reconcile
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


def _runner_lead(ws: Workspace, case: str, setup: dict[str, int], import_ids: list[int]) -> int:
    """A lead as the indicator runner proposes it (its hit, the imports its rows came from)."""
    return ws.leads.propose(
        case,
        summary="Payments from ad site to D. Roe",
        origin="indicator:FUNNEL",
        evidence_id=setup["evidence"],
        locator="row:52",
        element_id=setup["element"],
        detail={"hit_id": "hit:race", "evidence_ids": [setup["evidence"]]},
        import_ids=import_ids,
    ).id


def _in_thread(work: Any) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = work()
        except Exception as exc:  # handed back to the test
            out["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


@pytest.mark.parametrize("review", ["accept", "reject"])
def test_a_review_waits_for_a_forget_withdrawing_the_lead(
    workspace: Workspace,
    case_ref: str,
    lead_setup: dict[str, int],
    database_url: str | None,
    review: str,
) -> None:
    """A forget withdraws the lead while a reviewer accepts (or rejects) it: the review waits for
    the forget's transaction and then refuses, instead of overwriting the withdrawal (PostgreSQL at
    READ COMMITTED would otherwise let both through: a withdrawn lead with a live proof link)."""
    lead = _runner_lead(workspace, case_ref, lead_setup, [1])
    other = Workspace.open(workspace.path, database_url=database_url, actor="reviewer")
    try:
        with workspace.ctx.db.transaction() as session:
            case = repository.case_by_ref(session, case_ref)
            assert reconcile(workspace.ctx, session, case, {}, actor="forget").withdrawn == [lead]
            if review == "accept":
                thread, out = _in_thread(lambda: other.leads.accept(lead, author="reviewer"))
            else:
                thread, out = _in_thread(lambda: other.leads.reject(lead, author="reviewer", reason="no"))
            time.sleep(1.0)  # the review has started and waits for this transaction
        thread.join(30)
    finally:
        other.close()
    assert isinstance(out.get("error"), InputError) and "already withdrawn" in str(out["error"]), out
    assert workspace.leads.get(lead).status == "withdrawn"
    assert element_links(workspace, case_ref, lead_setup["element"]) == 0


def test_a_forget_waits_for_a_review_accepting_the_lead(
    workspace: Workspace, case_ref: str, lead_setup: dict[str, int], database_url: str | None
) -> None:
    """The other way round: a reviewer's accept holds the lead when the forget's reconciliation
    reads it; the reconciliation waits and flags the accepted lead, instead of withdrawing it over
    the acceptance (which would leave a withdrawn lead with a proof link)."""
    lead = _runner_lead(workspace, case_ref, lead_setup, [1])
    other = Workspace.open(workspace.path, database_url=database_url, actor="forget")
    try:
        with workspace.ctx.db.transaction() as session:
            row = repository.lead(session, lead, for_update=True)  # as LeadService.accept does
            row.status, row.decided_by, row.decided_at = "accepted", "reviewer", datetime.now(UTC)
            session.flush()
            thread, out = _in_thread(lambda: other.leads.reconcile(case_ref, {}))
            time.sleep(1.0)  # the reconciliation has started and waits for this transaction
        thread.join(30)
    finally:
        other.close()
    assert "error" not in out, out
    assert (out["value"].withdrawn, out["value"].flagged) == ([], [lead])
    after = workspace.leads.get(lead)
    assert after.status == "accepted" and after.flag is not None


def test_a_confirmation_waits_for_a_forget_flagging_the_lead_again(
    workspace: Workspace, case_ref: str, lead_setup: dict[str, int], database_url: str | None
) -> None:
    """A reviewer confirms a flagged lead while a second forget flags it again: the confirmation
    waits, and what it records having reviewed includes the second flag, rather than erasing a flag
    nobody saw."""
    lead = _runner_lead(workspace, case_ref, lead_setup, [1, 2])
    workspace.leads.accept(lead, author="reviewer")
    assert workspace.leads.reconcile(case_ref, {2: lead_setup["evidence"]}).flagged == [lead]
    other = Workspace.open(workspace.path, database_url=database_url, actor="reviewer")
    try:
        with workspace.ctx.db.transaction() as session:
            case = repository.case_by_ref(session, case_ref)
            assert reconcile(workspace.ctx, session, case, {}, actor="forget").flagged == [lead]
            thread, out = _in_thread(lambda: other.leads.confirm(lead, author="reviewer", note="holds"))
            time.sleep(1.0)  # the confirmation has started and waits for this transaction
        thread.join(30)
    finally:
        other.close()
    assert "error" not in out, out
    assert "import 2" in (out["value"].reason or "")


def test_an_import_id_naming_another_exhibit_is_no_support(
    workspace: Workspace, case_ref: str, lead_setup: dict[str, int], exhibit_files: list[Path]
) -> None:
    """Import ids are unique only within one analytics database: after ``analytics.duckdb`` is
    rebuilt, import 1 may be another exhibit's. A lead that recorded which exhibit its import read
    is withdrawn then; one that did not (recorded before) is judged by the id alone, as before."""
    other = workspace.evidence.add(case_ref, exhibit_files[2], source="ads", acquired_by="Bo").id
    evidence = lead_setup["evidence"]
    paired = workspace.leads.propose(
        case_ref,
        summary="paired",
        origin="indicator:FUNNEL",
        evidence_id=evidence,
        detail={"hit_id": "hit:paired"},
        import_ids=[1],
        import_evidence={1: evidence},
    )
    bare = _runner_lead(workspace, case_ref, lead_setup, [1])
    assert paired.detail["import_evidence"] == {"1": evidence}
    assert workspace.leads.reconcile(case_ref, {1: evidence}).withdrawn == []
    assert workspace.leads.reconcile(case_ref, {1: other}).withdrawn == [paired.id]
    assert workspace.leads.get(bare).status == "proposed"
