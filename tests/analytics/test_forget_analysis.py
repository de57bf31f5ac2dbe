"""Forgetting an import clears the analysis built from it; the leads it alone supported are withdrawn,
accepted ones are flagged for review (and stay in the proof matrix), and nothing crashes.

One demo case, analysed, with a lead from the ads accepted into the proof matrix; then the ads import
is forgotten, the case analysed without it, the ads imported again and the case analysed once more.
Each step's observations are kept for the tests below (the steps are a story: each needs the last).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from palermo.analytics.tables import DERIVED_TABLES
from palermo.cli.main import run
from palermo.errors import NotFoundError

from .conftest import ingested_demo


def _derived_rows(con: Any, case_ref: str) -> dict[str, int]:
    return {
        t: int(con.execute(f"SELECT count(*) FROM {t} WHERE case_ref = ?", [case_ref]).fetchone()[0])
        for t in DERIVED_TABLES
    }


def _cli(monkeypatch: pytest.MonkeyPatch, capsys: Any, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["palermo", *args])
    try:
        run()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("forget")
    key = root / "master.key"
    seen: dict[str, Any] = {"root": root, "key": key}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PALERMO_MASTER_KEY_FILE", str(key))
        ws, _scenario, case_ref = ingested_demo(root, key)
        seen["case"] = case_ref
        analytics = ws.analytics
        con = analytics.connect()
        analytics.analyze(case_ref)
        ads = next(r for r in analytics.imports(case_ref) if r.adapter == "ads_jsonl")
        seen["ads"] = ads
        seen["ads_rows"] = con.execute("SELECT count(*) FROM ads WHERE case_ref = ?", [case_ref]).fetchone()[
            0
        ]
        lead = next(x for x in ws.leads.list(case_ref, "proposed") if x.origin == "indicator:A_SHARED_IMAGES")
        element = ws.charges.list(case_ref)[0].elements[0].id
        link = ws.leads.accept(lead.id, element_id=element, author="reviewer")
        seen.update(
            lead=lead, link=link, hit=lead.detail["hit_id"], leads_before=len(ws.leads.list(case_ref))
        )
        proposed = ws.leads.list(case_ref, "proposed")
        seen["ads_only"] = [x for x in proposed if x.import_ids == [ads.import_id]]
        seen["elsewhere"] = [x for x in proposed if x.import_ids and ads.import_id not in x.import_ids]
        # the demo's hits stand on one import each: a lead on the ads and another import, as the
        # runner records one whose hit spans two imports, shows what a forget does to those
        other = next(r for r in analytics.imports(case_ref) if r.import_id != ads.import_id)
        seen["mixed"] = [
            ws.leads.propose(
                case_ref,
                summary="spans two imports",
                origin="indicator:A_SHARED_IMAGES",
                evidence_id=ads.evidence_id,
                detail={"hit_id": "hit:two-imports", "evidence_ids": [ads.evidence_id, other.evidence_id]},
                import_ids=[ads.import_id, other.import_id],
            )
        ]
        seen["leads_before"] += 1
        explained = analytics.explain(case_ref, seen["hit"])
        assert explained.evidence_ids == [ads.evidence_id]  # the hit stands on the ads alone

        seen["forgot"] = analytics.forget(case_ref, ads.import_id)
        seen["derived_after_forget"] = _derived_rows(con, case_ref)
        seen["ads_after_forget"] = con.execute("SELECT count(*) FROM ads").fetchone()[0]
        try:
            analytics.explain(case_ref, seen["hit"])
            seen["explain_cleared"] = "explained, as if the analysis were current"
        except NotFoundError as exc:
            seen["explain_cleared"] = str(exc)
        seen["leads_after_forget"] = ws.leads.list(case_ref)
        seen["matrix_links"] = {
            link.lead_id: link
            for charge in ws.proof.matrix(case_ref).charges
            for element in charge.elements
            for link in element.links
        }
        seen["matrix_leads"] = set(seen["matrix_links"])
        seen["audit_after_forget"] = [e for e in ws.audit.events(case_ref) if e.action.startswith("lead.")]
        analytics.close()  # the CLI opens the files itself
        ws.close()
        yield seen


def test_the_forgotten_rows_and_every_result_built_from_them_are_gone(story: dict[str, Any]) -> None:
    report = story["forgot"]
    assert (report.import_id, report.tables) == (story["ads"].import_id, {"ads": story["ads_rows"]})
    assert story["ads_after_forget"] == 0
    assert set(report.analysis_cleared) >= {"entities", "edges", "indicator_hits", "node_metrics"}
    assert story["derived_after_forget"] == dict.fromkeys(DERIVED_TABLES, 0)


def test_explain_on_the_hit_of_an_accepted_lead_says_why_it_is_gone(story: dict[str, Any]) -> None:
    ads = story["ads"]
    assert (
        f"cleared when import {ads.import_id} (evidence {ads.evidence_id}) was forgotten"
        in story["explain_cleared"]
    )
    assert f"run `palermo analyze {story['case']}` again" in story["explain_cleared"]


def test_the_accepted_lead_and_its_proof_link_stay_but_are_flagged_for_review(story: dict[str, Any]) -> None:
    ads = story["ads"]
    mine = next(x for x in story["leads_after_forget"] if x.id == story["lead"].id)
    assert story["lead"].import_ids == [ads.import_id]  # recorded when it was proposed
    assert mine.status == "accepted"
    assert mine.flag is not None and f"import {ads.import_id} (evidence {ads.evidence_id})" in mine.flag
    assert mine.import_ids == []  # nothing left behind it: a later forget does not flag it twice
    assert len(story["leads_after_forget"]) == story["leads_before"]
    assert story["lead"].id in story["matrix_leads"]  # the proof matrix still cites it …
    assert story["matrix_links"][story["lead"].id].review == mine.flag  # … and says why to look again
    assert story["lead"].id in story["forgot"].leads_flagged


def test_proposed_leads_only_the_forgotten_rows_supported_are_withdrawn(story: dict[str, Any]) -> None:
    ads, after = story["ads"], {x.id: x for x in story["leads_after_forget"]}
    assert story["ads_only"] and story["elsewhere"]  # the demo has both kinds

    for lead in story["ads_only"]:
        assert after[lead.id].status == "withdrawn"
        assert f"import {ads.import_id} (evidence {ads.evidence_id}) forgotten" in (
            after[lead.id].reason or ""
        )
    assert sorted(story["forgot"].leads_withdrawn) == sorted(x.id for x in story["ads_only"])
    for lead in story["elsewhere"]:  # supported by other imports: still waiting for review
        assert after[lead.id].status == "proposed" and after[lead.id].flag is None
    for lead in story["mixed"]:  # the ads and other imports: still proposed, on the others alone
        assert after[lead.id].status == "proposed" and after[lead.id].flag is None
        assert after[lead.id].import_ids == [i for i in lead.import_ids or () if i != ads.import_id]
    audited = {(e.action, int(e.object_id)) for e in story["audit_after_forget"]}
    assert {("lead.withdraw", x.id) for x in story["ads_only"]} <= audited
    assert ("lead.flag", story["lead"].id) in audited


@pytest.fixture
def cli(story: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: Any) -> Any:
    monkeypatch.setenv("PALERMO_WORKSPACE", str(story["root"] / "ws"))
    monkeypatch.setenv("PALERMO_MASTER_KEY_FILE", str(story["key"]))
    monkeypatch.setenv("COLUMNS", "200")
    return lambda *args: _cli(monkeypatch, capsys, *args)


def test_after_forgetting_the_cli_explains_reanalyses_and_reimports(story: dict[str, Any], cli: Any) -> None:
    case, ads, hit = story["case"], story["ads"], story["hit"]
    code, _out, err = cli("analyze", case, "--explain", hit)
    assert code == 2 and "Traceback" not in err
    assert f"import {ads.import_id}" in err and "forgotten" in err

    code, out, err = cli("analyze", case, "--json")  # the case without the ads
    assert code == 0, err
    code, _out, err = cli("analyze", case, "--explain", hit)
    assert code == 2 and "forgotten" not in err  # the analysis is current: the hit is simply not found

    code, out, err = cli("ingest", case, str(ads.evidence_id), "--adapter", "ads_jsonl", "--json")
    assert code == 0, err
    code, out, err = cli("analyze", case, "--json")
    assert code == 0, err
    code, out, err = cli("analyze", case, "--explain", hit, "--json")
    assert code == 0, err  # the same hit again, from the ads read again
    code, out, err = cli("lead", "list", case, "--json")
    assert code == 0, err
    assert out.count(hit) == 1  # no second lead for the hit the reviewer already accepted
    leads = json.loads(out)
    for withdrawn in story["ads_only"]:  # found again in the ads read again: proposed anew
        again = [x for x in leads if x["detail"]["hit_id"] == withdrawn.detail["hit_id"]]
        assert sorted(x["status"] for x in again) == ["proposed", "withdrawn"], again
        assert next(x for x in again if x["status"] == "proposed")["import_ids"]
    flagged = [x for x in leads if x["flag"]]
    assert [x["id"] for x in flagged] == [story["lead"].id]  # flagged until a person confirms it
