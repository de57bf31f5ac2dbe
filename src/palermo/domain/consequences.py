"""The consequences that follow a US felony conviction: class, supervised release, assessments, fine.

Split from the exposure engine because these rules attach to *any* count, whatever its offence:
18 U.S.C. § 3559(a) classifies by the maximum term, § 3583 sets supervised release by class or,
under (k), for the sex-trafficking offences it lists, §§ 3013 and 3014 impose assessments, and
§ 3571(b) caps the fine. Every figure is read from the consequence provisions in the law library.
"""

from __future__ import annotations

from decimal import Decimal

from palermo.domain.counts import LawSource
from palermo.domain.explanation import Step
from palermo.domain.facts import Count, Defendant, Matter
from palermo.errors import DomainError
from palermo.law.model import Provision

CLASSES = "us-18-usc-3559"
SUPERVISION = "us-18-usc-3583"
ASSESSMENT = "us-18-usc-3013"
JVTA = "us-18-usc-3014"
FINES = "us-18-usc-3571"


def figure(provision: Provision, name: str) -> int:
    try:
        return int(provision.figures[name])
    except KeyError:
        raise DomainError(f"{provision.id} has no figure {name!r}") from None


def felony_class(law: LawSource, max_months: int | None) -> tuple[str, Step]:
    """§ 3559(a): the class follows from the maximum term authorised."""
    rule = law.get(CLASSES)
    ladder = [("B", "class_b_from_months"), ("C", "class_c_from_months"), ("D", "class_d_from_months")]
    if max_months is None:
        found = "A"
    else:
        found = next((c for c, name in ladder if max_months >= figure(rule, name)), "")
        if not found:
            found = "E" if max_months > figure(rule, "class_e_above_months") else "misdemeanour or infraction"
    maximum = "life" if max_months is None else f"{max_months} months"
    return found, Step(
        rule=f"{rule.citation}(a)", facts=[f"maximum {maximum}"], effect=f"Class {found} felony"
    )


def supervision(law: LawSource, count: Count, klass: str) -> tuple[int | None, int | None, bool, Step]:
    rule = law.get(SUPERVISION)
    if count.offence in rule.applies_to:
        months = figure(rule, "k_min_months")
        step = Step(
            rule=f"{rule.citation}(k)",
            facts=[f"offence {count.offence}"],
            effect=f"supervised release of any term of years not less than {months // 12} years, or life",
        )
        return months, None, True, step
    limits = {
        "A": "ab_max_months",
        "B": "ab_max_months",
        "C": "cd_max_months",
        "D": "cd_max_months",
        "E": "e_max_months",
    }
    if klass not in limits:
        return (
            None,
            None,
            False,
            Step(rule=f"{rule.citation}(b)", facts=[f"class {klass}"], effect="not a felony"),
        )
    months = figure(rule, limits[klass])
    step = Step(
        rule=f"{rule.citation}(b)",
        facts=[f"Class {klass} felony"],
        effect=f"supervised release up to {months} months",
    )
    return 0, months, False, step


def assessments(
    law: LawSource, matter: Matter, count: Count, who: Defendant
) -> tuple[Decimal, Decimal, list[Step]]:
    basic = law.get(ASSESSMENT)
    kind = "felony_organisation" if who.organisation else "felony_individual"
    special = Decimal(figure(basic, kind))
    steps = [
        Step(
            rule=f"{basic.citation}(a)(2)",
            facts=["felony", "organisation" if who.organisation else "individual"],
            effect=f"${special:,} special assessment",
        )
    ]
    jvta = law.get(JVTA)
    when = matter.count_date(count)
    rule = f"{jvta.citation}(a)"
    if count.offence not in jvta.applies_to:
        steps.append(
            Step(rule=rule, facts=[f"offence {count.offence}"], effect="not a listed chapter: no $5,000")
        )
        return special, Decimal("0"), steps
    if when < jvta.in_force.start or (jvta.in_force.end is not None and when > jvta.in_force.end):
        steps.append(
            Step(
                rule=rule,
                facts=[f"offence date {when}", f"in force from {jvta.in_force.start}"],
                effect="outside the assessment's date window: none",
            )
        )
        return special, Decimal("0"), steps
    if who.indigent:
        steps.append(Step(rule=rule, facts=["defendant indigent"], effect="non-indigent persons only: none"))
        return special, Decimal("0"), steps
    amount = Decimal(figure(jvta, "amount"))
    steps.append(
        Step(
            rule=rule,
            facts=[f"offence date {when}", "defendant not indigent"],
            effect=f"${amount:,} additional special assessment",
        )
    )
    return special, amount, steps


def fine_max(law: LawSource, who: Defendant) -> tuple[Decimal | None, Step]:
    """§ 3571(b)(3) for an individual; organisations are not encoded (§ 3571(c) text not held)."""
    fines = law.get(FINES)
    if who.organisation:
        return None, Step(
            rule=fines.citation, facts=["organisation"], effect="§ 3571(c) not encoded", verified=False
        )
    fine = Decimal(figure(fines, "felony_individual"))
    return fine, Step(
        rule=f"{fines.citation}(b)(3)", facts=["individual", "felony"], effect=f"fine up to ${fine:,}"
    )


__all__ = ["assessments", "felony_class", "figure", "fine_max", "supervision"]
