"""API input schemas (``XCreate``) and the few output shapes the store does not define.

Read models come from ``palermo.store.schemas`` (``CasePublic``, ``PartyPublic``…), the same objects
the CLI prints, so the API cannot show a field the rest of Palermo hides: a victim is a pseudonym
everywhere. Inputs forbid unknown keys and bound every string, so a malformed request is a 422
that names the field, never a half-applied change.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseCreate(Strict):
    reference: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    title: str = Field(min_length=1, max_length=300)
    jurisdiction: str = Field(default="us", min_length=2, max_length=8, pattern=r"^[a-z]+$")
    description: str | None = Field(default=None, max_length=5000)


class PartyCreate(Strict):
    """A party; a victim is created by pseudonym only (identity fields go through the CLI or a form
    that holds the victim-identity permission)."""

    role: Literal["defendant", "victim", "witness", "other"]
    label: str = Field(min_length=1, max_length=200)
    age_at_offence: int | None = Field(default=None, ge=0, le=129)
    notes: str | None = Field(default=None, max_length=5000)


class ChargeCreate(Strict):
    offence_id: str = Field(min_length=1, max_length=80)
    defendant: int = Field(ge=1, le=2**31 - 1)
    victims: list[int] = Field(min_length=1, max_length=100)
    count_number: int = Field(ge=1, le=10000)
    facts: dict[str, Any] = Field(default_factory=dict)


class ProofLinkCreate(Strict):
    element_id: int = Field(ge=1, le=2**31 - 1)
    evidence_id: int = Field(ge=1, le=2**31 - 1)
    stance: Literal["supports", "contradicts"] = "supports"
    pinpoint: str | None = Field(default=None, max_length=300)
    note: str | None = Field(default=None, max_length=5000)


class LeadAccept(Strict):
    element_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class LeadReject(Strict):
    reason: str = Field(min_length=1, max_length=2000)


class LeadConfirm(Strict):
    note: str = Field(min_length=1, max_length=2000)


class NetworkFilter(Strict):
    community: int | None = None
    role: str | None = Field(default=None, max_length=40)
    edge_kind: str | None = Field(default=None, max_length=40)
    date_from: str | None = Field(default=None, max_length=30)
    date_to: str | None = Field(default=None, max_length=30)


class Problem(BaseModel):
    field: str
    problem: str


class ErrorBody(BaseModel):
    """Every 4xx answer of the API has this shape: a type, a sentence, and where it applies."""

    type: str
    message: str
    location: str | None = None
    problems: list[Problem] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text}
    for code, text in {
        400: "Bad input",
        401: "Not signed in",
        403: "Not allowed, or CSRF token missing",
        404: "Unknown id, or a case you are not a member of",
        409: "Valid input, but the operation cannot succeed",
        413: "Upload larger than the limit",
        422: "Malformed request",
    }.items()
}
