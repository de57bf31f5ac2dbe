"""The proof matrix: for every element of every charge, which exhibits prove it, and what is open.

Status of one element, decided in this order:

* ``not_required`` — the law drops it for this charge (e.g. the means of § 1591 for a minor).
* ``contested`` — any exhibit contradicts it. A contradiction must be answered before trial, however
  much supports the element, so it outranks every supporting link.
* ``proven`` — supported by at least two *independent* exhibits: distinct exhibits whose sources
  differ. Why two and why independent: an element resting on a single witness or a single device
  falls with that witness or device; corroboration from a second, separate origin is what lets a
  prosecutor call it proven. Two screenshots of one phone extraction are one source, not two.
* ``weak`` — supported, but by one source only.
* ``open`` — nothing supports it yet.

Readiness of a charge is the share of its required elements that are proven; it is ready when all
are and none rests on a link flagged for review (a lead whose imported rows were forgotten: the
link still counts, since the exhibit is unchanged, but nobody should call a charge ready on it
until a person has looked again). :meth:`ProofMatrix.gaps` lists the open, weak and contested
elements, and those resting on flagged links, with what is missing.
This module is pure: the store feeds it facts and renders nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

MIN_INDEPENDENT_SOURCES = 2


class Stance(StrEnum):
    SUPPORTS = "supports"
    CONTRADICTS = "contradicts"


class Status(StrEnum):
    PROVEN = "proven"
    WEAK = "weak"
    OPEN = "open"
    CONTESTED = "contested"
    NOT_REQUIRED = "not_required"


PINPOINT_KINDS = ("page", "line", "row", "message", "timestamp", "paragraph", "time", "cell", "other")
_RANGE = re.compile(r"^\d+(-\d+)?$")


def parse_pinpoint(text: str) -> str:
    """Validate a pinpoint like ``page:3``, ``page:3;line:10-14``, ``row:52``, ``message:abc123``,
    ``timestamp:2023-04-01T10:15:00Z`` and return its canonical form; raise ValueError naming the part.

    Numbers (page, line, row, paragraph) must be positive integers or ranges; a timestamp must be
    ISO 8601. The point is that a court can go straight to the spot: free text is only for ``other``.
    """
    parts = [p.strip() for p in text.split(";") if p.strip()]
    if not parts:
        raise ValueError("pinpoint is empty")
    canonical = []
    for part in parts:
        kind, sep, value = part.partition(":")
        kind, value = kind.strip().lower(), value.strip()
        if not sep or not value:
            raise ValueError(f"pinpoint part {part!r} must look like kind:value (e.g. page:3)")
        if kind not in PINPOINT_KINDS:
            raise ValueError(f"pinpoint kind {kind!r} must be one of {', '.join(PINPOINT_KINDS)}")
        if kind in ("page", "line", "row", "paragraph") and not _RANGE.match(value):
            raise ValueError(f"pinpoint {kind} {value!r} must be a number or a range like 3-5")
        if kind == "timestamp":
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError as exc:
                raise ValueError(f"pinpoint timestamp {value!r} is not ISO 8601") from exc
        canonical.append(f"{kind}:{value}")
    return ";".join(canonical)


@dataclass(frozen=True)
class LinkFact:
    """One proof link as the matrix needs it."""

    link_id: int
    element_id: int
    evidence_id: int
    source: str
    stance: Stance
    pinpoint: str | None = None
    note: str | None = None
    author: str = ""
    lead_id: int | None = None
    #: why the link needs a person's review again (its lead's evidence was removed); it still counts
    #: towards the element's status, since the exhibit is unchanged, but every view shows it
    review: str | None = None


@dataclass(frozen=True)
class ElementFact:
    element_id: int
    charge_id: int
    key: str
    label: str
    kind: str
    required: bool
    not_required_reason: str | None = None


@dataclass(frozen=True)
class ChargeFact:
    charge_id: int
    count_number: int
    offence_id: str
    citation: str
    defendant: str
    victims: tuple[str, ...]


@dataclass(frozen=True)
class ElementStatus:
    element: ElementFact
    status: Status
    links: tuple[LinkFact, ...]
    sources: tuple[str, ...]
    missing: str | None

    @property
    def to_review(self) -> tuple[LinkFact, ...]:
        """The links behind this element flagged for review (their lead's evidence was removed)."""
        return tuple(lnk for lnk in self.links if lnk.review)


@dataclass(frozen=True)
class ChargeReadiness:
    charge: ChargeFact
    elements: tuple[ElementStatus, ...]
    required: int
    proven: int
    #: required elements that rest on a link flagged for review
    to_review: int = 0

    @property
    def readiness(self) -> float:
        return 1.0 if self.required == 0 else self.proven / self.required

    @property
    def ready(self) -> bool:
        """Every required element proven, none of them on a link flagged for review."""
        return self.proven == self.required and self.to_review == 0


def _review_note(links: Sequence[LinkFact]) -> str:
    leads = ", ".join(
        f"lead {lnk.lead_id}" if lnk.lead_id is not None else f"link {lnk.link_id}" for lnk in links
    )
    return (
        f"rests on link(s) flagged for review, their evidence removed ({leads}): "
        "confirm them (palermo lead confirm) or corroborate"
    )


@dataclass(frozen=True)
class Gap:
    charge_id: int
    count_number: int
    citation: str
    element_id: int
    element_key: str
    label: str
    status: Status
    missing: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _source_key(source: str) -> str:
    return " ".join(source.lower().split())


def element_status(element: ElementFact, links: Sequence[LinkFact]) -> ElementStatus:
    """Decide one element's status from its links (see the module docstring for the rules)."""
    mine = tuple(lnk for lnk in links if lnk.element_id == element.element_id)
    supporting = [lnk for lnk in mine if lnk.stance is Stance.SUPPORTS]
    against = [lnk for lnk in mine if lnk.stance is Stance.CONTRADICTS]
    first_seen: dict[str, str] = {}
    for lnk in supporting:
        first_seen.setdefault(_source_key(lnk.source), lnk.source)
    sources = tuple(first_seen.values())  # independent sources, as their exhibits name them
    if not element.required:
        return ElementStatus(element, Status.NOT_REQUIRED, mine, sources, None)
    if against:
        exhibits = ", ".join(f"E{lnk.evidence_id}" for lnk in against)
        return ElementStatus(
            element,
            Status.CONTESTED,
            mine,
            sources,
            f"contradicted by {exhibits}: rebut or explain before relying on it",
        )
    if len(sources) >= MIN_INDEPENDENT_SOURCES:
        return ElementStatus(element, Status.PROVEN, mine, sources, None)
    if supporting:
        return ElementStatus(
            element,
            Status.WEAK,
            mine,
            sources,
            f"rests on one source ({sources[0]}): corroborate with an exhibit from another source",
        )
    return ElementStatus(element, Status.OPEN, mine, sources, "no exhibit supports it yet")


@dataclass(frozen=True)
class ProofMatrix:
    case_reference: str
    charges: tuple[ChargeReadiness, ...] = field(default_factory=tuple)

    def gaps(self) -> list[Gap]:
        """Every open, weak or contested required element, and every required element resting on a
        link flagged for review, with what is missing."""
        return [
            Gap(
                c.charge.charge_id,
                c.charge.count_number,
                c.charge.citation,
                e.element.element_id,
                e.element.key,
                e.element.label,
                e.status,
                "; ".join(
                    part for part in (e.missing, _review_note(e.to_review) if e.to_review else None) if part
                ),
            )
            for c in self.charges
            for e in c.elements
            if e.status in (Status.OPEN, Status.WEAK, Status.CONTESTED)
            or (e.status is not Status.NOT_REQUIRED and e.to_review)
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_reference": self.case_reference,
            "charges": [
                {
                    **asdict(c.charge),
                    "readiness": round(c.readiness, 4),
                    "ready": c.ready,
                    "required": c.required,
                    "proven": c.proven,
                    "to_review": c.to_review,
                    "elements": [
                        {
                            **asdict(e.element),
                            "status": e.status.value,
                            "missing": e.missing,
                            "sources": list(e.sources),
                            "links": [asdict(lnk) for lnk in e.links],
                        }
                        for e in c.elements
                    ],
                }
                for c in self.charges
            ],
            "gaps": [g.to_dict() for g in self.gaps()],
        }


def build_matrix(
    case_reference: str,
    charges: Sequence[ChargeFact],
    elements: Sequence[ElementFact],
    links: Sequence[LinkFact],
) -> ProofMatrix:
    """Assemble the matrix for a case from its charges, their elements and all proof links."""
    result = []
    for charge in charges:
        statuses = tuple(element_status(e, links) for e in elements if e.charge_id == charge.charge_id)
        required = sum(1 for s in statuses if s.status is not Status.NOT_REQUIRED)
        proven = sum(1 for s in statuses if s.status is Status.PROVEN)
        review = sum(1 for s in statuses if s.status is not Status.NOT_REQUIRED and s.to_review)
        result.append(ChargeReadiness(charge, statuses, required, proven, review))
    return ProofMatrix(case_reference, tuple(result))
