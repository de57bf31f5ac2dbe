"""Parties: defendants, victims, witnesses and others, with the victim's identity kept encrypted.

A victim is known everywhere by a pseudonym (``label``). Their legal name, date of birth, contact
and address go only into ``party_identities``, each value AES-GCM encrypted under the case key and
bound to its cell; reading them back takes an explicit :meth:`PartyService.reveal_identity`,
which writes an audit event carrying the party id and never the values (AU-03, AU-09).
"""

from __future__ import annotations

import builtins
import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from palermo.errors import AccessDenied, InputError
from palermo.store import repository
from palermo.store.ports import StoreContext
from palermo.store.schemas import PartyPublic, VictimIdentity
from palermo.store.tables import Case, Charge, Party, PartyIdentity

ROLES = ("defendant", "victim", "witness", "other")
IDENTITY_FIELDS = ("legal_name", "date_of_birth", "contact", "address")
#: What redaction looks for in outputs (a birth date is a date like any other in the evidence).
_PROTECTED_FIELDS = ("legal_name", "contact", "address")
MAX_AGE = 120
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class ProtectedValues:
    """The recorded victims' names, contacts and addresses as of one identity version.

    Iterating gives the values; ``repr`` and equality show only the version, so the object can key a
    cache or reach a log or traceback without carrying a victim's identity into it.
    """

    version: str
    values: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def _identity_version(rows: Sequence[tuple[int, PartyIdentity | None]], key: int | None) -> str:
    """A digest of the victims' party ids, their identity *ciphertexts* (nothing decrypted) and the
    case's active key version.

    It changes whenever a victim is added, removed or re-roled, an identity value is written or
    re-encrypted, or the case key is crypto-shredded, which is all a cache of the decrypted values
    needs to know to stay correct (a shredded identity must not outlive its key in anybody's memory).
    """
    digest = hashlib.sha256(f"key:{key};".encode())
    for party_id, row in rows:
        digest.update(f"party:{party_id};".encode())
        if row is None:
            continue
        digest.update(f"key:{row.key_version};".encode())
        for name in _PROTECTED_FIELDS:
            blob = getattr(row, name)
            digest.update(
                name.encode() + b"=" + (hashlib.sha256(blob).digest() if blob is not None else b"-")
            )
    return digest.hexdigest()


def birth_date(value: str) -> date:
    """A date of birth as a real past calendar date (YYYY-MM-DD), or InputError naming the field.

    Kept as text once encrypted, so it is checked here: "not-a-date" or 2030-02-31 would otherwise
    sit unreadable in the record until a court needs the victim's age.
    """
    text = value.strip()
    try:
        if not ISO_DATE.fullmatch(text):
            raise ValueError(text)
        born = date.fromisoformat(text)
    except ValueError:
        raise InputError(
            "date_of_birth must be a real date as YYYY-MM-DD (e.g. 2004-07-31)", location="date_of_birth"
        ) from None
    if born > datetime.now(UTC).date():
        raise InputError("date_of_birth is in the future", location="date_of_birth")
    return born


def offence_date(session: Session, case_id: int) -> date | None:
    """The earliest offence date stated in the case's charge facts, if any charge states one."""
    stated = []
    for facts in session.scalars(select(Charge.facts).where(Charge.case_id == case_id)):
        try:
            stated.append(date.fromisoformat(str((facts or {})["offence_date"])))
        except (KeyError, ValueError):
            continue
    return min(stated, default=None)


def _check_age(born: date, age: int, offence: date | None) -> None:
    """With an offence date on record, the stated age must be the age the date of birth gives;
    without one, it can at least not exceed the age today (an offence is never in the future)."""
    when = offence or datetime.now(UTC).date()
    years = when.year - born.year - ((when.month, when.day) < (born.month, born.day))
    if offence is None and age > years:
        raise InputError(
            f"age_at_offence {age} exceeds the age today ({years}) given by date_of_birth",
            location="age_at_offence",
        )
    if offence is not None and years != age:
        raise InputError(
            f"age_at_offence {age} does not match date_of_birth: the case's offence date "
            f"{offence.isoformat()} gives {years}",
            location="age_at_offence",
        )


def to_public(party: Party, case: Case, has_identity: bool) -> PartyPublic:
    return PartyPublic(
        id=party.id,
        case_reference=case.reference,
        role=party.role,
        label=party.label,
        age_at_offence=party.age_at_offence,
        notes=party.notes,
        has_identity=has_identity,
    )


class PartyService:
    """Add and list parties; reveal a victim's identity on an audited, explicit request."""

    def __init__(self, ctx: StoreContext) -> None:
        self.ctx = ctx

    def add(
        self,
        case_ref: str,
        role: str,
        label: str,
        *,
        age_at_offence: int | None = None,
        notes: str | None = None,
        legal_name: str | None = None,
        date_of_birth: str | None = None,
        contact: str | None = None,
        address: str | None = None,
    ) -> PartyPublic:
        """Add a party; identity fields are encrypted before they reach the database."""
        if role not in ROLES:
            raise InputError(f"role {role!r} must be one of {', '.join(ROLES)}", location="role")
        if not label.strip():
            raise InputError("a party needs a label (a pseudonym for a victim)", location="label")
        if age_at_offence is not None and not 0 <= age_at_offence <= MAX_AGE:
            raise InputError(
                f"age_at_offence {age_at_offence} is not a plausible age (0 to {MAX_AGE})",
                location="age_at_offence",
            )
        born = birth_date(date_of_birth) if date_of_birth is not None else None
        date_of_birth = born.isoformat() if born is not None else None
        identity = {
            "legal_name": legal_name,
            "date_of_birth": date_of_birth,
            "contact": contact,
            "address": address,
        }
        if role == "victim" and legal_name is not None and legal_name.strip() == label.strip():
            raise InputError("a victim's pseudonym must not be their legal name", location="label")
        with self.ctx.db.transaction() as session:
            case = repository.case_by_ref(session, case_ref)
            if born is not None and age_at_offence is not None:
                _check_age(born, age_at_offence, offence_date(session, case.id))
            party = Party(
                case_id=case.id, role=role, label=label.strip(), age_at_offence=age_at_offence, notes=notes
            )
            session.add(party)
            session.flush()
            has_identity = any(v is not None for v in identity.values())
            if has_identity:
                row = PartyIdentity(party_id=party.id, key_version=0)
                for name, value in identity.items():
                    if value is not None:
                        version, blob = self.ctx.cipher.encrypt(
                            session, case.id, "party_identities", name, party.id, value
                        )
                        row.key_version = version
                        setattr(row, name, blob)
                session.add(row)
            self.ctx.audit.record(
                session,
                actor=self.ctx.actor,
                action="party.create",
                object_type="party",
                object_id=party.id,
                case_id=case.id,
                detail={
                    "role": role,
                    "identity_fields": sorted(k for k, v in identity.items() if v is not None),
                },
            )
            return to_public(party, case, has_identity)

    def add_defendant(self, case_ref: str, label: str, **kw: object) -> PartyPublic:
        return self.add(case_ref, "defendant", label, **kw)  # type: ignore[arg-type]

    def add_victim(self, case_ref: str, pseudonym: str, **kw: object) -> PartyPublic:
        return self.add(case_ref, "victim", pseudonym, **kw)  # type: ignore[arg-type]

    def add_witness(self, case_ref: str, label: str, **kw: object) -> PartyPublic:
        return self.add(case_ref, "witness", label, **kw)  # type: ignore[arg-type]

    def add_other(self, case_ref: str, label: str, **kw: object) -> PartyPublic:
        return self.add(case_ref, "other", label, **kw)  # type: ignore[arg-type]

    def list(self, case_ref: str, role: str | None = None) -> builtins.list[PartyPublic]:
        with self.ctx.db.read() as session:
            case = repository.case_by_ref(session, case_ref)
            query = select(Party).where(Party.case_id == case.id).order_by(Party.id)
            if role is not None:
                query = query.where(Party.role == role)
            parties = session.scalars(query).all()
            with_identity = set(
                session.scalars(
                    select(PartyIdentity.party_id).where(PartyIdentity.party_id.in_([p.id for p in parties]))
                )
            )
            return [to_public(p, case, p.id in with_identity) for p in parties]

    def get(self, party_id: int) -> PartyPublic:
        with self.ctx.db.read() as session:
            party = session.get(Party, party_id)
            if party is None:
                raise InputError(f"unknown party id {party_id}", location="party")
            case = repository.case_by_id(session, party.case_id)
            return to_public(party, case, session.get(PartyIdentity, party_id) is not None)

    def reveal_identity(
        self, party_id: int, *, user: str, authorise: Callable[[str], None] | None = None
    ) -> VictimIdentity:
        """Decrypt a party's identity for ``user``; the read is audited (party id only, no values).

        ``authorise(case_reference)`` is the caller's access rule (the store does not know roles):
        it raises :class:`AccessDenied` to refuse, and a refusal is audited as a failed read before
        it propagates, so attempts leave a trace as well as reads.
        """
        if authorise is not None:
            case_ref = self.get(party_id).case_reference
            try:
                authorise(case_ref)
            except AccessDenied as denied:
                self._audit_refusal(party_id, user, str(denied))
                raise
        with self.ctx.db.transaction() as session:
            party = session.get(Party, party_id)
            if party is None:
                raise InputError(f"unknown party id {party_id}", location="party")
            row = session.get(PartyIdentity, party_id)
            values: dict[str, str | None] = dict.fromkeys(IDENTITY_FIELDS)
            if row is not None:
                for name in IDENTITY_FIELDS:
                    blob = getattr(row, name)
                    if blob is not None:
                        values[name] = self.ctx.cipher.decrypt(
                            session, party.case_id, "party_identities", name, party_id, row.key_version, blob
                        )
            self.ctx.audit.record(
                session,
                actor=user,
                action="party.identity.read",
                object_type="party",
                object_id=party_id,
                case_id=party.case_id,
                detail={"fields": sorted(k for k, v in values.items() if v is not None)},
            )
            return VictimIdentity(party_id=party_id, **values)

    def _victim_identities(
        self, session: Session, case_id: int
    ) -> builtins.list[tuple[int, PartyIdentity | None]]:
        victims = session.scalars(
            select(Party.id).where(Party.case_id == case_id, Party.role == "victim").order_by(Party.id)
        ).all()
        return [(party_id, session.get(PartyIdentity, party_id)) for party_id in victims]

    def identity_version(self, case_ref: str) -> str:
        """The version of the case's recorded victim identities (see :class:`ProtectedValues`).

        Nothing is decrypted, so nothing is audited: a front end asks this on every rebuild of its
        views and reads the values themselves (:meth:`protected_values`, audited) only when it changed.
        """
        with self.ctx.db.read() as session:
            case = repository.case_by_ref(session, case_ref)
            key = self.ctx.cipher.active_version(session, case.id)
            return _identity_version(self._victim_identities(session, case.id), key)

    def protected_values(self, case_ref: str, *, user: str, purpose: str) -> ProtectedValues:
        """The victims' recorded names, contacts and addresses, decrypted for one use
        that never shows them: redacting an output, so that whatever the analysis made of a victim
        (a nickname for her entity, her account merged into a suspect's) her identity stays out.

        One audit event for the case records the read (``party.identity.read`` with the purpose and
        the party ids, never the values); the values live only in the caller's memory. They come
        with their :meth:`identity_version`, read in the same transaction.
        """
        with self.ctx.db.transaction() as session:
            case = repository.case_by_ref(session, case_ref)
            identities = self._victim_identities(session, case.id)
            key = self.ctx.cipher.active_version(session, case.id)
            values: builtins.list[str] = []
            read: builtins.list[int] = []
            for party_id, row in identities:
                # an identity whose key was crypto-shredded is gone for everybody, this rule included
                if row is None or key is None:
                    continue
                read.append(party_id)
                for name in _PROTECTED_FIELDS:
                    blob = getattr(row, name)
                    if blob is not None:
                        values.append(
                            self.ctx.cipher.decrypt(
                                session, case.id, "party_identities", name, party_id, row.key_version, blob
                            )
                        )
            if read:
                self.ctx.audit.record(
                    session,
                    actor=user,
                    action="party.identity.read",
                    object_type="case",
                    object_id=case.id,
                    case_id=case.id,
                    detail={
                        "purpose": purpose,
                        "parties": read,
                        "fields": sorted(_PROTECTED_FIELDS),
                    },
                )
            return ProtectedValues(_identity_version(identities, key), tuple(values))

    def _audit_refusal(self, party_id: int, user: str, reason: str) -> None:
        with self.ctx.db.transaction() as session:
            party = session.get(Party, party_id)
            self.ctx.audit.record(
                session,
                actor=user,
                action="party.identity.read",
                object_type="party",
                object_id=party_id,
                case_id=party.case_id if party is not None else None,
                outcome="failure",
                detail={"refused": reason},
            )
