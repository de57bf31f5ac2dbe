"""Charges and their materialised elements."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from palermo.errors import InputError
from palermo.store.tables import Charge
from palermo.workspace import Workspace

OFFENCE = "zz-sex-trafficking"


def test_minor_victim_means_element_not_required_with_reason(workspace: Workspace, case_ref: str) -> None:
    charge = workspace.charges.add(case_ref, OFFENCE, "D. Roe", ["V1"], 1)
    means = next(e for e in charge.elements if e.element_key == "means")
    assert not means.required and "minor" in (means.not_required_reason or "")


def test_adult_victim_needs_every_element(workspace: Workspace, case_ref: str) -> None:
    workspace.parties.add_victim(case_ref, "V2", age_at_offence=24)
    charge = workspace.charges.add(case_ref, OFFENCE, "D. Roe", ["V2"], 2)
    assert all(e.required for e in charge.elements)


def test_age_in_charge_facts_overrides_missing_party_age(workspace: Workspace, case_ref: str) -> None:
    workspace.parties.add_victim(case_ref, "V3")
    charge = workspace.charges.add(case_ref, OFFENCE, "D. Roe", ["V3"], 3, {"victim_age": 15})
    assert charge.victim_age == 15


def test_tier_needing_age_without_age_is_refused_and_nothing_stored(
    workspace: Workspace, case_ref: str
) -> None:
    workspace.parties.add_victim(case_ref, "V4")
    with pytest.raises(InputError) as info:
        workspace.charges.add(case_ref, OFFENCE, "D. Roe", ["V4"], 4)
    assert info.value.location == "facts.victim_age"
    with workspace.ctx.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Charge)) == 0


def test_unknown_offence_names_the_field(workspace: Workspace, case_ref: str) -> None:
    with pytest.raises(InputError) as info:
        workspace.charges.add(case_ref, "zz-no-such-offence", "D. Roe", ["V1"], 1)
    assert info.value.location == "offence_id"


def test_victim_must_be_a_victim(workspace: Workspace, case_ref: str) -> None:
    with pytest.raises(InputError, match="not a victim"):
        workspace.charges.add(case_ref, OFFENCE, "D. Roe", ["D. Roe"], 1)


def test_charge_list_shows_victims_by_pseudonym(workspace: Workspace, case_ref: str) -> None:
    workspace.charges.add(case_ref, OFFENCE, "D. Roe", ["V1"], 1)
    assert workspace.charges.list(case_ref)[0].victims == ["V1"]


def test_oldest_victim_decides_the_minor_rule(workspace: Workspace, case_ref: str) -> None:
    workspace.parties.add_victim(case_ref, "V5", age_at_offence=30)
    charge = workspace.charges.add(case_ref, OFFENCE, "D. Roe", ["V1", "V5"], 5)
    assert all(e.required for e in charge.elements)


def test_fact_dependent_element_stays_required_without_stated_facts(
    workspace: Workspace, case_ref: str
) -> None:
    charge = workspace.charges.add(case_ref, "zz-venture", "D. Roe", ["V1"], 6)
    assert {e.element_key: e.required for e in charge.elements}["venture"] is True


def test_stated_acts_drop_the_venture_element_with_reason(workspace: Workspace, case_ref: str) -> None:
    charge = workspace.charges.add(case_ref, "zz-venture", "D. Roe", ["V1"], 7, {"acts": ["recruitment"]})
    venture = next(e for e in charge.elements if e.element_key == "venture")
    assert not venture.required and "stated facts" in (venture.not_required_reason or "")


def test_facts_acts_must_be_a_list(workspace: Workspace, case_ref: str) -> None:
    with pytest.raises(InputError) as info:
        workspace.charges.add(case_ref, "zz-venture", "D. Roe", ["V1"], 8, {"acts": "recruitment"})
    assert info.value.location == "facts.acts"
