"""Turn a written scenario into a case in the case store: the demo's starting point.

What a prosecutor would have after the arrests: the controllers and recruiters as defendants, each
victim under a pseudonym (the synthetic identity encrypted, age at offence recorded), a § 1591 count
per defendant and victim (minors, and adults through force or coercion), § 1589 for a forced-labour
victim, one § 1594(c) conspiracy count per defendant, every source file as an evidence item, and a
few proof links from obvious exhibits (an ad advertising the victim, a threat in the controller's
phone, a structured cash deposit). Everything else stays open, so the proof matrix shows at once
what is proven and what still needs work.

The workspace is passed in rather than imported: the scenario package sits below the workspace.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from palermo.scenario.generator import START, Scenario, ScenarioFiles
from palermo.scenario.money import MOTELS
from palermo.scenario.operation import Member

SOURCES = {
    "bank_csv": "bank subpoena return",
    "cdr_csv": "carrier call-detail records (court order)",
    "ads_jsonl": "online ad scrape",
    "phone_json": "seized phone extraction",
}


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())[-10:]


def _ad_line(files: ScenarioFiles, ad_ids: set[str]) -> int | None:
    """Physical line of the first ad among ``ad_ids`` in the ads file."""
    path = files.by_adapter("ads_jsonl")[0]
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if json.loads(line)["ad_id"] in ad_ids:
                return number
    return None


def _message(path: Path, to_phone: int, words: tuple[str, ...]) -> str | None:
    """Id of the first message in a phone extraction sent to ``to_phone`` containing one of ``words``."""
    doc = json.loads(path.read_text("utf-8"))
    for m in doc["messages"]:
        if _digits(m["to"]) == f"{to_phone:010d}" and any(w in m["body"] for w in words):
            return str(m["id"])
    return None


def _bank_line(
    files: ScenarioFiles, account: str, channel: str, payees: tuple[str, ...] = ()
) -> tuple[Path, int] | None:
    """File and physical line of the first statement line of ``account`` with ``channel`` (and payee)."""
    for path in files.by_adapter("bank_csv"):
        with path.open(encoding="utf-8") as fh:
            for number, row in enumerate(csv.DictReader(fh), start=2):
                if (
                    row["account_iban"].replace(" ", "") == account
                    and row["channel"] == channel
                    and (not payees or row["counterparty_name"] in payees)
                ):
                    return path, number
    return None


def _element(charge: Any, key: str) -> int | None:
    return next((e.id for e in charge.elements if e.element_key == key), None)


def build_demo_case(
    workspace: Any, scenario: Scenario, files: ScenarioFiles, reference: str | None = None
) -> str:
    """Create the case for ``scenario`` (written as ``files``) in ``workspace``; returns its reference."""
    ref = reference or f"DEMO-{scenario.seed}"
    ring = scenario.ring
    ws = workspace
    ws.cases.create(
        ref,
        "United States v. synthetic ring (demo)",
        "us",
        description=f"Synthetic scenario seed {scenario.seed}, scale {scenario.scale:g}.",
    )
    acquired = datetime.combine((START + timedelta(days=scenario.days)).date(), datetime.min.time(), UTC)
    evidence: dict[Path, int] = {}
    for src in files.sources:
        item = ws.evidence.add(
            ref,
            src.path,
            source=f"{SOURCES.get(src.adapter, src.adapter)}: {src.path.name}",
            acquired_by="Det. Synthetic",
            acquired_at=acquired,
            tool="palermo scenario",
            description=f"{src.adapter}, {src.rows} rows",
        )
        evidence[src.path] = item.id
    defendants = {
        m.person_id: ws.parties.add_defendant(ref, m.name, notes=m.role).id
        for m in ring.members
        if m.role in ("controller", "recruiter")
    }
    victims: dict[str, int] = {}
    for number, v in enumerate(ring.role("victim"), start=1):
        born = (START - timedelta(days=365 * v.age + 100)).date().isoformat()
        victims[v.person_id] = ws.parties.add_victim(
            ref,
            f"V-{number:02d}",
            age_at_offence=v.age,
            legal_name=v.name,
            date_of_birth=born,
            contact=f"+1{v.phones[0]}",
            notes="minor" if v.minor else None,
        ).id
    count = 0
    charges: list[tuple[Any, Member, Member]] = []
    for m in ring.members:
        if m.person_id not in defendants:
            continue
        mine = [
            v
            for v in ring.role("victim")
            if v.controller == m.person_id or (m.role == "recruiter" and v.joined_day > 0)
        ]
        for v in mine:
            count += 1
            offence = "us-18-usc-1589" if v.exploitation == "labour" else "us-18-usc-1591"
            acts = (
                ["recruitment", "entices"]
                if m.role == "recruiter"
                else ["harbouring", "advertises", "maintains"]
            )
            facts = {
                "victim_age": v.age,
                "acts": acts,
                "means": [] if v.minor else ["threat_of_serious_harm"],
            }
            charge = ws.charges.add(
                ref, offence, defendants[m.person_id], [victims[v.person_id]], count, facts
            )
            charges.append((charge, m, v))
        sex_victims = [victims[v.person_id] for v in ring.role("victim") if v.exploitation == "sex"]
        count += 1
        ws.charges.add(
            ref,
            "us-18-usc-1594-c",
            defendants[m.person_id],
            sex_victims,
            count,
            {"victim_age": max(v.age for v in ring.role("victim"))},
        )
    _link_obvious(ws, scenario, files, evidence, charges)
    return ref


def _link_obvious(
    ws: Any,
    scenario: Scenario,
    files: ScenarioFiles,
    evidence: dict[Path, int],
    charges: list[tuple[Any, Member, Member]],
) -> None:
    """A handful of proof links a first read of the exhibits supports."""
    ads_path = files.by_adapter("ads_jsonl")[0]
    controller_phone = next((p for p in files.by_adapter("phone_json") if p.name == "phone-1.json"), None)
    funnel = _bank_line(files, scenario.truth.funnel_accounts[0], "cash_deposit")
    boss = scenario.ring.role("controller")[0]
    for charge, defendant, victim in charges:
        if defendant.role != "controller" or victim.exploitation != "sex":
            continue
        line = _ad_line(files, {a["ad_id"] for a in scenario.ads if a.get("_victim") == victim.person_id})
        act = _element(charge, "act")
        if line is not None and act is not None:
            ws.proof.link(
                act,
                evidence[ads_path],
                pinpoint=f"line:{line}",
                note="ad advertising the victim, the controller's work phone as contact",
            )
        motel = _bank_line(files, scenario.book.iban[defendant.accounts[0]], "card", MOTELS)
        if motel is not None and act is not None:
            ws.proof.link(
                act,
                evidence[motel[0]],
                pinpoint=f"line:{motel[1]}",
                note="the defendant pays the motel rooms in the circuit city (harbouring)",
            )
        if defendant is not boss or controller_phone is None:
            continue
        msg = _message(controller_phone, victim.phones[0], ("owe", "quota", "family will hear"))
        means = _element(charge, "means")
        if msg is not None and means is not None and not victim.minor:
            ws.proof.link(
                means,
                evidence[controller_phone],
                pinpoint=f"message:{msg}",
                note="debt, quota or threat sent to the victim",
            )
        venture = _element(charge, "commercial_sex_act")
        if funnel is not None and venture is not None:
            ws.proof.link(
                venture,
                evidence[funnel[0]],
                pinpoint=f"line:{funnel[1]}",
                stance="supports",
                note="structured cash deposit into the funnel account from the circuit city",
            )
