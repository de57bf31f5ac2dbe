"""No victim identity in any output that leaves the case store: exports, ``analyze`` and explanations.

A demo case is generated, imported and analysed once per module. The secrets are every victim's
identity as the case store holds it (``ws.parties.reveal_identity``) plus every name, phone, e-mail
and account of the scenario's ground-truth victims, who resolution may split over several entities.
Each output is searched for each secret; a controller must still be named, so masking is not blanket.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from palermo.analytics.redaction import Redaction, Subject, must_mask, pseudonym
from palermo.cli.analyze import redacted
from palermo.cli.main import run
from palermo.scenario import generate
from palermo.workspace import Workspace

from .conftest import ingested_demo


def _name_forms(name: str) -> set[str]:
    parts = name.split()
    return {name, f"{parts[-1]}, {' '.join(parts[:-1])}"} if len(parts) > 1 else {name}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("redaction")
    key = root / "master.key"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PALERMO_MASTER_KEY_FILE", str(key))
        ws, scenario, case_ref = ingested_demo(root, key)
        analytics = ws.analytics
        analytics.analyze(case_ref)
        secrets: set[str] = set()
        for victim in scenario.truth.victims:
            for name in (victim["name"], *victim.get("aliases", [])):
                secrets |= _name_forms(name)
            secrets.update(victim["phones"], victim["emails"], victim["accounts"])
        for party in ws.parties.list(case_ref):
            if party.role == "victim":
                identity = ws.parties.reveal_identity(party.id, user="fixture")
                secrets.update(v for k, v in vars(identity).items() if isinstance(v, str) and k != "party_id")
        con = analytics.connect()
        entity_ids = [
            r[0]
            for r in con.execute("SELECT entity_id FROM entities WHERE case_ref = ?", [case_ref]).fetchall()
        ]
        controller = con.execute(
            "SELECT e.entity_id, e.label FROM entity_roles r JOIN entities e USING (case_ref, entity_id) "
            "WHERE r.case_ref = ? AND r.role = 'controller' ORDER BY e.entity_id LIMIT 1",
            [case_ref],
        ).fetchone()
        explained = [redacted(analytics, case_ref, analytics.explain(case_ref, e), False) for e in entity_ids]
        analytics.close()
        ws.close()
    assert controller is not None
    yield {
        "root": root,
        "key": key,
        "case": case_ref,
        "secrets": {s for s in secrets if s and len(s) >= 4},
        "controller": controller,
        "explained": explained,
    }


def _leaks(text: str, secrets: set[str]) -> list[str]:
    low = text.lower()
    return sorted(s for s in secrets if s.lower() in low)


@pytest.fixture
def cli(demo: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: Any) -> Any:
    monkeypatch.setenv("PALERMO_WORKSPACE", str(demo["root"] / "ws"))
    monkeypatch.setenv("PALERMO_MASTER_KEY_FILE", str(demo["key"]))
    monkeypatch.setenv("COLUMNS", "200")

    def call(*args: str) -> str:
        monkeypatch.setattr(sys, "argv", ["palermo", *args])
        try:
            run()
        except SystemExit as exc:
            assert not exc.code, capsys.readouterr()
        return str(capsys.readouterr().out)

    return call


def test_the_secrets_cover_every_ground_truth_victim(demo: dict[str, Any]) -> None:
    assert len(demo["secrets"]) >= 3 * len(generate(seed=7, scale=1).truth.victims)


def test_ftm_export_names_no_victim(cli: Any, demo: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "case.ftm.json"
    cli("export", "ftm", demo["case"], str(out))
    assert _leaks(out.read_text(encoding="utf-8"), demo["secrets"]) == []


def test_ftm_export_still_names_a_controller(cli: Any, demo: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "case.ftm.json"
    cli("export", "ftm", demo["case"], str(out))
    assert demo["controller"][1] in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", ["gexf", "graphml", "ftm"])
def test_graph_export_names_no_victim(cli: Any, demo: dict[str, Any], tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"net.{fmt}"
    cli("export", "graph", demo["case"], "--format", fmt, "--out", str(out))
    text = out.read_text(encoding="utf-8")
    assert _leaks(text, demo["secrets"]) == [] and demo["controller"][1] in text


def test_revealed_graph_export_still_hides_victims(cli: Any, demo: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "net.graphml"
    cli("export", "graph", demo["case"], "--format", "graphml", "--out", str(out), "--reveal-identities")
    victims = [a for _, a in nx.read_graphml(out).nodes(data=True) if a.get("role") == "possible_victim"]
    assert victims and all(a["label"].startswith("possible victim ") and not a["phones"] for a in victims)


def test_revealing_identities_is_audited(cli: Any, demo: dict[str, Any], tmp_path: Path) -> None:
    cli("export", "ftm", demo["case"], str(tmp_path / "x.json"), "--no-redact")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PALERMO_MASTER_KEY_FILE", str(demo["key"]))
        ws = Workspace.open(demo["root"] / "ws")
        try:
            with ws.ctx.db.read() as session:
                from sqlalchemy import text

                actions = [r[0] for r in session.execute(text("SELECT action FROM audit_events"))]
        finally:
            ws.close()
    assert "analysis.identities.reveal" in actions


def test_analyze_json_names_no_victim(cli: Any, demo: dict[str, Any]) -> None:
    out = cli("analyze", demo["case"], "--json")
    assert _leaks(out, demo["secrets"]) == [] and demo["controller"][1] in out


def test_analyze_for_people_names_no_victim(cli: Any, demo: dict[str, Any]) -> None:
    assert _leaks(cli("analyze", demo["case"]), demo["secrets"]) == []


def test_explanations_of_every_entity_name_no_victim(demo: dict[str, Any]) -> None:
    assert _leaks(json.dumps(demo["explained"], ensure_ascii=False), demo["secrets"]) == []


def test_cli_explain_of_a_masked_entity_shows_its_pseudonym(cli: Any, demo: dict[str, Any]) -> None:
    masked = next(x for x in demo["explained"] if x["summary"].startswith(("person ", "possible victim ")))
    out = json.loads(cli("analyze", demo["case"], "--explain", masked["item_id"], "--json"))
    assert out["summary"] == masked["summary"] and _leaks(json.dumps(out), demo["secrets"]) == []


def test_possible_victims_are_masked_even_when_identities_are_revealed() -> None:
    assert must_mask("possible_victim", False, reveal=True)


def test_unsuspected_people_are_masked_unless_revealed() -> None:
    assert must_mask(None, False, reveal=False) and not must_mask(None, False, reveal=True)


def test_suspects_are_named() -> None:
    assert not must_mask("controller", False, reveal=False) and not must_mask(None, True, reveal=False)


def test_unknown_entities_are_masked() -> None:
    assert Redaction([], reveal=True).masked("ent:0000000000")


def test_a_split_off_part_of_a_possible_victim_stays_masked_when_revealed() -> None:
    rules = Redaction(
        [
            Subject("ent:aaaaaa1111", "Corliel Marilberg", "possible_victim", False, (), ("+15555550101",)),
            Subject("ent:bbbbbb2222", "Marilberg, Corliel", None, False, (), ("US00BANK0001",)),
        ],
        reveal=True,
    )
    assert rules.display("ent:bbbbbb2222") == pseudonym("ent:bbbbbb2222", "possible_victim")


def test_scrub_replaces_names_in_either_order_and_reformatted_phones() -> None:
    rules = Redaction([Subject("ent:aaaaaa1111", "Marilberg, Corliel", None, False, (), ("+15555550101",))])
    text = rules.scrub("Corliel Marilberg called (555) 555-0101")
    assert "Marilberg" not in text and "0101" not in text and "person aa1111" in text


def test_imported_ftm_people_are_masked_by_the_exporters_mask(load: Any, con: Any, tmp_path: Path) -> None:
    from palermo.ingest.ftm_export import export_entities

    props = {"name": ["Corliel Marilberg"], "phone": ["+15555550101"], "nationality": ["us"]}
    load.add("ftm_entities", 1, entity_id="p1", schema="Person", caption="x", properties=json.dumps(props))
    rules = Redaction([Subject("ent:aaaaaa1111", "Marilberg, Corliel", None, False, (), ("+15555550101",))])
    out = tmp_path / "out.json"
    export_entities(con, load.case_ref, out, mask=lambda _kind, value: rules.mask_value(value))
    person = json.loads(out.read_text(encoding="utf-8"))["properties"]
    assert person == {"name": ["person aa1111"], "nationality": ["us"]}
