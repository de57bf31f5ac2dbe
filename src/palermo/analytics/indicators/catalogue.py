"""Typed, strict loader for ``catalogue.yaml``: a typo in a red flag must fail loudly, not go silent."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from palermo.errors import LawDataError

CATALOGUE = Path(__file__).with_name("catalogue.yaml")
#: Columns every indicator query must return, in this order.
HIT_COLUMNS = ("subject_kind", "subject", "score", "detail", "stmt_ids", "evidence_ids", "locators")


class Indicator(BaseModel):
    """One red flag: where it comes from, how strong it is, what it may support, how to find it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Z][A-Z0-9_]+$")
    title: str
    category: Literal["money", "ads", "communications"]
    severity: Literal["low", "medium", "high"]
    source: str = Field(min_length=10)
    supports: list[str] = Field(min_length=1)
    description: str
    sql: str


class Catalogue(BaseModel):
    """The whole file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    indicators: list[Indicator]


@lru_cache(maxsize=4)
def load_catalogue(path: Path = CATALOGUE) -> tuple[Indicator, ...]:
    """Load and validate the catalogue; ids must be unique and ``supports`` written ``category:term``."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        catalogue = Catalogue.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise LawDataError(f"cannot read indicator catalogue: {exc}", location=str(path)) from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise LawDataError(f"{where}: {first['msg']}", location=str(path)) from exc
    seen: set[str] = set()
    for ind in catalogue.indicators:
        if ind.id in seen:
            raise LawDataError(f"indicator id {ind.id} is defined twice", location=str(path))
        seen.add(ind.id)
        for term in ind.supports:
            if term.count(":") != 1 or term.split(":")[0] not in {"act", "means", "purpose"}:
                raise LawDataError(
                    f"{ind.id}.supports: {term!r} must be act:<term>, means:<term> or purpose:<term>",
                    location=str(path),
                )
    return tuple(catalogue.indicators)
