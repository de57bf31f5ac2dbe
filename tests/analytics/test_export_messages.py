"""The FtM export of messages and ads, against the review of the export-marks work.

Evidence text goes out as the evidence wrote it, except for what the redaction rule replaces, and every
replacement is marked (``[possible victim 3fa2c1]``): a contact saved as ``home`` is no name to look
for in a message. No field of a message or an ad carries a victim's number. By default a message with
a masked or unknown party, and an ad whose contact is masked, go out without their text, as the web
timeline shows them; an audited ``--reveal-identities`` releases the text (scrubbed).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from palermo.analytics.redaction import Redaction, Subject

from .conftest import CASE

VICTIM = "+13055550199"
BOSS, DRIVER = "+13055550111", "+13055550122"
HIM = Subject("ent:aaaaaa1111", "Tomas Boss", "controller", True, ("Tomas Boss",), (BOSS,))


def _her(*names: str) -> Subject:
    return Subject("ent:bbbbbb2222", names[0], "possible_victim", False, names, (VICTIM,))


def test_a_contact_label_is_no_name_to_look_for_in_free_text() -> None:
    """A victim's phone saved as "home" made "home" a masked name: "i want to go home" became "i want
    to go possible victim bb2222", a victim put into a message that never mentioned her."""
    rules = Redaction([HIM, _her("home", "Anna Kowalska")])
    assert rules.scrub("i want to go home") == "i want to go home"
    assert rules.scrub("Mom says: home by 10") == "Mom says: home by 10"
    # her real name is still found, and the substitution is marked as Palermo's
    assert rules.scrub("tell Anna Kowalska to go home") == "tell [possible victim bb2222] to go home"
    assert rules.mask_value("home") == "possible victim bb2222"  # the label alone still stands for her
    assert rules.label("ent:bbbbbb2222", "home") == "possible victim bb2222"


def test_a_recorded_victims_name_is_scrubbed_even_if_it_is_a_common_word() -> None:
    rules = Redaction([HIM], protected=["Home"])
    assert rules.scrub("go home") == "go [victim (protected)]"


def test_every_substitution_in_free_text_is_marked() -> None:
    rules = Redaction([HIM, _her("Anna Kowalska")])
    text = rules.scrub("Anna Kowalska 305 555 0199 or anna@mail.example, boss on (305) 555-0111")
    assert (
        text
        == "[possible victim bb2222] [possible victim bb2222] or [e-mail withheld], boss on (305) 555-0111"
    )


@pytest.mark.parametrize(
    "text", ["line:1:3055550177", "12:line:7:3055550177", "json:$.3055550177", "evidence:1:3055550177"]
)
def test_a_number_in_text_shaped_like_a_palermo_id_is_still_found(text: str) -> None:
    """The whole-value shortcut for Palermo's own ids let ``line:1:3055550199`` out unread."""
    scrubbed = Redaction([HIM]).scrub(text)
    assert "0177" not in scrubbed and "[number withheld]" in scrubbed


@pytest.mark.parametrize("own", ["12:line:123456789", "2025-01-02T09:00:00", "6:json:$.calls[0]"])
def test_palermos_own_values_are_still_left_alone(own: str) -> None:
    assert Redaction([HIM]).scrub(own) == own


def _suspect(con: Any, *numbers: str) -> None:
    """Make the entities of ``numbers`` suspected ring members (as a fuller case's analysis would)."""
    for number in numbers:
        (entity,) = con.execute(
            "SELECT entity_id FROM entity_members WHERE case_ref = ? AND member_key = ?",
            [CASE, f"phone:{number}"],
        ).fetchone()
        con.execute("DELETE FROM entity_roles WHERE case_ref = ? AND entity_id = ?", [CASE, entity])
        con.execute(
            "INSERT INTO entity_roles (case_ref, entity_id, role, ring, reasons) "
            "VALUES (?, ?, 'controller', TRUE, [])",
            [CASE, entity],
        )


def _export(load: Any, con: Any, tmp_path: Path, *, reveal: bool) -> list[dict[str, Any]]:
    """Three days of calls make the boss and the driver a ring; a recorded victim saved as "home"
    messages them, and her number is in an app name, a body, an ad's site and its city."""
    from palermo.analytics.analysis import analyze
    from palermo.cli.export import ftm_mask
    from palermo.ingest.ftm_export import export_entities

    for i in range(3):
        load.add("calls", 1, ts=f"2025-01-0{i + 1} 10:00:00", caller=BOSS, callee=DRIVER)
    load.add("contacts", 4, name="home", phone=VICTIM)
    msg = {"ts": "2025-01-01 11:00:00", "app": "sms"}
    load.add("messages", 2, **msg, sender=BOSS, recipient=DRIVER, body="i want to go home, 305 555 0177")
    load.add(
        "messages", 2, **{**msg, "app": "WhatsApp 305-555-0199"}, sender=VICTIM, recipient=BOSS, body="ok"
    )
    load.add("messages", 2, **msg, sender=BOSS, recipient=VICTIM, body="line:1:3055550199")
    load.add("messages", 2, **msg, sender=None, recipient=BOSS, body="who is this")
    ad = {"ts": "2025-01-02 09:00:00", "price": 150.0, "currency": "USD", "age_claimed": 19}
    load.add(
        "ads",
        3,
        **ad,
        site="escort.example/u/3055550199",
        city="Reno, call 305 555 0199",
        title="new in town",
        body="sweet and discreet",
        phone=VICTIM,
    )
    load.add("ads", 3, **ad, site="ads.example", city="Reno", title="driver wanted", body="call", phone=BOSS)
    analyze(con, CASE)
    _suspect(con, BOSS, DRIVER)
    out = tmp_path / "case.ftm.json"
    mask = ftm_mask(con, CASE, reveal=reveal, protected=[VICTIM])
    export_entities(con, CASE, out, mask=mask, withhold_details=not reveal)
    text = out.read_text(encoding="utf-8")
    assert "0199" not in text  # her number in no field: app, body, site, city
    return [json.loads(line) for line in text.splitlines()]


def _sender_of(entities: list[dict[str, Any]], index: int) -> str:
    return str([e for e in entities if e["schema"] == "Message"][index]["properties"]["sender"][0])


def _bodies(entities: list[dict[str, Any]]) -> list[str]:
    return [e["properties"].get("bodyText", [""])[0] for e in entities if e["schema"] == "Message"]


@pytest.mark.parametrize("reveal", [False, True])
def test_a_message_between_suspects_keeps_its_words(
    load: Any, con: Any, tmp_path: Path, reveal: bool
) -> None:
    bodies = _bodies(_export(load, con, tmp_path, reveal=reveal))
    assert bodies[0] == "i want to go home, [number withheld]"


def test_by_default_a_message_with_a_masked_or_unknown_party_is_withheld(
    load: Any, con: Any, tmp_path: Path
) -> None:
    entities = _export(load, con, tmp_path, reveal=False)
    her = r"(?:possible victim [0-9a-f]{6}|victim \(protected\))"
    withheld = _bodies(entities)[1:]
    assert re.fullmatch(f"message involving {her} → \\+13055550111 \\(details withheld\\)", withheld[0])
    assert re.fullmatch(f"message involving \\+13055550111 → {her} \\(details withheld\\)", withheld[1])
    assert withheld[2] == "message involving an unknown party → +13055550111 (details withheld)"
    ads = [e["properties"] for e in entities if e["schema"] == "Article"]
    assert re.fullmatch(f"ad involving {her} \\(details withheld\\)", ads[0]["title"][0])
    assert "bodyText" not in ads[0] and "sweet" not in json.dumps(entities)
    assert ads[1]["title"] == ["driver wanted"] and ads[1]["bodyText"] == ["call"]  # the boss's own ad


def test_revealed_identities_release_the_text_scrubbed(load: Any, con: Any, tmp_path: Path) -> None:
    entities = _export(load, con, tmp_path, reveal=True)
    # her number reads as her entity's pseudonym in the text as in the fields (one stand-in, not two)
    (her,) = {e["properties"]["name"][0] for e in entities if e["id"] == _sender_of(entities, 1)}
    assert _bodies(entities)[1:] == ["ok", f"line:1:[{her}]", "who is this"]
    ads = [e["properties"] for e in entities if e["schema"] == "Article"]
    assert ads[0]["title"] == ["new in town"] and ads[0]["bodyText"] == ["sweet and discreet"]


@pytest.mark.parametrize("reveal", [False, True])
def test_a_victims_number_in_an_app_site_or_city_is_replaced(
    load: Any, con: Any, tmp_path: Path, reveal: bool
) -> None:
    entities = _export(load, con, tmp_path, reveal=reveal)
    apps = [e["properties"]["generator"][0] for e in entities if e["schema"] == "Message"]
    assert re.fullmatch(r"WhatsApp \[(possible victim [0-9a-f]{6}|victim \(protected\))\]", apps[1])
    ad = next(e["properties"] for e in entities if e["schema"] == "Article")
    assert ad["publisher"][0].startswith("escort.example/u/[") and ad["address"][0].startswith("Reno, call [")


def test_a_withheld_numbers_entity_is_keyed_by_neither_number_nor_stand_in(
    load: Any, con: Any, tmp_path: Path
) -> None:
    """A withheld number's LegalEntity is keyed by the message and side: an id derived from the number
    could be reversed by trying numbers, and one derived from ``[number withheld]`` would join every
    stranger into one hub (from the review's scratch test)."""
    from palermo.analytics.analysis import analyze
    from palermo.cli.export import ftm_mask
    from palermo.ingest.ftm_export import _id, export_entities

    for i in range(3):
        load.add("calls", 1, ts=f"2025-01-0{i + 1} 10:00:00", caller=BOSS, callee=DRIVER)
    for sender, recipient in ((BOSS, VICTIM), ("+13055550177", BOSS), ("+13055550188", BOSS), (VICTIM, BOSS)):
        load.add("messages", 2, ts="2025-01-01 11:00:00", sender=sender, recipient=recipient, body="a")
    analyze(con, CASE)
    _suspect(con, BOSS, DRIVER)  # named, keyed by his number
    out = tmp_path / "s.json"
    export_entities(con, CASE, out, mask=ftm_mask(con, CASE, reveal=False, protected=[VICTIM]))
    entities = [json.loads(line) for line in out.read_text().splitlines()]
    ids = {e["id"] for e in entities}
    names = {e["id"]: e["properties"].get("name", [""])[0] for e in entities}
    sides = [
        p
        for e in entities
        if e["schema"] == "Message"
        for prop in ("sender", "recipients")
        for p in e["properties"].get(prop, [])
    ]
    withheld = [p for p in sides if "+1" not in names[p]]
    assert len(withheld) == len(set(withheld)) == 4  # one entity per message and side
    for number in (VICTIM, "+13055550177", "+13055550188"):
        assert _id(CASE, "phone", number) not in ids
    assert _id(CASE, "phone", "[number withheld]") not in ids
    assert _id(CASE, "phone", BOSS) in ids  # a number that may be shown keys its entity
