"""Backends: DuckDB runs and shows the SQL; Spark SQL comes from sqlglot and pyspark stays optional."""

from __future__ import annotations

import importlib.util

import duckdb
import pytest

from palermo.analytics.backends import DuckDBBackend
from palermo.analytics.backends.base import transpile
from palermo.errors import ConfigurationError

SQL = "SELECT list(x) AS xs, count(DISTINCT y) AS n FROM t WHERE k = $k GROUP BY z"


def test_duckdb_backend_runs_named_parameters() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES (1, 'a', 'k1', 1), (2, 'b', 'k1', 1)) v(x, y, k, z)")
    assert DuckDBBackend(con).dicts(SQL, {"k": "k1"}) == [{"xs": [1, 2], "n": 2}]


def test_duckdb_backend_shows_the_sql_it_runs() -> None:
    assert DuckDBBackend(duckdb.connect()).show_sql(SQL) == SQL


def test_transpile_to_spark_uses_spark_functions() -> None:
    assert "COLLECT_LIST" in transpile(SQL, "spark").upper()


@pytest.mark.skipif(importlib.util.find_spec("pyspark") is not None, reason="pyspark is installed")
def test_spark_backend_without_pyspark_is_a_configuration_error() -> None:
    from palermo.analytics.backends.spark import SparkBackend

    with pytest.raises(ConfigurationError, match="pyspark"):
        SparkBackend()
