"""The federal minimum wage history (29 U.S.C. § 206(a)(1)) and the FLSA overtime rule.

Restitution under 18 U.S.C. § 1593(b)(3) values a victim's labour "as guaranteed under the
minimum wage and overtime guarantees of the Fair Labor Standards Act". The guarantee in force
changed on fixed dates, so the rate is looked up for each day worked rather than taken as today's
$7.25: a victim forced to work in 2008 is owed what the law then guaranteed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import yaml

from palermo.errors import LawDataError

_FILE = "minimum_wage.yaml"


@dataclass(frozen=True)
class MinimumWage:
    """One rate and the day it took effect."""

    start: date
    hourly: Decimal
    verified: bool


@dataclass(frozen=True)
class WageSchedule:
    """The dated rates plus the overtime rule that goes with them."""

    citation: str
    rates: tuple[MinimumWage, ...]
    overtime_citation: str
    overtime_threshold: Decimal
    overtime_multiplier: Decimal


def _parse(raw: dict[str, Any]) -> WageSchedule:
    try:
        rates = tuple(
            sorted(
                (
                    MinimumWage(r["start"], Decimal(str(r["hourly"])), bool(r["verified"]))
                    for r in raw["rates"]
                ),
                key=lambda r: r.start,
            )
        )
        overtime = raw["overtime"]
        return WageSchedule(
            citation=str(raw["citation"]),
            rates=rates,
            overtime_citation=str(overtime["citation"]),
            overtime_threshold=Decimal(str(overtime["threshold_hours_per_week"])),
            overtime_multiplier=Decimal(str(overtime["multiplier"])),
        )
    except (KeyError, TypeError, ArithmeticError) as exc:
        raise LawDataError(f"malformed minimum wage table: {exc}", location=_FILE) from exc


@cache
def minimum_wage_schedule() -> WageSchedule:
    """The packaged schedule, parsed once."""
    text = resources.files("palermo.law.tables").joinpath(_FILE).read_text(encoding="utf-8")
    return _parse(yaml.safe_load(text))


def minimum_wage_on(day: date) -> MinimumWage:
    """The federal minimum wage in force on ``day``.

    Raises :class:`LawDataError` before the first encoded date (1 September 1997): the table
    does not reach further back, and guessing an older rate would understate what is owed.
    """
    found: MinimumWage | None = None
    for rate in minimum_wage_schedule().rates:
        if rate.start <= day:
            found = rate
    if found is None:
        first = minimum_wage_schedule().rates[0].start
        raise LawDataError(f"no federal minimum wage encoded before {first.isoformat()} (asked for {day})")
    return found


__all__ = ["MinimumWage", "WageSchedule", "minimum_wage_on", "minimum_wage_schedule"]
