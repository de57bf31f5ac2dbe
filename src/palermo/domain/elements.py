"""Which elements of each charged offence the facts satisfy, which are missing, which fall away.

A prosecutor charging § 1591 for a 16-year-old does not prove force, fraud or coercion; one
charging an adult must. The engine applies the law library's rules to the facts of each count —
the minor rule, ``required_unless`` exceptions, § 1591(c)'s substitute for knowledge of age, the
advertising exception to reckless disregard — and says for every element what decided it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from palermo.domain.conditions import CountView, MissingFact, evaluate
from palermo.domain.counts import LawSource
from palermo.domain.explanation import Step
from palermo.domain.facts import Count, Matter
from palermo.law.model import Element, ElementKind, Provision

Status = Literal["satisfied", "missing", "not_required"]


class ElementResult(BaseModel):
    """The verdict on one element of one count."""

    model_config = ConfigDict(frozen=True)

    id: str
    label: str
    kind: str
    status: Status
    explanation: list[Step]


class CountElements(BaseModel):
    """All elements of one count and whether the facts make the offence out."""

    model_config = ConfigDict(frozen=True)

    count: int
    offence: str
    citation: str
    defendant: str
    victim: str
    made_out: bool
    elements: list[ElementResult]


def elements_to_prove(provision: Provision, victim_age: int | None) -> list[tuple[Element, bool, str]]:
    """Each element with whether it must be proven for a victim of this age, and why.

    For the case store: an unknown age keeps every element required (dropping the means element
    must rest on a proven age), and ``required_unless`` conditions that test only the age are
    applied here; conditions on other facts are left to :func:`assess_count`.
    """
    out: list[tuple[Element, bool, str]] = []
    view = CountView(victim_age=victim_age)
    for element, required in provision.elements_for(victim_age):
        if not required and provision.minor_rule is not None:
            out.append(
                (
                    element,
                    False,
                    f"victim under {provision.minor_rule.age_below}: {provision.minor_rule.citation}",
                )
            )
            continue
        cond = element.required_unless
        if cond is not None and victim_age is not None and _age_only(element) and evaluate(cond, view).holds:
            out.append((element, False, "; ".join(evaluate(cond, view).reasons)))
            continue
        out.append((element, True, "required"))
    return out


def _age_only(element: Element) -> bool:
    cond = element.required_unless
    if cond is None:
        return False
    fields = cond.model_dump(exclude_none=True, by_alias=True)
    return set(fields) <= {"victim_age_lt", "victim_age_gte"}


# How much each mental state proves: a higher rank satisfies every lower requirement.
_RANK = {"strict": 0, "negligent": 1, "reckless": 2, "knowing": 3, "intent": 4}


def _mens_rea(element: Element, count: Count, view: CountView) -> tuple[Status, Step]:
    """Intent satisfies knowledge, knowledge satisfies recklessness, never the other way round."""
    rule = element.text or element.label
    have = count.mens_rea
    need = element.mens_rea or "knowing"
    if have is None:
        return "missing", Step(rule=rule, facts=["mens_rea not given"], effect="missing")
    if _RANK[have] < _RANK[need]:
        return "missing", Step(rule=rule, facts=[f"mens_rea {have}"], effect=f"missing: {need} required")
    if have != "reckless":
        return "satisfied", Step(rule=rule, facts=[f"mens_rea {have}"], effect="satisfied")
    if element.reckless_suffices_when is not None:
        allowed = evaluate(element.reckless_suffices_when, view)
        if not allowed.holds:
            return "missing", Step(
                rule=element.notes or rule,
                facts=["mens_rea reckless", *allowed.reasons],
                effect="missing: reckless disregard does not suffice here, knowledge must be proven",
            )
    return "satisfied", Step(
        rule=rule, facts=["mens_rea reckless"], effect="satisfied: reckless disregard suffices"
    )


def _alternatives(element: Element, count: Count) -> tuple[Status, Step]:
    have: dict[ElementKind, list[str]] = {
        ElementKind.ACT: count.acts,
        ElementKind.MEANS: count.means,
        ElementKind.PURPOSE: count.purposes,
    }
    found = sorted(set(element.alternatives) & set(have.get(element.kind, [])))
    rule = element.text or element.label
    if found:
        return "satisfied", Step(
            rule=rule, facts=[f"{element.kind.value}: {', '.join(found)}"], effect="satisfied"
        )
    return "missing", Step(
        rule=rule,
        facts=[f"none of {', '.join(element.alternatives)} in the count's {element.kind.value}s"],
        effect="missing",
    )


def assess_element(
    provision: Provision, element: Element, required: bool, count: Count, view: CountView
) -> ElementResult:
    """Decide one element of one count."""

    def result(status: Status, step: Step) -> ElementResult:
        return ElementResult(
            id=element.id, label=element.label, kind=element.kind.value, status=status, explanation=[step]
        )

    if not required and provision.minor_rule is not None:
        rule = provision.minor_rule
        return result(
            "not_required",
            Step(
                rule=rule.citation,
                facts=[f"victim age {view.victim_age}"],
                effect=f"not required: victim under {rule.age_below}",
            ),
        )
    note = ""
    if element.required_unless is not None:
        try:
            unless = evaluate(element.required_unless, view)
            if unless.holds:
                return result(
                    "not_required",
                    Step(
                        rule=element.notes or element.label, facts=list(unless.reasons), effect="not required"
                    ),
                )
        except MissingFact as missing:
            note = f"{missing.fact} unknown, so the element stays required"
    if element.deemed_when is not None:
        try:
            deemed = evaluate(element.deemed_when, view)
        except MissingFact:
            deemed = None
        if deemed is not None and deemed.holds:
            return result(
                "satisfied",
                Step(
                    rule=element.notes or element.label,
                    facts=list(deemed.reasons),
                    effect="satisfied without further proof",
                ),
            )
    if element.id in count.established:
        return result(
            "satisfied",
            Step(rule=element.text or element.label, facts=["listed under established"], effect="satisfied"),
        )
    if element.kind == ElementKind.MENS_REA:
        status, step = _mens_rea(element, count, view)
        return result(status, step)
    if element.alternatives:
        status, step = _alternatives(element, count)
        return result(status, step)
    return result(
        "missing",
        Step(
            rule=element.text or element.label,
            facts=[note or "no fact in the file establishes it"],
            effect="missing: list it under `established` once evidence proves it",
        ),
    )


def assess_count(law: LawSource, matter: Matter, count: Count) -> CountElements:
    """Every element of one count."""
    provision = law.get(count.offence)
    view = matter.view(count)
    results = [
        assess_element(provision, e, req, count, view) for e, req in provision.elements_for(view.victim_age)
    ]
    return CountElements(
        count=count.number,
        offence=provision.id,
        citation=provision.citation,
        defendant=count.defendant,
        victim=count.victim,
        made_out=all(r.status != "missing" for r in results),
        elements=results,
    )


def assess_elements(law: LawSource, matter: Matter) -> list[CountElements]:
    """Every count of the matter, in count-number order."""
    return [assess_count(law, matter, c) for c in sorted(matter.counts, key=lambda c: c.number)]


__all__ = [
    "CountElements",
    "ElementResult",
    "Step",
    "assess_count",
    "assess_element",
    "assess_elements",
    "elements_to_prove",
]
