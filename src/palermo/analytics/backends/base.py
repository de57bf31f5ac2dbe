"""The small abstract backend every analysis talks to, in the manner of splink's ``DatabaseAPI``.

Why an abstraction at all: the same indicator SQL must run on an embedded DuckDB file for one case
and on Spark for data that no longer fits on one machine. Analyses therefore never call an engine
directly; they hand DuckDB-dialect SQL to a backend, which translates it when needed and keeps the
text it actually ran so that the result can be explained.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import sqlglot

SOURCE_DIALECT = "duckdb"


class Backend(ABC):
    """Runs DuckDB-dialect SQL on one engine and shows the SQL in that engine's dialect."""

    #: sqlglot dialect name of the engine (``"duckdb"``, ``"spark"``).
    dialect: str = SOURCE_DIALECT

    def show_sql(self, sql: str) -> str:
        """The SQL exactly as this backend would run it (translated from DuckDB's dialect)."""
        if self.dialect == SOURCE_DIALECT:
            return sql.strip()
        return transpile(sql, self.dialect)

    @abstractmethod
    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a query and return its rows as tuples."""

    @abstractmethod
    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run a statement for its effect (DDL, INSERT)."""

    def dicts(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a query and return its rows as dictionaries keyed by column name."""
        return [dict(zip(self.columns(sql, params), row, strict=True)) for row in self.rows(sql, params)]

    @abstractmethod
    def columns(self, sql: str, params: Mapping[str, Any] | None = None) -> Sequence[str]:
        """Column names a query returns (used by :meth:`dicts`)."""

    @abstractmethod
    def table_exists(self, name: str) -> bool:
        """Whether the engine has a table or view of that name (ingest may not have created every one)."""


def transpile(sql: str, dialect: str) -> str:
    """Translate DuckDB SQL into ``dialect`` with sqlglot, failing loudly on what cannot be expressed.

    ``unsupported_level=RAISE`` is deliberate: a silently mistranslated indicator would produce
    wrong leads on the big-data path, which is worse than no leads.
    """
    statements = sqlglot.transpile(
        sql, read=SOURCE_DIALECT, write=dialect, unsupported_level=sqlglot.ErrorLevel.RAISE, pretty=True
    )
    return ";\n".join(statements)
