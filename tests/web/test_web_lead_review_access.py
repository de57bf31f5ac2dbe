"""Who may review leads, and that every change needs the session's CSRF token.

Confirming a flagged lead keeps a proof link whose evidence was removed: a viewer of the case must
not be able to do it, an analyst member may (``lead:review``), and no form or API call may do it
without the token that proves the request came from Palermo's own pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from palermo.workspace import Workspace

from .conftest import PASSWORD, Seeded, csrf, imported_lead, login


def _flagged(web_ws: Workspace, seeded: Seeded, tmp_path: Path) -> int:
    """An accepted lead of WEB-1 flagged because the import it was found in was forgotten."""
    lead, done = imported_lead(web_ws, seeded, tmp_path / "more")
    web_ws.leads.accept(lead, author="pat")
    assert web_ws.analytics.forget("WEB-1", done).leads_flagged == [lead]
    return lead


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_only_members_who_may_review_leads_confirm_a_flagged_one(
    app_client: TestClient, seeded: Seeded, web_ws: Workspace, tmp_path: Path, role: str
) -> None:
    """A viewer member is refused (403, the flag stays) through the form and the API; an analyst
    member confirms through either."""
    lead = _flagged(web_ws, seeded, tmp_path)
    web_ws.users.add("member", PASSWORD, role)
    web_ws.users.add_member("WEB-1", "member")
    client = login(app_client, "member")
    form = client.post(
        f"/cases/WEB-1/leads/{lead}/confirm",
        data={"note": "reviewed", "csrf_token": csrf(client)},
        follow_redirects=False,
    )
    if role == "viewer":
        assert form.status_code == 403 and "lead:review" in form.text
        api = client.post(
            f"/api/v1/cases/WEB-1/leads/{lead}/confirm",
            json={"note": "reviewed"},
            headers={"X-CSRF-Token": csrf(client)},
        )
        assert api.status_code == 403 and "lead:review" in api.text
        assert web_ws.leads.get(lead).flag is not None
        return
    assert form.status_code == 303 and web_ws.leads.get(lead).flag is None
    assert "member after review" in (web_ws.leads.get(lead).reason or "")


def test_an_analyst_member_confirms_through_the_api(
    app_client: TestClient, seeded: Seeded, web_ws: Workspace, tmp_path: Path
) -> None:
    lead = _flagged(web_ws, seeded, tmp_path)
    web_ws.users.add("ana", PASSWORD, "analyst")
    web_ws.users.add_member("WEB-1", "ana")
    client = login(app_client, "ana")
    api = client.post(
        f"/api/v1/cases/WEB-1/leads/{lead}/confirm",
        json={"note": "reviewed"},
        headers={"X-CSRF-Token": csrf(client)},
    )
    assert api.status_code == 200, api.text
    assert api.json()["flag"] is None and web_ws.leads.get(lead).flag is None


def test_confirming_without_the_csrf_token_is_refused(
    pat: TestClient, seeded: Seeded, web_ws: Workspace, tmp_path: Path
) -> None:
    """Form without its ``csrf_token`` field, API without the header, or with another token: 403,
    and the flag stays."""
    lead = _flagged(web_ws, seeded, tmp_path)
    form = pat.post(f"/cases/WEB-1/leads/{lead}/confirm", data={"note": "x"}, follow_redirects=False)
    forged = pat.post(
        f"/cases/WEB-1/leads/{lead}/confirm",
        data={"note": "x", "csrf_token": "not-the-token"},
        follow_redirects=False,
    )
    api = pat.post(f"/api/v1/cases/WEB-1/leads/{lead}/confirm", json={"note": "x"})
    assert [r.status_code for r in (form, forged, api)] == [403, 403, 403]
    assert web_ws.leads.get(lead).flag is not None


#: Routes that run before there is a session to hold a CSRF token (sign-in and its second step).
_BEFORE_SIGN_IN = re.compile(r"^/(login|logout)(/|$)|^/(totp|mfa|second-factor)")


def _routes(routes: Iterable[Any], prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    """``(path, methods)`` of every route, through included routers (FastAPI 0.165 keeps those as
    routers of their own, with their prefix, rather than copying their routes into the app)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _routes(inner.routes, prefix + (getattr(inner, "prefix", "") or ""))
        elif isinstance(route, APIRoute):
            yield prefix + route.path, set(route.methods or ())


def test_every_signed_in_post_route_refuses_a_request_without_the_csrf_token(
    pat: TestClient, seeded: Seeded
) -> None:
    """Walks the app's routes: every POST, PUT, PATCH or DELETE a signed-in person can make (lead
    accept, reject and confirm among them) answers 403 without the token, before anything else
    is looked at."""
    checked = []
    for route_path, methods in _routes(pat.app.routes):  # type: ignore[attr-defined]
        if _BEFORE_SIGN_IN.search(route_path):
            continue
        for method in sorted(methods & {"POST", "PUT", "PATCH", "DELETE"}):
            path = re.sub(r"\{case_ref\}", "WEB-1", route_path)
            path = re.sub(r"\{[^}]+\}", "1", path)
            response = pat.request(method, path, data={"note": "x"}, follow_redirects=False)
            assert response.status_code == 403, (method, route_path, response.status_code)
            checked.append(f"{method} {route_path}")
    for expected in (
        "POST /cases/{case_ref}/leads/{lead_id}/accept",
        "POST /cases/{case_ref}/leads/{lead_id}/reject",
        "POST /cases/{case_ref}/leads/{lead_id}/confirm",
        "POST /api/v1/cases/{case_ref}/leads/{lead_id}/accept",
        "POST /api/v1/cases/{case_ref}/leads/{lead_id}/reject",
        "POST /api/v1/cases/{case_ref}/leads/{lead_id}/confirm",
    ):
        assert expected in checked
