"""SQL engines the analytics run on: DuckDB by default, Spark (imported lazily) for scale.

Analyses are written once in DuckDB's SQL dialect; a backend runs them and can always show the SQL
it ran, because a court may ask how a result was produced.
"""

from palermo.analytics.backends.base import Backend
from palermo.analytics.backends.duckdb import DuckDBBackend

__all__ = ["Backend", "DuckDBBackend"]
