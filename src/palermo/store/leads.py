"""Leads: facts proposed by analytics or extraction, waiting for a person to accept or reject them.

This is the human-review gate: an indicator or an entity match may *suggest* that an exhibit
supports an element, but nothing machine-made enters the proof matrix until someone accepts the
lead. Acceptance creates a proof link that carries the lead id, the lead's origin as its author and
the accepting person as ``accepted_by``, so the provenance of every link can be traced.

A lead proposed by an indicator records the imports whose rows supported it (``import_ids``, and
the exhibit each read in ``detail["import_evidence"]``). When an import is forgotten (``palermo
ingest forget``, decision 0007) :func:`reconcile` compares every lead's support with the imports
that are left: a proposed lead that lost all of it is *withdrawn* (it no longer waits for a review
of statements that are gone), one that lost some keeps the rest as its record, and an accepted lead
that lost any of it after it was accepted is *flagged*: it stays a proof link, since the exhibit
itself is unchanged, but the prosecutor sees that the rows it was found in were removed, until
someone confirms it (:meth:`LeadService.confirm`). Only leads the runner made (they name their hit)
stand on imported rows; those made before support was recorded are judged by their exhibits during
a forget and have their imports filled in by the analysis. Leads people added by hand cite an
exhibit, not imported rows, and are never touched, whatever their origin says.
"""

from __future__ import annotations

import builtins
import hashlib
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
from palermo.store.tables import AuditEvent, Case, Charge, Lead, ProofLink, row_dict

STATUSES = ("proposed", "accepted", "rejected", "withdrawn")


@dataclass
class Reconciled:
    """What :func:`reconcile` changed: leads withdrawn and accepted leads flagged, by id."""

    withdrawn: list[int] = field(default_factory=list)
    flagged: list[int] = field(default_factory=list)


def _runner_made(lead: Lead) -> bool:
    """A lead the indicator runner proposed (it names its hit): only those stand on imported rows.

    The origin alone does not say so: a person may add a lead with an ``indicator:`` origin (the
    help of ``palermo lead add`` suggests it) that cites an interview, never imported."""
    return lead.origin.startswith("indicator:") and bool((lead.detail or {}).get("hit_id"))


def _exhibits(lead: Lead) -> list[int]:
    return [int(e) for e in (lead.detail or {}).get("evidence_ids") or ()] or (
        [lead.evidence_id] if lead.evidence_id is not None else []
    )


def _support(
    lead: Lead, surviving: Mapping[int, int], forgotten: Mapping[int, int] | None
) -> tuple[list[int], list[str], list[int]] | None:
    """``(lost, lost_names, kept)`` for a lead that records or implies its support, else ``None``.

    ``lost`` are the imports (or, for a lead made before imports were recorded, the exhibits) whose
    rows are gone, ``lost_names`` how to name them, ``kept`` the imports still behind it.

    A lead made before imports were recorded (``import_ids`` NULL) is judged only during a forget,
    and loses an exhibit only if that forget took it (``forgotten``) and no import of it is left: an
    exhibit with no import at all was never read into the analytics, so nothing of it can be lost
    (the analysis fills those leads' imports instead, :func:`_fill_legacy`)."""
    if lead.import_ids is not None:
        recorded = _import_evidence(lead)
        kept = [int(i) for i in lead.import_ids if _present(int(i), recorded, surviving)]
        lost = [int(i) for i in lead.import_ids if int(i) not in kept]
        return lost, [f"import {i}" for i in lost], kept
    if forgotten is None or not _runner_made(lead):
        return None  # a person's lead cites the exhibit, not imported rows
    exhibits = _exhibits(lead)
    gone, alive = set(forgotten.values()), set(surviving.values())
    lost = [e for e in exhibits if e in gone and e not in alive]
    kept = sorted(i for i, e in surviving.items() if e in exhibits)
    return lost, [f"every import of evidence {e}" for e in lost], kept


def _import_evidence(lead: Lead) -> dict[int, int]:
    """import id → evidence id as recorded on the lead (``detail["import_evidence"]``; empty for
    leads recorded before it was)."""
    return {int(i): int(e) for i, e in ((lead.detail or {}).get("import_evidence") or {}).items()}


def _present(import_id: int, recorded: Mapping[int, int], surviving: Mapping[int, int]) -> bool:
    """Whether a recorded import is still there: its id among the imports left and, when the lead
    recorded which exhibit it read, of that exhibit. Import ids are unique only within one
    ``analytics.duckdb``: one rebuilt from scratch numbers its imports from 1 again, and an id the
    lead recorded may then name another exhibit's import, which is no support for it."""
    return import_id in surviving and recorded.get(import_id, surviving[import_id]) == surviving[import_id]


def _set_imports(lead: Lead, ids: list[int], evidence: Mapping[int, int]) -> None:
    """Record ``ids`` as the lead's imports, each with its exhibit (``evidence`` first, then what
    the lead recorded before)."""
    recorded = _import_evidence(lead)
    pairs = {i: evidence.get(i, recorded.get(i)) for i in ids}
    lead.import_ids = ids
    lead.detail = {
        **(lead.detail or {}),
        "import_evidence": {str(i): e for i, e in pairs.items() if e is not None},
    }


def _forgotten_at(session: Session, case: Case) -> dict[tuple[int, int], datetime]:
    """(import id, evidence id) → when the case store last recorded its forget (``ingest.forget``
    audit records, read in log order so the latest wins).

    Keyed by the pair, not the import id alone: ids are unique only within one
    ``analytics.duckdb``, and one rebuilt from scratch numbers its imports from 1 again, so an old
    record of import N may be of another exhibit, or of an import long gone before this import N
    existed. A record naming no exhibit cannot be matched to a lead's import and is ignored."""
    out: dict[tuple[int, int], datetime] = {}
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.case_id == case.id, AuditEvent.action == "ingest.forget")
        .order_by(AuditEvent.seq)
    )
    for event in events:
        detail = event.detail or {}
        if detail.get("evidence_id") is None:
            continue
        evidence = int(detail["evidence_id"])
        for import_id in [detail.get("import_id"), *(detail.get("also_forgotten") or ())]:
            if import_id is not None:
                out[(int(import_id), evidence)] = event.at
    return out


def _aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive (they were stored in UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


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
    DuckDB's. It is idempotent: a withdrawn lead is not looked at again, and a lead that keeps some
    support keeps only the imports still behind it (a proposed one stays proposed, audited
    ``lead.support``), so it is judged again only when one of those goes too.

    ``forgotten`` (import id → evidence id) is the forget being done: it names the exhibit in the
    reasons, and is what leads made before imports were recorded are judged by; without it (the
    analysis) those leads only have their imports filled in from their exhibits.

    An accepted lead is flagged only for imports forgotten after it was accepted: the reviewer saw
    the lead as it stood then. The lead rows are locked (``FOR UPDATE`` on PostgreSQL) so a review
    running at the same time waits instead of overwriting the change, or being overwritten.
    """
    done = Reconciled()
    named = dict(forgotten or {})
    now = datetime.now(UTC)
    leads = session.scalars(
        select(Lead)
        .where(Lead.case_id == case.id, Lead.status.in_(("proposed", "accepted")))
        .order_by(Lead.id)
        .with_for_update()
    ).all()
    forgotten_at: dict[tuple[int, int], datetime] | None = None
    for lead in leads:
        if forgotten is None and lead.import_ids is None:
            _fill_legacy(ctx, session, case, lead, surviving, actor=actor)
            continue
        support = _support(lead, surviving, forgotten)
        if support is None or not support[0]:
            continue
        lost, names, kept = support
        recorded = _import_evidence(lead) if lead.import_ids is not None else {}
        # the imports this forget removes (of the exhibit the lead recorded for them): the rest of
        # what a lead lost went earlier, or with a rebuilt analytics.duckdb
        now_gone = {
            i
            for i in lost
            if lead.import_ids is not None and i in named and recorded.get(i, named[i]) == named[i]
        }
        if lead.status == "accepted" and lead.decided_at is not None and lead.import_ids is not None:
            if forgotten_at is None:
                forgotten_at = _forgotten_at(session, case)
            accepted = _aware(lead.decided_at)
            before = {
                i
                for i in lost
                if i not in now_gone and _gone_before(i, recorded, lead, forgotten_at, accepted)
            }
            if before:  # gone before anyone accepted it: not news to the reviewer, just not support
                _record_support(
                    ctx,
                    session,
                    case,
                    lead,
                    [*kept, *(i for i in lost if i not in before)],
                    actor,
                    surviving,
                    lost=[f"import {i}" for i in sorted(before)],
                    reason="forgotten before the lead was accepted",
                )
                lost = [i for i in lost if i not in before]
                names = [f"import {i}" for i in lost]
                if not lost:
                    continue
        names = [
            f"{name} (evidence {named[i]})" if i in now_gone else name
            for i, name in zip(lost, names, strict=True)
        ]
        named_now = {i for i in lost if lead.import_ids is None or i in now_gone}
        why = _why(
            [n for i, n in zip(lost, names, strict=True) if i in named_now],
            [n for i, n in zip(lost, names, strict=True) if i not in named_now],
        )
        detail: dict[str, Any] = {"lost": names}
        if lead.status == "proposed":
            if kept:  # still supported by rows that are there: it may still be reviewed
                _record_support(ctx, session, case, lead, kept, actor, surviving, lost=names)
                continue
            lead.status, lead.decided_by, lead.decided_at, lead.reason = "withdrawn", actor, now, why
            action = "lead.withdraw"
            done.withdrawn.append(lead.id)
        else:
            lead.flag = f"{lead.flag}; {why}" if lead.flag else why
            lead.flagged_at = now
            _set_imports(lead, kept, surviving)
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


def _gone_before(
    import_id: int,
    recorded: Mapping[int, int],
    lead: Lead,
    forgotten_at: Mapping[tuple[int, int], datetime],
    accepted: datetime,
) -> bool:
    """Whether the case store recorded the forget of this import of the lead before the lead was
    accepted: a record of the same import id *and* exhibit (the one the lead recorded for it, or
    for a lead that recorded none, one of its exhibits), the latest such record dated no later than
    the acceptance."""
    exhibits = [recorded[import_id]] if import_id in recorded else _exhibits(lead)
    times = [_aware(forgotten_at[(import_id, e)]) for e in exhibits if (import_id, e) in forgotten_at]
    return bool(times) and max(times) <= accepted


def _why(forgotten_now: list[str], missing: list[str]) -> str:
    """The reason a lead gives for what it lost: the imports this forget removed are named as
    forgotten; any other import is only known to be missing from the analytics database (a forget
    whose case-store commit failed, or an ``analytics.duckdb`` rebuilt from scratch), and saying it
    was forgotten would send the reviewer looking for a forget that may never have happened."""
    parts = []
    if forgotten_now:
        parts.append(f"{', '.join(forgotten_now)} forgotten (palermo ingest forget)")
    if missing:
        parts.append(f"{', '.join(missing)} no longer in the analytics database")
    return f"its evidence was removed: {'; '.join(parts)}"


def _record_support(
    ctx: StoreContext,
    session: Session,
    case: Case,
    lead: Lead,
    kept: Iterable[int],
    actor: str,
    evidence: Mapping[int, int],
    *,
    lost: list[str] | None = None,
    reason: str | None = None,
) -> None:
    """Record the imports behind a lead (``evidence``: import id → its exhibit, where known),
    audited ``lead.support`` (with what it ``lost`` and why, when it lost any)."""
    ids = sorted({int(i) for i in kept})
    if ids == lead.import_ids:
        return
    before = lead.import_ids
    _set_imports(lead, ids, evidence)
    detail: dict[str, Any] = {"import_ids": ids, "was": before}
    if lost:
        detail["lost"] = lost
    if reason:
        detail["reason"] = reason
    ctx.audit.record(
        session,
        actor=actor,
        action="lead.support",
        object_type="lead",
        object_id=lead.id,
        case_id=case.id,
        detail=detail,
    )


def _fill_legacy(
    ctx: StoreContext, session: Session, case: Case, lead: Lead, surviving: Mapping[int, int], *, actor: str
) -> None:
    """Give a lead the runner made before imports were recorded the imports its exhibits have now,
    once; a lead whose exhibits have none (never imported, or forgotten by a forget whose case
    store failed to commit) stays NULL, since no loss is inferred from an absence."""
    if not _runner_made(lead):
        return
    exhibits = set(_exhibits(lead))
    kept = [i for i, e in surviving.items() if e in exhibits]
    if kept:
        _record_support(ctx, session, case, lead, kept, actor, surviving)


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
        import_evidence: Mapping[int, int] | None = None,
    ) -> LeadPublic:
        """Record a proposed fact with its provenance (origin, exhibit, locator, and for a lead found
        in imported rows the imports that wrote them, so forgetting one can withdraw the lead;
        ``import_evidence`` says which exhibit each of those imports read)."""
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
                status="proposed",
                created_by=self.ctx.actor,
            )
            if import_ids is not None:
                _set_imports(lead, sorted({int(i) for i in import_ids}), import_evidence or {})
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

    def add_support(
        self,
        case_ref: str,
        support: Mapping[int, Iterable[int]],
        *,
        evidence: Mapping[int, int] | None = None,
        actor: str | None = None,
    ) -> int:
        """Widen the recorded imports of still-proposed leads (lead id → imports whose rows support it
        now; ``evidence``: import id → the exhibit it read): the analysis found their hits again,
        perhaps in an exhibit imported again, and a later forget must not withdraw a lead those
        imports still support. Audited ``lead.support``; returns how many leads changed. Accepted
        leads keep what the reviewer saw."""
        changed = 0
        with self.ctx.db.transaction() as session:
            case = repository.case_by_ref(session, case_ref)
            leads = session.scalars(
                select(Lead)
                .where(
                    Lead.case_id == case.id, Lead.id.in_([int(i) for i in support]), Lead.status == "proposed"
                )
                .order_by(Lead.id)
                .with_for_update()
            ).all()
            for lead in leads:
                wider = sorted({*(lead.import_ids or ()), *(int(i) for i in support[lead.id])})
                if wider != lead.import_ids:
                    _record_support(
                        self.ctx, session, case, lead, wider, actor or self.ctx.actor, evidence or {}
                    )
                    changed += 1
        return changed

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
            lead = repository.lead(session, lead_id, for_update=True)
            if lead.flag is None:
                raise InputError(f"lead {lead_id} is not flagged for review", location="lead")
            flag, lead.flag, lead.flagged_at = lead.flag, None, None
            # the note is kept on the lead, not in the audit detail: it is free text, and may name
            # people; the audit holds its hash, so the note on the lead can be checked against it.
            # A lead flagged and confirmed again keeps every earlier confirmation.
            kept = f"kept by {author.strip()} after review ({flag}): {note.strip()}"
            lead.reason = f"{lead.reason}\n{kept}" if lead.reason else kept
            self.ctx.audit.record(
                session,
                actor=author.strip(),
                action="lead.confirm",
                object_type="lead",
                object_id=lead.id,
                case_id=lead.case_id,
                detail={"flag": flag, "note_sha256": hashlib.sha256(note.strip().encode()).hexdigest()},
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
            lead = repository.lead(session, lead_id, for_update=True)  # a forget may be withdrawing it
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
            lead = repository.lead(session, lead_id, for_update=True)  # a forget may be withdrawing it
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
