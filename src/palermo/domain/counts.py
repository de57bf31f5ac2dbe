"""Counts read against the law: which provision punishes them, which tier applies, are the facts enough.

Every engine needs the same three answers for a count, so they live here once:
the provision (following "punished in the same manner as a completed violation of" to the
underlying offence), the penalty tier that applies (the first whose condition holds, with the
facts that made it hold), and whether the facts file speaks the law library's language at all
(known offence ids, vocabulary terms of the right category, the victim's age where it decides the
tier). Facts that fail here fail with the field path, before any engine runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from palermo.domain.conditions import MissingFact, evaluate
from palermo.domain.facts import ENGINE_FLAGS, Count, Matter
from palermo.errors import FactsError, NotFoundError
from palermo.law.model import Category, Condition, Penalty, Provision, Vocabulary


class LawSource(Protocol):
    """What the engines need from the law library (``palermo.law.library.LawLibrary`` fits)."""

    @property
    def vocabulary(self) -> Vocabulary: ...

    def get(self, provision_id: str) -> Provision: ...

    def provisions(self, jurisdiction: str | None = None, kind: str | None = None) -> list[Provision]: ...


@dataclass(frozen=True)
class Tier:
    """The penalty tier chosen for a count, and why."""

    penalty: Penalty
    provision: Provision  # the provision whose penalties were used (the underlying one if any)
    reasons: tuple[str, ...]
    # Higher tiers tried first and why each did not apply, so "why not life?" has an answer.
    passed_over: tuple[tuple[Penalty, tuple[str, ...]], ...] = ()


def penalty_provision(law: LawSource, count: Count) -> Provision:
    """The provision whose penalties punish this count (the underlying one for § 1594 etc.)."""
    offence = law.get(count.offence)
    if offence.same_penalty_as and count.underlying:
        return law.get(count.underlying)
    return offence


def select_tier(law: LawSource, matter: Matter, count: Count) -> Tier | None:
    """The first penalty whose condition holds, or None when no tier applies to these facts.

    Raises :class:`MissingFact` when a condition needs a fact the count lacks (e.g. the age).
    """
    provision = penalty_provision(law, count)
    view = matter.view(count)
    passed_over: list[tuple[Penalty, tuple[str, ...]]] = []
    for penalty in provision.penalties:
        outcome = evaluate(penalty.when, view)
        if outcome.holds:
            return Tier(penalty, provision, outcome.reasons, tuple(passed_over))
        passed_over.append((penalty, outcome.reasons))
    return None


def _check_terms(vocab: Vocabulary, count: Count, where: str) -> None:
    for field, category in (
        ("acts", Category.ACT),
        ("means", Category.MEANS),
        ("purposes", Category.PURPOSE),
    ):
        for j, term_id in enumerate(getattr(count, field)):
            term = vocab.get(term_id)
            if term is None:
                raise FactsError(f"unknown vocabulary term {term_id!r}", location=f"{where}.{field}[{j}]")
            if term.category != category:
                raise FactsError(
                    f"term {term_id!r} is a {term.category.value}, not a {category.value}",
                    location=f"{where}.{field}[{j}]",
                )


def _check_offence(law: LawSource, count: Count, where: str) -> Provision:
    try:
        offence = law.get(count.offence)
    except NotFoundError as exc:
        raise FactsError(exc.message, location=f"{where}.offence") from None
    if offence.kind != "offence":
        raise FactsError(f"{offence.id} is a {offence.kind}, not an offence", location=f"{where}.offence")
    if offence.same_penalty_as:
        if count.underlying not in offence.same_penalty_as:
            allowed = ", ".join(offence.same_penalty_as)
            raise FactsError(
                f"{offence.citation} is punished as the completed offence: name it ({allowed})",
                location=f"{where}.underlying",
            )
    elif count.underlying is not None:
        raise FactsError(f"{offence.citation} takes no underlying offence", location=f"{where}.underlying")
    return offence


def _condition_flags(cond: Condition | None) -> set[str]:
    if cond is None:
        return set()
    found = set(cond.flags_all or []) | set(cond.flags_any or [])
    for sub in [*(cond.any_of or []), *([cond.not_] if cond.not_ else [])]:
        found |= _condition_flags(sub)
    return found


def known_flags(law: LawSource) -> set[str]:
    """Flags a count may carry: those the engines read plus any a provision's condition names."""
    found = set(ENGINE_FLAGS)
    for provision in law.provisions():
        conditions = [p.when for p in provision.penalties] + [a.when for a in provision.aggravators]
        conditions += [c for e in provision.elements for c in (e.required_unless, e.deemed_when)]
        for cond in conditions:
            found |= _condition_flags(cond)
    return found


def check_facts(law: LawSource, matter: Matter, source: str = "facts") -> None:
    """Check a parsed matter against the law library; raise :class:`FactsError` with the field path."""
    victims = {v.id: i for i, v in enumerate(matter.victims)}
    flags = known_flags(law)
    for i, count in enumerate(matter.counts):
        where = f"counts[{i}]"
        try:
            offence = _check_offence(law, count, where)
            if offence.jurisdiction != matter.jurisdiction:
                raise FactsError(
                    f"{offence.id} is {offence.jurisdiction} law but the matter is {matter.jurisdiction}",
                    location=f"{where}.offence",
                )
            _check_terms(law.vocabulary, count, where)
            for j, flag in enumerate(count.flags):
                if flag not in flags:
                    raise FactsError(f"unknown flag {flag!r}", location=f"{where}.flags[{j}]")
            unknown = [e for e in count.established if e not in {el.id for el in offence.elements}]
            if unknown:
                raise FactsError(
                    f"{offence.id} has no element {unknown[0]!r}", location=f"{where}.established"
                )
            try:
                select_tier(law, matter, count)
            except MissingFact as missing:
                if missing.fact == "victim_age":
                    raise FactsError(
                        f"age at the offence is needed to choose the penalty tier of count {count.number} "
                        f"({count.offence})",
                        location=f"victims[{victims[count.victim]}].age",
                    ) from None
                raise FactsError(
                    f"{missing.fact} is needed to choose the penalty tier of count {count.number}",
                    location=f"{where}.{missing.fact}",
                ) from None
        except FactsError as exc:
            raise FactsError(f"{exc.location}: {exc.message}", location=source) from None


__all__ = ["LawSource", "Tier", "check_facts", "known_flags", "penalty_provision", "select_tier"]
