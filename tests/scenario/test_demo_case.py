"""``build_demo_case`` turns a scenario into a case whose proof matrix has proven and open elements."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from palermo.scenario import Scenario, ScenarioFiles
from palermo.scenario.demo_case import build_demo_case
from palermo.workspace import Workspace


@pytest.fixture(scope="module")
def demo(small: tuple[Scenario, ScenarioFiles],
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, str]]:
    root: Path = tmp_path_factory.mktemp("demo")
    ws = Workspace.init(root / "ws", master_key_file=root / "master.key", actor="test")
    ref = build_demo_case(ws, *small)
    yield ws, ref
    ws.close()


def test_defendants_are_the_controllers_and_recruiters(demo: tuple[Workspace, str],
                                                       small: tuple[Scenario, ScenarioFiles]) -> None:
    ws, ref = demo
    expected = {p["name"] for p in small[0].truth.with_role("controller", "recruiter")}
    assert {p.label for p in ws.parties.list(ref, "defendant")} == expected


def test_victims_are_known_by_pseudonym_with_their_age(demo: tuple[Workspace, str],
                                                       small: tuple[Scenario, ScenarioFiles]) -> None:
    ws, ref = demo
    victims = ws.parties.list(ref, "victim")
    names = {p["name"] for p in small[0].truth.victims}
    assert len(victims) == len(names)
    assert all(v.label.startswith("V-") and v.label not in names and v.has_identity for v in victims)
    assert sorted(v.age_at_offence for v in victims) == sorted(p["age"] for p in small[0].truth.victims)


def test_charges_include_sex_trafficking_and_conspiracy(demo: tuple[Workspace, str]) -> None:
    ws, ref = demo
    offences = Counter(c.offence_id for c in ws.charges.list(ref))
    assert offences["us-18-usc-1591"] >= 6
    assert offences["us-18-usc-1594-c"] == len(ws.parties.list(ref, "defendant"))


def test_every_source_file_is_an_evidence_item(demo: tuple[Workspace, str],
                                               small: tuple[Scenario, ScenarioFiles]) -> None:
    ws, ref = demo
    assert {e.original_filename for e in ws.evidence.list(ref)} == {s.path.name for s in small[1].sources}


def test_proof_matrix_shows_proven_and_open_elements(demo: tuple[Workspace, str]) -> None:
    ws, ref = demo
    statuses = Counter(str(e.status.value) for c in ws.proof.matrix(ref).charges for e in c.elements)
    assert statuses["proven"] > 0 and statuses["open"] > 0
