"""Dual criminality: is this conduct an offence in both states, punishable enough to extradite?

UNTOC Art. 16(1) applies where the offence "is punishable under the domestic law of both the
requesting State Party and the requested State Party"; treaties add a minimum penalty (Art. 16(7)),
usually deprivation of liberty of at least one year. The engine answers per jurisdiction which
offences the conduct satisfies — element by element, through the vocabulary — and the maximum
each carries for these facts, then gives a verdict with every rule, fact and provision it used, so
a liaison officer can put the reasoning in the request rather than just a yes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from palermo.domain.conditions import CountView, MissingFact, evaluate
from palermo.domain.conduct import Conduct, bridges
from palermo.errors import NotFoundError
from palermo.law.library import LawLibrary
from palermo.law.model import Element, ElementKind, Provision

Status = Literal["satisfied", "not_satisfied", "cannot_tell"]
DEFAULT_THRESHOLD_MONTHS = 12
THRESHOLD_SOURCE = "intl-untoc-art16"
_TERM_KINDS = {ElementKind.ACT: "acts", ElementKind.MEANS: "means", ElementKind.PURPOSE: "purposes"}


@dataclass(frozen=True)
class ElementCheck:
    """One element of one offence against the conduct."""

    element: str
    kind: str
    status: Literal["satisfied", "not_satisfied", "not_required", "assumed", "cannot_tell"]
    reason: str


@dataclass(frozen=True)
class OffenceMatch:
    """One offence: whether the conduct satisfies it and the maximum it carries on these facts."""

    provision: str
    citation: str
    status: Status
    elements: list[ElementCheck]
    tier: str | None = None
    tier_citation: str | None = None
    max_months: int | None = None
    life: bool = False
    penalty_verified: bool = True
    tier_reasons: list[str] = field(default_factory=list)

    def meets(self, threshold_months: int) -> bool:
        """Punishable by at least ``threshold_months`` of deprivation of liberty."""
        return self.life or (self.max_months is not None and self.max_months >= threshold_months)

    @property
    def max_text(self) -> str:
        """The maximum for people: "life", "240 months" or "no custody"."""
        return "life" if self.life else f"{self.max_months} months" if self.max_months else "no custody"


@dataclass(frozen=True)
class JurisdictionFinding:
    """Everything the conduct amounts to in one jurisdiction."""

    jurisdiction: str
    status: Status
    offences: list[OffenceMatch]
    not_assessed: list[str]
    best: OffenceMatch | None
    meets_threshold: bool


@dataclass(frozen=True)
class DualCriminalityResult:
    """The verdict, both sides' findings, and the reasons in order."""

    requesting: JurisdictionFinding
    requested: JurisdictionFinding
    threshold_months: int
    verdict: Status
    reasons: list[str]
    cited: list[str]

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return asdict(self)


def check_element(library: LawLibrary, element: Element, required: bool, provision: Provision,
                  view: CountView) -> ElementCheck:
    """Decide one element from the conduct; elements the conduct cannot show are assumed."""
    kind = element.kind.value
    if not required:
        rule = provision.minor_rule
        cite = rule.citation if rule else provision.citation
        return ElementCheck(element.id, kind, "not_required",
                            f"victim age {view.victim_age} is a minor: {element.id} not required ({cite})")
    deemed = getattr(element, "deemed_when", None)
    if deemed is not None:
        try:
            outcome = evaluate(deemed, view)
            if outcome.holds:
                return ElementCheck(element.id, kind, "satisfied", "deemed: " + "; ".join(outcome.reasons))
        except MissingFact:
            pass
    terms_field = _TERM_KINDS.get(element.kind)
    if terms_field and element.alternatives:
        hits = bridges(library.vocabulary, getattr(view, terms_field), element.alternatives)
        if hits:
            return ElementCheck(element.id, kind, "satisfied", f"{terms_field}: " + "; ".join(hits))
        have = ", ".join(sorted(getattr(view, terms_field))) or "none"
        return ElementCheck(element.id, kind, "not_satisfied",
                            f"conduct {terms_field} ({have}) match none of {', '.join(element.alternatives)}")
    if element.satisfied_when is not None:
        try:
            outcome = evaluate(element.satisfied_when, view)
        except MissingFact as missing:
            return ElementCheck(element.id, kind, "cannot_tell", f"needs the fact {missing.fact}")
        status: Literal["satisfied", "not_satisfied"] = "satisfied" if outcome.holds else "not_satisfied"
        return ElementCheck(element.id, kind, status, "; ".join(outcome.reasons))
    return ElementCheck(element.id, kind, "assumed",
                        f"{element.label} — not shown by a conduct description; assumed, to be proven")


def decidable(provision: Provision) -> bool:
    """True when at least one element can be decided from a conduct description."""
    return any((e.kind in _TERM_KINDS and e.alternatives) or e.satisfied_when is not None
               for e in provision.elements)


def _tiers(library: LawLibrary, provision: Provision) -> Provision:
    """The provision whose penalties apply: itself, or the one it is punished 'in the same manner as'."""
    if provision.penalties:
        return provision
    for other in getattr(provision, "same_penalty_as", []) or []:
        if other in library:
            return library.get(other)
    return provision


def match_offence(library: LawLibrary, provision: Provision, view: CountView) -> OffenceMatch:
    """All elements of one offence against the conduct, and its applicable penalty tier."""
    pairs = provision.elements_for(view.victim_age)
    checks = [check_element(library, e, req, provision, view) for e, req in pairs]
    status: Status = "satisfied"
    if any(c.status == "not_satisfied" for c in checks):
        status = "not_satisfied"
    elif any(c.status == "cannot_tell" for c in checks):
        status = "cannot_tell"
    skipped: list[str] = []
    for tier in _tiers(library, provision).penalties:
        try:
            outcome = evaluate(tier.when, view)
        except MissingFact as missing:
            skipped.append(f"tier {tier.id} skipped: needs the fact {missing.fact}")
            continue
        if outcome.holds:
            return OffenceMatch(provision.id, provision.citation, status, checks, tier.id, tier.citation,
                                tier.max_months, tier.life, tier.verified, [*skipped, *outcome.reasons])
    return OffenceMatch(provision.id, provision.citation, status, checks,
                        tier_reasons=[*skipped, "no penalty tier applies"])


def assess_jurisdiction(library: LawLibrary, jurisdiction: str, conduct: Conduct,
                        threshold_months: int) -> JurisdictionFinding:
    """Every decidable offence of a jurisdiction against the conduct."""
    offences = library.offences(jurisdiction)
    if not offences:
        known = ", ".join(j for j in library.jurisdictions() if library.offences(j))
        raise NotFoundError(f"no offences for jurisdiction {jurisdiction!r} in the law library"
                            f" (have: {known})")
    view = conduct.view()
    matches = [match_offence(library, p, view) for p in offences if decidable(p)]
    not_assessed = [p.id for p in offences if not decidable(p)]
    satisfied = [m for m in matches if m.status == "satisfied"]
    best = max(satisfied, key=lambda m: (m.life, m.max_months or 0), default=None)
    status: Status = "satisfied" if satisfied else (
        "cannot_tell" if any(m.status == "cannot_tell" for m in matches) else "not_satisfied")
    return JurisdictionFinding(jurisdiction, status, matches, not_assessed, best,
                               best is not None and best.meets(threshold_months))


def _threshold(library: LawLibrary, override: int | None) -> tuple[int, str]:
    if override is not None:
        return override, f"threshold {override} months (given by the user)"
    if THRESHOLD_SOURCE in library:
        source = library.get(THRESHOLD_SOURCE)
        months = int(source.figures.get("extradition_threshold_months", DEFAULT_THRESHOLD_MONTHS))
        return months, f"threshold {months} months ({source.citation}(7) minimum penalty; see its notes)"
    return DEFAULT_THRESHOLD_MONTHS, f"threshold {DEFAULT_THRESHOLD_MONTHS} months (usual treaty minimum)"


def _side(label: str, finding: JurisdictionFinding, threshold: int) -> str:
    best = finding.best
    if best is None:
        return f"{label} {finding.jurisdiction}: no offence satisfied by the conduct ({finding.status})"
    caveat = "" if best.penalty_verified else " (penalty figure not verified against the official text)"
    verb = "meets" if best.meets(threshold) else "is below"
    return (f"{label} {finding.jurisdiction}: {best.citation} satisfied; maximum {best.max_text} under "
            f"{best.tier_citation}{caveat}, which {verb} the {threshold}-month threshold")


def check_dual_criminality(library: LawLibrary, conduct: Conduct, requesting: str, requested: str,
                           threshold_months: int | None = None) -> DualCriminalityResult:
    """Compare the conduct under two jurisdictions' law (requesting → requested state)."""
    threshold, threshold_reason = _threshold(library, threshold_months)
    ours = assess_jurisdiction(library, requesting, conduct, threshold)
    theirs = assess_jurisdiction(library, requested, conduct, threshold)
    reasons = [f"rule: UNTOC Art. 16(1) — punishable under the law of both states; {threshold_reason}",
               _side("requesting", ours, threshold), _side("requested", theirs, threshold)]
    verdict: Status
    if ours.meets_threshold and theirs.meets_threshold:
        verdict = "satisfied"
    elif "not_satisfied" in (ours.status, theirs.status) or (ours.best and theirs.best):
        verdict = "not_satisfied"
    else:
        verdict = "cannot_tell"
    for finding in (ours, theirs):
        if finding.best is None:
            for m in finding.offences:
                failed = [c for c in m.elements if c.status in ("not_satisfied", "cannot_tell")]
                reasons += [f"  {m.citation}: {c.element} — {c.reason}" for c in failed]
    if verdict != "satisfied":
        reasons.append("note: UNTOC Art. 18(9) — for mutual legal assistance the requested state may decline "
                       "for absence of dual criminality, but may still assist")
    cited = sorted({m.provision for f in (ours, theirs) for m in f.offences if m.status == "satisfied"}
                   | ({THRESHOLD_SOURCE, "intl-untoc-art18"} & {p.id for p in library.provisions("intl")}))
    return DualCriminalityResult(ours, theirs, threshold, verdict, reasons, cited)


__all__ = [
    "DualCriminalityResult",
    "ElementCheck",
    "JurisdictionFinding",
    "OffenceMatch",
    "assess_jurisdiction",
    "check_dual_criminality",
    "check_element",
    "decidable",
    "match_offence",
]
