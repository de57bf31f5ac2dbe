"""Backends: DuckDB runs and shows the SQL; Spark SQL comes from sqlglot and pyspark stays optional."""

from __future__ import annotations

import sys
from pathlib import Path

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


def test_spark_backend_without_pyspark_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from palermo.analytics.backends.spark import SparkBackend

    monkeypatch.setitem(sys.modules, "pyspark.sql", None)  # as if the spark extra were not installed
    with pytest.raises(ConfigurationError, match=r"pip install 'palermo\[spark\]'"):
        SparkBackend()


def test_spark_backend_without_java_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest.importorskip("pyspark")
    from palermo.analytics.backends.spark import SparkBackend, java_available

    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on it
    assert not java_available()
    with pytest.raises(ConfigurationError, match="Java runtime"):
        SparkBackend()


def test_spark_sql_is_shown_as_spark_will_run_it() -> None:
    from palermo.analytics.backends.spark import SparkBackend

    shown = SparkBackend.show_sql(SparkBackend.__new__(SparkBackend), SQL)
    assert "COLLECT_LIST" in shown.upper() and ":k" in shown
