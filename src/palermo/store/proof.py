"""Proof links and the proof matrix of a case, built by ``palermo.domain.proof`` from stored facts.

A proof link ties one element of one charge to one exhibit *of the same case*, with a pinpoint a
court can follow (page, line, row, message id, timestamp), a stance (supports or contradicts), a
note and an author. Links to another case's exhibit are refused before anything is written: a
proof matrix that cites evidence from a different investigation would not survive disclosure.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from palermo.domain.proof import (
    ChargeFact,
    ElementFact,
    Gap,
    LinkFact,
    ProofMatrix,
    Stance,
    build_matrix,
    parse_pinpoint,
)
from palermo.errors import InputError, NotFoundError
from palermo.store import repository
from palermo.store.ports import StoreContext
from palermo.store.schemas import ProofLinkPublic
from palermo.store.tables import Charge, ChargeVictim, ElementRow, EvidenceItem, Lead, Party, ProofLink


def check_pinpoint(pinpoint: str | None) -> str | None:
    if pinpoint is None or not pinpoint.strip():
        return None
    try:
        return parse_pinpoint(pinpoint)
    except ValueError as exc:
        raise InputError(str(exc), location="pinpoint") from exc


def create_link(
    ctx: StoreContext,
    session: Session,
    *,
    element_id: int,
    evidence_id: int,
    pinpoint: str | None,
    stance: str,
    note: str | None,
    author: str,
    lead_id: int | None = None,
    accepted_by: str | None = None,
) -> ProofLink:
    """Validate and insert one link (same case, known stance, valid pinpoint) and audit it."""
    if stance not in (Stance.SUPPORTS, Stance.CONTRADICTS):
        raise InputError(f"stance {stance!r} must be 'supports' or 'contradicts'", location="stance")
    canonical = check_pinpoint(pinpoint)
    element = repository.element(session, element_id)
    charge = session.get(Charge, element.charge_id)
    item = repository.evidence(session, evidence_id)
    if charge is None or item.case_id != charge.case_id:
        raise InputError(
            f"exhibit {evidence_id} belongs to another case than element {element_id}", location="evidence_id"
        )
    link = ProofLink(
        element_id=element.id,
        evidence_id=item.id,
        pinpoint=canonical,
        stance=str(stance),
        note=note,
        author=author,
        lead_id=lead_id,
        accepted_by=accepted_by,
    )
    session.add(link)
    session.flush()
    ctx.audit.record(
        session,
        actor=ctx.actor,
        action="proof.link",
        object_type="proof_link",
        object_id=link.id,
        case_id=charge.case_id,
        detail={"element_id": element.id, "evidence_id": item.id, "stance": str(stance), "lead_id": lead_id},
    )
    return link


class ProofService:
    """Link evidence to elements; compute the matrix and its gaps."""

    def __init__(self, ctx: StoreContext) -> None:
        self.ctx = ctx

    def link(
        self,
        element_id: int,
        evidence_id: int,
        *,
        pinpoint: str | None = None,
        stance: str = "supports",
        note: str | None = None,
        author: str | None = None,
    ) -> ProofLinkPublic:
        """Record that ``evidence_id`` supports (or contradicts) ``element_id`` at ``pinpoint``."""
        with self.ctx.db.transaction() as session:
            link = create_link(
                self.ctx,
                session,
                element_id=element_id,
                evidence_id=evidence_id,
                pinpoint=pinpoint,
                stance=stance,
                note=note,
                author=author or self.ctx.actor,
            )
            return ProofLinkPublic.model_validate(link)

    def links(self, case_ref: str) -> list[ProofLinkPublic]:
        with self.ctx.db.read() as session:
            case = repository.case_by_ref(session, case_ref)
            rows = session.scalars(
                select(ProofLink)
                .join(ElementRow, ElementRow.id == ProofLink.element_id)
                .join(Charge, Charge.id == ElementRow.charge_id)
                .where(Charge.case_id == case.id)
                .order_by(ProofLink.id)
            )
            return [ProofLinkPublic.model_validate(r) for r in rows]

    def matrix(self, case_ref: str) -> ProofMatrix:
        """Elements × links of every charge in the case, with status and readiness."""
        with self.ctx.db.read() as session:
            case = repository.case_by_ref(session, case_ref)
            charges = session.scalars(
                select(Charge)
                .where(Charge.case_id == case.id)
                .order_by(Charge.count_number, Charge.defendant_id)
            ).all()
            charge_facts = []
            for c in charges:
                defendant = session.get(Party, c.defendant_id)
                victims = session.scalars(
                    select(Party.label)
                    .join(ChargeVictim, ChargeVictim.party_id == Party.id)
                    .where(ChargeVictim.charge_id == c.id)
                    .order_by(Party.id)
                ).all()
                try:
                    citation = self.ctx.law.get(c.offence_id).citation
                except NotFoundError:
                    citation = c.offence_id
                charge_facts.append(
                    ChargeFact(
                        c.id,
                        c.count_number,
                        c.offence_id,
                        citation,
                        defendant.label if defendant else "?",
                        tuple(victims),
                    )
                )
            elements = session.scalars(
                select(ElementRow)
                .where(ElementRow.charge_id.in_([c.id for c in charges]))
                .order_by(ElementRow.charge_id, ElementRow.position)
            ).all()
            element_facts = [
                ElementFact(
                    e.id, e.charge_id, e.element_key, e.label, e.kind, e.required, e.not_required_reason
                )
                for e in elements
            ]
            rows = session.execute(
                select(ProofLink, EvidenceItem.source, Lead.flag)
                .join(EvidenceItem, EvidenceItem.id == ProofLink.evidence_id)
                .outerjoin(Lead, Lead.id == ProofLink.lead_id)
                .where(ProofLink.element_id.in_([e.id for e in elements]))
                .order_by(ProofLink.id)
            ).all()
            links = [
                LinkFact(
                    lnk.id,
                    lnk.element_id,
                    lnk.evidence_id,
                    source,
                    Stance(lnk.stance),
                    lnk.pinpoint,
                    lnk.note,
                    lnk.author,
                    lnk.lead_id,
                    flag,
                )
                for lnk, source, flag in rows
            ]
            return build_matrix(case.reference, charge_facts, element_facts, links)

    def gaps(self, case_ref: str) -> list[Gap]:
        """Open, weak and contested elements of the case, with what each is missing."""
        return self.matrix(case_ref).gaps()
