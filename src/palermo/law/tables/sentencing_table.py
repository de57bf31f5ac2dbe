"""The USSG Sentencing Table (Chapter 5, Part A) as data, with a typed lookup.

The CSV beside this module is the Sentencing Commission's own table, parsed independently from
two official files and found identical cell for cell (see ``law-research.md`` §3.7). "Life" is
stored as the word ``life`` and returned as ``None`` months, because a range to life has no finite
upper bound and must never be mistaken for a number.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

from palermo.errors import LawDataError

GUIDELINES_EDITION = "USSG Guidelines Manual, November 1, 2016"
CRIMINAL_HISTORY_CATEGORIES = ("I", "II", "III", "IV", "V", "VI")
_FILE = "ussg_sentencing_table.csv"


@dataclass(frozen=True)
class GuidelineRange:
    """One cell of the Sentencing Table; ``None`` months means life imprisonment."""

    offense_level: int
    criminal_history_category: str
    min_months: int | None
    max_months: int | None

    @property
    def zone(self) -> str:
        """Zone A–D, decided by the minimum of the range (USSG §5C1.1 commentary)."""
        low = self.min_months
        if low is None or low >= 15:
            return "D"
        if low == 0:
            return "A"
        if low <= 9:
            return "B"
        return "C"

    def label(self) -> str:
        """Human form such as ``151–188 months`` or ``360 months–life``."""
        low = "life" if self.min_months is None else str(self.min_months)
        high = "life" if self.max_months is None else str(self.max_months)
        if self.min_months is None:
            return "life"
        return f"{low}–{high} months" if self.max_months is not None else f"{low} months–life"


def _months(text: str, where: str) -> int | None:
    if text == "life":
        return None
    try:
        return int(text)
    except ValueError as exc:
        raise LawDataError(f"not a number of months: {text!r}", location=where) from exc


@cache
def _table() -> dict[tuple[int, str], GuidelineRange]:
    text = resources.files("palermo.law.tables").joinpath(_FILE).read_text(encoding="utf-8")
    cells: dict[tuple[int, str], GuidelineRange] = {}
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        where = f"{_FILE}:{line}"
        level = int(row["offense_level"])
        chc = row["chc"]
        cells[(level, chc)] = GuidelineRange(
            level, chc, _months(row["min_months"], where), _months(row["max_months"], where)
        )
    if len(cells) != 43 * 6:
        raise LawDataError(f"expected 258 cells, found {len(cells)}", location=_FILE)
    return cells


def guideline_range(offense_level: int, criminal_history_category: str) -> GuidelineRange:
    """The range for a total offense level and criminal history category (I–VI).

    Levels below 1 count as 1 and above 43 as 43, as the Sentencing Table commentary
    (application note 2) directs.
    """
    if criminal_history_category not in CRIMINAL_HISTORY_CATEGORIES:
        raise LawDataError(f"unknown criminal history category {criminal_history_category!r}")
    level = min(max(offense_level, 1), 43)
    return _table()[(level, criminal_history_category)]


__all__ = ["CRIMINAL_HISTORY_CATEGORIES", "GUIDELINES_EDITION", "GuidelineRange", "guideline_range"]
