"""Spark backend for data that no longer fits on one machine; pyspark is imported lazily.

The DuckDB SQL of the analyses is translated with sqlglot. pyspark is an optional extra
(``palermo[spark]``), so importing this module must not require it: only constructing a backend does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from palermo.analytics.backends.base import Backend, transpile
from palermo.errors import ConfigurationError


class SparkBackend(Backend):
    """Runs translated SQL on a ``pyspark.sql.SparkSession``; ``$name`` parameters become literals."""

    dialect = "spark"

    def __init__(self, session: Any | None = None) -> None:
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:  # pragma: no cover - depends on the optional extra
            raise ConfigurationError("the Spark backend needs pyspark: pip install 'palermo[spark]'") from exc
        self.session = session or SparkSession.builder.master("local[*]").getOrCreate()
        self._columns: Sequence[str] = ()

    def _sql(self, sql: str, params: Mapping[str, Any] | None) -> Any:
        spark_sql = transpile(sql, self.dialect)
        return self.session.sql(spark_sql, args=dict(params) if params else None)

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        frame = self._sql(sql, params)
        self._columns = list(frame.columns)
        return [tuple(r) for r in frame.collect()]

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self._sql(sql, params).collect()

    def columns(self, sql: str, params: Mapping[str, Any] | None = None) -> Sequence[str]:
        return self._columns
