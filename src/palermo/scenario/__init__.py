"""Synthetic trafficking scenarios with ground truth, for the demo, the tests and the benchmarks.

``generate(seed, scale)`` builds a deterministic case (a ring hidden in an innocent population) and
``Scenario.write(dir)`` writes its bank statements, call records, seized-phone extractions, online
ads and ``truth.json`` in the formats of the shared analytics contract. See ``docs/scenario.md``.
"""

from palermo.scenario.generator import Scenario, ScenarioFiles, SourceFile, generate
from palermo.scenario.people import is_synthetic_name
from palermo.scenario.truth import Truth, TruthPerson

__all__ = ["Scenario", "ScenarioFiles", "SourceFile", "Truth", "TruthPerson", "generate", "is_synthetic_name"]
