"""The gap-analysis checklist as data: what a trafficking law must contain, and how to test it.

Why data: the standards (Palermo Protocol, UNTOC, TVPA § 7106) are read by policy analysts, who
should be able to see each item's basis and source, and add one, without reading Python. Each
item names a ``test`` the gap engine implements (a small closed set, so a typo fails at load) and
the parameters it needs. Items that statute data cannot decide (victim services, training…) are
deliberately absent: a gap report must not pretend to know them.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field

from palermo.law.loader import parse, validate
from palermo.law.model import Category, Feature, Strict

CHECKLIST_FILE = Path(__file__).resolve().parent / "checklists" / "trafficking.yaml"

Test = Literal[
    "covers_terms",  # every protocol term of a category is an alternative of some trafficking offence
    "child_means",  # some trafficking offence needs no means when the victim is under 18
    "feature",  # some provision establishes a feature (attempt, accomplice, non-punishment…)
    "remedy",  # some offence carries a remedy (forfeiture or restitution) or establishes the feature
    "max_penalty",  # the strongest trafficking offence's base maximum reaches a figure
    "offence_for",  # the conduct patterns given are each an offence
    "commensurate",  # the maximum for a conduct is at least that of a comparator offence category
]


class Pattern(Strict):
    """A model conduct for the offence tests (e.g. adult sex trafficking by force)."""

    label: str
    acts: list[str] = Field(default_factory=lambda: ["recruitment", "transportation", "transfer",
                                                     "harbouring", "receipt"])
    means: list[str] = Field(default_factory=list)
    purposes: list[str]
    victim_age: int = 25


class ChecklistItem(Strict):
    """One requirement, its basis in the standard, and how statute data can decide it."""

    id: str
    title: str
    standard: Literal["palermo", "untoc", "tvpa", "model_law"]
    obligation: Literal["mandatory", "optional", "recommended"]
    basis: str
    source: str
    test: Test
    category: Category | None = None
    feature: Feature | None = None
    remedy: Literal["forfeiture", "restitution"] | None = None
    min_months: int | None = None
    min_months_from: str | None = None  # "provision-id:figure", e.g. intl-untoc-art2:serious_crime_max_months
    patterns: list[Pattern] = Field(default_factory=list)
    comparator_category: str | None = None
    notes: str | None = None


class Checklist(Strict):
    """All items, in the order a report lists them."""

    version: str
    items: list[ChecklistItem]


@cache
def default_checklist() -> Checklist:
    """The packaged checklist, validated like every other law file."""
    return load_checklist(CHECKLIST_FILE)


def load_checklist(path: Path) -> Checklist:
    """Load a checklist file; problems raise LawLibraryInvalid with file:line: field."""
    return validate(parse(path), Checklist)


__all__ = ["CHECKLIST_FILE", "Checklist", "ChecklistItem", "Pattern", "default_checklist", "load_checklist"]
