"""Fixtures for the ingest tests: a fresh DuckDB per test and the fixture files folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB, private to the test."""
    connection = duckdb.connect()
    yield connection
    connection.close()


@pytest.fixture
def fx() -> Path:
    """The folder of small synthetic source files."""
    return FIXTURES
