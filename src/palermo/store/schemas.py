"""Read models returned by every store service: plain, frozen pydantic objects, never ORM rows.

The CLI, the web app and notebooks all receive these, so what a victim looks like to the outside
is decided once, here: by pseudonym (``label``), with no identity field at all. The identity only
comes back as :class:`VictimIdentity` from ``parties.reveal_identity``, which is audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class Public(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class CasePublic(Public):
    id: int
    reference: str
    title: str
    jurisdiction: str
    status: str
    description: str | None
    created_by: str
    created_at: datetime


class PartyPublic(Public):
    id: int
    case_reference: str
    role: str
    label: str  # a victim's pseudonym
    age_at_offence: int | None
    notes: str | None
    has_identity: bool


class VictimIdentity(Public):
    party_id: int
    legal_name: str | None
    date_of_birth: str | None
    contact: str | None
    address: str | None


class ElementPublic(Public):
    id: int
    charge_id: int
    position: int
    element_key: str
    kind: str
    label: str
    required: bool
    not_required_reason: str | None


class ChargePublic(Public):
    id: int
    case_reference: str
    count_number: int
    offence_id: str
    citation: str
    defendant_id: int
    defendant: str
    victim_ids: list[int]
    victims: list[str]  # pseudonyms
    victim_age: int | None
    facts: dict[str, Any]
    elements: list[ElementPublic]


class EvidencePublic(Public):
    id: int
    case_reference: str
    sha256: str
    size: int
    original_filename: str
    media_type: str
    source: str
    acquired_by: str
    acquired_at: datetime
    tool: str | None
    tool_version: str | None
    description: str | None
    custody_count: int
    created_at: datetime


class CustodyEventPublic(Public):
    evidence_id: int
    seq: int
    event_type: str
    from_custodian: str | None
    to_custodian: str | None
    at: datetime
    purpose: str | None
    location: str | None
    note: str | None
    sha256: str
    recorded_by: str
    hash: str


class ProofLinkPublic(Public):
    id: int
    element_id: int
    evidence_id: int
    pinpoint: str | None
    stance: str
    note: str | None
    author: str
    lead_id: int | None
    accepted_by: str | None
    created_at: datetime


class LeadPublic(Public):
    id: int
    case_reference: str
    summary: str
    origin: str
    evidence_id: int | None
    locator: str | None
    element_id: int | None
    detail: dict[str, Any]
    status: str
    created_by: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    import_ids: list[int] | None = None
    flag: str | None = None
    flagged_at: datetime | None = None


class Mismatch(Public):
    evidence_id: int
    case_reference: str
    problem: str


class VerifyReport(Public):
    """Result of re-hashing stored evidence (or re-checking custody chains)."""

    checked: int
    mismatches: list[Mismatch]

    @property
    def ok(self) -> bool:
        return not self.mismatches
