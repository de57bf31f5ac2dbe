"""Fixtures shared by every test package.

Tests that read ``../shared`` (real data sets, reference law text) skip with a clear reason when
it is absent, as it is in a user's clone; CI has it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# pytest-xdist starts its workers with COLUMNS=80 and LINES=24. Rich reads them when the CLI's console
# is made (at import) and keeps that width for good, so a test that sets COLUMNS for one command got
# tables wrapped at 80 under `-n 2` and at its own width without it. Unset, Rich reads COLUMNS per print.
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PALERMO_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ``../shared`` folder, or skip: a user's clone does not have it."""
    if not (SHARED / "datasets").is_dir():
        pytest.skip(f"../shared is not present at {SHARED} (only CI and developers have it)")
    return SHARED


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL URL for tests that need one, or skip when ``PALERMO_TEST_DATABASE_URL`` is unset."""
    url = os.environ.get("PALERMO_TEST_DATABASE_URL")
    if not url:
        pytest.skip("PALERMO_TEST_DATABASE_URL is not set (CI sets it)")
    return url
