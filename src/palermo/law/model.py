"""Typed model of the law library: vocabulary, provisions, elements, penalties.

Why a model at all: statutes are edited by lawyers in YAML, and a typo in a penalty or a
vocabulary term must fail loudly at load time (``palermo law check``), never silently change a
computed sentencing exposure. Every model forbids unknown keys for the same reason.

Shape of one provision file (``law/statutes/<jurisdiction>/<file>.yaml``)::

    id: us-18-usc-1591                 # stable id, used by charges and facts files
    jurisdiction: us
    citation: 18 U.S.C. § 1591
    title: Sex trafficking of children or by force, fraud, or coercion
    kind: offence                      # offence | consequence | definition | instrument
    source: https://uscode.house.gov/...   # official text
    in_force: {start: 2000-10-28}
    verified: true                     # every figure checked against the cited text
    categories: [sex_trafficking]
    elements: [...]                    # see Element
    minor_rule: {...}                  # see MinorRule
    penalties: [...]                   # see Penalty; the first whose ``when`` holds applies
    aggravators: [...]
    restitution: {...}
    forfeiture: {...}
    notes: why the modelling choices were made

Conditions (``when``) are a tiny declarative language evaluated against the facts of one
count (:class:`CountView`), so every engine can say *which* condition fired and *which* fact
triggered it — the explanation a court may ask for.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    """Base for every law-data model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Category(StrEnum):
    """The three parts of the Palermo Protocol definition, plus national extras."""

    ACT = "act"
    MEANS = "means"
    PURPOSE = "purpose"


class Term(Strict):
    """One controlled-vocabulary term (an act, a means or a purpose).

    ``protocol`` is true for the terms named in Palermo Protocol Art. 3(a); national extensions
    (``us``: patronizes, solicits…) say which protocol terms they fall under in ``maps_to`` so that
    dual-criminality and gap analysis can compare jurisdictions through the protocol.
    """

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    category: Category
    label: str
    protocol: bool = False
    jurisdictions: list[str] = Field(default_factory=list)
    maps_to: list[str] = Field(default_factory=list)
    source: str | None = None
    definition: str | None = None


class Vocabulary(Strict):
    """The interlingua every national element alternative maps onto."""

    version: str
    source: str
    terms: list[Term]

    @model_validator(mode="after")
    def _unique_and_closed(self) -> Vocabulary:
        ids = [t.id for t in self.terms]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate vocabulary terms: {', '.join(dupes)}")
        known = set(ids)
        for term in self.terms:
            for target in term.maps_to:
                if target not in known:
                    raise ValueError(f"term {term.id!r} maps_to unknown term {target!r}")
        return self

    def get(self, term_id: str) -> Term | None:
        """Return the term with this id, or None."""
        for term in self.terms:
            if term.id == term_id:
                return term
        return None

    def ids(self, category: Category | None = None) -> set[str]:
        """All term ids, optionally of one category."""
        return {t.id for t in self.terms if category is None or t.category == category}

    def protocol_terms(self, term_id: str) -> set[str]:
        """The protocol terms a (possibly national) term stands for, following ``maps_to``."""
        term = self.get(term_id)
        if term is None:
            return set()
        if term.protocol:
            return {term.id}
        found: set[str] = set()
        for target in term.maps_to:
            found |= self.protocol_terms(target)
        return found


class ElementKind(StrEnum):
    """What an element is, so the proof matrix can group and the engines can reason."""

    ACT = "act"
    MEANS = "means"
    PURPOSE = "purpose"
    MENS_REA = "mens_rea"
    VICTIM = "victim"  # e.g. age under 18
    JURISDICTIONAL = "jurisdictional"  # e.g. in or affecting interstate commerce
    RESULT = "result"
    OTHER = "other"


class Element(Strict):
    """One thing the prosecution must prove.

    ``alternatives`` lists vocabulary terms any one of which satisfies the element (e.g. the ten
    acts of § 1591(a)(1)); an element without alternatives is proven by evidence alone.
    ``required_unless`` names conditions under which the element falls away (e.g. the means
    element when the victim is a minor); the minor rule is the common case and lives in
    :class:`MinorRule` instead.
    """

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    kind: ElementKind
    label: str
    text: str | None = None  # statutory words, verbatim where possible
    alternatives: list[str] = Field(default_factory=list)
    mens_rea: Literal["knowing", "reckless", "intent", "negligent", "strict"] | None = None
    required_unless: Condition | None = None
    notes: str | None = None
    # When ``mens_rea`` is "reckless", recklessness suffices only if this holds (None: always);
    # e.g. § 1591(a) "except where the act constituting the violation … is advertising".
    reckless_suffices_when: Condition | None = None
    # The element needs no proof when this holds, e.g. § 1591(c) reasonable opportunity to observe.
    deemed_when: Condition | None = None
    # For elements not decided by vocabulary terms (a victim under 18, several victims): the facts
    # of a count that establish it, so dual criminality can test it against a conduct description.
    satisfied_when: Condition | None = None


class Condition(Strict):
    """A declarative test on one count's facts; all given fields must hold (AND).

    ``any_of`` holds when at least one sub-condition holds (OR), ``not_`` negates. Ages are the
    victim's age at the offence. Flags are condition flags of a count (death_resulted,
    kidnapping, weapon, serious_bodily_injury, aggravated_sexual_abuse, attempt_to_kill…).
    """

    victim_age_lt: int | None = None
    victim_age_gte: int | None = None
    means_any: list[str] | None = None
    acts_any: list[str] | None = None
    purposes_any: list[str] | None = None
    flags_all: list[str] | None = None
    flags_any: list[str] | None = None
    number_gte: dict[str, float] | None = None  # numeric facts, e.g. {victims: 2}
    any_of: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def mentions_age(self) -> bool:
        """True when evaluating this condition may need the victim's age."""
        if self.victim_age_lt is not None or self.victim_age_gte is not None:
            return True
        subs = list(self.any_of or []) + ([self.not_] if self.not_ else [])
        return any(c.mentions_age() for c in subs)


class Penalty(Strict):
    """One penalty tier. ``max_months`` None with ``life`` true means up to life imprisonment."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.()-]*$")]
    label: str
    citation: str
    when: Condition | None = None  # None: always applies (the base tier)
    min_months: int | None = None
    max_months: int | None = None
    life: bool = False
    death: bool = False
    fine_max: float | None = None
    fine_currency: str | None = None
    felony_class: str | None = None
    verified: bool = True
    notes: str | None = None

    @model_validator(mode="after")
    def _range(self) -> Penalty:
        if self.min_months is not None and self.max_months is not None and self.min_months > self.max_months:
            raise ValueError(f"penalty {self.id}: min_months exceeds max_months")
        if self.max_months is None and not self.life and not self.death and self.verified:
            raise ValueError(f"penalty {self.id}: a verified penalty needs max_months or life")
        return self


class Aggravator(Strict):
    """A circumstance that raises the penalty or must be considered at sentencing."""

    id: str
    label: str
    citation: str
    when: Condition | None = None
    effect: str
    verified: bool = True


class MinorRule(Strict):
    """Who counts as a child, and which elements fall away for one.

    ``age_below`` is the age under which the victim is a minor (18 under the Protocol, Art. 3(d)).
    ``elements_not_required`` are element ids no longer to be proven for a minor (usually the
    means). ``knowledge_of_age`` explains any substitute for proof of the defendant's knowledge of
    age, such as 18 U.S.C. § 1591(c).
    """

    age_below: int = 18
    elements_not_required: list[str] = Field(default_factory=list)
    knowledge_of_age: str | None = None
    citation: str


class Remedy(Strict):
    """Restitution, compensation or forfeiture rule attached to a provision."""

    citation: str
    mandatory: bool = False
    summary: str
    verified: bool = True


Feature = Literal[
    "attempt",
    "accomplice",
    "organising_directing",
    "conspiracy",
    "legal_person_liability",
    "consent_irrelevant",
    "non_punishment",
    "victim_compensation",
    "confiscation",
    "extraterritorial_jurisdiction",
]


class InForce(Strict):
    """Dates a provision (in this version) was in force; ``end`` None means still in force."""

    start: date
    end: date | None = None


class Provision(Strict):
    """One statutory provision or treaty article, decomposed for the engines."""

    id: Annotated[str, Field(pattern=r"^[a-z]{2,4}-[a-z0-9-]+$")]
    jurisdiction: Annotated[str, Field(pattern=r"^[a-z]{2,4}$")]
    citation: str
    title: str
    kind: Literal["offence", "consequence", "definition", "instrument"]
    source: Annotated[str, Field(pattern=r"^https?://")]
    in_force: InForce
    verified: bool
    categories: list[str] = Field(default_factory=list)
    elements: list[Element] = Field(default_factory=list)
    minor_rule: MinorRule | None = None
    penalties: list[Penalty] = Field(default_factory=list)
    aggravators: list[Aggravator] = Field(default_factory=list)
    restitution: Remedy | None = None
    forfeiture: Remedy | None = None
    attempt_punishable: bool | None = None
    references: list[str] = Field(default_factory=list)  # ids of related provisions
    # "punished in the same manner as a completed violation of" one of these provisions (attempt,
    # conspiracy, venture benefit): the count names which, and that provision's penalties apply.
    same_penalty_as: list[str] = Field(default_factory=list)
    # For consequences (assessments, supervised release…): the offence ids the rule covers.
    applies_to: list[str] = Field(default_factory=list)
    # Named figures of a consequence (dollar amounts, month thresholds), quoted from the text.
    figures: dict[str, float] = Field(default_factory=dict)
    # Features of the legal system this provision establishes that the gap analysis cannot derive
    # from elements and penalties (attempt, accomplice liability, consent irrelevant…); the claim
    # must rest on the provision's text, quoted or summarised in ``notes``.
    establishes: list[Feature] = Field(default_factory=list)
    notes: str

    @model_validator(mode="after")
    def _consistent(self) -> Provision:
        ids = [e.id for e in self.elements]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate element ids: {', '.join(dupes)}")
        if self.minor_rule:
            unknown = [e for e in self.minor_rule.elements_not_required if e not in ids]
            if unknown:
                raise ValueError(f"minor_rule names unknown elements: {', '.join(unknown)}")
        if self.kind == "offence" and not self.elements:
            raise ValueError("an offence needs at least one element")
        return self

    def is_minor(self, victim_age: int | None) -> bool | None:
        """Whether a victim of this age is a minor under this provision (None if unknown)."""
        if victim_age is None:
            return None
        return victim_age < (self.minor_rule.age_below if self.minor_rule else 18)

    def elements_for(self, victim_age: int | None) -> list[tuple[Element, bool]]:
        """Each element with whether it must be proven for a victim of this age.

        With an unknown age every element stays required: dropping the means element must rest
        on a proven age, never on a missing one.
        """
        dropped: set[str] = set()
        if self.minor_rule and self.is_minor(victim_age):
            dropped = set(self.minor_rule.elements_not_required)
        return [(e, e.id not in dropped) for e in self.elements]

    def tier_needs_victim_age(self) -> bool:
        """True when choosing the penalty tier can depend on the victim's age."""
        return any(p.when is not None and p.when.mentions_age() for p in self.penalties)


Element.model_rebuild()
Condition.model_rebuild()

__all__ = [
    "Aggravator",
    "Category",
    "Condition",
    "Element",
    "ElementKind",
    "Feature",
    "InForce",
    "MinorRule",
    "Penalty",
    "Provision",
    "Remedy",
    "Strict",
    "Term",
    "Vocabulary",
]
