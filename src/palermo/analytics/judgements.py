"""Analyst judgements on identity: *same*, *not same* or *unsure*, which always beat the model.

As in nomenklatura, the human decision is data: it is stored with its author, time and note, and
every resolution run applies it after the deterministic rules and Splink, so a "not same" splits a
cluster that shared identifiers or a name match would have joined, and a "same" joins what the
model left apart. "Unsure" is recorded (so the question is not asked again) but changes nothing.
The latest judgement on a pair replaces the earlier ones; judgements that contradict each other
through other pairs (``same(A, B)``, ``same(B, C)``, ``not_same(A, C)``) are settled, and reported,
by the rule in :mod:`palermo.analytics.conflicts`: the not_same wins, and of two sames the newer.
Judgements name *member keys* (``phone:+15550100``, ``name:john smith``) rather than entity ids,
because entity ids are recomputed on every run. An entity given by the user, by its id (``ent:…``)
or by the pseudonym ``palermo analyze`` shows for a masked person (``possible victim 3fa2c1``), is
translated to one of its member keys when the judgement is recorded: its smallest *identifier*
(phone, e-mail, account), the key its id is made from, and a name key only when it has no
identifier. A name or nickname is weak: ``nick:…:mama`` can leave the entity at the next run (a
judgement or a new exhibit cuts the contact entry that tied it), and the judgement would follow the
nickname instead of the person the analyst meant.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from palermo.analytics import ids as item_ids
from palermo.analytics.mentions import summarise_mentions
from palermo.analytics.tables import create_analysis_tables
from palermo.errors import InputError, NotFoundError
from palermo.ingest.normalise import DEFAULT_REGION, normalise_phone, phone_region

Verdict = Literal["same", "not_same", "unsure"]
VERDICTS: frozenset[str] = frozenset({"same", "not_same", "unsure"})
#: Member keys made from names (by :mod:`palermo.analytics.names`), known only after an analysis.
_NAME_KINDS = frozenset({"name", "nick", "part"})
#: How outputs show a masked entity: ``pseudonym()`` in :mod:`palermo.analytics.redaction`, the
#: last six characters of its id after ``person`` or ``possible victim``.
_PSEUDONYM = re.compile(r"(?:person|possible\s+victim)\s+([0-9a-f]{6})", re.IGNORECASE)


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


def _member_key(con: Any, case_ref: str, key: str, region: str) -> str:
    """Translate an entity (id or pseudonym) to a stable member key; check that a key is one the case has.

    A judgement on a key the evidence never mentions would be stored and silently do nothing (a
    typo in a phone number, a key from another case), so it is refused, naming the key. The message
    points to the entity id and pseudonym ``palermo analyze`` shows, not to ``--explain``: that
    hides a masked person's keys (rightly), so an analyst without the identity permission could
    never find them there, and the id or pseudonym works for her without revealing any.
    """
    entity = _entity_given(con, case_ref, key)
    if entity is not None:
        return _strongest_key(con, case_ref, entity)
    member = normalise_key(key, region)
    known = con.execute(
        "SELECT 1 FROM entity_members WHERE case_ref = ? AND member_key = ? LIMIT 1", [case_ref, member]
    ).fetchone()
    if known is None and member.split(":", 1)[0] not in _NAME_KINDS:
        known = member in set(summarise_mentions(con, case_ref)[0]) or None
    if known is None:
        value = key.partition(":")[2].strip()
        national = member.startswith("phone:") and not value.startswith(("+", "00"))
        raise NotFoundError(
            f"{member} is not a key of case {case_ref}: give a key its evidence has, or the entity id "
            f"(ent:…) or pseudonym ('person 3fa2c1') that `palermo analyze {case_ref}` shows"
            + (f" (a national number is read as one of region {region}: see --region)" if national else "")
            + "; name keys exist once the case has been analysed",
            location="key",
        )
    return member


def _entity_given(con: Any, case_ref: str, key: str) -> str | None:
    """The entity id ``key`` names (``ent:…`` or a pseudonym such as ``possible victim 3fa2c1``), or
    None when it is a member key. Pseudonyms are six hex characters of a keyed hash (decision
    0006), so two entities can share one: then the analyst is asked for the id, which outputs show
    beside the pseudonym."""
    text = key.strip()
    if text.startswith("ent:"):
        return text
    shown = _PSEUDONYM.fullmatch(text)
    if shown is None:
        return None
    ids = [
        str(r[0])
        for r in con.execute(
            "SELECT DISTINCT entity_id FROM entity_members WHERE case_ref = ? AND right(entity_id, 6) = ? "
            "ORDER BY 1",
            [case_ref, shown.group(1).lower()],
        ).fetchall()
    ]
    if not ids:
        raise NotFoundError(
            f"no entity of case {case_ref} is shown as {text!r} (pseudonyms are those of the last "
            f"`palermo analyze {case_ref}`)",
            location="key",
        )
    if len(ids) > 1:
        raise InputError(
            f"{text!r} stands for {len(ids)} entities ({', '.join(ids)}): give the entity id", location="key"
        )
    return ids[0]


def _strongest_key(con: Any, case_ref: str, entity_id: str) -> str:
    """The entity's smallest identifier key (the one its id is made from), else its smallest name key."""
    row = con.execute(
        "SELECT member_key FROM entity_members WHERE case_ref = ? AND entity_id = ? "
        "ORDER BY split_part(member_key, ':', 1) IN ('name', 'nick', 'part'), member_key LIMIT 1",
        [case_ref, entity_id],
    ).fetchone()
    if row is None:
        raise NotFoundError(f"no entity {entity_id} in case {case_ref}", location="entity_id")
    return str(row[0])


def judge(
    con: Any,
    case_ref: str,
    left: str,
    right: str,
    verdict: str,
    *,
    author: str,
    note: str = "",
    region: str = DEFAULT_REGION,
) -> Judgement:
    """Record a judgement; the latest judgement on a pair replaces earlier ones on that pair.

    ``region`` (an ISO country code) reads a phone key written in national form, as ``--region``
    does at import: ``phone:0612345678`` with ``NL`` is ``phone:+31612345678``."""
    create_analysis_tables(con)
    if verdict not in VERDICTS:
        raise InputError(f"verdict must be one of {sorted(VERDICTS)}, not {verdict!r}", location="verdict")
    if not author:
        raise InputError("a judgement needs an author", location="author")
    code = phone_region(region)
    if code is None:
        raise InputError(
            f"{region!r} is not a phone region: give an ISO 3166 country code such as NL or US",
            location="region",
        )
    a, b = sorted((_member_key(con, case_ref, left, code), _member_key(con, case_ref, right, code)))
    if a == b:
        raise InputError("a judgement needs two different keys", location="right")
    # keyed like entity ids (decision 0006): conflicts print judgement ids in `analyze --json`, and
    # a plain hash of two keys gave a victim's number back to whoever knew the other (a suspect's)
    jid = "jdg:" + item_ids.keyed(item_ids.id_key(con), f"{case_ref}|{a}|{b}")[:12]
    # to the microsecond: the order of judgements decides which gives way in a conflict, and a
    # script records several in one second
    now = datetime.now()
    # by the pair, not the id: a pair judged before ids were keyed has its old id
    con.execute(
        "DELETE FROM judgements WHERE case_ref = ? AND left_key = ? AND right_key = ?", [case_ref, a, b]
    )
    con.execute(
        "INSERT INTO judgements VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [case_ref, jid, a, b, verdict, author, note, now],
    )
    return Judgement(jid, a, b, verdict, author, note, now)


#: A judgement id as made before ids were keyed: a plain hash of the case and the two keys.
_LEGACY_ID = "'jdg:' || left(sha256(case_ref || '|' || left_key || '|' || right_key), 12)"


def rekey_legacy_ids(con: Any, case_ref: str) -> int:
    """Give the case's judgements made before ids were keyed their keyed id; return how many.

    A legacy id is ``sha256(case|a|b)``: whoever knows one key (a suspect's number) and the case can
    find the other (a victim's) by trying candidates, and conflicts print ids in ``analyze --json``.
    Ids already written elsewhere (earlier audit events, earlier outputs) cannot be taken back.
    """
    legacy = con.execute(
        f"SELECT count(*) FROM judgements WHERE case_ref = ? AND judgement_id = {_LEGACY_ID}", [case_ref]
    ).fetchone()[0]
    if legacy:
        con.execute(
            f"""UPDATE judgements SET judgement_id = 'jdg:' || left({
                item_ids.keyed_sql("key", "case_ref || '|' || left_key || '|' || right_key")
            }, 12)
                WHERE case_ref = $case AND judgement_id = {_LEGACY_ID}""",
            {"key": item_ids.id_key(con), "case": case_ref},
        )
    return int(legacy)


def list_judgements(con: Any, case_ref: str) -> list[Judgement]:
    """The case's judgements, oldest first (legacy ids re-keyed first, see :func:`rekey_legacy_ids`)."""
    create_analysis_tables(con)
    rekey_legacy_ids(con, case_ref)
    rows = con.execute(
        "SELECT judgement_id, left_key, right_key, verdict, author, note, created_at FROM judgements "
        "WHERE case_ref = ? ORDER BY created_at, judgement_id",
        [case_ref],
    ).fetchall()
    return [Judgement(*r) for r in rows]
