"""Chain of custody: an append-only, hash-chained log of who held each exhibit, when and why.

Every event records the from/to custodian, UTC time, purpose, location, note, the exhibit's digest
as re-verified at that moment (EV-02) and who recorded it, plus ``prev_hash`` and its own ``hash``
(see ``palermo.domain.chain``). The exhibit row keeps the head hash and count, so removing the last
event is detected as well as editing, deleting or reordering any other. Database triggers refuse
UPDATE and DELETE on ``custody_events``; the chain catches whoever bypasses them.

Continuity (EV-03): an event's ``from`` custodian must be the current custodian (the previous
event's ``to``), so the log is one unbroken sequence of hands.

The exhibit row itself is not hashed, so :func:`verify_item` also holds it to its chain: every
event's recorded digest must be the row's, and the 'received' event must match the row's source,
acquiring officer and time. With the audit log's count of custody writes it also catches a cut tail
whose head and count were rolled back to match (see :func:`audited_custody`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from palermo.domain.chain import GENESIS, ChainEntry, ChainProblem, canonical_value, entry_hash, verify
from palermo.errors import InputError
from palermo.store.tables import AuditEvent, CustodyEvent, EvidenceItem

EVENT_TYPES = (
    "received",
    "transferred",
    "examined",
    "copied",
    "exported",
    "sealed",
    "unsealed",
    "checked_out",
    "checked_in",
    "returned",
    "destroyed",
)


def event_fields(event: CustodyEvent) -> dict[str, object]:
    """The fields covered by an event's hash (everything but its own id and hashes)."""
    return {
        "evidence_id": event.evidence_id,
        "seq": event.seq,
        "event_type": event.event_type,
        "from_custodian": event.from_custodian,
        "to_custodian": event.to_custodian,
        "at": event.at,
        "purpose": event.purpose,
        "location": event.location,
        "note": event.note,
        "sha256": event.sha256,
        "recorded_by": event.recorded_by,
    }


def current_custodian(session: Session, item: EvidenceItem) -> str | None:
    last = session.scalar(
        select(CustodyEvent)
        .where(CustodyEvent.evidence_id == item.id)
        .order_by(CustodyEvent.seq.desc())
        .limit(1)
    )
    return last.to_custodian if last else None


def append(
    session: Session,
    item: EvidenceItem,
    *,
    event_type: str,
    recorded_by: str,
    sha256: str,
    from_custodian: str | None = None,
    to_custodian: str | None = None,
    at: datetime | None = None,
    purpose: str | None = None,
    location: str | None = None,
    note: str | None = None,
) -> CustodyEvent:
    """Append one event to the item's chain and move the item's head."""
    if event_type not in EVENT_TYPES:
        raise InputError(
            f"custody event {event_type!r} must be one of {', '.join(EVENT_TYPES)}", location="event_type"
        )
    if at is not None and at.tzinfo is None:
        raise InputError("custody time needs a timezone (UTC)", location="at")
    holder = current_custodian(session, item)
    if event_type == "received":
        from_custodian = from_custodian or None
    else:
        if holder is not None and from_custodian is not None and from_custodian != holder:
            raise InputError(
                f"custody continuity: exhibit {item.id} is held by {holder!r}, not {from_custodian!r}",
                location="from_custodian",
            )
        from_custodian = from_custodian or holder
    if event_type == "transferred" and not to_custodian:
        raise InputError("a transfer needs the receiving custodian", location="to_custodian")
    to_custodian = to_custodian or from_custodian
    event = CustodyEvent(
        evidence_id=item.id,
        seq=item.custody_count + 1,
        event_type=event_type,
        from_custodian=from_custodian,
        to_custodian=to_custodian,
        at=(at or datetime.now(UTC)).astimezone(UTC),
        purpose=purpose,
        location=location,
        note=note,
        sha256=sha256,
        recorded_by=recorded_by,
        prev_hash=item.custody_head or GENESIS,
        hash="",
    )
    event.hash = entry_hash(event.prev_hash, event_fields(event))
    session.add(event)
    item.custody_head = event.hash
    item.custody_count = event.seq
    session.flush()
    return event


def events(session: Session, evidence_id: int) -> list[CustodyEvent]:
    """The item's events in stored (insertion) order."""
    return list(
        session.scalars(
            select(CustodyEvent).where(CustodyEvent.evidence_id == evidence_id).order_by(CustodyEvent.id)
        )
    )


def _same_time(a: datetime, b: datetime) -> bool:
    """Compare instants the way the chain hashes them (naive values are UTC, as SQLite returns them)."""
    return canonical_value(a) == canonical_value(b)


def _acquisition_problems(item: EvidenceItem, first: CustodyEvent) -> list[ChainProblem]:
    """Where the item's acquisition record disagrees with its hash-protected 'received' event.

    The exhibit row itself is not hashed, so these facts are checked against the first event, which
    recorded them (source as ``from``, acquiring officer as ``to``, time, digest) when it was acquired.
    """
    if first.event_type != "received":
        return [ChainProblem(first.seq, f"first event is {first.event_type!r}, not 'received'")]
    recorded: list[tuple[str, object, object]] = [
        ("source", first.from_custodian, item.source),
        ("acquired_by", first.to_custodian, item.acquired_by),
        ("sha256", first.sha256, item.sha256),
    ]
    problems = [
        ChainProblem(first.seq, f"exhibit {name} {now!r} differs from {was!r} recorded when received")
        for name, was, now in recorded
        if was != now
    ]
    if not _same_time(first.at, item.acquired_at):
        problems.append(
            ChainProblem(
                first.seq,
                f"exhibit acquired_at {canonical_value(item.acquired_at)} differs from "
                f"{canonical_value(first.at)} recorded when received",
            )
        )
    return problems


@dataclass
class AuditedCustody:
    """What the audit log says about one exhibit: its custody events and its acquisition facts."""

    events: int = 0
    acquisition: dict[str, Any] | None = None


def audited_custody(session: Session) -> dict[str, AuditedCustody]:
    """Per exhibit id (as the audit log stores it, a string): successful custody writes it audited.

    The audit log is a separate hash chain, written in the same transaction as every custody event
    ("evidence.add" for the 'received' one, "custody.<type>" for the rest). Someone who cuts a
    custody chain's tail *and* rolls back the exhibit's head and count leaves a chain that verifies
    on its own; the audit log still counts the removed events.
    """
    actions = ["evidence.add", *(f"custody.{t}" for t in EVENT_TYPES)]
    rows = session.execute(
        select(AuditEvent.object_id, AuditEvent.action, AuditEvent.detail).where(
            AuditEvent.object_type == "evidence",
            AuditEvent.outcome == "success",
            AuditEvent.action.in_(actions),
        )
    )
    trail: dict[str, AuditedCustody] = {}
    for object_id, action, detail in rows:
        entry = trail.setdefault(str(object_id), AuditedCustody())
        entry.events += 1
        if action == "evidence.add":
            entry.acquisition = dict(detail or {})
    return trail


def _audit_problems(item: EvidenceItem, stored: int, audited: AuditedCustody) -> list[ChainProblem]:
    problems = []
    if audited.events != stored:
        problems.append(
            ChainProblem(stored, f"{stored} custody event(s) stored, the audit log records {audited.events}")
        )
    for name in ("sha256", "size"):
        if audited.acquisition is not None and audited.acquisition.get(name) != getattr(item, name):
            problems.append(
                ChainProblem(
                    1,
                    f"exhibit {name} {getattr(item, name)!r} differs from "
                    f"{audited.acquisition.get(name)!r} in the audit log at acquisition",
                )
            )
    return problems


def verify_item(
    session: Session, item: EvidenceItem, audit: dict[str, AuditedCustody] | None = None
) -> list[ChainProblem]:
    """Every problem in the item's chain: edited, deleted, reordered or truncated events, and an
    exhibit record (digest, source, acquiring officer, time) that no longer matches its chain.

    The chain alone cannot see a swapped exhibit: whoever replaces the blob and rewrites the row's
    ``sha256`` leaves every event intact. Each event, however, recorded the digest it re-verified,
    so any event whose digest differs from the row's means the row changed after that event.
    With ``audit`` (from :func:`audited_custody`) the stored events are also counted against the
    audit log, and the digest and size against those audited at acquisition.
    """
    stored = events(session, item.id)
    entries = [ChainEntry(e.seq, event_fields(e), e.prev_hash, e.hash) for e in stored]
    problems = verify(entries, expected_head=item.custody_head, expected_count=item.custody_count)
    if audit is not None:
        problems.extend(_audit_problems(item, len(stored), audit.get(str(item.id), AuditedCustody())))
    if not stored:
        return problems
    problems.extend(_acquisition_problems(item, stored[0]))
    problems.extend(
        ChainProblem(e.seq, f"event recorded sha256 {e.sha256}, exhibit now has {item.sha256}")
        for e in stored[1:]
        if e.sha256 != item.sha256
    )
    return problems
