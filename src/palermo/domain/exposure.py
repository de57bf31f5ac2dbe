"""Statutory sentencing exposure: per count and per defendant, every figure with its rule.

For a US count the engine reports the statutory minimum and maximum (the first penalty tier whose
condition holds), the felony class (18 U.S.C. § 3559(a)), the authorised supervised release
(§ 3583(b), or (k) for the sex-trafficking offences it lists), the special assessments (§ 3013,
§ 3014 for non-indigent defendants within its date window) and the maximum fine (§ 3571(b)).
The figures of those consequence provisions are read from the law library, not written here, so
a correction to the YAML corrects every estimate. Other jurisdictions get their encoded ranges.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from palermo.domain.consequences import assessments, felony_class, fine_max, supervision
from palermo.domain.counts import LawSource, Tier, select_tier
from palermo.domain.explanation import Step
from palermo.domain.facts import Count, Defendant, Matter
from palermo.errors import DomainError


class CountExposure(BaseModel):
    """What one count exposes the defendant to."""

    model_config = ConfigDict(frozen=True)

    count: int
    offence: str
    citation: str
    defendant: str
    victim: str
    tier: str
    tier_label: str
    min_months: int
    max_months: int | None  # None: life
    life: bool
    felony_class: str | None = None
    supervised_release_min_months: int | None = None
    supervised_release_max_months: int | None = None  # None with life: up to life
    supervised_release_life: bool = False
    special_assessment: Decimal = Decimal("0")
    jvta_assessment: Decimal = Decimal("0")
    fine_max: Decimal | None = None
    explanation: list[Step]


class DefendantExposure(BaseModel):
    """The counts of one defendant taken together."""

    model_config = ConfigDict(frozen=True)

    defendant: str
    counts: list[CountExposure]
    statutory_min_months: int
    statutory_max_months: int | None
    life: bool
    total_assessments: Decimal
    total_fine_max: Decimal | None
    explanation: list[Step]


def _tier(law: LawSource, matter: Matter, count: Count) -> Tier:
    tier = select_tier(law, matter, count)
    if tier is None:
        raise DomainError(
            f"count {count.number}: no penalty tier of {count.offence} applies to these facts; "
            "run `palermo law elements` to see what is missing"
        )
    return tier


def count_exposure(law: LawSource, matter: Matter, count: Count) -> CountExposure:
    """Exposure on one count."""
    tier = _tier(law, matter, count)
    penalty = tier.penalty
    life = penalty.life or penalty.death
    max_months = None if life else penalty.max_months
    min_months = penalty.min_months or 0
    bound = "life" if life else f"{max_months} months"
    steps = [
        Step(
            rule=other.citation,
            facts=list(reasons),
            effect=f"{other.label}: does not apply",
            verified=other.verified,
        )
        for other, reasons in tier.passed_over
    ]
    steps.append(
        Step(
            rule=penalty.citation,
            facts=list(tier.reasons),
            effect=f"{penalty.label}: {min_months}–{bound}",
            verified=penalty.verified,
        )
    )
    if tier.provision.id != count.offence:
        steps.insert(
            0,
            Step(
                rule=law.get(count.offence).citation,
                facts=[f"underlying {tier.provision.id}"],
                effect="punished in the same manner as the completed offence",
            ),
        )
    base = CountExposure(
        count=count.number,
        offence=count.offence,
        citation=law.get(count.offence).citation,
        defendant=count.defendant,
        victim=count.victim,
        tier=penalty.id,
        tier_label=penalty.label,
        min_months=min_months,
        max_months=max_months,
        life=life,
        explanation=steps,
    )
    if matter.jurisdiction != "us":
        return base
    who = matter.defendant(count.defendant)
    klass, class_step = felony_class(law, max_months)
    klass = penalty.felony_class or klass
    sr_min, sr_max, sr_life, sr_step = supervision(law, count, klass)
    special, jvta, assessment_steps = assessments(law, matter, count, who)
    fine, fine_step = fine_max(law, who)
    return base.model_copy(
        update={
            "felony_class": klass,
            "supervised_release_min_months": sr_min,
            "supervised_release_max_months": sr_max,
            "supervised_release_life": sr_life,
            "special_assessment": special,
            "jvta_assessment": jvta,
            "fine_max": fine,
            "explanation": [*steps, class_step, sr_step, *assessment_steps, fine_step],
        }
    )


def defendant_exposure(law: LawSource, matter: Matter, defendant: Defendant) -> DefendantExposure:
    """All counts of one defendant: the highest minimum, the summed maximum, the summed assessments."""
    counts = [
        count_exposure(law, matter, c)
        for c in sorted(matter.counts, key=lambda c: c.number)
        if c.defendant == defendant.id
    ]
    life = any(c.life for c in counts)
    minimum = max((c.min_months for c in counts), default=0)
    maximum = None if life else sum(c.max_months or 0 for c in counts)
    assessments = sum((c.special_assessment + c.jvta_assessment for c in counts), Decimal("0"))
    fines = (
        None
        if any(c.fine_max is None for c in counts)
        else sum((c.fine_max or Decimal("0") for c in counts), Decimal("0"))
    )
    steps = [
        Step(
            rule="statutory minimum",
            facts=[f"count {c.count}: {c.min_months} months" for c in counts],
            effect=f"at least {minimum} months (the highest mandatory minimum of any count)",
        ),
        Step(
            rule="statutory maximum, counts run consecutively",
            facts=[f"{len(counts)} count(s)"],
            effect="up to life" if life else f"up to {maximum} months if every count ran consecutively",
        ),
        Step(
            rule="special assessments",
            facts=[f"count {c.count}: ${c.special_assessment + c.jvta_assessment}" for c in counts],
            effect=f"${assessments:,} in total",
        ),
    ]
    return DefendantExposure(
        defendant=defendant.id,
        counts=counts,
        statutory_min_months=minimum,
        statutory_max_months=maximum,
        life=life,
        total_assessments=assessments,
        total_fine_max=fines,
        explanation=steps,
    )


def assess_exposure(law: LawSource, matter: Matter) -> list[DefendantExposure]:
    """Exposure for every defendant who has at least one count."""
    charged = {c.defendant for c in matter.counts}
    return [defendant_exposure(law, matter, d) for d in matter.defendants if d.id in charged]


__all__ = [
    "CountExposure",
    "DefendantExposure",
    "assess_exposure",
    "count_exposure",
    "defendant_exposure",
    "felony_class",
]
