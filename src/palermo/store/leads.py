"""Leads: facts proposed by analytics or extraction, waiting for a person to accept or reject them.

This is the human-review gate: an indicator or an entity match may *suggest* that an exhibit
supports an element, but nothing machine-made enters the proof matrix until someone accepts the
lead. Acceptance creates a proof link that carries the lead id, the lead's origin as its author and
the accepting person as ``accepted_by``, so the provenance of every link can be traced.

A lead proposed by an indicator records the imports whose rows supported it (``import_ids``). When
an import is forgotten (``palermo ingest forget``, decision 0007) :func:`reconcile` compares every
lead's support with the imports that are left: a proposed lead that lost all of it is *withdrawn*
(it no longer waits for a review of statements that are gone), and an accepted lead that lost any
of it is *flagged*: it stays a proof link, since the exhibit itself is unchanged, but the
prosecutor sees that the rows it was found in were removed, until someone confirms it
(:meth:`LeadService.confirm`). Leads made before support was recorded are judged by their exhibits
(a lead whose exhibits have no import left has lost its rows); leads people added by hand cite an
exhibit, not imported rows, and are never touched.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from palermo.domain.proof import parse_pinpoint
from palermo.errors import InputError
from palermo.store import repository
from palermo.store.ports import StoreContext
from palermo.store.proof import create_link
from palermo.store.schemas import LeadPublic, ProofLinkPublic
from palermo.store.tables import Case, Charge, Lead, ProofLink, row_dict

STATUSES = ("proposed", "accepted", "rejected", "withdrawn")


@dataclass
class Reconciled:
    """What :func:`reconcile` changed: leads withdrawn and accepted leads flagged, by id."""

    withdrawn: list[int] = field(default_factory=list)
    flagged: list[int] = field(default_factory=list)


def _support(lead: Lead, surviving: Mapping[int, int]) -> tuple[list[int], list[str], list[int]] | None:
    """``(lost, lost_names, kept)`` for a lead that records or implies its support, else ``None``.

    ``lost`` are the imports (or, for a lead made before imports were recorded, the exhibits) whose
    rows are gone, ``lost_names`` how to name them, ``kept`` the imports still behind it."""
    if lead.import_ids is not None:
        lost = [int(i) for i in lead.import_ids if int(i) not in surviving]
        kept = [int(i) for i in lead.import_ids if int(i) in surviving]
        return lost, [f"import {i}" for i in lost], kept
    if not lead.origin.startswith("indicator:"):
        return None  # a person's lead cites the exhibit, not imported rows
    exhibits = [int(e) for e in (lead.detail or {}).get("evidence_ids") or ()] or (
        [lead.evidence_id] if lead.evidence_id is not None else []
    )
    if not exhibits:
        return None
    alive = set(surviving.values())
    lost = [e for e in exhibits if e not in alive]
    kept = sorted(i for i, e in surviving.items() if e in exhibits)
    return lost, [f"every import of evidence {e}" for e in lost], kept


def reconcile(
    ctx: StoreContext,
    session: Session,
    case: Case,
    surviving: Mapping[int, int],
    *,
    actor: str,
    forgotten: Mapping[int, int] | None = None,
) -> Reconciled:
    """Withdraw the proposed leads of ``case`` whose every supporting import is gone, and flag the
    accepted ones that lost any, given the imports left (``surviving``: import id → evidence id).

    Runs in the caller's transaction: ``forget`` calls it in the case-store transaction that holds
    its audit record (so the leads change exactly when the rows go), and the analysis calls it
    before proposing leads, which repairs the leads of a forget whose case-store COMMIT failed after
    DuckDB's. It is idempotent: a withdrawn lead is not looked at again, and a flagged lead keeps
    only the imports still behind it, so it is flagged again only when one of those goes too.
    ``forgotten`` (import id → evidence id) lets the reason name the exhibit.
    """
    done = Reconciled()
    named = dict(forgotten or {})
    now = datetime.now(UTC)
    leads = session.scalars(
        select(Lead)
        .where(Lead.case_id == case.id, Lead.status.in_(("proposed", "accepted")))
        .order_by(Lead.id)
    ).all()
    for lead in leads:
        support = _support(lead, surviving)
        if support is None or not support[0]:
            continue
        lost, names, kept = support
        names = [
            f"{name} (evidence {named[i]})" if lead.import_ids is not None and i in named else name
            for i, name in zip(lost, names, strict=True)
        ]
        why = f"its evidence was removed: {', '.join(names)} forgotten (palermo ingest forget)"
        detail: dict[str, Any] = {"lost": names}
        if lead.status == "proposed":
            if kept:
                continue  # still supported by rows that are there: it may still be reviewed
            lead.status, lead.decided_by, lead.decided_at, lead.reason = "withdrawn", actor, now, why
            action = "lead.withdraw"
            done.withdrawn.append(lead.id)
        else:
            lead.flag = f"{lead.flag}; {why}" if lead.flag else why
            lead.flagged_at, lead.import_ids = now, kept
            links = session.scalars(select(ProofLink.id).where(ProofLink.lead_id == lead.id)).all()
            action, detail["proof_link_ids"] = "lead.flag", [int(i) for i in links]
            done.flagged.append(lead.id)
        ctx.audit.record(
            session,
            actor=actor,
            action=action,
            object_type="lead",
            object_id=lead.id,
            case_id=case.id,
            detail=detail,
        )
    return done


def to_public(lead: Lead, case: Case) -> LeadPublic:
    return LeadPublic.model_validate({**row_dict(lead), "case_reference": case.reference})


class LeadService:
    """Propose, list, accept and reject leads."""

    def __init__(self, ctx: StoreContext) -> None:
        self.ctx = ctx

    def propose(
        self,
        case_ref: str,
        *,
        summary: str,
        origin: str,
        evidence_id: int | None = None,
        locator: str | None = None,
        element_id: int | None = None,
        detail: dict[str, Any] | None = None,
        import_ids: Iterable[int] | None = None,
    ) -> LeadPublic:
        """Record a proposed fact with its provenance (origin, exhibit, locator, and for a lead found
        in imported rows the imports that wrote them, so forgetting one can withdraw the lead)."""
        if not summary.strip():
            raise InputError("a lead needs a summary", location="summary")
        if not origin.strip():
            raise InputError("a lead needs its origin, e.g. indicator:FUNNEL_ACCOUNT", location="origin")
        with self.ctx.db.transaction() as session:
            case = repository.case_by_ref(session, case_ref)
            if evidence_id is not None and repository.evidence(session, evidence_id).case_id != case.id:
                raise InputError(f"exhibit {evidence_id} is not in case {case_ref}", location="evidence_id")
            if element_id is not None:
                charge = session.get(Charge, repository.element(session, element_id).charge_id)
                if charge is None or charge.case_id != case.id:
                    raise InputError(f"element {element_id} is not in case {case_ref}", location="element_id")
            lead = Lead(
                case_id=case.id,
                summary=summary.strip(),
                origin=origin.strip(),
                evidence_id=evidence_id,
                locator=locator,
                element_id=element_id,
                detail=dict(detail or {}),
                import_ids=None if import_ids is None else sorted({int(i) for i in import_ids}),
                status="proposed",
                created_by=self.ctx.actor,
            )
            session.add(lead)
            session.flush()
            self.ctx.audit.record(
                session,
                actor=self.ctx.actor,
                action="lead.propose",
                object_type="lead",
                object_id=lead.id,
                case_id=case.id,
                detail={"origin": lead.origin},
            )
            return to_public(lead, case)

    def list(
        self, case_ref: str, status: str | None = None, *, flagged: bool = False
    ) -> builtins.list[LeadPublic]:
        """The case's leads, oldest first; ``flagged``: only those waiting for a review again."""
        if status is not None and status not in STATUSES:
            raise InputError(f"status {status!r} must be one of {', '.join(STATUSES)}", location="status")
        with self.ctx.db.read() as session:
            case = repository.case_by_ref(session, case_ref)
            query = select(Lead).where(Lead.case_id == case.id).order_by(Lead.id)
            if status is not None:
                query = query.where(Lead.status == status)
            if flagged:
                query = query.where(Lead.flag.is_not(None))
            return [to_public(lead, case) for lead in session.scalars(query)]

    def reconcile(
        self, case_ref: str, surviving: Mapping[int, int], *, actor: str | None = None
    ) -> Reconciled:
        """:func:`reconcile` in a transaction of its own (the analysis calls it before proposing)."""
        with self.ctx.db.transaction() as session:
            case = repository.case_by_ref(session, case_ref)
            return reconcile(self.ctx, session, case, surviving, actor=actor or self.ctx.actor)

    def confirm(self, lead_id: int, *, author: str, note: str) -> LeadPublic:
        """A person has reviewed an accepted lead whose evidence was removed and keeps its proof
        link: the flag is lifted (and recorded, with the note, in the audit trail)."""
        if not author.strip():
            raise InputError(
                "confirming a lead needs the name of the person who reviewed it", location="author"
            )
        if not note.strip():
            raise InputError("confirming a lead needs a note saying why it still holds", location="note")
        with self.ctx.db.transaction() as session:
            lead = repository.lead(session, lead_id)
            if lead.flag is None:
                raise InputError(f"lead {lead_id} is not flagged for review", location="lead")
            flag, lead.flag, lead.flagged_at = lead.flag, None, None
            # the note is kept on the lead, not in the audit detail: it is free text, and may name people
            lead.reason = f"kept by {author.strip()} after review ({flag}): {note.strip()}"
            self.ctx.audit.record(
                session,
                actor=author.strip(),
                action="lead.confirm",
                object_type="lead",
                object_id=lead.id,
                case_id=lead.case_id,
                detail={"flag": flag},
            )
            return to_public(lead, repository.case_by_id(session, lead.case_id))

    def get(self, lead_id: int) -> LeadPublic:
        with self.ctx.db.read() as session:
            lead = repository.lead(session, lead_id)
            return to_public(lead, repository.case_by_id(session, lead.case_id))

    def _pending(self, lead: Lead) -> None:
        if lead.status != "proposed":
            raise InputError(
                f"lead {lead.id} was already {lead.status} by {lead.decided_by}", location="lead"
            )

    def accept(self, lead_id: int, *, element_id: int | None = None, author: str) -> ProofLinkPublic:
        """Turn the lead into a supporting proof link, recording who accepted it."""
        if not author.strip():
            raise InputError(
                "accepting a lead needs the name of the person who reviewed it", location="author"
            )
        with self.ctx.db.transaction() as session:
            lead = repository.lead(session, lead_id)
            self._pending(lead)
            target = element_id or lead.element_id
            if target is None:
                raise InputError(
                    f"lead {lead_id} names no element: say which element it proves", location="element_id"
                )
            if lead.evidence_id is None:
                raise InputError(
                    f"lead {lead_id} cites no exhibit, so it cannot become a proof link",
                    location="evidence_id",
                )
            pinpoint = None
            if lead.locator:
                try:
                    pinpoint = parse_pinpoint(lead.locator)
                except ValueError:
                    pinpoint = f"other:{lead.locator}"
            link = create_link(
                self.ctx,
                session,
                element_id=target,
                evidence_id=lead.evidence_id,
                pinpoint=pinpoint,
                stance="supports",
                note=f"lead {lead.id} ({lead.origin}): {lead.summary}",
                author=lead.origin,
                lead_id=lead.id,
                accepted_by=author.strip(),
            )
            lead.status, lead.decided_by, lead.decided_at = "accepted", author.strip(), datetime.now(UTC)
            lead.element_id = target
            self.ctx.audit.record(
                session,
                actor=author.strip(),
                action="lead.accept",
                object_type="lead",
                object_id=lead.id,
                case_id=lead.case_id,
                detail={"proof_link_id": link.id},
            )
            return ProofLinkPublic.model_validate(link)

    def reject(self, lead_id: int, *, author: str, reason: str) -> LeadPublic:
        """Reject a lead, keeping it (and why) for the record."""
        if not reason.strip():
            raise InputError("rejecting a lead needs a reason", location="reason")
        with self.ctx.db.transaction() as session:
            lead = repository.lead(session, lead_id)
            self._pending(lead)
            lead.status, lead.decided_by, lead.decided_at = "rejected", author.strip(), datetime.now(UTC)
            lead.reason = reason.strip()
            self.ctx.audit.record(
                session,
                actor=author.strip(),
                action="lead.reject",
                object_type="lead",
                object_id=lead.id,
                case_id=lead.case_id,
            )
            return to_public(lead, repository.case_by_id(session, lead.case_id))
