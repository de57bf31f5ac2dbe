"""Roles in a trafficking operation — recruiter, controller, transporter, financier — with reasons.

The rules follow how such cases are charged and argued, and each is a sentence an analyst can
check against the evidence:
* **financier** collects and moves the money: structured cash deposits, or cash collected then
  wired abroad (FinCEN FIN-2014-A008 / FIN-2020-A008);
* **recruiter** sends job offers with travel advanced on credit;
* **controller** sends debt/quota/threat messages, keeps constant odd-hour contact with several
  phones, answers one phone that advertises several people, or pays for ads *and* for hotels or
  several residences;
* **transporter** receives instructions to move people; or keeps in close contact with a
  controller's *private* phone (15+ calls/messages with a controller phone that is not printed in
  ads — customers call the advertised number, insiders the other one) while calling from two
  cities on the same day on two or more days (on the road); or is paid by a financier's account
  and buys fuel or car rental across cities;
* an entity paid by a financier's account that buys tickets in several cities is a recruiter.
Who is *advertised* or *receives* coercive messages is labelled a possible victim and is never
flagged as a member of the ring: the purpose is to find the people to protect as well.
Roles are hypotheses for review, like every lead, not findings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from palermo.analytics.features import Features, payments_from
from palermo.analytics.indicators.runner import IndicatorHit
from palermo.analytics.tables import table_exists

RING_ROLES = ("controller", "recruiter", "transporter", "financier")
_CONTROL = ("C_COERCION_LANGUAGE", "C_ONE_PHONE_CONTROLS_MANY", "A_PHONE_MANY_PERSONS")


@dataclass
class Role:
    """An inferred role for one entity and the reasons for it."""

    entity_id: str
    role: str
    ring: bool
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def infer_roles(con: Any, case_ref: str, hits: Sequence[IndicatorHit], features: Features) -> dict[str, Role]:
    """Assign at most one role per entity (the first rule that fires), with every reason that applies."""
    by_entity: dict[str, dict[str, IndicatorHit]] = defaultdict(dict)
    for hit in hits:
        if hit.entity_id:
            by_entity[hit.entity_id][hit.indicator_id] = hit
    roles: dict[str, Role] = {}

    def say(entity: str, ids: Sequence[str]) -> list[str]:
        return [
            f"{by_entity[entity][i].title.lower()}: {by_entity[entity][i].detail}"
            for i in ids
            if i in by_entity[entity]
        ]

    for entity, found in by_entity.items():
        if {"M_STRUCTURED_CASH", "M_CASH_THEN_WIRES_ABROAD"} & found.keys():
            reasons = say(entity, ["M_STRUCTURED_CASH", "M_CASH_THEN_WIRES_ABROAD", "M_FUNNEL_ACCOUNT"])
            share = features.get("cash_share", entity)
            if share >= 0.05:
                reasons.append(f"receives {share:.0%} of all cash deposited in the case")
            roles[entity] = Role(entity, "financier", True, reasons)
        elif "C_RECRUITMENT_OFFERS" in found:
            roles[entity] = Role(
                entity, "recruiter", True, say(entity, ["C_RECRUITMENT_OFFERS", "C_COERCION_LANGUAGE"])
            )
        elif set(_CONTROL) & found.keys() or (
            "M_AD_SITE_PAYMENTS" in found
            and {"M_MANY_HOTEL_CHARGES", "M_MULTI_RESIDENCE_RENT"} & found.keys()
        ):
            reasons = say(
                entity,
                [
                    *_CONTROL,
                    "M_AD_SITE_PAYMENTS",
                    "M_MANY_HOTEL_CHARGES",
                    "M_MULTI_RESIDENCE_RENT",
                    "A_PHONE_MANY_CITIES",
                ],
            )
            ads = int(features.get("ad_phone_contacts", entity))
            if ads:
                reasons.append(f"in contact with {ads} phone(s) that appear in ads")
            roles[entity] = Role(entity, "controller", True, reasons)
        elif "C_TRANSPORT_INSTRUCTIONS" in found:
            roles[entity] = Role(entity, "transporter", True, say(entity, ["C_TRANSPORT_INSTRUCTIONS"]))
    _drivers(con, case_ref, features, roles)
    _money_associates(con, case_ref, by_entity, features, roles, say)
    _victims(con, case_ref, by_entity, roles)
    return roles


def _money_associates(
    con: Any,
    case_ref: str,
    by_entity: dict[str, dict[str, IndicatorHit]],
    features: Features,
    roles: dict[str, Role],
    say: Any,
) -> None:
    """Entities paid repeatedly by a financier that also travel, buy tickets or talk to a controller.

    Being paid by the funnel alone is not enough (wires abroad go to relatives and money mules); it
    takes a second, independent tie to the operation.
    """
    financiers = {e for e, r in roles.items() if r.role == "financier"}
    controllers = {e for e, r in roles.items() if r.role == "controller"}
    paid = payments_from(con, case_ref, financiers)
    talks = _talks_with(con, case_ref, controllers)
    for entity, n in paid.items():
        if entity in roles or n < 2:
            continue
        found = by_entity.get(entity, {})
        vehicle = features.get("vehicle_purchases", entity)
        tickets = features.get("ticket_purchases", entity)
        if not (found.get("M_TRAVEL_MANY_CITIES") or vehicle or tickets or talks.get(entity)):
            continue
        reasons = [
            f"receives {n} payments from a suspected financier's account",
            *say(entity, ["M_TRAVEL_MANY_CITIES"]),
        ]
        if vehicle or tickets:
            reasons.append(f"{int(vehicle)} fuel/car-rental and {int(tickets)} ticket purchases")
        if talks.get(entity):
            reasons.append(f"{talks[entity]} calls/messages with a suspected controller")
        if vehicle > tickets:
            role = "transporter"
        elif tickets:
            role = "recruiter"
        else:
            role = "financier"
        roles[entity] = Role(entity, role, True, reasons)


def _drivers(con: Any, case_ref: str, features: Features, roles: dict[str, Role]) -> None:
    """Phones on the road (two cities in one day, repeatedly) in close contact with a controller's
    private phone."""
    advertised = (
        {
            str(e)
            for (e,) in con.execute(
                "SELECT DISTINCT m.entity_id FROM ads a JOIN entity_members m "
                "ON m.case_ref = a.case_ref AND m.kind = 'phone' AND m.value = a.phone WHERE a.case_ref = ?",
                [case_ref],
            ).fetchall()
        }
        if table_exists(con, "ads")
        else set()
    )
    controllers = {e for e, r in roles.items() if r.role == "controller" and e not in advertised}
    for entity, n in _talks_with(con, case_ref, controllers).items():
        days = int(features.get("travel_days", entity))
        if entity in roles or n < 15 or days < 2:
            continue
        roles[entity] = Role(
            entity,
            "transporter",
            True,
            [
                f"{n} calls/messages with a suspected controller's private (not advertised) phone",
                f"called from two or more cities on the same day on {days} days (travelling)",
            ],
        )


def _talks_with(con: Any, case_ref: str, group: set[str]) -> dict[str, int]:
    """Entity → number of calls and messages exchanged with any entity of ``group``."""
    if not group:
        return {}
    rows = con.execute(
        """SELECT other, sum(n) FROM (
             SELECT dst AS other, n FROM edges
             WHERE case_ref = $case_ref AND kind IN ('call', 'message') AND src IN (SELECT unnest($group))
             UNION ALL
             SELECT src, n FROM edges
             WHERE case_ref = $case_ref AND kind IN ('call', 'message') AND dst IN (SELECT unnest($group)))
           GROUP BY other""",
        {"case_ref": case_ref, "group": sorted(group)},
    ).fetchall()
    return {str(e): int(n) for e, n in rows}


def _victims(
    con: Any, case_ref: str, by_entity: dict[str, dict[str, IndicatorHit]], roles: dict[str, Role]
) -> None:
    """Entities that receive coercive or recruiting messages from a ring member, or are advertised."""
    ring_phones = {e for e, r in roles.items() if r.ring}
    rows = con.execute(
        "SELECT src, dst, n FROM edges WHERE case_ref = ? AND kind = 'message'", [case_ref]
    ).fetchall()
    targets: dict[str, int] = defaultdict(int)
    for src, dst, n in rows:
        if src in ring_phones and roles[src].role in ("controller", "recruiter") and dst not in roles:
            targets[str(dst)] += int(n)
    for entity, n in targets.items():
        if n >= 3:
            roles[entity] = Role(
                entity,
                "possible_victim",
                False,
                [f"receives {n} messages from a suspected controller or recruiter"],
            )
    for entity, found in by_entity.items():
        if entity not in roles and {"A_THIRD_PERSON", "A_AGE_SUGGESTIVE"} & found.keys():
            roles[entity] = Role(
                entity,
                "possible_victim",
                False,
                ["phone printed in ads written by someone else or suggesting youth"],
            )
