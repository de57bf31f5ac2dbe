"""API: cases, parties and charges. A person sees only the cases they are a member of."""

from __future__ import annotations

from fastapi import APIRouter, Path, status

from palermo.errors import NotFoundError
from palermo.security.access import Permission
from palermo.store.schemas import CasePublic, ChargePublic, PartyPublic
from palermo.web.deps import WS, CaseRef, CsrfChecked, Principal
from palermo.web.schemas import CaseCreate, ChargeCreate, PartyCreate

router = APIRouter(tags=["cases"])
Id = Path(ge=1, le=2**31 - 1)


@router.get("/cases", response_model=list[CasePublic])
def list_cases(ws: WS, principal: Principal) -> list[CasePublic]:
    """The cases the signed-in person is a member of."""
    return [c for c in ws.cases.list() if c.reference in principal.case_refs]


@router.post("/cases", response_model=CasePublic, status_code=status.HTTP_201_CREATED)
def create_case(body: CaseCreate, ws: WS, principal: CsrfChecked) -> CasePublic:
    """Open a case; its creator becomes its first member."""
    principal.require(Permission.CASE_CREATE)
    case: CasePublic = ws.as_actor(principal.username).cases.create(
        body.reference, body.title, body.jurisdiction, description=body.description
    )
    ws.users.add_member(case.reference, principal.username, actor=principal.username)
    return case


@router.get("/cases/{case_ref}", response_model=CasePublic)
def get_case(case_ref: CaseRef, ws: WS) -> CasePublic:
    case: CasePublic = ws.cases.get(case_ref)
    return case


@router.get("/cases/{case_ref}/parties", response_model=list[PartyPublic])
def list_parties(case_ref: CaseRef, ws: WS) -> list[PartyPublic]:
    """Parties of the case; victims by pseudonym only."""
    parties: list[PartyPublic] = ws.parties.list(case_ref)
    return parties


@router.post("/cases/{case_ref}/parties", response_model=PartyPublic, status_code=status.HTTP_201_CREATED)
def add_party(case_ref: CaseRef, body: PartyCreate, ws: WS, principal: CsrfChecked) -> PartyPublic:
    principal.require(Permission.CASE_WRITE, case_ref)
    party: PartyPublic = ws.as_actor(principal.username).parties.add(
        case_ref, body.role, body.label, age_at_offence=body.age_at_offence, notes=body.notes
    )
    return party


@router.get("/cases/{case_ref}/parties/{party_id}", response_model=PartyPublic)
def get_party(case_ref: CaseRef, ws: WS, party_id: int = Id) -> PartyPublic:
    party: PartyPublic = ws.parties.get(party_id)
    if party.case_reference != case_ref:
        raise NotFoundError(f"no party {party_id} in case {case_ref}", location="party_id")
    return party


@router.get("/cases/{case_ref}/charges", response_model=list[ChargePublic])
def list_charges(case_ref: CaseRef, ws: WS) -> list[ChargePublic]:
    charges: list[ChargePublic] = ws.charges.list(case_ref)
    return charges


@router.post("/cases/{case_ref}/charges", response_model=ChargePublic, status_code=status.HTTP_201_CREATED)
def add_charge(case_ref: CaseRef, body: ChargeCreate, ws: WS, principal: CsrfChecked) -> ChargePublic:
    principal.require(Permission.CASE_WRITE, case_ref)
    charge: ChargePublic = ws.as_actor(principal.username).charges.add(
        case_ref, body.offence_id, body.defendant, body.victims, body.count_number, body.facts
    )
    return charge
