"""Chain of custody: an append-only, hash-chained log of who held each exhibit, when and why.

Every event records the from/to custodian, UTC time, purpose, location, note, the exhibit's digest
as re-verified at that moment (EV-02) and who recorded it, plus ``prev_hash`` and its own ``hash``
(see ``palermo.domain.chain``). The exhibit row keeps the head hash and count, so removing the last
event is detected as well as editing, deleting or reordering any other. Database triggers refuse
UPDATE and DELETE on ``custody_events``; the chain catches whoever bypasses them.

Continuity (EV-03): an event's ``from`` custodian must be the current custodian (the previous
event's ``to``), so the log is one unbroken sequence of hands.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from palermo.domain.chain import GENESIS, ChainEntry, ChainProblem, entry_hash, verify
from palermo.errors import InputError
from palermo.store.tables import CustodyEvent, EvidenceItem

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


def verify_item(session: Session, item: EvidenceItem) -> list[ChainProblem]:
    """Every problem in the item's chain: edited, deleted, reordered or truncated events."""
    entries = [ChainEntry(e.seq, event_fields(e), e.prev_hash, e.hash) for e in events(session, item.id)]
    return verify(entries, expected_head=item.custody_head, expected_count=item.custody_count)
