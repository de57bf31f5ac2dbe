"""The timeline and network, as an analyst sees them, name no victim of the demo case.

The analyst lacks the victim-identity permission, so only suspects may be named: every victim
identity in the case store and every name/phone/e-mail/account of the scenario's ground-truth
victims must be absent from the timeline page and API, while a controller is still named.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from palermo.scenario import generate

from .conftest import PASSWORD, csrf, login


@dataclass(frozen=True)
class Demo:
    client: TestClient
    case_ref: str
    secrets: frozenset[str]
    controller: str
    named_numbers: frozenset[str]  # last nine digits of every phone of an entity an analyst may see named
    prosecutor: TestClient  # holds the victim-identity permission: possible victims stay masked all the same
    victim_numbers: frozenset[str]  # every phone of an entity the analysis labels a possible victim
    recorded: frozenset[str]  # what the case store records of its victims (name, contact, address)
    ws: Any


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    from palermo.cli.demo import build_demo
    from palermo.web.app import create_app
    from palermo.web.deps import release_analytics

    root = tmp_path_factory.mktemp("redaction")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PALERMO_MASTER_KEY_FILE", str(root / "keys" / "master.key"))
        mp.delenv("PALERMO_DATABASE_URL", raising=False)
        made = build_demo(root / "ws", seed=7, scale=1.0)
        ws = made.workspace
        ws.users.add("ana", PASSWORD, "analyst")
        ws.users.add_member(made.case_ref, "ana")
        ws.users.add("pam", PASSWORD, "prosecutor")
        ws.users.add_member(made.case_ref, "pam")
        secrets: set[str] = set()
        recorded: set[str] = set()
        for victim in generate(seed=7, scale=1).truth.victims:
            parts = victim["name"].split()
            secrets |= {victim["name"], f"{parts[-1]}, {' '.join(parts[:-1])}", *victim.get("aliases", [])}
            secrets.update(victim["phones"], victim["emails"], victim["accounts"])
        for party in ws.parties.list(made.case_ref):
            if party.role == "victim":
                identity = ws.parties.reveal_identity(party.id, user="fixture")
                recorded.update(
                    v for k, v in vars(identity).items() if isinstance(v, str) and k != "party_id"
                )
        secrets |= recorded
        row = (
            ws.analytics.connect()
            .execute(
                "SELECT e.label FROM entity_roles r JOIN entities e USING (case_ref, entity_id) "
                "WHERE r.case_ref = ? AND r.role = 'controller' ORDER BY e.entity_id LIMIT 1",
                [made.case_ref],
            )
            .fetchone()
        )
        assert row is not None
        from palermo.analytics.redaction import Redaction

        con = ws.analytics.connect()
        rules = Redaction.from_connection(con, made.case_ref)
        phones = con.execute("SELECT entity_id, phones FROM entities WHERE case_ref = ?", [made.case_ref])
        named = frozenset(p[-9:] for eid, ps in phones.fetchall() if not rules.masked(eid) for p in ps or ())
        victim_numbers = frozenset(
            p
            for (ps,) in con.execute(
                "SELECT e.phones FROM entities e JOIN entity_roles r USING (case_ref, entity_id) "
                "WHERE e.case_ref = ? AND r.role = 'possible_victim'",
                [made.case_ref],
            ).fetchall()
            for p in ps or ()
        )
        assert victim_numbers
        app = create_app(ws)
        with (
            TestClient(app, raise_server_exceptions=False) as client,
            TestClient(app, raise_server_exceptions=False) as prosecutor,
        ):
            login(client, "ana")
            login(prosecutor, "pam")
            kept = frozenset(s for s in secrets if len(s) >= 4)
            # the birth date is a date like any other
            guarded = frozenset(s for s in recorded if len(s) >= 4 and not s[:4].isdigit())
            yield Demo(
                client, made.case_ref, kept, str(row[0]), named, prosecutor, victim_numbers, guarded, ws
            )
        release_analytics(ws)
        ws.close()


def _leaks(text: str, secrets: frozenset[str]) -> list[str]:
    low = text.lower()
    return sorted(s for s in secrets if s.lower() in low)


def test_timeline_api_names_no_victim_to_an_analyst(demo: Demo) -> None:
    response = demo.client.get(f"/api/v1/cases/{demo.case_ref}/timeline?limit=5000")
    assert response.status_code == 200 and _leaks(response.text, demo.secrets) == []


def test_timeline_page_names_no_victim_to_an_analyst(demo: Demo) -> None:
    response = demo.client.get(f"/cases/{demo.case_ref}/timeline")
    assert response.status_code == 200 and _leaks(response.text, demo.secrets) == []


def test_timeline_still_names_a_controller(demo: Demo) -> None:
    events = demo.client.get(f"/api/v1/cases/{demo.case_ref}/timeline?limit=5000").json()
    assert any(demo.controller in e["summary"] for e in events)


def test_timeline_quotes_some_events_in_full(demo: Demo) -> None:
    events = demo.client.get(f"/api/v1/cases/{demo.case_ref}/timeline?limit=5000").json()
    withheld = [e for e in events if "details withheld" in e["summary"]]
    assert withheld and len(withheld) < len(events)


def test_network_names_no_victim_but_names_a_controller(demo: Demo) -> None:
    response = demo.client.get(f"/api/v1/cases/{demo.case_ref}/network?limit=2000")
    assert _leaks(response.text, demo.secrets) == [] and demo.controller in response.text


def test_timeline_quotes_only_named_peoples_numbers(demo: Demo) -> None:
    """A row quoted in full involves only people who may be named, but its text (an ad's title, a
    payment's purpose) could give anybody's number: only named people's numbers may be left in it."""
    from phonenumbers import Leniency, PhoneNumberMatcher

    events = demo.client.get(f"/api/v1/cases/{demo.case_ref}/timeline?limit=5000").json()
    quoted = [e["summary"] for e in events if "details withheld" not in e["summary"]]
    keys = [
        "".join(ch for ch in m.raw_string if ch.isdigit())[-9:]
        for text in quoted
        for m in PhoneNumberMatcher(text, "US", leniency=Leniency.POSSIBLE)
    ]
    assert keys, "no number quoted at all: a suspect's calls should be"
    assert [k for k in keys if k not in demo.named_numbers] == []


def test_dashboard_names_no_victim_among_the_key_players(demo: Demo) -> None:
    response = demo.client.get(f"/cases/{demo.case_ref}")
    assert response.status_code == 200 and "Key players" in response.text
    assert _leaks(response.text, demo.secrets) == [] and "possible victim " in response.text


@pytest.mark.parametrize("role", ["viewer", "victim_advocate", "liaison"])
def test_the_dashboard_shows_key_players_only_to_roles_that_may_read_the_analysis(
    demo: Demo, role: str
) -> None:
    """The key players API and the network refuse a viewer, an advocate and a liaison; the dashboard
    showed them the same key players all the same (suspects' numbers, victims' pseudonyms)."""
    from palermo.web.routes.cases import NO_ANALYTICS

    players = demo.client.get(f"/api/v1/cases/{demo.case_ref}/key-players?top=8").json()
    username = f"u-{role}"
    demo.ws.users.add(username, PASSWORD, role)
    demo.ws.users.add_member(demo.case_ref, username)
    with TestClient(demo.client.app, raise_server_exceptions=False) as other:
        login(other, username)
        assert other.get(f"/api/v1/cases/{demo.case_ref}/key-players").status_code == 403
        page = other.get(f"/cases/{demo.case_ref}")
    assert page.status_code == 200 and NO_ANALYTICS.split(":")[0] in page.text
    assert [p["label"] for p in players if p["label"] in page.text] == []


def test_key_players_api_names_no_victim_but_names_a_controller(demo: Demo) -> None:
    response = demo.client.get(f"/api/v1/cases/{demo.case_ref}/key-players?top=100")
    assert response.status_code == 200 and _leaks(response.text, demo.secrets) == []
    assert demo.controller in response.text


def test_explanations_of_the_key_players_name_no_victim(demo: Demo) -> None:
    """A controller's explanation is shown in full, and its links go through victims' phones."""
    players = demo.client.get(f"/api/v1/cases/{demo.case_ref}/key-players?top=100").json()
    texts = [demo.client.get(f"/api/v1/cases/{demo.case_ref}/explain/{p['entity_id']}").text for p in players]
    assert len(texts) == len(players) >= 20
    assert [t for t in texts if _leaks(t, demo.secrets)] == []


def test_running_the_analysis_from_the_web_returns_no_victim(demo: Demo) -> None:
    response = demo.client.post(
        f"/api/v1/cases/{demo.case_ref}/analysis", headers={"X-CSRF-Token": csrf(demo.client)}
    )
    assert response.status_code == 200, response.text
    assert _leaks(response.text, demo.secrets) == [] and demo.controller in response.text


def test_hit_explanations_name_no_possible_victim_to_a_prosecutor(demo: Demo) -> None:
    """The victim-identity permission reveals unsuspected people, never a possible victim: a hit's
    summary that quotes her phone must give her pseudonym instead."""
    analysis = demo.prosecutor.post(
        f"/api/v1/cases/{demo.case_ref}/analysis", headers={"X-CSRF-Token": csrf(demo.prosecutor)}
    ).json()
    hits = sorted({h for h in _hit_ids(analysis)})
    assert hits
    texts = [demo.prosecutor.get(f"/api/v1/cases/{demo.case_ref}/explain/{h}").text for h in hits]
    assert [t for t in texts if _leaks(t, demo.victim_numbers)] == []
    assert _leaks(json.dumps(analysis), demo.victim_numbers) == []


def _hit_ids(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for value in data.values():
            yield from _hit_ids(value)
    elif isinstance(data, list):
        for value in data:
            yield from _hit_ids(value)
    elif isinstance(data, str) and data.startswith("hit:"):
        yield data


def test_a_prosecutor_sees_no_recorded_victim_anywhere_in_the_analysis(demo: Demo) -> None:
    """The identity permission names unsuspected people, never a victim the case store records, even
    one the analysis did not label (her entity a nickname, her account under someone else's name)."""
    assert demo.recorded
    base = f"/api/v1/cases/{demo.case_ref}"
    players = demo.prosecutor.get(f"{base}/key-players?top=100").json()
    texts = [
        demo.prosecutor.get(f"{base}/network?limit=2000").text,
        demo.prosecutor.get(f"{base}/timeline?limit=5000").text,
        demo.prosecutor.get(f"/cases/{demo.case_ref}").text,
        *(demo.prosecutor.get(f"{base}/explain/{p['entity_id']}").text for p in players),
    ]
    ran = demo.prosecutor.post(f"{base}/analysis", headers={"X-CSRF-Token": csrf(demo.prosecutor)})
    assert ran.status_code == 200, ran.text
    texts.append(ran.text)
    assert [t for t in texts if _leaks(t, demo.recorded)] == []
    assert demo.controller in texts[0]


def _web_reads(demo: Demo) -> int:
    from palermo.web.views import WEB_REDACTION

    return sum(
        1
        for e in demo.ws.audit.events(demo.case_ref)
        if e.action == "party.identity.read" and e.detail.get("purpose") == WEB_REDACTION
    )


def test_recorded_victims_are_read_once_per_identity_version(demo: Demo) -> None:
    """The views read the recorded identities (an audited decryption) once, not on every rebuild: an
    audit event per read would change the generation and rebuild every view on every request. A
    victim recorded later is protected from the next request on. (Last in the module: it adds one.)"""
    players = f"/api/v1/cases/{demo.case_ref}/key-players?top=100"
    bystander = next(
        str(p["label"])
        for p in demo.prosecutor.get(players).json()
        if not p.get("role")
        and len(str(p["label"]).split()) == 2
        and str(p["label"]).replace(" ", "").isalpha()
    )
    before, generation = _web_reads(demo), demo.ws.audit.generation()
    assert before >= 1
    for _ in range(3):
        assert bystander in demo.prosecutor.get(players).text
        demo.prosecutor.get(f"/cases/{demo.case_ref}")
    assert (_web_reads(demo), demo.ws.audit.generation()) == (before, generation)
    demo.ws.parties.add_victim(demo.case_ref, "V-LATE", legal_name=bystander)
    assert bystander not in demo.prosecutor.get(players).text
    assert _web_reads(demo) == before + 1
    demo.prosecutor.get(players)
    assert _web_reads(demo) == before + 1


def test_a_suspect_holding_a_recorded_victims_phone_is_not_labelled_with_it(demo: Demo) -> None:
    """A controller's entity can be labelled with a phone he holds; once the case records that
    number as a victim's contact, no view labels him with it. (After the test above: it adds one.)"""
    base = f"/api/v1/cases/{demo.case_ref}"
    nodes = [n.get("data", n) for n in demo.client.get(f"{base}/network?limit=2000").json()["nodes"]]
    phone = next(
        str(n["label"]) for n in nodes if n.get("role") == "controller" and str(n["label"])[:1] == "+"
    )
    demo.ws.parties.add_victim(demo.case_ref, "V-PHONE", contact=f"{phone[:2]} {phone[2:5]} {phone[5:]}")
    for client in (demo.client, demo.prosecutor):
        texts = [
            client.get(f"{base}/network?limit=2000").text,
            client.get(f"{base}/timeline?limit=5000").text,
            client.get(f"/cases/{demo.case_ref}/timeline").text,
            client.get(f"{base}/key-players?top=100").text,
        ]
        assert [t for t in texts if phone[-9:] in t] == []


def test_the_demo_workspace_lets_exports_leave_unaddressed(demo: Demo) -> None:
    """Synthetic people only: ``palermo export`` works in the demo without ``--recipient`` (the file is
    still marked, "for no named recipient"); every other workspace requires one."""
    assert demo.ws.settings.require_export_recipient is False
    assert "require_export_recipient = false" in (demo.ws.path / "settings.toml").read_text(encoding="utf-8")
