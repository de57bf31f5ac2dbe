"""The timeline and network, as an analyst sees them, name no victim of the demo case.

The analyst lacks the victim-identity permission, so only suspects may be named: every victim
identity in the case store and every name/phone/e-mail/account of the scenario's ground-truth
victims must be absent from the timeline page and API, while a controller is still named.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from palermo.scenario import generate

from .conftest import PASSWORD, login


@dataclass(frozen=True)
class Demo:
    client: TestClient
    case_ref: str
    secrets: frozenset[str]
    controller: str


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
        secrets: set[str] = set()
        for victim in generate(seed=7, scale=1).truth.victims:
            parts = victim["name"].split()
            secrets |= {victim["name"], f"{parts[-1]}, {' '.join(parts[:-1])}", *victim.get("aliases", [])}
            secrets.update(victim["phones"], victim["emails"], victim["accounts"])
        for party in ws.parties.list(made.case_ref):
            if party.role == "victim":
                identity = ws.parties.reveal_identity(party.id, user="fixture")
                secrets.update(v for k, v in vars(identity).items() if isinstance(v, str) and k != "party_id")
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
        with TestClient(create_app(ws), raise_server_exceptions=False) as client:
            login(client, "ana")
            yield Demo(client, made.case_ref, frozenset(s for s in secrets if len(s) >= 4), str(row[0]))
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
