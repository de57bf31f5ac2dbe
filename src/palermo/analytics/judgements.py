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

from palermo.analytics.tables import create_analysis_tables
from palermo.errors import InputError, NotFoundError

Verdict = Literal["same", "not_same", "unsure"]
VERDICTS: frozenset[str] = frozenset({"same", "not_same", "unsure"})


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


def _member_key(con: Any, case_ref: str, key: str) -> str:
    """Translate an entity id to a stable member key; pass member keys through."""
    if not key.startswith("ent:"):
        if ":" not in key:
            raise InputError(
                f"{key!r} is neither an entity id nor a key like 'phone:+15550100'", location="key"
            )
        return key
    row = con.execute(
        "SELECT min(member_key) FROM entity_members WHERE case_ref = ? AND entity_id = ?", [case_ref, key]
    ).fetchone()
    if not row or row[0] is None:
        raise NotFoundError(f"no entity {key} in case {case_ref}", location="entity_id")
    return str(row[0])


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
