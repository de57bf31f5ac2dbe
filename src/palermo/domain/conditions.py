"""Evaluate law-library conditions against the facts of one count, keeping the reasons.

Every engine (elements, exposure, dual criminality) needs to know not only whether a penalty tier or
an exception applies, but *why*: which fact triggered it. :func:`evaluate` therefore returns the
list of facts that made the condition true (or the first that made it false), ready to be quoted
in an explanation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from palermo.law.model import Condition


class MissingFact(Exception):
    """A condition needs a fact (e.g. the victim's age) that the count does not give."""

    def __init__(self, fact: str) -> None:
        self.fact = fact
        super().__init__(fact)


@dataclass(frozen=True)
class CountView:
    """The facts of one count that conditions may test.

    ``victim_age`` is the age at the offence (None when unknown); ``flags`` are condition flags
    such as ``death_resulted``; ``numbers`` carries numeric facts (e.g. ``duration_days``).
    """

    victim_age: int | None = None
    acts: frozenset[str] = frozenset()
    means: frozenset[str] = frozenset()
    purposes: frozenset[str] = frozenset()
    flags: frozenset[str] = frozenset()
    numbers: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """Result of a condition: whether it holds and the facts that decided it."""

    holds: bool
    reasons: tuple[str, ...]


def _age(view: CountView) -> int:
    if view.victim_age is None:
        raise MissingFact("victim_age")
    return view.victim_age


def _overlap(label: str, wanted: Sequence[str], have: frozenset[str]) -> Outcome:
    hit = sorted(set(wanted) & have)
    if hit:
        return Outcome(True, (f"{label} include {', '.join(hit)}",))
    return Outcome(False, (f"no {label} among {', '.join(wanted)}",))


def evaluate(cond: Condition | None, view: CountView) -> Outcome:
    """Evaluate ``cond`` on ``view``; None always holds.

    Raises :class:`MissingFact` when the condition needs a fact the count does not give.
    """
    if cond is None:
        return Outcome(True, ("applies in every case",))
    reasons: list[str] = []
    checks: list[Outcome] = []
    if cond.victim_age_lt is not None:
        age = _age(view)
        ok = age < cond.victim_age_lt
        checks.append(Outcome(ok, (f"victim age {age} {'<' if ok else '>='} {cond.victim_age_lt}",)))
    if cond.victim_age_gte is not None:
        age = _age(view)
        ok = age >= cond.victim_age_gte
        checks.append(Outcome(ok, (f"victim age {age} {'>=' if ok else '<'} {cond.victim_age_gte}",)))
    if cond.means_any is not None:
        checks.append(_overlap("means", cond.means_any, view.means))
    if cond.acts_any is not None:
        checks.append(_overlap("acts", cond.acts_any, view.acts))
    if cond.purposes_any is not None:
        checks.append(_overlap("purposes", cond.purposes_any, view.purposes))
    if cond.flags_all is not None:
        missing = sorted(set(cond.flags_all) - view.flags)
        ok = not missing
        text = f"flags {', '.join(cond.flags_all)} all set" if ok else f"flag(s) {', '.join(missing)} not set"
        checks.append(Outcome(ok, (text,)))
    if cond.flags_any is not None:
        checks.append(_overlap("flags", cond.flags_any, view.flags))
    if cond.number_gte is not None:
        for name, threshold in cond.number_gte.items():
            value = view.numbers.get(name)
            if value is None:
                raise MissingFact(name)
            ok = value >= threshold
            checks.append(Outcome(ok, (f"{name} {value:g} {'>=' if ok else '<'} {threshold:g}",)))
    if cond.any_of is not None:
        # One branch that holds is enough, even if another branch needs a fact we lack; a missing fact
        # only matters when no branch holds without it.
        subs: list[Outcome] = []
        lacking: MissingFact | None = None
        for sub_cond in cond.any_of:
            try:
                subs.append(evaluate(sub_cond, view))
            except MissingFact as exc:
                lacking = lacking or exc
        true_subs = [s for s in subs if s.holds]
        if true_subs:
            checks.append(Outcome(True, tuple(r for s in true_subs for r in s.reasons)))
        elif lacking is not None:
            raise lacking
        else:
            checks.append(Outcome(False, tuple(r for s in subs for r in s.reasons)))
    if cond.not_ is not None:
        sub = evaluate(cond.not_, view)
        checks.append(Outcome(not sub.holds, tuple(f"not ({r})" for r in sub.reasons)))
    for check in checks:
        if not check.holds:
            return Outcome(False, check.reasons)
        reasons.extend(check.reasons)
    return Outcome(True, tuple(reasons) or ("empty condition",))


__all__ = ["CountView", "MissingFact", "Outcome", "evaluate"]
