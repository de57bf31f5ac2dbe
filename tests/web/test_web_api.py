"""The REST API on a real SQLite workspace: the same Workspace methods as the pages, readable errors."""

from __future__ import annotations

from fastapi.testclient import TestClient

from palermo.workspace import Workspace

from .conftest import CANARY_NAME, Seeded, csrf, imported_lead, login


def _h(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": csrf(client)}


def test_case_list_shows_only_member_cases(pat: TestClient, web_ws: Workspace) -> None:
    web_ws.cases.create("OTHER-1", "Someone else's case", "us")
    refs = [c["reference"] for c in pat.get("/api/v1/cases").json()]
    assert refs == ["WEB-1"]


def test_non_member_gets_not_found_for_a_case(app_client: TestClient, seeded: Seeded) -> None:
    login(app_client, "vic")
    response = app_client.get("/api/v1/cases/WEB-1/evidence")
    assert response.status_code == 404
    assert "member" in response.json()["error"]["message"]


def test_creating_a_case_makes_the_creator_a_member(pat: TestClient) -> None:
    created = pat.post("/api/v1/cases", json={"reference": "API-1", "title": "Via API"}, headers=_h(pat))
    assert created.status_code == 201
    assert pat.get("/api/v1/cases/API-1").json()["title"] == "Via API"


def test_a_viewer_may_not_create_cases(app_client: TestClient, seeded: Seeded) -> None:
    login(app_client, "vic")
    response = app_client.post(
        "/api/v1/cases", json={"reference": "V-1", "title": "x"}, headers=_h(app_client)
    )
    assert response.status_code == 403


def test_parties_show_victims_by_pseudonym_only(pat: TestClient) -> None:
    body = pat.get("/api/v1/cases/WEB-1/parties").text
    assert "Victim V1" in body
    assert CANARY_NAME not in body


def test_adding_a_charge_materialises_its_elements(pat: TestClient, seeded: Seeded) -> None:
    victim = pat.post(
        "/api/v1/cases/WEB-1/parties",
        json={"role": "victim", "label": "Victim V2", "age_at_offence": 15},
        headers=_h(pat),
    ).json()
    charge = pat.post(
        "/api/v1/cases/WEB-1/charges",
        json={
            "offence_id": "us-18-usc-1591",
            "defendant": seeded.defendant_id,
            "victims": [victim["id"]],
            "count_number": 2,
        },
        headers=_h(pat),
    )
    assert charge.status_code == 201
    assert charge.json()["elements"]


def test_unknown_offence_is_a_readable_400(pat: TestClient, seeded: Seeded) -> None:
    response = pat.post(
        "/api/v1/cases/WEB-1/charges",
        json={
            "offence_id": "us-18-usc-9999",
            "defendant": seeded.defendant_id,
            "victims": [seeded.victim_id],
            "count_number": 3,
        },
        headers=_h(pat),
    )
    assert response.status_code == 400
    assert response.json()["error"]["location"] == "offence_id"


def test_malformed_json_is_a_422_naming_the_problem(pat: TestClient) -> None:
    response = pat.post(
        "/api/v1/cases", content=b"{not json", headers={**_h(pat), "content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["type"] == "ValidationError"


def test_unknown_field_is_rejected(pat: TestClient) -> None:
    response = pat.post(
        "/api/v1/cases", json={"reference": "X-1", "title": "t", "owner": "me"}, headers=_h(pat)
    )
    assert response.status_code == 422
    assert "owner" in response.json()["error"]["message"]


def test_unknown_evidence_id_is_a_404(pat: TestClient) -> None:
    response = pat.get("/api/v1/cases/WEB-1/evidence/999")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "NotFoundError"


def test_evidence_of_another_case_is_not_reachable_through_this_case(
    pat: TestClient, web_ws: Workspace, tmp_path
) -> None:
    web_ws.cases.create("WEB-2", "Second", "us")
    web_ws.users.add_member("WEB-2", "pat")
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    item = web_ws.evidence.add("WEB-2", other, source="s", acquired_by="x")
    assert pat.get(f"/api/v1/cases/WEB-1/evidence/{item.id}").status_code == 404


def test_upload_returns_the_sha256_of_the_bytes(pat: TestClient) -> None:
    import hashlib

    data = b"ad_id,text\n1,new in town\n"
    response = pat.post(
        "/api/v1/cases/WEB-1/evidence",
        files={"file": ("ads.csv", data, "text/csv")},
        data={"source": "scraped ads"},
        headers=_h(pat),
    )
    assert response.status_code == 201
    assert response.json()["sha256"] == hashlib.sha256(data).hexdigest()


def test_wrong_file_type_is_refused_with_the_accepted_types(pat: TestClient) -> None:
    response = pat.post(
        "/api/v1/cases/WEB-1/evidence",
        files={"file": ("run.exe", b"MZ...", "application/octet-stream")},
        headers=_h(pat),
    )
    assert response.status_code == 400
    assert ".exe are not accepted" in response.json()["error"]["message"]


def test_oversized_upload_is_a_413(pat: TestClient) -> None:
    response = pat.post(
        "/api/v1/cases/WEB-1/evidence",
        files={"file": ("big.csv", b"x" * (200 * 1024), "text/csv")},
        headers=_h(pat),
    )
    assert response.status_code == 413
    assert "limit" in response.json()["error"]["message"]


def test_empty_upload_is_refused(pat: TestClient) -> None:
    response = pat.post(
        "/api/v1/cases/WEB-1/evidence", files={"file": ("empty.csv", b"", "text/csv")}, headers=_h(pat)
    )
    assert response.status_code == 400


def test_accepting_a_lead_turns_its_element_proven(pat: TestClient, seeded: Seeded) -> None:
    response = pat.post(f"/api/v1/cases/WEB-1/leads/{seeded.lead_id}/accept", json={}, headers=_h(pat))
    assert response.status_code == 200
    assert response.json()["lead_id"] == seeded.lead_id
    matrix = pat.get("/api/v1/cases/WEB-1/proof").json()
    statuses = {e["element_id"]: e["status"] for c in matrix["charges"] for e in c["elements"]}
    assert statuses[seeded.element_id] == "proven"


def test_rejecting_a_lead_leaves_the_matrix_alone(pat: TestClient, seeded: Seeded) -> None:
    response = pat.post(
        f"/api/v1/cases/WEB-1/leads/{seeded.lead_id}/reject", json={"reason": "duplicate"}, headers=_h(pat)
    )
    assert response.json()["status"] == "rejected"
    statuses = [
        e["status"] for c in pat.get("/api/v1/cases/WEB-1/proof").json()["charges"] for e in c["elements"]
    ]
    assert "proven" not in statuses


def test_proof_link_to_an_element_of_another_case_is_refused(pat: TestClient, seeded: Seeded) -> None:
    response = pat.post(
        "/api/v1/cases/WEB-1/proof/links",
        json={"element_id": 99999, "evidence_id": seeded.evidence_ids[0]},
        headers=_h(pat),
    )
    assert response.status_code == 400
    assert response.json()["error"]["location"] == "element_id"


def test_bad_pinpoint_is_a_readable_400(pat: TestClient, seeded: Seeded) -> None:
    response = pat.post(
        "/api/v1/cases/WEB-1/proof/links",
        json={
            "element_id": seeded.element_id,
            "evidence_id": seeded.evidence_ids[1],
            "pinpoint": "page:three",
        },
        headers=_h(pat),
    )
    assert response.status_code == 400
    assert "page" in response.json()["error"]["message"]


def test_custody_chain_of_an_upload_starts_with_received(pat: TestClient, seeded: Seeded) -> None:
    events = pat.get(f"/api/v1/cases/WEB-1/evidence/{seeded.evidence_ids[0]}/custody").json()
    assert events[0]["event_type"] == "received"


def test_law_provision_lists_its_elements(pat: TestClient) -> None:
    provision = pat.get("/api/v1/law/us-18-usc-1591").json()
    assert provision["elements"]


def test_unknown_provision_is_a_404(pat: TestClient) -> None:
    assert pat.get("/api/v1/law/us-18-usc-0000").status_code == 404


def test_openapi_document_describes_the_api(pat: TestClient) -> None:
    paths = pat.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/cases/{case_ref}/proof/links" in paths
    assert "/api/v1/cases/{case_ref}/leads/{lead_id}/accept" in paths


def test_a_custody_check_from_the_web_is_audited_under_the_person_who_asked(
    pat: TestClient, seeded: Seeded, web_ws: Workspace
) -> None:
    """The custody record must say who looked at an exhibit: the signed-in person, not the account the
    server runs under."""
    exhibit = seeded.evidence_ids[0]
    assert pat.get(f"/api/v1/cases/WEB-1/evidence/{exhibit}/verify").status_code == 200
    assert pat.get(f"/cases/WEB-1/evidence/{exhibit}").status_code == 200
    checks = [e for e in web_ws.audit.events("WEB-1") if e.action == "custody.verify"]
    assert [e.actor for e in checks[-2:]] == ["pat", "pat"]


def test_flagged_and_withdrawn_leads_through_the_api(
    pat: TestClient, seeded: Seeded, web_ws, tmp_path
) -> None:
    """After the import behind an accepted lead is forgotten, the API lists it with its flag
    (``flagged=true``) and the proof matrix's link carries the reason; withdrawn is a status to filter."""
    lead, done = imported_lead(web_ws, seeded, tmp_path / "more")
    assert pat.post(f"/api/v1/cases/WEB-1/leads/{lead}/accept", json={}, headers=_h(pat)).is_success
    assert pat.post(f"/api/v1/cases/WEB-1/leads/{seeded.lead_id}/accept", json={}, headers=_h(pat)).is_success
    web_ws.analytics.forget("WEB-1", done)
    [flagged] = pat.get("/api/v1/cases/WEB-1/leads", params={"flagged": "true"}).json()
    assert flagged["id"] == lead and "forgotten" in flagged["flag"]
    links = [
        link
        for c in pat.get("/api/v1/cases/WEB-1/proof").json()["charges"]
        for e in c["elements"]
        for link in e["links"]
        if link["lead_id"] == lead
    ]
    assert [link["review"] for link in links] == [flagged["flag"]]
    confirmed = pat.post(
        f"/api/v1/cases/WEB-1/leads/{lead}/confirm", json={"note": "the extraction shows it"}, headers=_h(pat)
    )
    assert confirmed.status_code == 200 and confirmed.json()["flag"] is None
    assert pat.get("/api/v1/cases/WEB-1/leads", params={"flagged": "true"}).json() == []
    again = pat.post(f"/api/v1/cases/WEB-1/leads/{lead}/confirm", json={"note": "again"}, headers=_h(pat))
    assert again.status_code == 400 and "not flagged" in again.text
    assert pat.get("/api/v1/cases/WEB-1/leads", params={"status": "withdrawn"}).json() == []
