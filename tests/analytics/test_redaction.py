"""No victim identity in any output that leaves the case store: exports, ``analyze`` and explanations.

A demo case is generated, imported and analysed once per module. The secrets are every victim's
identity as the case store holds it (``ws.parties.reveal_identity``) plus every name, phone, e-mail
and account of the scenario's ground-truth victims, who resolution may split over several entities.
Each output is searched for each secret; a controller must still be named, so masking is not blanket.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from palermo.analytics.redaction import (
    PROTECTED,
    WITHHELD_EMAIL,
    WITHHELD_NUMBER,
    Redaction,
    Subject,
    must_mask,
    pseudonym,
)
from palermo.cli.analyze import redacted
from palermo.cli.main import run
from palermo.scenario import generate
from palermo.workspace import Workspace

from .conftest import CASE, ingested_demo


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
        recorded: set[str] = set()
        for party in ws.parties.list(case_ref):
            if party.role == "victim":
                identity = ws.parties.reveal_identity(party.id, user="fixture")
                recorded.update(
                    v for k, v in vars(identity).items() if isinstance(v, str) and k != "party_id"
                )
        secrets |= recorded
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
        # what the case store records of its victims, minus the birth date (a date like any other)
        "recorded": {s for s in recorded if s and len(s) >= 4 and not s[:4].isdigit()},
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
    cli("export", "ftm", demo["case"], "--recipient", "test desk", str(out))
    assert _leaks(out.read_text(encoding="utf-8"), demo["secrets"]) == []


def test_ftm_export_still_names_a_controller(cli: Any, demo: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "case.ftm.json"
    cli("export", "ftm", demo["case"], "--recipient", "test desk", str(out))
    assert demo["controller"][1] in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", ["gexf", "graphml", "ftm"])
def test_graph_export_names_no_victim(cli: Any, demo: dict[str, Any], tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"net.{fmt}"
    cli("export", "graph", demo["case"], "--recipient", "test desk", "--format", fmt, "--out", str(out))
    text = out.read_text(encoding="utf-8")
    assert _leaks(text, demo["secrets"]) == [] and demo["controller"][1] in text


def test_revealed_graph_export_still_hides_victims(cli: Any, demo: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "net.graphml"
    cli(
        "export",
        "graph",
        demo["case"],
        "--recipient",
        "test desk",
        "--format",
        "graphml",
        "--out",
        str(out),
        "--reveal-identities",
    )
    victims = [a for _, a in nx.read_graphml(out).nodes(data=True) if a.get("role") == "possible_victim"]
    assert victims and all(a["label"].startswith("possible victim ") and not a["phones"] for a in victims)


def test_revealing_identities_is_audited(cli: Any, demo: dict[str, Any], tmp_path: Path) -> None:
    cli("export", "ftm", demo["case"], "--recipient", "test desk", str(tmp_path / "x.json"), "--no-redact")
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
    masked = next(x for x in demo["explained"] if x["summary"].startswith(("[person ", "[possible victim ")))
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


# --- free text: numbers and addresses of nobody who may be named are withheld (deny by default) ---

_BOSS = Subject("ent:aaaaaa1111", "Cara Boss", "controller", True, (), ("+13055552591", "boss@example.org"))
_VICTIM = Subject(
    "ent:bbbbbb2222", "Vi Victim", "possible_victim", False, (), ("+17865550134", "vi@example.org")
)


def test_a_number_nobody_resolved_is_withheld_in_free_text() -> None:
    rules = Redaction([_BOSS, _VICTIM], reveal=True)
    text = rules.scrub("her other phone is 415 555 0199, or +44 7700 900123, or 555-0142")
    assert "0199" not in text and "900123" not in text and "0142" not in text
    assert text.count(WITHHELD_NUMBER) == 3


def test_a_named_suspects_number_stays_in_any_spelling_and_a_victims_becomes_her_pseudonym() -> None:
    rules = Redaction([_BOSS, _VICTIM])
    text = rules.scrub("call (305) 555-2591, she is on 786.555.0134 or 7 8 6 5 5 5 0 1 3 4")
    assert text == "call (305) 555-2591, she is on [possible victim bb2222] or [possible victim bb2222]"


def test_an_address_nobody_resolved_is_withheld_and_a_named_suspects_stays() -> None:
    rules = Redaction([_BOSS, _VICTIM])
    text = rules.scrub("write to Boss@Example.org, vi@example.org or her.sister@mail.example")
    assert text == f"write to Boss@Example.org, [possible victim bb2222] or {WITHHELD_EMAIL}"


def test_scrub_contacts_leaves_names_and_handles_numbers_and_addresses() -> None:
    rules = Redaction([_BOSS, _VICTIM])
    text = rules.scrub_contacts(
        "Vi Victim: 786-555-0134, vi@example.org, 305 555 2591, 415 555 0199, x@y.example"
    )
    assert text == (
        "Vi Victim: [possible victim bb2222], [possible victim bb2222], 305 555 2591, "
        f"{WITHHELD_NUMBER}, {WITHHELD_EMAIL}"
    )


def test_a_number_a_victim_and_a_suspect_share_counts_as_hers() -> None:
    shared = Subject("ent:cccccc3333", "Dee Driver", "driver", False, (), ("+17865550134",))
    assert "0134" not in Redaction([_VICTIM, shared]).scrub("pick up at 7865550134")


@pytest.mark.parametrize(
    "own",
    [
        "3:line:1004430:2",
        "12:sheet:Statements!row:2345678",
        "e:8612345678ab",
        "ent:1234567890",
        "hit:0a12345678",
        "jdg:1234567a9012 (same) is set aside",
        "9f8612345678ab9f8612345678ab5c1d",
        "550e8400-e29b-41d4-a716-446655440000",
        "2026-11-29T08:26:06",
        "2026-11-29 08:26:06+00:00",
        "paid 1250000.00 USD",
        "GB82WEST12345698765432",
    ],
)
def test_palermos_own_ids_digests_times_and_amounts_are_not_numbers(own: str) -> None:
    assert Redaction([_BOSS, _VICTIM]).scrub(own) == own


def test_redacted_explanations_show_only_named_peoples_numbers(demo: dict[str, Any]) -> None:
    """Every phone number left in the redacted explanation of every entity (statements, message
    bodies, ad texts) is a number of an entity the rule names: nothing unattributed gets through."""
    from phonenumbers import Leniency, PhoneNumberMatcher

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PALERMO_MASTER_KEY_FILE", str(demo["key"]))
        ws = Workspace.open(demo["root"] / "ws")
        try:
            analytics = ws.analytics
            rules = Redaction.from_connection(analytics.connect(), demo["case"])
            phones = (
                analytics.connect()
                .execute("SELECT entity_id, phones FROM entities WHERE case_ref = ?", [demo["case"]])
                .fetchall()
            )
            analytics.close()
        finally:
            ws.close()
    named = {p[-9:] for eid, ps in phones if not rules.masked(eid) for p in (ps or ())}
    assert named, "the demo names no suspect with a phone: the check would be empty"
    strings = [s for s in _strings(demo["explained"]) if not re.fullmatch(r"(?:e|ent|hit|lead):[0-9a-z]+", s)]
    found = [
        m.raw_string
        for s in strings
        for m in PhoneNumberMatcher(s, "US", leniency=Leniency.POSSIBLE)
        if "".join(ch for ch in m.raw_string if ch.isdigit())[-9:] not in named
        and not s[max(0, m.start - 5) : m.start].endswith(("line:", "row:"))
    ]
    assert len(strings) > 1000 and found == []
    assert any(WITHHELD_NUMBER in s or "possible victim " in s for s in strings)


def _strings(data: Any) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, list | tuple):
        for value in data:
            yield from _strings(value)


@pytest.mark.parametrize("reveal", [False, True])
def test_an_unresolved_number_in_a_payment_purpose_is_withheld_from_the_ftm_export(
    load: Any, con: Any, tmp_path: Path, reveal: bool
) -> None:
    """A payment's purpose gives a number and an address nobody in the case has. Whether or not
    identities are revealed, the exported FtM Payment names neither; revealed, the payer is named."""
    from palermo.analytics.analysis import analyze
    from palermo.cli.export import ftm_mask
    from palermo.ingest.ftm_export import export_entities

    for i in range(3):
        load.add(
            "payments",
            1,
            ts=f"2025-01-0{i + 1} 10:00:00",
            from_account="US00BANK0111",
            from_name="Dorin Payer",
            to_account="US00BANK0122",
            to_name="Elsa Payee",
            amount=125.5,
            currency="USD",
            channel="transfer",
            description="room, her new number 786 555 0199, write to sis.new@mail.example",
        )
    analyze(con, CASE)
    out = tmp_path / "case.ftm.json"
    export_entities(con, CASE, out, mask=ftm_mask(con, CASE, reveal=reveal))
    text = out.read_text(encoding="utf-8")
    purposes = [p for line in text.splitlines() for p in json.loads(line)["properties"].get("purpose", [])]
    assert len(purposes) == 3 and "0199" not in text and "sis.new" not in text
    assert all(WITHHELD_NUMBER in p and WITHHELD_EMAIL in p and p.startswith("room, ") for p in purposes)
    assert ("Dorin Payer" in text) is reveal  # unsuspected: named only when identities are revealed


def test_names_are_replaced_as_whole_words_in_any_order_and_normalised() -> None:
    rules = Redaction(
        [
            Subject("ent:aaaaaa1111", "Loro", "possible_victim", False, (), ()),
            Subject("ent:bbbbbb2222", "A. Torenton", None, False, (), ()),
            Subject("ent:cccccc3333", "RENT GALIBERG & MORSKI APTS", None, False, (), ("US00BANK0001",)),
        ]
    )
    assert rules.scrub("Loromi Ordaada met Loro") == "Loromi Ordaada met [possible victim aa1111]"
    assert rules.scrub("part:person 5d249e:a torenton") == "part:person 5d249e:[person bb2222]"
    assert rules.scrub("name:rent galiberg morski apts") == "name:[person cc3333]"
    assert rules.scrub("paid to US00BANK0001.") == "paid to [person cc3333]."


def test_a_masked_imported_person_keeps_no_detail_and_loses_her_address_and_papers(
    load: Any, con: Any, tmp_path: Path
) -> None:
    """Deny by default: her name is withheld, so is every other fact about her (first and last name,
    birth date, passport, address), and the Address and Passport entities that describe her."""
    from palermo.ingest.ftm_export import export_entities

    person = {
        "name": ["Corliel Marilberg"],
        "firstName": ["Corliel"],
        "lastName": ["Marilberg"],
        "birthDate": ["2007-04-02"],
        "passportNumber": ["X1234567"],
        "address": ["12 Synthetic Lane, Springfield"],
        "addressEntity": ["addr-1"],
        "nationality": ["us"],
    }
    entities = {
        "p1": ("Person", person),
        "addr-1": ("Address", {"full": ["12 Synthetic Lane, Springfield"]}),
        "pass-1": ("Passport", {"holder": ["p1"], "number": ["X1234567"], "country": ["us"]}),
        "addr-2": ("Address", {"full": ["1 Harbour Road, Springfield"]}),
    }
    for entity_id, (schema, props) in entities.items():
        load.add(
            "ftm_entities", 1, entity_id=entity_id, schema=schema, caption="x", properties=json.dumps(props)
        )
    rules = Redaction([Subject("ent:aaaaaa1111", "Marilberg, Corliel", None, False, (), ("+15555550101",))])
    out = tmp_path / "out.json"
    export_entities(con, load.case_ref, out, mask=lambda _kind, value: rules.mask_value(value))
    text = out.read_text(encoding="utf-8")
    written = {e["id"]: e["properties"] for e in map(json.loads, text.splitlines())}
    assert written["p1"] == {"name": ["person aa1111"], "nationality": ["us"]}
    assert "addr-1" not in written and "pass-1" not in written and "addr-2" in written
    assert not any(s in text for s in ("Corliel", "Marilberg", "X1234567", "Synthetic", "2007-04-02"))


_ANNA = Subject("ent:dddddd4444", "Anna Kowalska", "possible_victim", False, ("Anna",), ("+12125550199",))
_MARCO = Subject("ent:eeeeee5555", "Marco Rossi", "controller", True, (), ("marco.rossi@example.com",))
_OTHER_MARCO = Subject("ent:ffffff6666", "Marco", None, False, (), ())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Anna's phone", "[possible victim dd4444]'s phone"),
        ("#Anna", "#[possible victim dd4444]"),
        ("Anna-Maria", "[possible victim dd4444]-Maria"),
        ("ANNA\u2014see you", "[possible victim dd4444]\u2014see you"),
        ("@anna_k", "@[possible victim dd4444]_k"),
        ("Ada-2125550199", "Ada-[possible victim dd4444]"),
        ("2125550199-Bea", "[possible victim dd4444]-Bea"),
        ("line:2125550199", "line:[possible victim dd4444]"),
        ("call Ada-2125550177 now", f"call Ada-{WITHHELD_NUMBER} now"),
    ],
)
def test_a_victims_name_or_number_is_found_next_to_any_punctuation(text: str, expected: str) -> None:
    assert Redaction([_ANNA, _MARCO]).scrub(text) == expected


def test_a_named_suspects_name_and_address_survive_a_masked_namesake() -> None:
    rules = Redaction([_MARCO, _OTHER_MARCO])
    assert rules.scrub("Marco Rossi met Marco; write marco.rossi@example.com") == (
        "Marco Rossi met [person ff6666]; write marco.rossi@example.com"
    )
    shown = rules.tree({"entity_id": "ent:eeeeee5555", "label": "Marco Rossi", "reasons": ["calls Marco"]})
    assert shown == {
        "entity_id": "ent:eeeeee5555",
        "label": "Marco Rossi",
        "reasons": ["calls [person ff6666]"],
    }


@pytest.mark.parametrize(
    "own",
    ["3:json:$.calls[1234567]", "evidence:3:json:$.messages[1234567] (withheld)", "5:jsonl:line:123456789"],
)
def test_locators_of_every_shape_survive(own: str) -> None:
    assert Redaction([_ANNA]).scrub(own) == own


def test_only_names_of_entities_that_may_be_named_may_be_named() -> None:
    rules = Redaction([_ANNA, _MARCO])
    assert rules.may_name("Rossi, Marco") and not rules.may_name("Anna Kowalska")
    assert not rules.may_name("Jane Synthetic")  # nobody the analysis knows: deny by default


def test_an_imported_person_nobody_resolved_is_withheld_with_her_address(
    load: Any, con: Any, tmp_path: Path
) -> None:
    """No phone, no account: the analysis never met her, so nothing says she may be named."""
    from palermo.analytics.analysis import analyze
    from palermo.cli.export import ftm_mask
    from palermo.ingest.ftm_export import export_entities

    person = {
        "name": ["Jane Synthetic"],
        "birthDate": ["2008-01-02"],
        "passportNumber": ["Z9999999"],
        "addressEntity": ["addr-9"],
    }
    load.add("ftm_entities", 1, entity_id="p9", schema="Person", caption="-", properties=json.dumps(person))
    home = json.dumps({"full": ["7 Fake Street"]})
    load.add("ftm_entities", 1, entity_id="addr-9", schema="Address", caption="-", properties=home)
    for i in range(3):
        load.add("calls", 2, ts=f"2025-01-0{i + 1} 10:00:00", caller="+13055550111", callee="+13055550122")
    analyze(con, CASE)
    out = tmp_path / "o.json"
    export_entities(con, CASE, out, mask=ftm_mask(con, CASE, reveal=False))
    text = out.read_text(encoding="utf-8")
    assert not any(s in text for s in ("Jane", "Synthetic", "2008-01-02", "Z9999999", "Fake Street"))
    assert '"person (withheld)"' in text


def test_a_fragment_of_a_masked_person_and_her_family_leave_nothing(
    load: Any, con: Any, tmp_path: Path
) -> None:
    """Fragments are merged before the rule is applied, and her relatives go with her."""
    from palermo.ingest.ftm_export import export_entities

    fragments = [
        ("p1", "Person", {"name": ["Corliel Marilberg"]}),
        ("p1", "Person", {"birthDate": ["2007-04-02"], "passportNumber": ["X1234567"]}),
        ("f1", "Family", {"person": ["p1"], "relative": ["p2"], "relationship": ["mother"]}),
    ]
    for entity_id, schema, props in fragments:
        row = {"entity_id": entity_id, "schema": schema, "caption": "-", "properties": json.dumps(props)}
        load.add("ftm_entities", 1, **row)
    rules = Redaction([Subject("ent:aaaaaa1111", "Marilberg, Corliel", None, False, (), ("+15555550101",))])
    out = tmp_path / "out.json"
    export_entities(con, load.case_ref, out, mask=lambda _kind, value: rules.mask_value(value))
    written = {e["id"]: e for e in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert written["p1"]["properties"] == {"name": ["person aa1111"]} and "f1" not in written


def test_revealed_outputs_still_hide_every_recorded_victim(
    cli: Any, demo: dict[str, Any], tmp_path: Path
) -> None:
    """Revealing identities names unsuspected people, never a victim the case store records, even
    one the analysis did not label (her entity is a nickname, her account is under another name)."""
    assert demo["recorded"]
    outputs = [cli("analyze", demo["case"], "--json", "--reveal-identities")]
    for fmt in ("graphml", "ftm"):
        out = tmp_path / f"net.{fmt}"
        cli(
            "export",
            "graph",
            demo["case"],
            "--recipient",
            "test desk",
            "--format",
            fmt,
            "--out",
            str(out),
            "--reveal-identities",
        )
        outputs.append(out.read_text(encoding="utf-8"))
    cli(
        "export",
        "ftm",
        demo["case"],
        "--recipient",
        "test desk",
        str(tmp_path / "case.json"),
        "--reveal-identities",
    )
    outputs.append((tmp_path / "case.json").read_text(encoding="utf-8"))
    assert [_leaks(text, demo["recorded"]) for text in outputs] == [[], [], [], []]


def test_a_recorded_victims_name_and_account_under_a_suspect_are_not_shown() -> None:
    """One payment named her beside the controller's account: resolution gave his entity her name."""
    boss = Subject(
        "ent:aaaaaa1111", "T boss", "controller", True, ("T boss", "Marilberg, Corliel"), ("US11VICTIM001",)
    )
    stranger = Subject("ent:bbbbbb2222", "Corl", None, False, ("Corl",), ("+17255559527",))
    rules = Redaction([boss, stranger], reveal=True, protected=["Corliel Marilberg", "+1 725 555 9527"])
    assert rules.masked("ent:bbbbbb2222") and rules.role("ent:bbbbbb2222") == "possible_victim"
    shown = rules.tree({"entity_id": "ent:aaaaaa1111", "label": "T boss", "names": list(boss.names)})
    assert shown == {"entity_id": "ent:aaaaaa1111", "label": "T boss", "names": ["T boss"]}
    # her number is her entity's (the recorded number made it a possible victim's): its pseudonym
    assert (
        rules.scrub("paid by Corliel Marilberg, 725-555-9527")
        == f"paid by [{PROTECTED}], [possible victim bb2222]"
    )


def test_a_recorded_contact_and_address_are_protected_part_by_part() -> None:
    """A contact field may hold a number and an address; an address a postcode of seven digits."""
    ids = ("+14045559768", "anna.bell@mail.example")
    boss = Subject("ent:aaaaaa1111", "T boss", "controller", True, (), ids)
    recorded = ["+1 404 555 9768, anna.bell@mail.example", "12 Elm Street, Springfield IL 6270412"]
    rules = Redaction([boss], protected=recorded)
    assert rules.shown([*ids, "US11BANK0001"]) == ["US11BANK0001"]
    home = rules.scrub("she lives at 12 Elm Street, Springfield IL 6270412")
    assert home.startswith(f"she lives at [{PROTECTED}]") and not any(w in home for w in ("Elm", "6270412"))
    assert rules.scrub("room at 12 Elm Street") == f"room at [{PROTECTED}]"
    # her street is hers at any house number; a street of one word alone is too common a word to guard
    assert rules.scrub("moved to 22 Elm Street, top floor") == f"moved to 22 [{PROTECTED}], top floor"
    assert rules.scrub("the street was quiet") == "the street was quiet"


@pytest.mark.parametrize(
    ("recorded", "text", "shown"),
    [
        ("Apt 4B, 12 Elm Street, Springfield", "22 Elm Street", f"22 [{PROTECTED}]"),
        ("12 Elm Street Apt 3, Springfield", "22 Elm Street", f"22 [{PROTECTED}]"),
        ("12 Elm Street Springfield IL 62704", "at 22 Elm Street", f"at 22 [{PROTECTED}]"),
        ("5 rue de la Paix، Paris", "au 12 rue de la Paix", f"au 12 [{PROTECTED}]"),
        ("Hauptstraße 5, 10115 Berlin", "Hauptstraße 7", f"[{PROTECTED}] 7"),
        ("350 5th Avenue, New York", "on 5th Avenue", f"on [{PROTECTED}]"),
        # generic words alone name no street: other people's addresses stay as they are
        ("PO Box 12, Springfield", "PO Box 99", "PO Box 99"),
        ("1 A Street, Springfield", "she walked down a street", "she walked down a street"),
        ("10 The Avenue, Springfield", "along the avenue", "along the avenue"),
    ],
)
def test_a_recorded_victims_street_is_protected_at_any_number(recorded: str, text: str, shown: str) -> None:
    boss = Subject("ent:aaaaaa1111", "T boss", "controller", True, (), ())
    assert Redaction([boss], protected=[recorded]).scrub(text) == shown


def test_statement_ids_inside_text_keep_their_line_numbers() -> None:
    text = "stmt 4:line:1004430 and sheet:Statement!row:1250001, see line:1004431"
    assert Redaction([_ANNA]).scrub(text) == text


VICTIM_PHONE = "+13055550199"
#: What her number becomes: her entity's pseudonym (the recorded number makes it a possible victim), or in
#: free text the recorded victim's stand-in
HER = r"(?:possible victim [0-9a-f]{6}|victim \(protected\))"


def _stream_with_messages_and_ads(
    load: Any, con: Any, tmp_path: Path, *, reveal: bool
) -> list[dict[str, Any]]:
    """Two people message each other and a recorded victim; an ad gives her number and another's."""
    from palermo.analytics.analysis import analyze
    from palermo.cli.export import ftm_mask
    from palermo.ingest.ftm_export import export_entities

    for i in range(3):
        load.add("calls", 1, ts=f"2025-01-0{i + 1} 10:00:00", caller="+13055550111", callee="+13055550122")
        load.add(
            "messages",
            2,
            ts=f"2025-01-0{i + 1} 11:00:00",
            sender="+13055550111",
            recipient="+13055550122" if i else VICTIM_PHONE,
            body="drive her to Reno, her number is 305 555 0199",
            app="WhatsApp",
        )
    load.add(
        "ads",
        3,
        ts="2025-01-02 09:00:00",
        site="classifieds.example",
        city="Reno",
        title="new in town, call 305-555-0199",
        body="text 305 555 0199 or +13055550111",
        phone=VICTIM_PHONE,
        email="new.girl@mail.example",
        price=150.0,
        currency="USD",
        age_claimed=19,
    )
    analyze(con, CASE)
    out = tmp_path / "case.ftm.json"
    mask = ftm_mask(con, CASE, reveal=reveal, protected=[VICTIM_PHONE])
    export_entities(con, CASE, out, mask=mask, withhold_details=not reveal)  # as `palermo export ftm`
    text = out.read_text(encoding="utf-8")
    assert "0199" not in text and "new.girl" not in text  # her number and address, nowhere
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.parametrize("reveal", [False, True])
def test_messages_are_exported_with_their_people_and_a_victims_number_nowhere(
    load: Any, con: Any, tmp_path: Path, reveal: bool
) -> None:
    entities = _stream_with_messages_and_ads(load, con, tmp_path, reveal=reveal)
    by_id = {e["id"]: e for e in entities}
    messages = [e for e in entities if e["schema"] == "Message"]
    assert len(messages) == 3
    for message in messages:
        props = message["properties"]
        assert props["generator"] == ["WhatsApp"] and props["recordId"][0].startswith("evidence:2:line:")
        if reveal:  # released, scrubbed
            assert props["bodyText"][0].startswith("drive her to Reno, her number is [")
        else:  # nobody in it is suspected: withheld, as the web timeline withholds it
            assert re.fullmatch(r"message involving .+ → .+ \(details withheld\)", props["bodyText"][0])
        sender = by_id[props["sender"][0]]
        assert sender["schema"] == "LegalEntity" and by_id[props["recipients"][0]]["schema"] == "LegalEntity"
        assert ("+13055550111" in sender["properties"].get("phone", [])) is reveal  # unsuspected
    to_her = by_id[
        messages[0]["properties"]["recipients"][0]
    ]  # her number is her entity's: a possible victim
    assert list(to_her["properties"]) == ["name"] and re.fullmatch(HER, to_her["properties"]["name"][0])


@pytest.mark.parametrize("reveal", [False, True])
def test_ads_are_exported_as_articles_without_a_victims_contact(
    load: Any, con: Any, tmp_path: Path, reveal: bool
) -> None:
    (ad,) = [
        e
        for e in _stream_with_messages_and_ads(load, con, tmp_path, reveal=reveal)
        if e["schema"] == "Article"
    ]
    props = ad["properties"]
    assert props["publisher"] == ["classifieds.example"] and props["address"] == ["Reno"]
    assert props["publishedAt"] == ["2025-01-02T09:00:00"] and props["summary"] == [
        "price 150 USD; claimed age 19"
    ]
    if reveal:
        assert re.fullmatch(f"new in town, call \\[{HER}\\]", props["title"][0])
        assert "+13055550111" in props["bodyText"][0]  # an unsuspected man named when revealed
    else:  # her ad: title and text withheld
        assert re.fullmatch(f"ad involving {HER} \\(details withheld\\)", props["title"][0])
        assert "bodyText" not in props
    assert "phoneMentioned" not in props
    assert {n.split(": ")[0] for n in props["notes"] if re.fullmatch(f"(phone|email): {HER}", n)} == {
        "phone",
        "email",
    }
    assert "emailMentioned" not in props and any("evidence:3:line:" in n for n in props["notes"])
