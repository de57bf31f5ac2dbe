"""Web fixtures: a real SQLite workspace with a small § 1591 case, accounts, and signed-in clients.

The case is built so the proof matrix has something to show and change: one required element is
*weak* (one supporting exhibit) and a lead from an exhibit of a second source waits for review, so
accepting it turns the element *proven*.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import profiles
from fastapi.testclient import TestClient

from palermo.security.auth import Authenticator, PasswordHasher
from palermo.store.users import UserService
from palermo.web.app import WebSettings, create_app
from palermo.workspace import Workspace

_spec = importlib.util.spec_from_file_location(
    "palermo_workspace_fixtures", Path(__file__).resolve().parents[1] / "store" / "workspace_fixtures.py"
)
assert _spec is not None and _spec.loader is not None
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)

# SQLite, and this worker's PostgreSQL schema (skipped without PALERMO_TEST_DATABASE_URL), as in tests/store
database_url = _fixtures.database_url
worker_database_url = _fixtures.worker_database_url

PASSWORD = "long enough passphrase 42"
CANARY_NAME = "Zqxwyvna Canarytest"


@dataclass(frozen=True)
class Seeded:
    """Ids of what the fixture case holds."""

    case_ref: str
    victim_id: int
    defendant_id: int
    element_id: int
    evidence_ids: tuple[int, int]
    lead_id: int


def seed_case(ws: Workspace, folder: Path, case_ref: str = "WEB-1") -> Seeded:
    """Create the fixture case in ``ws`` (files written under ``folder``)."""
    ws.cases.create(case_ref, "Web test case", "us")
    defendant = ws.parties.add_defendant(case_ref, "Defendant Alpha")
    victim = ws.parties.add_victim(case_ref, "Victim V1", age_at_offence=16, legal_name=CANARY_NAME)
    charge = ws.charges.add(case_ref, "us-18-usc-1591", defendant.id, [victim.id], 1, {})
    folder.mkdir(parents=True, exist_ok=True)
    messages = folder / f"{case_ref}-messages.csv"
    messages.write_text("id,timestamp,from,to,body\nm1,2025-01-02T10:00:00,+15550001,+15550002,you owe me\n")
    bank = folder / f"{case_ref}-bank.csv"
    bank.write_text("date,amount,description\n2025-01-03,900.00,cash deposit\n")
    ev1 = ws.evidence.add(case_ref, messages, source="seized phone of Alpha", acquired_by="det. one")
    ev2 = ws.evidence.add(case_ref, bank, source="bank production", acquired_by="det. two")
    element = next(e for e in charge.elements if e.required)
    ws.proof.link(element.id, ev1.id, pinpoint="row:2", author="det. one")
    lead = ws.leads.propose(
        case_ref,
        summary="Cash deposits just under the reporting threshold",
        origin="indicator:STRUCTURED_CASH",
        evidence_id=ev2.id,
        locator="line:2",
        element_id=element.id,
    )
    return Seeded(case_ref, victim.id, defendant.id, element.id, (ev1.id, ev2.id), lead.id)


def imported_lead(ws: Workspace, seeded: Seeded, folder: Path) -> tuple[int, int]:
    """A third exhibit of the case imported into the analytics, and a lead as the indicator runner
    proposes it from those rows (its hit, the import behind it): ``(lead id, import id)``, so a test
    can forget the import for real."""
    folder.mkdir(parents=True, exist_ok=True)
    export = folder / f"{seeded.case_ref}-phone.csv"
    export.write_text(
        "id,timestamp,from,to,body,app,direction\n"
        "m1,2025-01-04T10:00:00,+15550001,+15550003,new girl tonight,sms,outgoing\n"
    )
    exhibit = ws.evidence.add(seeded.case_ref, export, source="seized phone of Alpha", acquired_by="det. one")
    done = ws.analytics.ingest(seeded.case_ref, exhibit.id, "phone_csv", {}).import_id
    assert done is not None
    lead = ws.leads.propose(
        seeded.case_ref,
        summary="Recruiting messages from the seized phone",
        origin="indicator:C_RECRUIT_TEST",
        evidence_id=exhibit.id,
        locator="line:2",
        element_id=seeded.element_id,
        detail={"hit_id": "hit:web-test", "evidence_ids": [exhibit.id]},
        import_ids=[done],
    )
    return lead.id, int(done)


@pytest.fixture
def web_ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """A fresh SQLite workspace whose master key lives in the test's own temp folder."""
    monkeypatch.setenv("PALERMO_MASTER_KEY_FILE", str(tmp_path / "keys" / "master.key"))
    monkeypatch.delenv("PALERMO_DATABASE_URL", raising=False)
    ws = Workspace.init(tmp_path / "ws", actor="fixture")
    # Same service, argon2id with the cheapest parameters: 0.4 s per hash would dominate the suite.
    ws._users = UserService(
        ws.ctx, Authenticator(hasher=PasswordHasher(profiles.CHEAPEST), master=ws._master)
    )
    yield ws
    ws.close()


def cheap_users(ws: Workspace, **policy: object) -> UserService:
    """The workspace's account service with argon2id at its cheapest parameters (and ``policy``)."""
    auth = Authenticator(hasher=PasswordHasher(profiles.CHEAPEST), master=ws._master)
    return UserService(ws.ctx, auth, **policy)  # type: ignore[arg-type]


@pytest.fixture
def db_ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str | None) -> Iterator[Workspace]:
    """Like ``web_ws``, once on SQLite and once on PostgreSQL: for what depends on the database's
    locking (the last-administrator guard, the sweep, the end of a session)."""
    monkeypatch.setenv("PALERMO_MASTER_KEY_FILE", str(tmp_path / "keys" / "master.key"))
    monkeypatch.delenv("PALERMO_DATABASE_URL", raising=False)
    ws = Workspace.init(tmp_path / "ws", actor="fixture", database_url=database_url)
    ws._users = cheap_users(ws)
    yield ws
    ws.close()


@pytest.fixture
def seeded(web_ws: Workspace, tmp_path: Path) -> Seeded:
    """The fixture case, with ``pat`` (prosecutor, member) and ``vic`` (viewer, not a member)."""
    data = seed_case(web_ws, tmp_path / "files")
    web_ws.users.add("pat", PASSWORD, "prosecutor")
    web_ws.users.add_member(data.case_ref, "pat")
    web_ws.users.add("vic", PASSWORD, "viewer")
    return data


@pytest.fixture
def app_client(web_ws: Workspace) -> Iterator[TestClient]:
    """An anonymous client of the app (upload limit 64 KiB so oversize tests stay small)."""
    app = create_app(web_ws, WebSettings(upload_limit_bytes=64 * 1024))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def login_token(client: TestClient) -> str:
    """Load the login form and return its anti-CSRF token."""
    page = client.get("/login")
    match = re.search(r'name="login_token" value="([^"]+)"', page.text)
    assert match, "login form has no token"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    """Sign ``client`` in through the form; the session and CSRF cookies stay on the client."""
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "login_token": login_token(client),
            "next": "/cases",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def csrf(client: TestClient) -> str:
    """The signed-in client's CSRF token (what the pages embed in forms and htmx headers)."""
    token = client.cookies.get("palermo_csrf")
    assert token
    return token


@pytest.fixture
def pat(app_client: TestClient, seeded: Seeded) -> TestClient:
    """``app_client`` signed in as the prosecutor who is a member of the fixture case."""
    return login(app_client, "pat")
