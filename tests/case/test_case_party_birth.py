"""A victim's date of birth is a real past date, consistent with the stated age at the offence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from palermo.errors import InputError
from palermo.workspace import Workspace

OFFENCE = "zz-sex-trafficking"


def _victim(ws: Workspace, case_ref: str, dob: str, age: int | None = None) -> None:
    ws.parties.add_victim(case_ref, "V-B", legal_name="Qqbirth Canary", date_of_birth=dob, age_at_offence=age)


@pytest.mark.parametrize("dob", ["not-a-date", "2007-02-31", "20040731", "2004-7-31", ""])
def test_unreadable_date_of_birth_names_the_field(workspace: Workspace, case_ref: str, dob: str) -> None:
    with pytest.raises(InputError) as info:
        _victim(workspace, case_ref, dob)
    assert info.value.location == "date_of_birth"


def test_future_date_of_birth_is_refused(workspace: Workspace, case_ref: str) -> None:
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    with pytest.raises(InputError, match="future"):
        _victim(workspace, case_ref, tomorrow)


def test_refused_date_of_birth_stores_no_party(workspace: Workspace, case_ref: str) -> None:
    before = workspace.parties.list(case_ref)
    with pytest.raises(InputError):
        _victim(workspace, case_ref, "2030-02-31")
    assert workspace.parties.list(case_ref) == before


def test_valid_date_of_birth_is_stored_as_iso_date(workspace: Workspace, case_ref: str) -> None:
    _victim(workspace, case_ref, " 2004-07-31 ")
    victim = workspace.parties.list(case_ref, role="victim")[-1]
    assert workspace.parties.reveal_identity(victim.id, user="advocate.a").date_of_birth == "2004-07-31"


def test_age_that_contradicts_the_offence_date_is_refused(workspace: Workspace, case_ref: str) -> None:
    workspace.charges.add(case_ref, OFFENCE, "D. Roe", ["V1"], 1, {"offence_date": "2020-06-01"})
    with pytest.raises(InputError, match="gives 15") as info:
        _victim(workspace, case_ref, "2004-07-31", age=16)
    assert info.value.location == "age_at_offence"


def test_age_that_matches_the_offence_date_is_accepted(workspace: Workspace, case_ref: str) -> None:
    workspace.charges.add(case_ref, OFFENCE, "D. Roe", ["V1"], 1, {"offence_date": "2020-06-01"})
    _victim(workspace, case_ref, "2004-07-31", age=15)
    assert workspace.parties.list(case_ref, role="victim")[-1].age_at_offence == 15


def test_without_an_offence_date_age_may_not_exceed_age_today(workspace: Workspace, case_ref: str) -> None:
    born = datetime.now(UTC).date().replace(day=1) - timedelta(days=365 * 10)
    with pytest.raises(InputError, match="exceeds the age today"):
        _victim(workspace, case_ref, born.isoformat(), age=30)


def test_age_above_120_is_refused(workspace: Workspace, case_ref: str) -> None:
    with pytest.raises(InputError) as info:
        workspace.parties.add_victim(case_ref, "V-Old", age_at_offence=121)
    assert info.value.location == "age_at_offence"
