"""A conduct description and how its terms meet a statute's element alternatives.

Why a separate notion from the facts file: a liaison officer checking dual criminality describes
what the person did in the abstract (acts, means, purposes, the victim's age, a few flags), not a
charged matter with counts and losses. The terms may be protocol terms or any jurisdiction's
national terms; :func:`bridges` meets them with another jurisdiction's terms *through* the
protocol, which is what the vocabulary's ``maps_to`` is for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from palermo.domain.conditions import CountView
from palermo.errors import FactsError
from palermo.law.model import Category, Vocabulary


class Conduct(BaseModel):
    """What the person is alleged to have done, in vocabulary terms (no names, ever)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str | None = None
    acts: list[str] = Field(default_factory=list)
    means: list[str] = Field(default_factory=list)
    purposes: list[str] = Field(default_factory=list)
    victim_age: Annotated[int, Field(ge=0, le=130)] | None = None
    flags: list[str] = Field(default_factory=list)
    numbers: dict[str, float] = Field(default_factory=dict)

    def view(self) -> CountView:
        """The condition-language view of this conduct, as the engines evaluate it."""
        return CountView(
            victim_age=self.victim_age,
            acts=frozenset(self.acts),
            means=frozenset(self.means),
            purposes=frozenset(self.purposes),
            flags=frozenset(self.flags),
            numbers=dict(self.numbers),
        )


_FIELDS: dict[str, Category] = {"acts": Category.ACT, "means": Category.MEANS, "purposes": Category.PURPOSE}


def parse_conduct(data: object, vocabulary: Vocabulary, source: str = "conduct") -> Conduct:
    """Validate a conduct mapping (from YAML, JSON or CLI options) against the vocabulary.

    A misspelt term must fail here, naming the field, because an unknown term would otherwise
    simply match nothing and turn "punishable" into "not punishable" without a word.
    """
    if not isinstance(data, Mapping):
        raise FactsError(f"{source}: expected a mapping with acts, means, purposes, victim_age…")
    try:
        conduct = Conduct.model_validate(dict(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise FactsError(f"{source}: {where}: {first['msg']}") from exc
    for name, category in _FIELDS.items():
        for i, term in enumerate(getattr(conduct, name)):
            found = vocabulary.get(term)
            if found is None:
                raise FactsError(f"{source}: {name}[{i}]: unknown {category.value} term {term!r} "
                                 "(see `palermo law vocabulary`)")
            if found.category != category:
                raise FactsError(f"{source}: {name}[{i}]: {term!r} is a {found.category.value} term, "
                                 f"not a {category.value} term")
    if not conduct.acts:
        raise FactsError(f"{source}: acts: at least one act is needed to compare offences")
    return conduct


def bridges(vocabulary: Vocabulary, conduct_terms: Iterable[str], alternatives: Sequence[str]) -> list[str]:
    """How conduct terms meet element alternatives, one readable line per match.

    A term matches an alternative when they are the same term or share a protocol term through
    ``maps_to`` (US "provides" → transfer ← UK "exchanging control"). National terms without a
    protocol counterpart (US "patronizes") match only themselves.
    """
    found: list[str] = []
    for term in sorted(set(conduct_terms)):
        mine = vocabulary.protocol_terms(term)
        for alt in alternatives:
            if term == alt:
                found.append(term)
                continue
            common = mine & vocabulary.protocol_terms(alt)
            if common:
                found.append(f"{term} → {'/'.join(sorted(common))} ← {alt}")
    return found


__all__ = ["Conduct", "bridges", "parse_conduct"]
