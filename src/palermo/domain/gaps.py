"""Gap analysis: one jurisdiction's law against the Protocol checklist and TVPA minimum standards.

Why from statute data rather than a questionnaire: an office drafting a bill can point
``palermo law gaps --law-path`` at its draft and see, item by item, what the text already does
and what it misses, with the provision that satisfies each item. Every finding is met, not met or
cannot tell — the last whenever the data cannot decide, because a false "met" in a policy report
is worse than an honest gap in our knowledge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from palermo.domain.conduct import parse_conduct
from palermo.domain.dual_criminality import OffenceMatch, assess_jurisdiction
from palermo.errors import NotFoundError
from palermo.law.checklist import Checklist, ChecklistItem, Pattern, default_checklist
from palermo.law.library import LawLibrary
from palermo.law.model import ElementKind, Penalty, Provision

GapStatus = Literal["met", "not_met", "cannot_tell"]
_KIND = {"act": ElementKind.ACT, "means": ElementKind.MEANS, "purpose": ElementKind.PURPOSE}


@dataclass(frozen=True)
class GapFinding:
    """One checklist item's outcome, the reason, and the provisions it rests on."""

    item: str
    title: str
    standard: str
    obligation: str
    basis: str
    status: GapStatus
    reason: str
    cited: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GapReport:
    """Every finding for one jurisdiction, in checklist order."""

    jurisdiction: str
    checklist_version: str
    findings: list[GapFinding]

    def counts(self) -> dict[str, int]:
        """How many items are met, not met, or undecidable."""
        return {s: sum(f.status == s for f in self.findings) for s in ("met", "not_met", "cannot_tell")}

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {**asdict(self), "counts": self.counts()}


@dataclass(frozen=True)
class _Outcome:
    status: GapStatus
    reason: str
    cited: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)


def trafficking_offences(library: LawLibrary, jurisdiction: str) -> list[Provision]:
    """Offences whose act element reaches at least one protocol act: the trafficking offences."""
    vocab = library.vocabulary
    return [p for p in library.offences(jurisdiction)
            if any(e.kind == ElementKind.ACT and any(vocab.protocol_terms(a) for a in e.alternatives)
                   for e in p.elements)]


def _covers_terms(library: LawLibrary, jurisdiction: str, item: ChecklistItem) -> _Outcome:
    assert item.category is not None, f"{item.id}: covers_terms needs a category"
    vocab, kind = library.vocabulary, _KIND[item.category.value]
    wanted = sorted(t.id for t in vocab.terms if t.protocol and t.category == item.category)
    offences = trafficking_offences(library, jurisdiction)
    if not offences:
        return _Outcome("not_met", "no trafficking offence (an act element reaching a protocol act)")
    covered: dict[str, list[str]] = {}
    for p in offences:
        elements = [e for e in p.elements if e.kind == kind]
        terms = set(wanted) if not elements else {t for e in elements for a in e.alternatives
                                                  for t in vocab.protocol_terms(a)}
        for term in terms & set(wanted):
            covered.setdefault(term, []).append(p.id)
    missing = [t for t in wanted if t not in covered]
    cited = sorted({pid for ids in covered.values() for pid in ids})
    if missing:
        text = f"{len(missing)} of {len(wanted)} protocol {item.category.value} terms not covered"
        return _Outcome("not_met", f"{text}: {', '.join(missing)}", cited)
    bare = [p.id for p in offences if not any(e.kind == kind for e in p.elements)]
    shown = ", ".join(bare[:3]) + (f" and {len(bare) - 3} more" if len(bare) > 3 else "")
    extra = f" ({shown}: no {item.category.value} element, so any suffices)" if bare else ""
    return _Outcome("met", f"all {len(wanted)} protocol {item.category.value} terms covered{extra}", cited)


def _child_means(library: LawLibrary, jurisdiction: str, item: ChecklistItem) -> _Outcome:
    offences = trafficking_offences(library, jurisdiction)
    if not offences:
        return _Outcome("not_met", "no trafficking offence")
    good, bad = [], []
    for p in offences:
        means = [e.id for e in p.elements if e.kind == ElementKind.MEANS]
        rule = p.minor_rule
        if not means:
            good.append(f"{p.id} (no means element)")
        elif rule and set(means) <= set(rule.elements_not_required) and rule.age_below >= 18:
            good.append(f"{p.id} (means fall away under {rule.age_below}, {rule.citation})")
        else:
            short = rule is not None and rule.age_below < 18
            why = f"minor rule stops at {rule.age_below}" if rule and short else "means required"
            bad.append(f"{p.id} ({why})")
    if good:
        return _Outcome("met", "no means needed for a child: " + "; ".join(good),
                        [g.split(" ")[0] for g in good], [f"still needs means: {b}" for b in bad])
    return _Outcome("not_met", "every trafficking offence requires means for a child: " + "; ".join(bad),
                    [b.split(" ")[0] for b in bad])


def _feature(library: LawLibrary, jurisdiction: str, item: ChecklistItem) -> _Outcome:
    found = [p for p in library.provisions(jurisdiction) if item.feature in p.establishes]
    if item.feature == "attempt":
        found += [p for p in library.offences(jurisdiction) if p.attempt_punishable and p not in found]
    if found:
        caveats = [f"{p.id} is not verified against the official text" for p in found if not p.verified]
        return _Outcome("met", f"established by {', '.join(p.id for p in found)}",
                        [p.id for p in found], caveats)
    return _Outcome("not_met", f"no provision establishes {item.feature} (if general criminal law does, add "
                    f"that provision with `establishes: [{item.feature}]`)")


def _remedy(library: LawLibrary, jurisdiction: str, item: ChecklistItem) -> _Outcome:
    name = item.remedy or "forfeiture"
    found = [p for p in library.provisions(jurisdiction)
             if getattr(p, name) is not None or (item.feature and item.feature in p.establishes)]
    if not found:
        return _Outcome("not_met", f"no provision carries {name} or establishes {item.feature}")
    unverified = [p.id for p in found if (r := getattr(p, name)) is not None and not r.verified]
    caveats = [f"{name} of {pid} is not verified" for pid in unverified]
    return _Outcome("met", f"{name} provided by {', '.join(p.id for p in found)}",
                    [p.id for p in found], caveats)


def base_maximum(provision: Provision) -> tuple[Penalty | None, float]:
    """The maximum of the unaggravated offence in months (life = inf).

    The unconditional tier when there is one; otherwise the lowest tier, so a threshold is never
    met on an aggravated form alone.
    """
    def months(t: Penalty) -> float:
        return float("inf") if t.life else float(t.max_months or 0)

    tiers = [t for t in provision.penalties if t.when is None] or list(provision.penalties)
    if not tiers:
        return None, 0.0
    tier = min(tiers, key=months) if len(tiers) > 1 else tiers[0]
    return tier, months(tier)


def _show(months: float) -> str:
    return "life" if months == float("inf") else f"{months:g} months"


def _max_penalty(library: LawLibrary, jurisdiction: str, item: ChecklistItem) -> _Outcome:
    threshold = item.min_months or 0
    if item.min_months_from:
        pid, _, figure = item.min_months_from.partition(":")
        if pid in library and figure in library.get(pid).figures:
            threshold = int(library.get(pid).figures[figure])
    ranked = sorted(((base_maximum(p), p) for p in trafficking_offences(library, jurisdiction)),
                    key=lambda x: x[0][1], reverse=True)
    if not ranked or ranked[0][0][0] is None:
        return _Outcome("cannot_tell", "no trafficking offence with a penalty in the data")
    (tier, months), p = ranked[0]
    caveats = [] if tier is None or tier.verified else [f"{tier.citation} is not verified"]
    status: GapStatus = "met" if months >= threshold else "not_met"
    return _Outcome(status, f"{p.id}: base maximum {_show(months)} vs threshold {threshold} months",
                    [p.id], caveats)


def _pattern_best(library: LawLibrary, jurisdiction: str, pattern: Pattern, item: str) -> OffenceMatch | None:
    data = pattern.model_dump(exclude={"label"})
    conduct = parse_conduct({**data, "description": pattern.label}, library.vocabulary, f"checklist {item}")
    if not library.offences(jurisdiction):
        return None
    return assess_jurisdiction(library, jurisdiction, conduct, 0).best


def _offence_for(library: LawLibrary, jurisdiction: str, item: ChecklistItem) -> _Outcome:
    hits = {pat.label: _pattern_best(library, jurisdiction, pat, item.id) for pat in item.patterns}
    missing = [label for label, best in hits.items() if best is None]
    cited = sorted({b.provision for b in hits.values() if b is not None})
    if missing:
        return _Outcome("not_met", "no offence for: " + "; ".join(missing), cited)
    return _Outcome("met", f"all {len(hits)} patterns are offences ({', '.join(cited)})", cited)


def _commensurate(library: LawLibrary, jurisdiction: str, item: ChecklistItem) -> _Outcome:
    comparators = [p for p in library.provisions(jurisdiction) if item.comparator_category in p.categories]
    best = _pattern_best(library, jurisdiction, item.patterns[0], item.id) if item.patterns else None
    if best is None:
        label = item.patterns[0].label if item.patterns else "the pattern"
        return _Outcome("not_met", f"no offence for {label}")
    ours = float("inf") if best.life else float(best.max_months or 0)
    if not comparators:
        return _Outcome("cannot_tell", f"{best.provision} carries {_show(ours)}, but the data has no "
                        f"{item.comparator_category} provision to compare with", [best.provision])
    theirs = max((float("inf") if t.life else float(t.max_months or 0))
                 for p in comparators for t in p.penalties)
    status: GapStatus = "met" if ours >= theirs else "not_met"
    names = ", ".join(p.id for p in comparators)
    caveats = [f"{t.citation} is not verified" for p in comparators for t in p.penalties if not t.verified]
    if not best.penalty_verified:
        caveats.append(f"{best.tier_citation} is not verified")
    return _Outcome(status, f"{best.provision} {_show(ours)} vs {item.comparator_category} {_show(theirs)} "
                    f"({names})", [best.provision, *(p.id for p in comparators)], caveats)


_TESTS: dict[str, Callable[[LawLibrary, str, ChecklistItem], _Outcome]] = {
    "covers_terms": _covers_terms,
    "child_means": _child_means,
    "feature": _feature,
    "remedy": _remedy,
    "max_penalty": _max_penalty,
    "offence_for": _offence_for,
    "commensurate": _commensurate,
}


def analyse_gaps(library: LawLibrary, jurisdiction: str, checklist: Checklist | None = None) -> GapReport:
    """Run every checklist item against one jurisdiction's provisions."""
    if not library.provisions(jurisdiction):
        raise NotFoundError(f"no provisions for jurisdiction {jurisdiction!r} "
                            f"(have: {', '.join(library.jurisdictions())})")
    items = (checklist or default_checklist()).items
    findings = []
    for item in items:
        out = _TESTS[item.test](library, jurisdiction, item)
        findings.append(GapFinding(item.id, item.title, item.standard, item.obligation, item.basis,
                                   out.status, out.reason, out.cited, out.caveats))
    return GapReport(jurisdiction, (checklist or default_checklist()).version, findings)


__all__ = ["GapFinding", "GapReport", "analyse_gaps", "base_maximum", "trafficking_offences"]
