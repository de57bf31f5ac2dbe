"""Server-rendered pages: what they show, htmx fragments, and bad input as a readable message."""

from __future__ import annotations

import hashlib
import re

from fastapi.testclient import TestClient

from .conftest import CANARY_NAME, Seeded, csrf, imported_lead, login


def test_dashboard_names_the_victim_by_pseudonym_only(pat: TestClient) -> None:
    page = pat.get("/cases/WEB-1").text
    assert "Victim V1" in page
    assert CANARY_NAME not in page


def test_dashboard_counts_the_leads_waiting_for_review(pat: TestClient) -> None:
    assert "Cash deposits just under the reporting threshold" in pat.get("/cases/WEB-1").text


def test_dashboard_says_plainly_when_analytics_has_nothing_for_the_case(pat: TestClient) -> None:
    page = pat.get("/cases/WEB-1").text
    assert "Key players" in page
    assert "Traceback" not in page


def test_evidence_page_lists_each_exhibit_with_its_hash(pat: TestClient, seeded: Seeded, web_ws) -> None:
    item = web_ws.evidence.get(seeded.evidence_ids[0])
    assert item.sha256 in pat.get("/cases/WEB-1/evidence").text


def test_exhibit_page_shows_a_verifying_custody_chain(pat: TestClient, seeded: Seeded) -> None:
    page = pat.get(f"/cases/WEB-1/evidence/{seeded.evidence_ids[0]}").text
    assert "received" in page
    assert "verifies" in page


def test_htmx_upload_returns_the_list_with_the_new_hash(pat: TestClient) -> None:
    data = b"record_id,caller\n1,+15550100\n"
    response = pat.post(
        "/cases/WEB-1/evidence",
        files={"file": ("calls.csv", data, "text/csv")},
        data={"source": "carrier", "csrf_token": csrf(pat)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert hashlib.sha256(data).hexdigest() in response.text
    assert 'id="evidence-list"' in response.text


def test_plain_upload_redirects_to_the_new_exhibit(pat: TestClient) -> None:
    response = pat.post(
        "/cases/WEB-1/evidence",
        files={"file": ("note.txt", b"interview notes", "text/plain")},
        data={"csrf_token": csrf(pat)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "/cases/WEB-1/evidence/" in response.headers["location"]


def test_htmx_upload_of_a_wrong_type_is_retargeted_to_the_message_area(pat: TestClient) -> None:
    response = pat.post(
        "/cases/WEB-1/evidence",
        files={"file": ("evil.sh", b"rm -rf /", "text/x-sh")},
        data={"csrf_token": csrf(pat)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#messages"
    assert ".sh are not accepted" in response.text


def test_proof_matrix_shows_the_weak_element_and_the_lead(pat: TestClient, seeded: Seeded) -> None:
    page = pat.get("/cases/WEB-1/proof").text
    assert f'id="element-{seeded.element_id}" data-status="weak"' in page
    assert f'id="lead-{seeded.lead_id}"' in page


def test_accepting_a_lead_with_htmx_returns_the_matrix_with_the_element_proven(
    pat: TestClient, seeded: Seeded
) -> None:
    response = pat.post(
        f"/cases/WEB-1/leads/{seeded.lead_id}/accept",
        data={"csrf_token": csrf(pat)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert f'id="element-{seeded.element_id}" data-status="proven"' in response.text
    assert "<html" not in response.text


def test_adding_a_link_from_the_element_panel(pat: TestClient, seeded: Seeded) -> None:
    response = pat.post(
        "/cases/WEB-1/proof/links",
        data={
            "csrf_token": csrf(pat),
            "element_id": seeded.element_id,
            "evidence_id": seeded.evidence_ids[1],
            "pinpoint": "row:2",
        },
        headers={"HX-Request": "true"},
    )
    assert f'id="element-{seeded.element_id}" data-status="proven"' in response.text


def test_element_panel_opens_with_the_add_link_form(pat: TestClient, seeded: Seeded) -> None:
    fragment = pat.get(f"/cases/WEB-1/proof/matrix?open={seeded.element_id}").text
    assert f'id="ev-{seeded.element_id}"' in fragment


def test_unknown_case_page_is_a_404_page_without_a_trace(pat: TestClient) -> None:
    response = pat.get("/cases/NOPE-9")
    assert response.status_code == 404
    assert "Traceback" not in response.text
    assert "NOPE-9" in response.text


def test_non_member_sees_no_case_in_the_list(app_client: TestClient, seeded: Seeded) -> None:
    login(app_client, "vic")
    page = app_client.get("/cases").text
    assert "WEB-1" not in page
    assert "need-to-know" in page


def test_calculators_draft_the_facts_from_the_charges(pat: TestClient) -> None:
    page = pat.get("/cases/WEB-1/calculators").text
    assert "us-18-usc-1591" in page
    assert "Victim_V1" in page


def test_calculators_report_invalid_yaml_with_its_line(pat: TestClient) -> None:
    response = pat.post("/cases/WEB-1/calculators", data={"facts": "a: [1,\nb", "csrf_token": csrf(pat)})
    assert response.status_code == 400
    assert "not valid YAML" in response.text


def test_calculators_compute_exposure_from_valid_facts(pat: TestClient) -> None:
    facts = """
jurisdiction: us
offence_date: 2024-03-01
defendants: [{id: D1}]
victims: [{id: V1, age: 16}]
counts:
  - number: 1
    offence: us-18-usc-1591
    defendant: D1
    victim: V1
    acts: [recruits]
    purposes: [commercial_sex_act]
"""
    response = pat.post("/cases/WEB-1/calculators", data={"facts": facts, "csrf_token": csrf(pat)})
    assert response.status_code == 200
    assert "Sentencing exposure" in response.text
    assert "D1: 120 months to life" in response.text


def test_law_browser_lists_and_opens_provisions(pat: TestClient) -> None:
    assert "us-18-usc-1591" in pat.get("/law").text
    assert "Elements" in pat.get("/law/us-18-usc-1591").text


def test_every_form_field_has_a_label(pat: TestClient, seeded: Seeded) -> None:
    import re

    pages = [
        "/cases",
        "/cases/WEB-1/evidence",
        f"/cases/WEB-1/proof?open={seeded.element_id}",
        "/cases/WEB-1/calculators",
        "/law",
        "/cases/WEB-1/timeline",
    ]
    for path in pages:
        html = pat.get(path).text
        for field in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
            if 'type="hidden"' in field:
                continue
            ident = re.search(r'id="([^"]+)"', field)
            assert ident, f"{path}: field without id: {field}"
            assert f'for="{ident.group(1)}"' in html, f"{path}: no label for {ident.group(1)}"


def test_timeline_filter_with_a_bad_date_is_a_readable_400(pat: TestClient) -> None:
    response = pat.get("/cases/WEB-1/timeline?date_from=2025-13-45")
    assert response.status_code == 400
    assert "is not a date" in response.text


def test_a_lead_whose_evidence_was_forgotten_leaves_the_review_queue(
    pat: TestClient, seeded: Seeded, web_ws, tmp_path
) -> None:
    """The import a lead was found in is forgotten (``palermo ingest forget``): withdrawn, it no
    longer waits for review on the dashboard or in the proof matrix. The fixture's lead, added with
    an ``indicator:`` origin on an exhibit never imported, stays: nothing of it was forgotten."""
    lead, done = imported_lead(web_ws, seeded, tmp_path / "more")
    assert f'id="lead-{lead}"' in pat.get("/cases/WEB-1/proof").text
    assert web_ws.analytics.forget("WEB-1", done).leads_withdrawn == [lead]
    assert "Recruiting messages from the seized phone" not in pat.get("/cases/WEB-1").text
    matrix = pat.get("/cases/WEB-1/proof").text
    assert f'id="lead-{lead}"' not in matrix and f'id="lead-{seeded.lead_id}"' in matrix
    assert "Cash deposits just under the reporting threshold" in pat.get("/cases/WEB-1").text


def test_an_accepted_lead_whose_evidence_was_forgotten_is_flagged_in_the_dashboard_and_matrix(
    pat: TestClient, seeded: Seeded, web_ws, tmp_path
) -> None:
    lead, done = imported_lead(web_ws, seeded, tmp_path / "more")
    web_ws.leads.accept(lead, author="pat")
    web_ws.leads.accept(seeded.lead_id, author="pat")  # never imported: no flag whatever is forgotten
    assert web_ws.analytics.forget("WEB-1", done).leads_flagged == [lead]
    dashboard = pat.get("/cases/WEB-1").text
    assert "Accepted leads to review again" in dashboard and f'id="flagged-{lead}"' in dashboard
    assert f'id="flagged-{seeded.lead_id}"' not in dashboard
    assert f"import {done} (evidence " in dashboard and "forgotten" in dashboard
    # the charge says why it is not ready, and the element proven on the flagged link is listed
    # among the gaps as "to review", not with a "proven" badge
    assert re.search(r'id="charge-review-\d+"[^>]*>1 to review<', dashboard)
    assert '<span class="badge flagged">to review</span>' in dashboard
    assert '<span class="badge status-proven">proven</span>' not in dashboard
    matrix = pat.get("/cases/WEB-1/proof").text
    assert "review: evidence removed" in matrix
    assert "on links flagged for review" in matrix  # the charge is not called ready on it
    panel = pat.get(f"/cases/WEB-1/proof/matrix?open={seeded.element_id}").text
    assert f"palermo lead confirm {lead}" in panel
    assert f'action="/cases/WEB-1/leads/{lead}/confirm"' in panel
    done = pat.post(
        f"/cases/WEB-1/leads/{lead}/confirm",
        data={"note": "the phone's own extraction shows it", "csrf_token": csrf(pat)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and "done=lead-confirmed" in done.headers["location"]
    assert web_ws.leads.get(lead).flag is None and "pat after review" in (web_ws.leads.get(lead).reason or "")
    assert "review: evidence removed" not in pat.get("/cases/WEB-1/proof").text
    assert "Accepted leads to review again" not in pat.get("/cases/WEB-1").text
