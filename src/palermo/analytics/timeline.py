"""The case timeline: payments, calls, messages and ads from every source, in one time order.

Investigators reconstruct a circuit by reading events across exhibits side by side (the ad in
Reno, the motel charge in Reno that night, the driver's call from the road next morning). Each
event keeps its provenance so the timeline itself can be an exhibit. Filtering by entity uses the
resolved identifiers, so all the phones and accounts of one person show up together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from palermo.analytics.tables import table_exists
from palermo.errors import InputError
from palermo.ingest.schema import stmt_order_sql

#: kind → (table, SQL expression list: ts, actor key 1, actor key 2, summary)
_EVENTS: dict[str, tuple[str, str]] = {
    "payment": (
        "payments",
        "ts, 'account:' || from_account, 'account:' || to_account, "
        "coalesce(channel, 'payment') || ' ' || CAST(amount AS VARCHAR) || ' ' || coalesce(currency, '') "
        "|| ' ' || coalesce(from_name, '?') || ' → ' || coalesce(to_name, '?') "
        "|| coalesce(' (' || city || ')', '')",
    ),
    "call": (
        "calls",
        "ts, 'phone:' || caller, 'phone:' || callee, coalesce(kind, 'call') || ' ' || caller || ' → ' "
        "|| callee || coalesce(', ' || CAST(duration_s AS VARCHAR) || ' s', '') "
        "|| coalesce(' (' || city || ')', '')",
    ),
    "message": (
        "messages",
        "ts, 'phone:' || sender, 'phone:' || recipient, coalesce(app, 'message') || ' ' "
        "|| sender || ' → ' || recipient",
    ),
    "ad": (
        "ads",
        "ts, 'phone:' || phone, 'email:' || email, 'ad on ' || coalesce(site, '?') || ' in ' "
        "|| coalesce(city, '?') || ': ' || coalesce(title, '')",
    ),
}


@dataclass(frozen=True)
class Event:
    """One dated statement with where it came from (bodies of messages are not repeated here)."""

    ts: datetime
    kind: str
    summary: str
    entities: tuple[str, ...]
    stmt_id: str
    evidence_id: int
    locator: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def timeline(
    con: Any,
    case_ref: str,
    *,
    entity: str | None = None,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    kinds: Sequence[str] | None = None,
    limit: int = 1000,
) -> list[Event]:
    """Events of a case in time order, optionally for one entity, a period and some kinds."""
    chosen = list(kinds or _EVENTS)
    unknown = set(chosen) - set(_EVENTS)
    if unknown:
        raise InputError(
            f"unknown event kind(s) {sorted(unknown)}; choose from {sorted(_EVENTS)}", location="kinds"
        )
    parts = []
    for kind in chosen:
        table, cols = _EVENTS[kind]
        if table_exists(con, table):
            parts.append(
                f"SELECT '{kind}' AS kind, {cols}, stmt_id, evidence_id, locator FROM {table} "
                "WHERE case_ref = $case_ref AND ts IS NOT NULL AND ($cut IS NULL OR ts <= $cut)"
            )
    if not parts:
        return []
    union = " UNION ALL ".join(parts)
    cols = "kind, ts, k1, k2, summary, stmt_id, evidence_id, locator"
    events = f"""WITH ev AS (SELECT * FROM ({union}) AS u({cols})),
        owner AS (SELECT member_key, entity_id FROM entity_members WHERE case_ref = $case_ref)
        SELECT {{}}
        FROM ev LEFT JOIN owner a ON a.member_key = ev.k1 LEFT JOIN owner b ON b.member_key = ev.k2
        WHERE ($start IS NULL OR ev.ts >= $start) AND ($end IS NULL OR ev.ts < $end)
          AND ($entity IS NULL OR a.entity_id = $entity OR b.entity_id = $entity)"""
    params = {
        "case_ref": case_ref,
        "start": _ts(start),
        "end": _ts(end),
        "entity": entity,
        "limit": limit,
        "cut": None,
    }
    # two steps: the time of the n-th event is found on the time alone, then only the events at or
    # before it are read in full and get the exhibit-order key (a regular expression per row, some
    # twelve times the cost of the rest on a large case). Every event of that last time is kept, so
    # the order and the first n are the same as sorting them all.
    (params["cut"],) = con.execute(
        f"SELECT max(ts) FROM ({events.format('ev.ts')} ORDER BY ev.ts LIMIT $limit)", params
    ).fetchone()
    if params["cut"] is None:
        return []
    fields = "ev.ts, ev.kind, ev.summary, a.entity_id, b.entity_id, ev.stmt_id, ev.evidence_id, ev.locator"
    rows = con.execute(
        f"{events.format(fields)} ORDER BY ev.ts, {stmt_order_sql('ev.stmt_id')}, ev.stmt_id LIMIT $limit",
        params,
    ).fetchall()
    return [
        Event(ts, kind, str(summary or ""), tuple(e for e in (a, b) if e), str(stmt), int(evid), str(loc))
        for ts, kind, summary, a, b, stmt, evid, loc in rows
    ]


def _ts(value: date | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day)
