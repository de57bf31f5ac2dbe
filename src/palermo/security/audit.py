"""The audit log: append-only, hash-chained, written in the same transaction as the action.

Why the same transaction: CJIS AU-5 and Vault's "blocked audit device" behaviour say an action that
cannot be audited must not happen. :meth:`AuditLog.record` inserts into the caller's session, so if
the audit insert fails the whole unit of work rolls back and the caller sees the error.

What goes in: what (``action``), when (UTC, microseconds), who (``actor``), on what (``object_type``
/ ``object_id`` / ``case_id``), outcome, and a small ``detail`` dict. What never goes in: victim
names, addresses, phone numbers, dates of birth (AU-03). :func:`check_detail` refuses detail keys
that name identity fields, as a guard against a careless caller.

The chain is over ``seq``; ``seq`` is UNIQUE, so two concurrent writers cannot fork the chain (one
fails and retries its whole action). UPDATE and DELETE are refused by database triggers.

Triggers stop the application, not someone with the database file: whoever drops them can delete
the newest events, and what is left still verifies. So the head is handed out as a *checkpoint*
(:meth:`AuditLog.head`, :func:`parse_checkpoint`) for someone outside the operator to keep (H-02),
and :meth:`AuditLog.check_checkpoint` later proves the log still holds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, column, func, select, table, text
from sqlalchemy.orm import Session

from palermo.domain.chain import (
    ChainEntry,
    ChainProblem,
    Checkpoint,
    check_checkpoint,
    entry_hash,
    next_link,
    verify,
    verify_segment,
)
from palermo.errors import InputError

AUDIT = table(
    "audit_events",
    column("id", Integer),
    column("seq", Integer),
    column("at", DateTime(timezone=True)),
    column("actor", String),
    column("action", String),
    column("object_type", String),
    column("object_id", String),
    column("case_id", Integer),
    column("outcome", String),
    column("detail", JSON),
    column("prev_hash", String),
    column("hash", String),
)
AUDIT_LOCK_KEY = 0x50414C45524D4F  # "PALERMO": one advisory lock for the audit chain
HASHED = ("at", "actor", "action", "object_type", "object_id", "case_id", "outcome", "detail")
FORBIDDEN_DETAIL_KEYS = frozenset(
    {"legal_name", "name", "date_of_birth", "dob", "contact", "phone", "address", "email"}
)


def check_detail(detail: Mapping[str, Any]) -> None:
    """Refuse identity fields in audit detail: the log must hold ids, never the data itself."""
    bad = sorted(k for k in detail if k.lower() in FORBIDDEN_DETAIL_KEYS)
    if bad:
        raise ValueError(f"audit detail may not carry identity fields: {', '.join(bad)}")


@dataclass(frozen=True)
class AuditRecord:
    """One audit event as read back."""

    seq: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str | None
    case_id: int | None
    outcome: str
    detail: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "at": self.at.isoformat()}


def _fields(row: Mapping[str, Any]) -> dict[str, object]:
    return {k: row[k] for k in HASHED}


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class AuditHead:
    """The newest event of the log: what a checkpoint records."""

    seq: int
    hash: str
    at: datetime
    count: int

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(seq=self.seq, hash=self.hash, count=self.count)


def parse_checkpoint(data: object, location: str) -> Checkpoint:
    """A checkpoint read from JSON (``seq``, ``hash``, ``count``), or InputError naming the field.

    Other keys (``workspace``, ``at``, ``case``) are for the people who hold it and are not checked.
    """
    if not isinstance(data, dict):
        raise InputError("a checkpoint must be a JSON object", location=location)
    seq, digest, count = data.get("seq"), data.get("hash"), data.get("count")
    for field, value in (("seq", seq), ("count", count)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InputError("must be a whole number of at least 1", location=f"{location}: {field}")
    if not isinstance(digest, str) or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise InputError("must be a SHA-256 hex digest (64 characters)", location=f"{location}: hash")
    assert isinstance(seq, int) and isinstance(count, int)
    return Checkpoint(seq=seq, hash=digest, count=count)


class AuditLog:
    """Writes and verifies ``audit_events`` inside a caller-owned SQLAlchemy session."""

    def record(
        self,
        session: Session,
        *,
        actor: str,
        action: str,
        object_type: str,
        object_id: str | int | None = None,
        case_id: int | None = None,
        outcome: str = "success",
        detail: Mapping[str, Any] | None = None,
    ) -> int:
        """Append one event to the chain, returning its ``seq``; raise on failure so the action rolls back."""
        detail_dict = dict(detail or {})
        check_detail(detail_dict)
        if session.get_bind().dialect.name == "postgresql":
            # Serialise audit writers until commit, so each reads the committed head of the chain.
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})
        last = session.execute(
            select(AUDIT.c.seq, AUDIT.c.hash).order_by(AUDIT.c.seq.desc()).limit(1)
        ).first()
        seq, prev = next_link(tuple(last) if last else None)
        row: dict[str, Any] = {
            "at": datetime.now(UTC),
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": None if object_id is None else str(object_id),
            "case_id": case_id,
            "outcome": outcome,
            "detail": detail_dict,
        }
        digest = entry_hash(prev, _fields(row))
        session.execute(AUDIT.insert().values(seq=seq, prev_hash=prev, hash=digest, **row))
        return seq

    def events(
        self, session: Session, *, case_id: int | None = None, limit: int | None = None
    ) -> list[AuditRecord]:
        """Events in order, optionally for one case, newest last (the newest ``limit``, at least 1)."""
        if limit is not None and limit < 1:
            raise InputError(f"limit must be at least 1, not {limit}", location="limit")
        query = select(AUDIT).order_by(AUDIT.c.seq.desc() if limit is not None else AUDIT.c.seq)
        if case_id is not None:
            query = query.where(AUDIT.c.case_id == case_id)
        if limit is not None:  # the newest N in SQL: not the whole log read while the write lock is held
            query = query.limit(limit)
        rows = session.execute(query).mappings().all()
        if limit is not None:
            rows = list(reversed(rows))
        return [
            AuditRecord(
                seq=r["seq"],
                at=_utc(r["at"]),
                actor=r["actor"],
                action=r["action"],
                object_type=r["object_type"],
                object_id=r["object_id"],
                case_id=r["case_id"],
                outcome=r["outcome"],
                detail=dict(r["detail"] or {}),
            )
            for r in rows
        ]

    def count(self, session: Session) -> int:
        return int(session.execute(select(func.count()).select_from(AUDIT)).scalar_one())

    def head(self, session: Session) -> AuditHead | None:
        """The newest event and the number of events (None for an empty log)."""
        last = session.execute(
            select(AUDIT.c.seq, AUDIT.c.hash, AUDIT.c.at).order_by(AUDIT.c.seq.desc()).limit(1)
        ).first()
        if last is None:
            return None
        return AuditHead(seq=last.seq, hash=last.hash, at=_utc(last.at), count=self.count(session))

    def _entries(self, session: Session, since: int = 0) -> list[ChainEntry]:
        query = select(AUDIT).where(AUDIT.c.seq >= since).order_by(AUDIT.c.id)
        rows = session.execute(query).mappings().all()
        return [ChainEntry(r["seq"], _fields(dict(r)), r["prev_hash"], r["hash"]) for r in rows]

    def verify_since(self, session: Session, seq: int, digest: str) -> list[ChainProblem]:
        """Check only what was added after entry ``seq`` (whose hash was ``digest`` when the whole log
        verified): that entry is unchanged (re-hashed), as many entries precede it as before, and every
        later one links up and matches its hash. Lets a writer that verified the whole log outside its
        transaction check, inside it, only the rest; an edit *before* the entry in between is left to
        the full check the caller repeats afterwards."""
        entries = self._entries(session, since=seq)
        first = entries[0] if entries else None
        before = session.execute(select(func.count()).select_from(AUDIT).where(AUDIT.c.seq <= seq)).scalar()
        if (
            first is None
            or first.seq != seq
            or first.hash != digest
            or entry_hash(first.prev_hash, first.fields) != digest
            or before != seq
        ):
            return [ChainProblem(seq, "changed since the log was verified")]
        return verify_segment(entries)

    def verify(self, session: Session, checkpoint: Checkpoint | None = None) -> list[ChainProblem]:
        """Re-hash the whole log in ``seq`` order; every edit, deletion or reordering shows up.

        With a ``checkpoint`` held outside, a removed or rewritten tail shows up too.
        """
        entries = self._entries(session)
        problems = verify(entries)
        if checkpoint is not None:
            problems += check_checkpoint(entries, checkpoint)
        return problems
