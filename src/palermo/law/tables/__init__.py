"""Dated and tabular law: the USSG Sentencing Table and the federal minimum wage history.

Values that change over time are keyed by effective date (as OpenFisca does), so a computation
uses the law in force on the date that matters, never "today's" figure.
"""

from palermo.law.tables.minimum_wage import MinimumWage, minimum_wage_on, minimum_wage_schedule
from palermo.law.tables.sentencing_table import (
    CRIMINAL_HISTORY_CATEGORIES,
    GUIDELINES_EDITION,
    GuidelineRange,
    guideline_range,
)

__all__ = [
    "CRIMINAL_HISTORY_CATEGORIES",
    "GUIDELINES_EDITION",
    "GuidelineRange",
    "MinimumWage",
    "guideline_range",
    "minimum_wage_on",
    "minimum_wage_schedule",
]
