"""Red-flag indicators: a YAML catalogue of sourced SQL queries, and the runner that turns hits into leads."""

from palermo.analytics.indicators.catalogue import Indicator, load_catalogue
from palermo.analytics.indicators.runner import IndicatorHit, run_indicators

__all__ = ["Indicator", "IndicatorHit", "load_catalogue", "run_indicators"]
