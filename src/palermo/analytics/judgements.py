"""Analyst judgements on identity: *same*, *not same* or *unsure*, which always beat the model.

As in nomenklatura, the human decision is data: it is stored with its author, time and note, and
every resolution run applies it after the deterministic rules and Splink, so a "not same" splits a
cluster that shared identifiers or a name match would have joined, and a "same" joins what the
model left apart. "Unsure" is recorded (so the question is not asked again) but changes nothing.
Judgements name *member keys* (``phone:+15550100``, ``name:john smith``) rather than entity ids,
because entity ids are recomputed on every run; an entity id given by the user is translated to
its first member when the judgement is recorded.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from palermo.analytics.mentions import summarise_mentions
from palermo.analytics.tables import create_analysis_tables
from palermo.errors import InputError, NotFoundError
from palermo.ingest.normalise import DEFAULT_REGION, normalise_phone

Verdict = Literal["same", "not_same", "unsure"]
VERDICTS: frozenset[str] = frozenset({"same", "not_same", "unsure"})
#: Member keys made from names (by :mod:`palermo.analytics.names`), known only after an analysis.
_NAME_KINDS = frozenset({"name", "nick", "part"})


@dataclass(frozen=True)
class Judgement:
    """One analyst decision about whether two identity keys are the same person."""

    judgement_id: str
    left_key: str
    right_key: str
    verdict: str
    author: str
    note: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def normalise_key(key: str, region: str = DEFAULT_REGION) -> str:
    """A member key as resolution writes it: ``phone:+1 305 555 0111`` → ``phone:+13055550111``,
    e-mails lower-cased, account numbers upper-cased without spaces or separators, names as given."""
    kind, sep, value = key.strip().partition(":")
    kind = kind.lower()
    if not sep or not value.strip():
        raise InputError(f"{key!r} is neither an entity id nor a key like 'phone:+15550100'", location="key")
    value = value.strip()
    if kind == "phone":
        value = normalise_phone(value, region) or value
    elif kind == "email":
        value = value.lower()
    elif kind == "account":
        value = "".join(ch for ch in value if not ch.isspace() and ch not in "./-").upper()
    elif kind in _NAME_KINDS:
        value = " ".join(value.lower().split())
    return f"{kind}:{value}"


def _member_key(con: Any, case_ref: str, key: str) -> str:
    """Translate an entity id to a stable member key; check that a key is one the case has.

    A judgement on a key the evidence never mentions would be stored and silently do nothing (a
    typo in a phone number, a key from another case), so it is refused, naming the key.
    """
    if key.startswith("ent:"):
        row = con.execute(
            "SELECT min(member_key) FROM entity_members WHERE case_ref = ? AND entity_id = ?", [case_ref, key]
        ).fetchone()
        if not row or row[0] is None:
            raise NotFoundError(f"no entity {key} in case {case_ref}", location="entity_id")
        return str(row[0])
    member = normalise_key(key)
    known = con.execute(
        "SELECT 1 FROM entity_members WHERE case_ref = ? AND member_key = ? LIMIT 1", [case_ref, member]
    ).fetchone()
    if known is None and member.split(":", 1)[0] not in _NAME_KINDS:
        known = member in set(summarise_mentions(con, case_ref)[0]) or None
    if known is None:
        raise NotFoundError(
            f"{member} is not a key of case {case_ref} (see `palermo analyze {case_ref} --explain ENTITY` "
            "for an entity's keys; name keys exist once the case has been analysed)",
            location="key",
        )
    return member


def judge(
    con: Any, case_ref: str, left: str, right: str, verdict: str, *, author: str, note: str = ""
) -> Judgement:
    """Record a judgement; the latest judgement on a pair replaces earlier ones on that pair."""
    create_analysis_tables(con)
    if verdict not in VERDICTS:
        raise InputError(f"verdict must be one of {sorted(VERDICTS)}, not {verdict!r}", location="verdict")
    if not author:
        raise InputError("a judgement needs an author", location="author")
    a, b = sorted((_member_key(con, case_ref, left), _member_key(con, case_ref, right)))
    if a == b:
        raise InputError("a judgement needs two different keys", location="right")
    jid = "jdg:" + hashlib.sha256(f"{case_ref}|{a}|{b}".encode()).hexdigest()[:12]
    now = datetime.now().replace(microsecond=0)
    con.execute("DELETE FROM judgements WHERE case_ref = ? AND judgement_id = ?", [case_ref, jid])
    con.execute(
        "INSERT INTO judgements VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [case_ref, jid, a, b, verdict, author, note, now],
    )
    return Judgement(jid, a, b, verdict, author, note, now)


def list_judgements(con: Any, case_ref: str) -> list[Judgement]:
    """The case's judgements, oldest first."""
    create_analysis_tables(con)
    rows = con.execute(
        "SELECT judgement_id, left_key, right_key, verdict, author, note, created_at FROM judgements "
        "WHERE case_ref = ? ORDER BY created_at, judgement_id",
        [case_ref],
    ).fetchall()
    return [Judgement(*r) for r in rows]
