"""Lookups every service shares, each turning "not there" into a NotFoundError naming the field.

Kept in one place so that the message a prosecutor sees for an unknown case reference, party or
exhibit is the same from the CLI, the web app and a notebook.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from palermo.errors import NotFoundError
from palermo.store.tables import Case, ElementRow, EvidenceItem, Lead, Party


def case_by_ref(session: Session, reference: str, *, field: str = "case") -> Case:
    """The case with this reference, or NotFoundError listing what exists."""
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None:
        known = session.scalars(select(Case.reference).order_by(Case.reference).limit(10)).all()
        hint = f" (known: {', '.join(known)})" if known else " (no cases yet: palermo case create)"
        raise NotFoundError(f"unknown case {reference!r}{hint}", location=field)
    return case


def case_by_id(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFoundError(f"unknown case id {case_id}", location="case")
    return case


def party(session: Session, case: Case, ref: int | str, *, field: str = "party") -> Party:
    """A party of ``case`` by id, or by its label (a victim's pseudonym)."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        found = session.get(Party, int(ref))
        if found is not None and found.case_id == case.id:
            return found
    else:
        matches = session.scalars(select(Party).where(Party.case_id == case.id, Party.label == ref)).all()
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise NotFoundError(
                f"{ref!r} names {len(matches)} parties in case {case.reference}: use the id", location=field
            )
    raise NotFoundError(f"no party {ref!r} in case {case.reference}", location=field)


def evidence(
    session: Session, evidence_id: int, *, field: str = "evidence", for_update: bool = False
) -> EvidenceItem:
    """An exhibit by id; ``for_update`` locks its row (PostgreSQL) so custody appends queue up."""
    item = session.get(EvidenceItem, evidence_id, with_for_update=for_update)
    if item is None:
        raise NotFoundError(f"unknown evidence id {evidence_id}", location=field)
    return item


def element(session: Session, element_id: int, *, field: str = "element") -> ElementRow:
    row = session.get(ElementRow, element_id)
    if row is None:
        raise NotFoundError(f"unknown element id {element_id}", location=field)
    return row


def lead(session: Session, lead_id: int, *, field: str = "lead", for_update: bool = False) -> Lead:
    """A lead by id; ``for_update`` locks its row (PostgreSQL) so that a review (accept, reject,
    confirm) and a forget's reconciliation wait for each other instead of overwriting each other."""
    row = session.get(Lead, lead_id, with_for_update=for_update)
    if row is None:
        raise NotFoundError(f"unknown lead id {lead_id}", location=field)
    return row
