"""Mandatory restitution under 18 U.S.C. § 1593, per victim, with the arithmetic shown.

§ 1593(b)(3): the full amount of the victim's losses is the § 2259(c)(2) losses (A)–(F) "and
shall in addition include the greater of the gross income or value to the defendant of the
victim's services or labor or the value of the victim's labor as guaranteed under the minimum
wage and overtime guarantees of the Fair Labor Standards Act".

The FLSA value is computed week by week from each work period's start: a week's hours above 40
earn time and a half (29 U.S.C. § 207(a)(1)), and each day is paid at the federal minimum wage in
force that day (29 U.S.C. § 206(a)(1), dated table), so a week spanning 24 July 2009 pays $6.55
before and $7.25 from that date. Wages actually paid are subtracted from the FLSA value (never
below zero). Money is Decimal throughout and rounded to cents only at the end of each period.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict

from palermo.domain.counts import LawSource
from palermo.domain.explanation import Step
from palermo.domain.facts import Matter, Victim, WorkPeriod
from palermo.law.tables.minimum_wage import minimum_wage_on, minimum_wage_schedule

CENT = Decimal("0.01")
LOSS_HEADS = (
    ("medical", "(A) medical services"),
    ("therapy", "(B) physical and occupational therapy or rehabilitation"),
    ("transport_housing_childcare", "(C) transportation, temporary housing, child care"),
    ("lost_income", "(D) lost income"),
    ("attorneys_fees", "(E) attorneys' fees and other costs"),
    ("other", "(F) other relevant losses"),
)


class VictimRestitution(BaseModel):
    """What § 1593 orders paid to one victim, and how it adds up."""

    model_config = ConfigDict(frozen=True)

    victim: str
    counts: list[int]
    losses_2259: Decimal
    flsa_value: Decimal
    wages_paid: Decimal
    flsa_unpaid: Decimal
    gross_income: Decimal | None
    labour_measure: str  # "gross_income" or "flsa"
    labour_amount: Decimal
    total: Decimal
    explanation: list[Step]


class RestitutionResult(BaseModel):
    """Restitution for every victim of a chapter 77 count, and the total."""

    model_config = ConfigDict(frozen=True)

    victims: list[VictimRestitution]
    total: Decimal
    explanation: list[Step]


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _hours(period: WorkPeriod, days: int) -> Decimal:
    """Hours worked in ``days`` days of the period, spread evenly (exact for whole weeks)."""
    if period.hours_per_week is not None:
        return period.hours_per_week * days / Decimal(7)
    return (period.total_hours or Decimal(0)) * days / Decimal(period.days)


def period_value(period: WorkPeriod) -> tuple[Decimal, list[Step]]:
    """FLSA value of one work period, with one explanation step per rate in force."""
    schedule = minimum_wage_schedule()
    threshold, multiplier = schedule.overtime_threshold, schedule.overtime_multiplier
    value = Decimal(0)
    by_rate: dict[date, list[Decimal]] = {}  # rate start -> [straight hours, overtime hours, value]
    day = period.start
    while day <= period.end:
        week_end = min(day + timedelta(days=6), period.end)
        days = (week_end - day).days + 1
        hours = _hours(period, days)
        overtime = max(hours - threshold, Decimal(0))
        straight_share, overtime_share = (hours - overtime) / days, overtime / days
        for offset in range(days):
            rate = minimum_wage_on(day + timedelta(days=offset))
            amount = rate.hourly * (straight_share + overtime_share * multiplier)
            value += amount
            bucket = by_rate.setdefault(rate.start, [Decimal(0), Decimal(0), Decimal(0)])
            bucket[0] += straight_share
            bucket[1] += overtime_share
            bucket[2] += amount
        day = week_end + timedelta(days=1)
    steps = []
    for start, (straight, overtime, amount) in sorted(by_rate.items()):
        rate = minimum_wage_on(start)
        steps.append(
            Step(
                rule=f"{schedule.citation} (${rate.hourly}/h from {start}); {schedule.overtime_citation} "
                f"(×{multiplier} over {threshold} h/week)",
                facts=[
                    f"work {period.start}–{period.end}",
                    f"{_money(straight)} straight hours",
                    f"{_money(overtime)} overtime hours",
                ],
                effect=f"${_money(amount):,}",
                verified=rate.verified,
            )
        )
    return _money(value), steps


def victim_restitution(victim: Victim, counts: list[int]) -> VictimRestitution:
    """§ 1593(b)(3) for one victim."""
    steps: list[Step] = []
    losses = Decimal(0)
    for field, head in LOSS_HEADS:
        amount: Decimal = getattr(victim.losses, field)
        if amount:
            losses += amount
            steps.append(
                Step(
                    rule=f"18 U.S.C. § 2259(c)(2){head.split(')')[0]})",
                    facts=[head],
                    effect=f"${_money(amount):,}",
                )
            )
    flsa = Decimal(0)
    paid = Decimal(0)
    for period in victim.work:
        value, period_steps = period_value(period)
        flsa += value
        paid += period.wages_paid
        steps.extend(period_steps)
    unpaid = max(flsa - paid, Decimal(0))
    if victim.work:
        steps.append(
            Step(
                rule="29 U.S.C. §§ 206, 207 value less wages actually paid",
                facts=[f"FLSA value ${flsa:,}", f"wages paid ${_money(paid):,}"],
                effect=f"${_money(unpaid):,}",
            )
        )
    gross = victim.gross_income_to_defendant
    use_gross = gross is not None and gross > unpaid
    labour = gross if use_gross and gross is not None else unpaid
    measure = "gross_income" if use_gross else "flsa"
    steps.append(
        Step(
            rule="18 U.S.C. § 1593(b)(3): the greater of gross income or value to the defendant "
            "and the FLSA value",
            facts=[
                f"gross income to defendant {'not given' if gross is None else f'${_money(gross):,}'}",
                f"FLSA value unpaid ${_money(unpaid):,}",
            ],
            effect=f"{'gross income' if use_gross else 'FLSA value'}: ${_money(labour):,}",
        )
    )
    total = _money(losses + labour)
    steps.append(
        Step(
            rule="18 U.S.C. § 1593(b)(1), (3): full amount of the victim's losses",
            facts=[f"§ 2259(c)(2) losses ${_money(losses):,}", f"labour ${_money(labour):,}"],
            effect=f"${total:,}",
        )
    )
    return VictimRestitution(
        victim=victim.id,
        counts=counts,
        losses_2259=_money(losses),
        flsa_value=_money(flsa),
        wages_paid=_money(paid),
        flsa_unpaid=_money(unpaid),
        gross_income=None if gross is None else _money(gross),
        labour_measure=measure,
        labour_amount=_money(labour),
        total=total,
        explanation=steps,
    )


def assess_restitution(law: LawSource, matter: Matter) -> RestitutionResult:
    """Restitution for each victim named in a count whose offence carries § 1593 restitution."""
    results: list[VictimRestitution] = []
    skipped: list[str] = []
    for victim in matter.victims:
        counts = sorted(
            c.number for c in matter.counts if c.victim == victim.id and _carries_1593(law, c.offence)
        )
        if counts:
            results.append(victim_restitution(victim, counts))
        elif any(c.victim == victim.id for c in matter.counts):
            skipped.append(victim.id)
    total = _money(sum((r.total for r in results), Decimal(0)))
    steps = [
        Step(
            rule="18 U.S.C. § 1593(a): the court shall order restitution for any offense under chapter 77",
            facts=[f"victim {r.victim}: ${r.total:,}" for r in results],
            effect=f"${total:,} in total",
        )
    ]
    if skipped:
        steps.append(
            Step(
                rule="18 U.S.C. § 1593(a)",
                facts=[f"victims {', '.join(skipped)}"],
                effect="no chapter 77 count: § 1593 not applied (chapter 117 restitution not encoded)",
            )
        )
    return RestitutionResult(victims=results, total=total, explanation=steps)


def _carries_1593(law: LawSource, offence_id: str) -> bool:
    remedy = law.get(offence_id).restitution
    return remedy is not None and "1593" in remedy.citation


__all__ = [
    "RestitutionResult",
    "VictimRestitution",
    "assess_restitution",
    "period_value",
    "victim_restitution",
]
