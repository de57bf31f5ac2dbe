"""Per-entity facts that roles and key-player reasons are argued from.

Each feature is a plain SQL aggregate over the ingest tables joined to the resolved entities, so a
reason such as "receives 84 % of cash deposits" can be recomputed by anyone from the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from palermo.analytics.tables import table_exists

FEATURE_SQL = {
    # share of all cash deposited in the case that lands in the entity's accounts
    "cash_share": """
        WITH cash AS (SELECT to_account, amount FROM payments
                      WHERE case_ref = $case_ref AND channel = 'cash_deposit' AND to_account IS NOT NULL)
        SELECT m.entity_id, sum(c.amount) / (SELECT sum(amount) FROM cash)
        FROM cash c JOIN entity_members m
          ON m.case_ref = $case_ref AND m.kind = 'account' AND m.value = c.to_account
        GROUP BY m.entity_id""",
    # distinct call/message partners whose phone appears in adult-services ads (a claimed age or
    # escort wording; someone selling a sofa does not count)
    "ad_phone_contacts": """
        WITH ad_entities AS (
          SELECT DISTINCT m.entity_id FROM ads a JOIN entity_members m
            ON m.case_ref = $case_ref AND m.kind = 'phone' AND m.value = a.phone
          WHERE a.case_ref = $case_ref AND (a.age_claimed IS NOT NULL OR regexp_matches(
            lower(coalesce(a.title, '') || ' ' || coalesce(a.body, '')),
            'escort|incall|outcall|new in town|new girl'))),
        nb AS (SELECT src AS e, dst AS n FROM edges WHERE case_ref = $case_ref AND kind IN ('call', 'message')
               UNION SELECT dst, src FROM edges WHERE case_ref = $case_ref AND kind IN ('call', 'message'))
        SELECT nb.e, count(DISTINCT nb.n) FROM nb JOIN ad_entities a ON a.entity_id = nb.n GROUP BY nb.e""",
    # vehicle costs (fuel, car rental) versus tickets: a driver moves cars, a recruiter buys tickets
    "vehicle_purchases": """
        SELECT m.entity_id, count(*) FROM payments p JOIN entity_members m
          ON m.case_ref = $case_ref AND m.kind = 'account' AND m.value = p.from_account
        WHERE p.case_ref = $case_ref AND regexp_matches(upper(coalesce(p.to_name, '') || ' ' ||
              coalesce(p.description, '')), '(FUEL|\\bGAS\\b|CAR RENTAL|RENT A CAR|QUICKRENT)')
        GROUP BY m.entity_id""",
    # days on which the entity's phone made calls from two or more cities: it was on the road
    "travel_days": """
        WITH days AS (
          SELECT caller, CAST(ts AS DATE) AS day FROM calls
          WHERE case_ref = $case_ref AND city IS NOT NULL AND ts IS NOT NULL
          GROUP BY caller, CAST(ts AS DATE) HAVING count(DISTINCT city) >= 2)
        SELECT m.entity_id, count(*) FROM days d JOIN entity_members m
          ON m.case_ref = $case_ref AND m.kind = 'phone' AND m.value = d.caller
        GROUP BY m.entity_id""",
    "ticket_purchases": """
        SELECT m.entity_id, count(*) FROM payments p JOIN entity_members m
          ON m.case_ref = $case_ref AND m.kind = 'account' AND m.value = p.from_account
        WHERE p.case_ref = $case_ref AND regexp_matches(upper(coalesce(p.to_name, '') || ' ' ||
              coalesce(p.description, '')), '(\\bBUS\\b|\\bAIR\\b|AIRLINE|TICKET|\\bTRAIN\\b|\\bRAIL)')
        GROUP BY m.entity_id""",
}
_NEEDS = {
    "travel_days": "calls",
    "cash_share": "payments",
    "ad_phone_contacts": "ads",
    "vehicle_purchases": "payments",
    "ticket_purchases": "payments",
}


@dataclass
class Features:
    """Feature name → entity id → value."""

    values: dict[str, dict[str, float]] = field(default_factory=dict)

    def get(self, name: str, entity_id: str) -> float:
        return self.values.get(name, {}).get(entity_id, 0.0)


def compute_features(con: Any, case_ref: str) -> Features:
    """Evaluate every feature whose source table exists."""
    out = Features()
    for name, sql in FEATURE_SQL.items():
        if not table_exists(con, _NEEDS[name]):
            continue
        rows = con.execute(sql, {"case_ref": case_ref}).fetchall()
        out.values[name] = {str(e): float(v or 0.0) for e, v in rows}
    return out


def payments_from(con: Any, case_ref: str, payers: set[str]) -> dict[str, int]:
    """Payee entity → number of payments received from any of ``payers``, from the payment edges."""
    if not payers:
        return {}
    rows = con.execute(
        "SELECT dst, sum(n) FROM edges WHERE case_ref = ? AND kind = 'payment' "
        "AND src IN (SELECT unnest(?)) GROUP BY dst",
        [case_ref, sorted(payers)],
    ).fetchall()
    return {str(b): int(n) for b, n in rows}
