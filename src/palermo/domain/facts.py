"""The facts file: one matter (defendants, victims, counts) described for the law engines.

Why a file of its own: a prosecutor's charging memo, a restitution worksheet and a guideline
estimate all start from the same facts, and a lawyer must be able to write them without Python.
The format is YAML or JSON, validated strictly (unknown keys are errors, dates are parsed) so a
typo such as ``death_resuIted`` can never silently lower an exposure. Its JSON Schema is
published at ``docs/law/facts.schema.json``.

Victims appear only under pseudonyms: a facts file is a working paper that gets copied around,
and must never carry a real name, address or phone number.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from palermo.domain.conditions import CountView
from palermo.errors import FactsError

Money = Annotated[Decimal, Field(ge=0, decimal_places=2)]
Ident = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=40)]
CriminalHistory = Literal["I", "II", "III", "IV", "V", "VI"]
Role = Literal["organiser_leader", "manager_supervisor", "none"]
Flag = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
# Condition flags the engines themselves read; check_facts also accepts every flag a provision's
# condition names, so a new aggravator in a statute file needs no code change.
ENGINE_FLAGS = frozenset(
    {
        "death_resulted",
        "kidnapping",
        "attempted_kidnapping",
        "aggravated_sexual_abuse",
        "attempted_aggravated_sexual_abuse",
        "attempt_to_kill",
        "reasonable_opportunity_to_observe",
        "five_or_more_persons",
        "reckless_disregard_contributed_to_sex_trafficking",
        "permanent_or_life_threatening_injury",
        "serious_bodily_injury",
        "weapon_used",
        "weapon_brandished_or_threatened",
        "sex_act",
        "commercial_sex_act",
        "computer_used",
        "misrepresented_identity",
        "undue_influence",
        "custody_care_or_supervision",
        "vulnerable_victim",
        "large_number_of_vulnerable_victims",
        "victim_restrained",
        "completed_all_acts",
    }
)


class FactsModel(BaseModel):
    """Base of the facts models: unknown keys rejected, values immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Defendant(FactsModel):
    """A defendant and the facts the guidelines and assessments need about them."""

    id: Ident
    role: Role = Field(default="none", description="USSG §3B1.1 aggravating role")
    extensive: bool = Field(
        default=False, description="criminal activity with 5+ participants or otherwise extensive"
    )
    acceptance_of_responsibility: bool = False
    government_motion_3e1_1b: bool = Field(
        default=False, description="USSG §3E1.1(b) motion for a timely plea"
    )
    criminal_history_category: CriminalHistory = "I"
    indigent: bool = Field(
        default=False, description="18 U.S.C. § 3014(a) applies to non-indigent persons only"
    )
    prior_convictions: Annotated[int, Field(ge=0)] | None = None
    organisation: bool = Field(
        default=False, description="a person other than an individual (§ 3013(a)(2)(B))"
    )


class WorkPeriod(FactsModel):
    """A stretch of forced work: dates, hours, and what the victim was actually paid."""

    start: dt.date
    end: dt.date
    hours_per_week: Annotated[Decimal, Field(ge=0, le=168)] | None = None
    total_hours: Annotated[Decimal, Field(ge=0)] | None = None
    wages_paid: Money = Decimal("0")

    @model_validator(mode="after")
    def _consistent(self) -> WorkPeriod:
        if self.end < self.start:
            raise ValueError("end is before start")
        if (self.hours_per_week is None) == (self.total_hours is None):
            raise ValueError("give exactly one of hours_per_week or total_hours")
        return self

    @property
    def days(self) -> int:
        """Calendar days in the period, both ends included."""
        return (self.end - self.start).days + 1


class Losses(FactsModel):
    """Documented losses under 18 U.S.C. § 2259(c)(2)(A)–(F), in dollars."""

    medical: Money = Field(default=Decimal("0"), description="(A) medical, psychiatric, psychological care")
    therapy: Money = Field(
        default=Decimal("0"), description="(B) physical and occupational therapy or rehabilitation"
    )
    transport_housing_childcare: Money = Field(
        default=Decimal("0"), description="(C) transportation, housing, child care"
    )
    lost_income: Money = Field(default=Decimal("0"), description="(D) lost income")
    attorneys_fees: Money = Field(
        default=Decimal("0"), description="(E) reasonable attorneys' fees and other costs"
    )
    other: Money = Field(default=Decimal("0"), description="(F) any other relevant losses")


class Victim(FactsModel):
    """A victim, known only by a pseudonym."""

    id: Ident = Field(description="a pseudonym, never a real name")
    age: Annotated[int, Field(ge=0, le=120)] | None = Field(default=None, description="age at the offence")
    work: list[WorkPeriod] = Field(default_factory=list)
    gross_income_to_defendant: Money | None = Field(
        default=None,
        description="gross income or value to the defendant of the victim's services (§ 1593(b)(3))",
    )
    losses: Losses = Field(default_factory=lambda: Losses())


class Count(FactsModel):
    """One count: an offence charged against one defendant for one victim."""

    number: Annotated[int, Field(ge=1)]
    offence: str = Field(description="provision id from the law library, e.g. us-18-usc-1591")
    underlying: str | None = Field(
        default=None, description="for attempt/conspiracy/venture counts: the offence"
    )
    defendant: Ident
    victim: Ident
    date: dt.date | None = Field(default=None, description="offence date if different from the matter's")
    acts: list[str] = Field(default_factory=list)
    means: list[str] = Field(default_factory=list)
    purposes: list[str] = Field(default_factory=list)
    flags: list[Flag] = Field(default_factory=list)
    mens_rea: Literal["intent", "knowing", "reckless"] | None = "knowing"
    duration_held_days: Annotated[int, Field(ge=0)] | None = None
    established: list[str] = Field(default_factory=list, description="element ids proven by evidence")


class Matter(FactsModel):
    """A whole facts file."""

    title: str | None = None
    jurisdiction: Annotated[str, Field(pattern=r"^[a-z]{2,4}$")]
    offence_date: dt.date
    defendants: list[Defendant]
    victims: list[Victim]
    counts: list[Count]

    def defendant(self, defendant_id: str) -> Defendant:
        """The defendant with this id (validated to exist)."""
        return next(d for d in self.defendants if d.id == defendant_id)

    def victim(self, victim_id: str) -> Victim:
        """The victim with this id (validated to exist)."""
        return next(v for v in self.victims if v.id == victim_id)

    def count_date(self, count: Count) -> dt.date:
        """The date that decides which law applies to a count."""
        return count.date or self.offence_date

    def view(self, count: Count) -> CountView:
        """The facts of one count as the condition evaluator sees them."""
        numbers: dict[str, float] = {
            "victims": float(len({c.victim for c in self.counts if c.defendant == count.defendant})),
        }
        if count.duration_held_days is not None:
            numbers["duration_held_days"] = numbers["duration_days"] = float(count.duration_held_days)
        prior = self.defendant(count.defendant).prior_convictions
        if prior is not None:
            numbers["prior_convictions"] = float(prior)
        return CountView(
            victim_age=self.victim(count.victim).age,
            acts=frozenset(count.acts),
            means=frozenset(count.means),
            purposes=frozenset(count.purposes),
            flags=frozenset(count.flags),
            numbers=numbers,
        )


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(file)"


def _cross_check(data: dict[str, Any]) -> None:
    """References between sections, reported with the path of the bad field."""
    matter = Matter.model_validate(data)
    seen: dict[str, set[str]] = {"defendants": set(), "victims": set()}
    ids = {"defendants": [d.id for d in matter.defendants], "victims": [v.id for v in matter.victims]}
    for section, section_ids in ids.items():
        for i, item_id in enumerate(section_ids):
            if item_id in seen[section]:
                raise FactsError(f"duplicate id {item_id!r}", location=f"{section}[{i}].id")
            seen[section].add(item_id)
    numbers: set[int] = set()
    for i, count in enumerate(matter.counts):
        if count.number in numbers:
            raise FactsError(f"duplicate count number {count.number}", location=f"counts[{i}].number")
        numbers.add(count.number)
        if count.defendant not in seen["defendants"]:
            raise FactsError(f"unknown defendant {count.defendant!r}", location=f"counts[{i}].defendant")
        if count.victim not in seen["victims"]:
            raise FactsError(f"unknown victim {count.victim!r}", location=f"counts[{i}].victim")


def parse_facts(data: object, source: str = "facts") -> Matter:
    """Validate already-parsed data; every problem is a :class:`FactsError` naming the field."""
    if not isinstance(data, dict):
        raise FactsError("must be a mapping with jurisdiction, offence_date, counts…", location=source)
    try:
        matter = Matter.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise FactsError(f"{_path(tuple(first['loc']))}: {first['msg']}", location=source) from None
    try:
        _cross_check(data)
    except FactsError as exc:
        raise FactsError(f"{exc.location}: {exc.message}", location=source) from None
    return matter


def read_facts(path: Path) -> Matter:
    """Read a YAML or JSON facts file (shape only; see ``check_facts`` for the law)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FactsError(f"cannot read: {exc.strerror}", location=str(path)) from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else f":{getattr(exc, 'lineno', '?')}"
        first = str(exc).splitlines()[0]
        raise FactsError(f"not valid YAML/JSON: {first}", location=f"{path}{line}") from None
    return parse_facts(data, str(path))


def facts_schema() -> dict[str, Any]:
    """The JSON Schema of the facts file, as published in ``docs/law/facts.schema.json``."""
    schema = Matter.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Palermo facts file"
    return schema


__all__ = [
    "ENGINE_FLAGS",
    "Count",
    "Defendant",
    "Flag",
    "Losses",
    "Matter",
    "Victim",
    "WorkPeriod",
    "facts_schema",
    "parse_facts",
    "read_facts",
]
