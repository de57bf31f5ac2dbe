"""SQLAlchemy 2.0 typed models of the case store.

Every change to these classes needs an Alembic revision in ``store/migrations/versions``; a test
compares the migrated schema with this metadata so the two cannot drift apart.

Victim identity lives in ``party_identities`` as AES-GCM ciphertext only (see
``palermo.security.crypto``); ``parties`` carries the pseudonym every read model shows. Audit and
custody rows are append-only (database triggers refuse UPDATE and DELETE) and hash-chained.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Now, timezone-aware UTC with microseconds (CJIS AU-8 wants at least hundredths)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Store UTC, return aware UTC on every backend (SQLite forgets the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    jurisdiction: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(32), default="open")
    description: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseKey(Base):
    """A per-case data key, wrapped (AES-GCM) by the master key; deleting the rows shreds the case."""

    __tablename__ = "case_keys"
    __table_args__ = (UniqueConstraint("case_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    version: Mapped[int] = mapped_column(Integer)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    master_key_id: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Party(Base):
    __tablename__ = "parties"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # defendant | victim | witness | other
    label: Mapped[str] = mapped_column(String(200))  # a victim's pseudonym; others' name
    age_at_offence: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PartyIdentity(Base):
    """Encrypted identity of a party; AAD binds each value to ``party_identities.<column>:<party_id>``."""

    __tablename__ = "party_identities"
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), primary_key=True)
    key_version: Mapped[int] = mapped_column(Integer)
    legal_name: Mapped[bytes | None] = mapped_column(LargeBinary)
    date_of_birth: Mapped[bytes | None] = mapped_column(LargeBinary)
    contact: Mapped[bytes | None] = mapped_column(LargeBinary)
    address: Mapped[bytes | None] = mapped_column(LargeBinary)


class Charge(Base):
    __tablename__ = "charges"
    __table_args__ = (UniqueConstraint("case_id", "count_number", "defendant_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    count_number: Mapped[int] = mapped_column(Integer)
    offence_id: Mapped[str] = mapped_column(String(80))
    defendant_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    victim_age: Mapped[int | None] = mapped_column(Integer)
    facts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChargeVictim(Base):
    __tablename__ = "charge_victims"
    charge_id: Mapped[int] = mapped_column(ForeignKey("charges.id"), primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), primary_key=True)


class ElementRow(Base):
    """One element of one charge, materialised from the law when the charge was added."""

    __tablename__ = "elements"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    charge_id: Mapped[int] = mapped_column(ForeignKey("charges.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    element_key: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(300))
    text: Mapped[str | None] = mapped_column(Text)
    required: Mapped[bool] = mapped_column(Boolean)
    not_required_reason: Mapped[str | None] = mapped_column(Text)


class EvidenceItem(Base):
    __tablename__ = "evidence_items"
    __table_args__ = (UniqueConstraint("case_id", "sha256"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    original_filename: Mapped[str] = mapped_column(String(500))
    media_type: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(300))
    acquired_by: Mapped[str] = mapped_column(String(120))
    acquired_at: Mapped[datetime] = mapped_column()
    tool: Mapped[str | None] = mapped_column(String(120))
    tool_version: Mapped[str | None] = mapped_column(String(60))
    description: Mapped[str | None] = mapped_column(Text)
    custody_head: Mapped[str | None] = mapped_column(String(64))
    custody_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustodyEvent(Base):
    __tablename__ = "custody_events"
    __table_args__ = (UniqueConstraint("evidence_id", "seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence_items.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    event_type: Mapped[str] = mapped_column(String(32))
    from_custodian: Mapped[str | None] = mapped_column(String(120))
    to_custodian: Mapped[str | None] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column()
    purpose: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))  # the item's digest as known at this event
    recorded_by: Mapped[str] = mapped_column(String(120))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Lead(Base):
    __tablename__ = "leads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    summary: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(200))
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_items.id"))
    locator: Mapped[str | None] = mapped_column(String(300))
    element_id: Mapped[int | None] = mapped_column(ForeignKey("elements.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None] = mapped_column()
    reason: Mapped[str | None] = mapped_column(Text)
    #: the imports whose rows supported the lead (indicator leads; NULL: not recorded), so forgetting
    #: an import can tell which leads lose their evidence (migration 0006, decision 0007)
    import_ids: Mapped[list[int] | None] = mapped_column(JSON)
    #: why an accepted lead needs a person's review again (its evidence was removed), until one confirms it
    flag: Mapped[str | None] = mapped_column(Text)
    flagged_at: Mapped[datetime | None] = mapped_column()


class ProofLink(Base):
    __tablename__ = "proof_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    element_id: Mapped[int] = mapped_column(ForeignKey("elements.id"), index=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence_items.id"), index=True)
    pinpoint: Mapped[str | None] = mapped_column(String(300))
    stance: Mapped[str] = mapped_column(String(16))  # supports | contradicts
    note: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(120))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    accepted_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """One audit record (what, when, who, on which object, outcome); never PII values."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column()
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(80))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(80))
    case_id: Mapped[int | None] = mapped_column(Integer)  # no FK: audit outlives shredded cases
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(32))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    #: Start of the current failure-counting window (15 minutes), while failures are being counted.
    failures_since: Mapped[datetime | None] = mapped_column()
    #: Legacy: a TOTP secret in plain text, from before revision 0005; sealed and emptied on first use.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    #: The TOTP secret, AES-256-GCM under a key derived from the workspace master key.
    totp_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: The TOTP time step (Unix time // 30) of the last sign-in: a code of that step or earlier is a replay.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column()
    #: When the account was last re-enabled (revision 0007): the 90-day inactivity clock starts at the
    #: newest of this, ``created_at`` and ``last_login_at``.
    active_since: Mapped[datetime | None] = mapped_column()


class MasterKeyState(Base):
    """The id of the master key the workspace's keys are under (one row, ``id = 1``).

    Written when the first key material is sealed and by every master-key rotation, in the same
    transaction: what decides whether a workspace was opened with the right key file, and the row
    rotation and enrolment lock so they cannot interleave."""

    __tablename__ = "master_key_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseMember(Base):
    __tablename__ = "case_members"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32))


class WebSession(Base):
    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the session token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    csrf_token: Mapped[str] = mapped_column(String(64))  # SHA-256 of the CSRF token
    expires_at: Mapped[datetime] = mapped_column()


APPEND_ONLY_TABLES = ("audit_events", "custody_events")


def row_dict(row: Base) -> dict[str, Any]:
    """A mapped row's column values (for building read models; unset attributes included)."""
    return {attr.key: getattr(row, attr.key) for attr in row.__mapper__.column_attrs}
