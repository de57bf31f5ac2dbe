"""A US Sentencing Guidelines estimate per defendant, every level shown with its rule.

Order of operations (USSG §1B1.1): Chapter Two per count (``offence_levels``), the Chapter Three
Part A and B adjustments per count (§3A1.1 vulnerable victim, §3A1.3 restraint, §3B1.1 role), then
Part D grouping: §§2G1.1(d)(1) and 2G1.3(d)(1) treat each victim as a separate count and §3D1.2(d)
excludes §§2G1.1 and 2H4.1, so counts group only when they share a victim (§3D1.2(a)/(b)); the group
level is its highest count (§3D1.3(a)); §3D1.4 units give the combined level. Then §3E1.1
acceptance, the 1–43 bounds, the Sentencing Table, and §5G1.1 against the statutory minimum and
maximum from the exposure engine. Edition: November 1, 2016 Manual.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from palermo.domain.counts import LawSource
from palermo.domain.explanation import Step
from palermo.domain.exposure import defendant_exposure
from palermo.domain.facts import Defendant, Matter
from palermo.domain.offence_levels import CountLevel, chapter_two
from palermo.errors import DomainError
from palermo.law.tables.sentencing_table import GUIDELINES_EDITION, guideline_range


class Group(BaseModel):
    """A group of closely related counts (here: the counts concerning one victim)."""

    model_config = ConfigDict(frozen=True)

    victim: str
    counts: list[int]
    offense_level: int
    units: Decimal


class DefendantGuidelines(BaseModel):
    """The guideline estimate for one defendant."""

    model_config = ConfigDict(frozen=True)

    defendant: str
    edition: str
    count_levels: dict[int, int]
    groups: list[Group]
    combined_offense_level: int
    total_offense_level: int
    criminal_history_category: str
    range_min_months: int | None
    range_max_months: int | None  # None: life
    guideline_min_months: int | None
    guideline_max_months: int | None  # None: life
    explanation: list[Step]


def chapter_three(matter: Matter, defendant: Defendant, out: CountLevel) -> CountLevel:
    """Victim-related and role adjustments (Parts A and B) for one count."""
    count = next(c for c in matter.counts if c.number == out.count)
    flags = set(count.flags)
    if "vulnerable_victim" in flags:
        out.add(
            2,
            "USSG §3A1.1(b)(1): defendant knew or should have known of a vulnerable victim",
            ["vulnerable_victim"],
        )
        if "large_number_of_vulnerable_victims" in flags:
            out.add(
                2,
                "USSG §3A1.1(b)(2): large number of vulnerable victims",
                ["large_number_of_vulnerable_victims"],
            )
    if "victim_restrained" in flags:
        out.add(
            2,
            "USSG §3A1.3: victim physically restrained (text not in the 2016 excerpts)",
            ["victim_restrained"],
            verified=False,
        )
    if defendant.role == "organiser_leader":
        levels = 4 if defendant.extensive else 2
        out.add(
            levels,
            f"USSG §3B1.1({'a' if defendant.extensive else 'c'}): organizer or leader",
            ["role organiser_leader", "extensive" if defendant.extensive else "fewer than 5 participants"],
        )
    elif defendant.role == "manager_supervisor":
        levels = 3 if defendant.extensive else 2
        out.add(
            levels,
            f"USSG §3B1.1({'b' if defendant.extensive else 'c'}): manager or supervisor",
            ["role manager_supervisor", "extensive" if defendant.extensive else "fewer than 5 participants"],
        )
    return out


def units_increase(units: Decimal) -> int:
    """§3D1.4 table: levels added for a number of units."""
    if units <= 1:
        return 0
    if units <= Decimal("1.5"):
        return 1
    if units <= 2:
        return 2
    if units <= 3:
        return 3
    if units <= 5:
        return 4
    return 5


def group_counts(levels: list[CountLevel]) -> tuple[list[Group], int, list[Step]]:
    """Group by victim, weigh the groups in units, return the combined offense level."""
    by_victim: dict[str, list[CountLevel]] = {}
    for count_level in levels:
        by_victim.setdefault(count_level.victim, []).append(count_level)
    top = max(max(x.level for x in members) for members in by_victim.values())
    groups: list[Group] = []
    steps: list[Step] = []
    for victim, members in by_victim.items():
        level = max(x.level for x in members)
        gap = top - level
        units = Decimal(1) if gap <= 4 else Decimal("0.5") if gap <= 8 else Decimal(0)
        groups.append(
            Group(victim=victim, counts=[x.count for x in members], offense_level=level, units=units)
        )
        steps.append(
            Step(
                rule="USSG §3D1.2(a)/(b), §3D1.3(a), §3D1.4",
                facts=[
                    f"victim {victim}",
                    f"counts {', '.join(str(x.count) for x in members)}",
                    f"level {level}, {gap} below the highest",
                ],
                effect=f"{units} unit(s)",
            )
        )
    total = sum((g.units for g in groups), Decimal(0))
    added = units_increase(total)
    steps.append(
        Step(
            rule="USSG §3D1.4 table",
            facts=[f"{total} units", f"highest group {top}"],
            effect=f"+{added} → combined offense level {top + added}",
        )
    )
    return groups, top + added, steps


def _acceptance(defendant: Defendant, level: int) -> tuple[int, list[Step]]:
    if not defendant.acceptance_of_responsibility:
        return level, []
    steps = [
        Step(
            rule="USSG §3E1.1(a): acceptance of responsibility",
            facts=["acceptance_of_responsibility"],
            effect=f"-2 → {level - 2}",
        )
    ]
    if level >= 16 and defendant.government_motion_3e1_1b:
        steps.append(
            Step(
                rule="USSG §3E1.1(b): level 16 or greater before (a), government motion",
                facts=[f"level {level}", "government_motion_3e1_1b"],
                effect=f"-1 → {level - 3}",
            )
        )
        return level - 3, steps
    return level - 2, steps


def defendant_guidelines(law: LawSource, matter: Matter, defendant: Defendant) -> DefendantGuidelines:
    """The full estimate for one defendant."""
    counts = sorted((c for c in matter.counts if c.defendant == defendant.id), key=lambda c: c.number)
    levels = [chapter_three(matter, defendant, chapter_two(law, matter, c)) for c in counts]
    steps = [
        Step(
            rule=f"count {x.count} ({x.guideline}): {s.rule}",
            facts=s.facts,
            effect=s.effect,
            verified=s.verified,
        )
        for x in levels
        for s in x.steps
    ]
    groups, combined, group_steps = group_counts(levels)
    steps += group_steps
    total, acceptance_steps = _acceptance(defendant, combined)
    steps += acceptance_steps
    bounded = min(max(total, 1), 43)
    if bounded != total:
        steps.append(
            Step(
                rule="USSG Ch. 5 Pt. A, application note 2",
                facts=[f"level {total}"],
                effect=f"treated as {bounded}",
            )
        )
    chc = defendant.criminal_history_category
    cell = guideline_range(bounded, chc)
    steps.append(
        Step(
            rule="USSG Ch. 5 Pt. A Sentencing Table",
            facts=[f"level {bounded}", f"category {chc}"],
            effect=cell.label(),
        )
    )
    exposure = defendant_exposure(law, matter, defendant)
    low, high, bound_steps = statutory_bounds(
        cell.min_months, cell.max_months, exposure.statutory_min_months, exposure.statutory_max_months
    )
    steps += bound_steps
    return DefendantGuidelines(
        defendant=defendant.id,
        edition=GUIDELINES_EDITION,
        count_levels={x.count: x.level for x in levels},
        groups=groups,
        combined_offense_level=combined,
        total_offense_level=bounded,
        criminal_history_category=chc,
        range_min_months=cell.min_months,
        range_max_months=cell.max_months,
        guideline_min_months=low,
        guideline_max_months=high,
        explanation=steps,
    )


def statutory_bounds(
    low: int | None, high: int | None, stat_min: int, stat_max: int | None
) -> tuple[int | None, int | None, list[Step]]:
    """§5G1.1: the statutory minimum and maximum bound the guideline range (None months = life)."""

    def months(value: int | None) -> str:
        return "life" if value is None else f"{value} months"

    facts = [f"range {months(low)}–{months(high)}", f"statutory {stat_min} months–{months(stat_max)}"]
    if stat_max is not None and (low is None or stat_max < low):
        return (
            stat_max,
            stat_max,
            [
                Step(
                    rule="USSG §5G1.1(a)",
                    facts=facts,
                    effect=f"statutory maximum {stat_max} months is the guideline sentence",
                )
            ],
        )
    if high is not None and stat_min > high:
        return (
            stat_min,
            stat_min,
            [
                Step(
                    rule="USSG §5G1.1(b)",
                    facts=facts,
                    effect=f"statutory minimum {stat_min} months is the guideline sentence",
                )
            ],
        )
    new_low = max(low or 0, stat_min) if low is not None else None
    new_high = high if stat_max is None or (high is not None and high <= stat_max) else stat_max
    return (
        new_low,
        new_high,
        [
            Step(
                rule="USSG §5G1.1(c)",
                facts=facts,
                effect=f"sentence within {months(new_low)}–{months(new_high)}",
                verified=(new_low, new_high) == (low, high),
            )
        ],
    )


def assess_guidelines(law: LawSource, matter: Matter) -> list[DefendantGuidelines]:
    """Estimates for every charged defendant; US matters only."""
    if matter.jurisdiction != "us":
        raise DomainError(
            f"the guideline estimate covers US federal matters only, not {matter.jurisdiction!r}"
        )
    charged = {c.defendant for c in matter.counts}
    return [defendant_guidelines(law, matter, d) for d in matter.defendants if d.id in charged]


__all__ = [
    "DefendantGuidelines",
    "Group",
    "assess_guidelines",
    "chapter_three",
    "defendant_guidelines",
    "group_counts",
    "statutory_bounds",
    "units_increase",
]
