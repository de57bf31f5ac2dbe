"""The default backend: an embedded DuckDB connection (the workspace's ``analytics.duckdb``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb

from palermo.analytics.backends.base import Backend


class DuckDBBackend(Backend):
    """Runs SQL on a DuckDB connection; named parameters are written ``$name`` in the SQL."""

    dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self._last_description: Sequence[str] = ()

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        cur = self.con.execute(sql, dict(params) if params else None)
        self._last_description = [d[0] for d in cur.description or ()]
        return cur.fetchall()

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self.con.execute(sql, dict(params) if params else None)

    def columns(self, sql: str, params: Mapping[str, Any] | None = None) -> Sequence[str]:
        return self._last_description

    def dicts(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        rows = self.rows(sql, params)
        cols = list(self._last_description)
        return [dict(zip(cols, row, strict=True)) for row in rows]

    def table_exists(self, name: str) -> bool:
        """Whether a table or view exists (ingest may not have created every source table)."""
        found = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchone()
        return bool(found and found[0])
