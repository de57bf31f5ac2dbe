"""Fixtures for the ingest tests: a fresh DuckDB per test and the fixture files folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB, private to the test."""
    connection = duckdb.connect()
    yield connection
    connection.close()


def list_mentions(
    con: duckdb.DuckDBPyConnection, case_ref: str, where: str = "TRUE"
) -> list[tuple[Any, ...]]:
    """The identifier mentions resolution reads for a case, as (kind, norm, name, source, locator),
    sorted. They come from the evidence tables' identifier columns and from ``identifiers``."""
    from palermo.analytics.mentions import mentions_sql
    from palermo.analytics.tables import table_exists

    tables = [
        t for t in ("payments", "calls", "messages", "contacts", "ads", "identifiers") if table_exists(con, t)
    ]
    return con.execute(
        f"SELECT kind, norm, name, source, locator FROM ({mentions_sql(tables)}) AS m "
        f"WHERE {where} ORDER BY ALL",
        {"case_ref": case_ref},
    ).fetchall()


@pytest.fixture
def mentions() -> Callable[..., list[tuple[Any, ...]]]:
    """:func:`list_mentions`, for tests to call."""
    return list_mentions


@pytest.fixture
def fx() -> Path:
    """The folder of small synthetic source files."""
    return FIXTURES
