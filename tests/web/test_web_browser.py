"""Browser tests: Playwright driving Debian's chromium against a live uvicorn server on loopback.

The server holds two cases: the demo case (``palermo demo``'s pipeline: generated scenario, imported
evidence, analysis) for the dashboard and the network, and the small fixture case whose lead turns
an element proven. Screenshots of each page go to ``test-artifacts/screenshots/`` at 1280×800.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ANALYST_PASSWORD = "analyst passphrase 42"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
    ),
]


@dataclass(frozen=True)
class Live:
    url: str
    demo_ref: str
    password: str
    lead_id: int
    element_id: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """Build the demo workspace, add the fixture case, and serve it with uvicorn in a thread."""
    import uvicorn

    from palermo.cli.demo import build_demo
    from palermo.web.app import create_app
    from palermo.web.deps import release_analytics

    from .conftest import seed_case

    root = tmp_path_factory.mktemp("live")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PALERMO_MASTER_KEY_FILE", str(root / "keys" / "master.key"))
        mp.delenv("PALERMO_DATABASE_URL", raising=False)
        made = build_demo(root / "ws", seed=7, scale=1.0)
        ws = made.workspace
        seeded = seed_case(ws, root / "files")
        ws.users.add_member(seeded.case_ref, made.username)
        ws.users.add("ana", ANALYST_PASSWORD, "analyst")
        ws.users.add_member(made.case_ref, "ana")
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(ws), host="127.0.0.1", port=_free_port(), log_level="warning", access_log=False
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "uvicorn did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        yield Live(
            f"http://127.0.0.1:{port}", made.case_ref, made.password, seeded.lead_id, seeded.element_id
        )
        server.should_exit = True
        thread.join(timeout=10)
        release_analytics(ws)
        ws.close()


@pytest.fixture(scope="module")
def browser(live: Live) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: object, live: Live) -> Iterator[object]:
    """A fresh signed-in tab at 1280×800 (signed in through the form, with the keyboard)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    context.set_default_timeout(60_000)  # generous: CI machines run two test workers at once
    tab = context.new_page()
    _keyboard_login(tab, live)
    yield tab
    context.close()


def _keyboard_login(tab: object, live: Live) -> None:
    tab.goto(f"{live.url}/login")  # type: ignore[attr-defined]
    _poll(tab, "document.activeElement && document.activeElement.id === 'username'")
    tab.keyboard.type("demo")  # type: ignore[attr-defined]  # the username field has autofocus
    tab.keyboard.press("Tab")  # type: ignore[attr-defined]
    tab.keyboard.type(live.password)  # type: ignore[attr-defined]
    tab.keyboard.press("Enter")  # type: ignore[attr-defined]
    tab.wait_for_url(f"{live.url}/cases")  # type: ignore[attr-defined]


def _poll(tab: object, expression: str, timeout: float = 20.0) -> object:
    """Evaluate ``expression`` until truthy (``wait_for_function`` would need eval, which CSP forbids)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = tab.evaluate(expression)  # type: ignore[attr-defined]
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {expression}")


def _shot(tab: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS / f"{name}.png"))  # type: ignore[attr-defined]


def test_login_page_is_keyboard_usable(browser: object, live: Live) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    tab = context.new_page()
    tab.goto(f"{live.url}/login")
    _shot(tab, "01-login")
    assert tab.evaluate("document.activeElement.id") == "username"
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.id") == "password"
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.id") == "totp"
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.tagName") == "BUTTON"
    context.close()


def test_sign_in_with_keyboard_lands_on_the_case_list(page: object, live: Live) -> None:
    assert live.demo_ref in page.text_content("main")  # type: ignore[attr-defined]
    _shot(page, "02-cases")


def test_open_the_demo_case_dashboard(page: object, live: Live) -> None:
    page.click(f"text={live.demo_ref}")  # type: ignore[attr-defined]
    page.wait_for_selector("#charges-h")  # type: ignore[attr-defined]
    assert "Key players" in page.text_content("main")  # type: ignore[attr-defined]
    _shot(page, "03-dashboard")


def test_accepting_a_lead_turns_the_element_proven(page: object, live: Live) -> None:
    page.goto(f"{live.url}/cases/WEB-1/proof")  # type: ignore[attr-defined]
    row = f"#element-{live.element_id}"
    assert page.get_attribute(row, "data-status") == "weak"  # type: ignore[attr-defined]
    _shot(page, "04-proof-matrix")
    page.click(f"#lead-{live.lead_id} button:has-text('Accept')")  # type: ignore[attr-defined]
    page.wait_for_selector(f"{row}[data-status='proven']")  # type: ignore[attr-defined]
    page.evaluate("window.scrollTo(0, 0)")  # type: ignore[attr-defined]
    _shot(page, "05-proof-matrix-after-accept")


def test_demo_proof_matrix_opens_an_element_panel(page: object, live: Live) -> None:
    page.goto(f"{live.url}/cases/{live.demo_ref}/proof")  # type: ignore[attr-defined]
    page.click("button.el-open >> nth=0")  # type: ignore[attr-defined]
    page.wait_for_selector(".detail form")  # type: ignore[attr-defined]
    _shot(page, "06-demo-proof-matrix")


def test_network_click_on_a_node_shows_its_evidence(page: object, live: Live) -> None:
    page.goto(f"{live.url}/cases/{live.demo_ref}/network")  # type: ignore[attr-defined]
    node = _poll(page, "window.palermoNetwork ? window.palermoNetwork.nodes()[0] : null")
    where = page.evaluate(f"window.palermoNetwork.position({node!r})")  # type: ignore[attr-defined]
    page.mouse.click(where["x"], where["y"])  # type: ignore[attr-defined]
    page.wait_for_selector("#explain li")  # type: ignore[attr-defined]
    assert "statement(s) behind it" in page.text_content("#explain")  # type: ignore[attr-defined]
    assert "E" in page.text_content("#explain li strong")  # type: ignore[attr-defined]
    _shot(page, "07-network")


def test_upload_an_exhibit_and_see_its_hash(page: object, live: Live, tmp_path: Path) -> None:
    exhibit = tmp_path / "statement-of-account.csv"
    exhibit.write_bytes(b"date,amount\n2025-02-01,950.00\n" + os.urandom(8).hex().encode())
    page.goto(f"{live.url}/cases/WEB-1/evidence")  # type: ignore[attr-defined]
    page.set_input_files("#file", str(exhibit))  # type: ignore[attr-defined]
    page.fill("#source", "bank production")  # type: ignore[attr-defined]
    page.click("#upload-form button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("#new-exhibit")  # type: ignore[attr-defined]
    shown = page.get_attribute("#new-exhibit [data-sha256]", "data-sha256")  # type: ignore[attr-defined]
    assert shown == hashlib.sha256(exhibit.read_bytes()).hexdigest()
    assert page.evaluate("document.getElementById('upload-progress').value") == 100  # type: ignore[attr-defined]
    _shot(page, "08-evidence-upload")


def test_wrong_file_type_shows_a_message_on_the_page(page: object, live: Live, tmp_path: Path) -> None:
    bad = tmp_path / "payload.exe"
    bad.write_bytes(b"MZ")
    page.goto(f"{live.url}/cases/WEB-1/evidence")  # type: ignore[attr-defined]
    page.set_input_files("#file", str(bad))  # type: ignore[attr-defined]
    page.click("#upload-form button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("#messages .flash.error")  # type: ignore[attr-defined]
    assert "not accepted" in page.text_content("#messages")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("09-timeline", "/cases/{demo}/timeline"),
        ("10-calculators", "/cases/{demo}/calculators"),
        ("11-law", "/law"),
        ("12-law-1591", "/law/us-18-usc-1591"),
        ("13-exhibit", "/cases/WEB-1/evidence/1"),
    ],
)
def test_pages_render_with_every_field_labelled(page: object, live: Live, name: str, path: str) -> None:
    page.goto(live.url + path.format(demo=live.demo_ref))  # type: ignore[attr-defined]
    unlabelled = page.evaluate(  # type: ignore[attr-defined]
        """[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
             .filter(el => el.labels.length === 0).map(el => el.name || el.id)"""
    )
    assert unlabelled == []
    _shot(page, name)


def _analyst(live: Live, username: str = "ana", password: str = ANALYST_PASSWORD) -> object:
    """An HTTP client signed in through the form (default: the analyst, who may not see identities)."""
    import re

    import httpx

    client = httpx.Client(base_url=live.url, timeout=60)
    token = re.search(r'name="login_token" value="([^"]+)"', client.get("/login").text)
    assert token
    client.post("/login", data={"username": username, "password": password, "login_token": token.group(1)})
    return client


def test_network_labels_possible_victims_by_pseudonym(live: Live) -> None:
    client = _analyst(live)
    nodes = client.get(f"/api/v1/cases/{live.demo_ref}/network?limit=2000").json()["nodes"]  # type: ignore[attr-defined]
    victims = [n for n in nodes if n.get("role") == "possible_victim"]
    assert victims
    assert all(n["label"].startswith("possible victim ") for n in victims)


def test_timeline_withholds_details_of_events_with_possible_victims(live: Live) -> None:
    client = _analyst(live)
    events = client.get(f"/api/v1/cases/{live.demo_ref}/timeline?limit=5000").json()  # type: ignore[attr-defined]
    withheld = [e for e in events if "details withheld" in e["summary"]]
    assert withheld
    assert len(withheld) < len(events)


def test_edge_explanations_never_name_a_possible_victim_even_for_a_prosecutor(live: Live) -> None:
    client = _analyst(live, "demo", live.password)
    graph = client.get(f"/api/v1/cases/{live.demo_ref}/network?limit=2000").json()  # type: ignore[attr-defined]
    victims = {n["id"] for n in graph["nodes"] if n.get("role") == "possible_victim"}
    edge = next(e for e in graph["edges"] if {e["source"], e["target"]} & victims)
    explained = client.get(f"/api/v1/cases/{live.demo_ref}/explain/{edge['id']}").json()  # type: ignore[attr-defined]
    assert explained["summary"].startswith(f"edge {edge['id']}:")
    assert explained["statements"]


def test_network_json_is_gzipped_only_for_clients_that_accept_it(live: Live) -> None:
    client = _analyst(live)
    url = f"/api/v1/cases/{live.demo_ref}/network"
    packed = client.get(url, headers={"Accept-Encoding": "gzip"})  # type: ignore[attr-defined]
    plain = client.get(url, headers={"Accept-Encoding": "identity"})  # type: ignore[attr-defined]
    assert packed.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert packed.json() == plain.json()
