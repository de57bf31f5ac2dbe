"""One small scenario per test module, written once to a temporary folder (it takes well under a second)."""

from __future__ import annotations

from pathlib import Path

import pytest

from palermo.scenario import Scenario, ScenarioFiles, generate


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Scenario, ScenarioFiles]:
    """Seed 7 at scale 1, written to disk."""
    scenario = generate(seed=7, scale=1)
    return scenario, scenario.write(tmp_path_factory.mktemp("scenario"))


@pytest.fixture()
def out(tmp_path: Path) -> Path:
    """A fresh output folder."""
    return tmp_path / "out"
