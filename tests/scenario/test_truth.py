"""The ground truth agrees with the files: what it says is there, is there."""

from __future__ import annotations

import csv
import json
from collections import Counter
from decimal import Decimal

import phonenumbers

from palermo.scenario import Scenario, ScenarioFiles


def _e164(raw: str) -> str:
    return phonenumbers.format_number(phonenumbers.parse(raw, "US"), phonenumbers.PhoneNumberFormat.E164)


def _cdr_numbers(files: ScenarioFiles) -> set[str]:
    with files.by_adapter("cdr_csv")[0].open(encoding="utf-8") as fh:
        return {_e164(row[k]) for row in csv.DictReader(fh) for k in ("caller", "callee")}


def _ads(files: ScenarioFiles) -> list[dict]:
    return [json.loads(line) for line in files.by_adapter("ads_jsonl")[0].read_text("utf-8").splitlines()]


def _bank_rows(files: ScenarioFiles) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in files.by_adapter("bank_csv"):
        with path.open(encoding="utf-8") as fh:
            rows.extend(csv.DictReader(fh))
    return rows


def test_ring_has_the_briefed_shape(small: tuple[Scenario, ScenarioFiles]) -> None:
    truth = small[0].truth
    roles = Counter(p["role"] for p in truth.ring_members)
    assert roles["controller"] == 2 and roles["driver"] == 2 and roles["money_handler"] == 1
    assert 2 <= roles["recruiter"] <= 3
    assert 6 <= len(truth.victims) <= 12


def test_every_minor_is_between_14_and_17(small: tuple[Scenario, ScenarioFiles]) -> None:
    minors = [v for v in small[0].truth.victims if v["minor"]]
    assert minors
    assert all(14 <= v["age"] <= 17 for v in minors)
    assert all(v["age"] >= 18 for v in small[0].truth.victims if not v["minor"])


def test_every_ring_member_phone_appears_in_cdr_or_ads(small: tuple[Scenario, ScenarioFiles]) -> None:
    scenario, files = small
    seen = _cdr_numbers(files) | {_e164(ad["phone"]) for ad in _ads(files) if ad.get("phone")}
    for person in scenario.truth.ring_members:
        assert set(person["phones"]) <= seen, person["person_id"]


def test_controller_work_phone_is_on_ads_in_several_cities(small: tuple[Scenario, ScenarioFiles]) -> None:
    scenario, files = small
    ring_ads = [ad for ad in _ads(files) if ad["ad_id"] in set(scenario.truth.ring_ad_ids)]
    controller_phones = {p for c in scenario.truth.controllers for p in c["phones"]}
    cities = {ad["city"] for ad in ring_ads if _e164(ad["phone"]) in controller_phones}
    assert len(ring_ads) == len(scenario.truth.ring_ad_ids)
    assert len(cities) >= 2


def test_funnel_takes_structured_cash_in_several_cities(small: tuple[Scenario, ScenarioFiles]) -> None:
    scenario, files = small
    funnel = scenario.truth.funnel_accounts[0]
    deposits = [r for r in _bank_rows(files)
                if r["account_iban"].replace(" ", "") == funnel and r["channel"] == "cash_deposit"]
    assert len({r["city"] for r in deposits}) >= 2
    assert all(Decimal("9000") <= Decimal(r["amount"]) < Decimal("10000") for r in deposits)


def test_truth_accounts_and_phones_are_normalised(small: tuple[Scenario, ScenarioFiles]) -> None:
    for person in small[0].truth.people:
        assert all(p == _e164(p) for p in person["phones"])
        assert all(a == a.upper().replace(" ", "") for a in person["accounts"])


def test_running_balances_reconcile(small: tuple[Scenario, ScenarioFiles]) -> None:
    last: dict[str, Decimal] = {}
    for path in small[1].by_adapter("bank_csv"):
        with path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                signed = Decimal(row["amount"]) * (1 if row["direction"] == "credit" else -1)
                if row["account_iban"] in last:
                    assert last[row["account_iban"]] + signed == Decimal(row["balance"])
                last[row["account_iban"]] = Decimal(row["balance"])


def test_truth_file_lists_what_was_written(small: tuple[Scenario, ScenarioFiles]) -> None:
    _, files = small
    doc = json.loads(files.truth.read_text("utf-8"))
    assert doc["controllers"] == [p["person_id"] for p in small[0].truth.controllers]
    assert {f["path"] for f in doc["files"]} == {str(s.path.relative_to(files.root)) for s in files.sources}


def test_seized_phones_hold_evidence_phrases(small: tuple[Scenario, ScenarioFiles]) -> None:
    bodies = " ".join(m["body"] for path in small[1].by_adapter("phone_json")
                      for m in json.loads(path.read_text("utf-8"))["messages"])
    assert "owe" in bodies and "quota" in bodies and "family will hear" in bodies
