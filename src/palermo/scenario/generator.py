"""``generate(seed, scale)``: one deterministic synthetic case, and ``Scenario.write`` to put it on disk.

``generate`` draws everything small up front (population, ring, the ring's rows, ground truth); the
innocent background is drawn chunk by chunk inside ``write`` from per-chunk seeds, so 10 M rows stream
to disk in bounded memory and the same seed and scale always give byte-identical files.

Scale: ``scale=1`` gives about 500 innocent bank lines, 500 innocent calls and 50 innocent ads (plus
the ring's own rows, a few hundred to a few thousand); row counts grow linearly, so ``scale=2000`` is
the benchmark's 1 M transactions + 1 M calls + 100 k ads. The period grows from 8 weeks at ``scale=1``
to 26 weeks from ``scale=512`` on, and the population from 75 people by 15 per scale unit (at most
200 000).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from palermo.errors import InputError
from palermo.scenario.ads import Provider, background_ads, pick_providers, ring_ads
from palermo.scenario.background import BackgroundTables, bank_chunk, build_tables, call_chunk
from palermo.scenario.comms import Contact, ring_contacts
from palermo.scenario.devices import extract
from palermo.scenario.money import ring_bank_rows
from palermo.scenario.operation import Ring, build_ring
from palermo.scenario.people import CITY_NAMES, PHONE_STYLE_WEIGHTS, phone_e164, phone_formats
from palermo.scenario.population import BANKS, AccountBook, Population, build_population
from palermo.scenario.records import BankRows, CallRows, StringPool
from palermo.scenario.truth import Truth, TruthPerson
from palermo.scenario.writers import BankWriter, CallWriter, Clock, write_ads, write_json

START = datetime(2025, 1, 6)
BASE_BANK_ROWS = 500
BASE_CALLS = 500
BASE_ADS = 50
CHUNK_ROWS = 250_000
MAX_POPULATION = 200_000
GROUPED_IBAN_BANKS = frozenset({1})  # Blue River prints IBANs in groups of four


@dataclass
class SourceFile:
    """One written source file, the ingest adapter that reads it, and its data-row count."""

    path: Path
    adapter: str
    rows: int
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class ScenarioFiles:
    """What ``Scenario.write`` produced."""

    root: Path
    sources: list[SourceFile]
    truth: Path

    def by_adapter(self, adapter: str) -> list[Path]:
        """Paths of the files an adapter reads."""
        return [s.path for s in self.sources if s.adapter == adapter]

    def rows(self, adapter: str) -> int:
        """Data rows (lines, ads, messages + calls) over an adapter's files."""
        return sum(s.rows for s in self.sources if s.adapter == adapter)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary for ``--json``."""
        return {"root": str(self.root), "truth": str(self.truth),
                "sources": [{"path": str(s.path), "adapter": s.adapter, "rows": s.rows, "options": s.options}
                            for s in self.sources]}


def period_days(scale: float) -> int:
    """8 weeks at scale 1, two more weeks per doubling, at most 26 weeks."""
    weeks = 8 + 2 * math.log2(max(scale, 1.0))
    return int(min(26, max(8, round(weeks)))) * 7


def population_size(scale: float) -> int:
    """15 people per scale unit, capped at 200 000 (the fictional-number ranges hold about 240 000)."""
    return int(min(MAX_POPULATION, 60 + 15 * scale))


@dataclass
class Scenario:
    """A generated case: everything needed to write its files, and its ground truth."""

    seed: int
    scale: float
    days: int
    pool: StringPool
    population: Population
    book: AccountBook
    tables: BackgroundTables
    ring: Ring
    ring_bank: BankRows
    ring_calls: CallRows
    contacts: list[Contact]
    ads: list[dict[str, Any]]
    providers: list[Provider]
    truth: Truth

    @property
    def targets(self) -> dict[str, int]:
        """Innocent background rows per source at this scale."""
        return {"bank": round(BASE_BANK_ROWS * self.scale), "calls": round(BASE_CALLS * self.scale),
                "ads": round(BASE_ADS * self.scale)}

    def write(self, out_dir: Path | str, *, chunk_rows: int = CHUNK_ROWS) -> ScenarioFiles:
        """Write the source files and ``truth.json`` into ``out_dir`` (created if missing).

        ``chunk_rows`` bounds the background rows drawn at once; it is part of the recipe, so the same
        seed, scale and ``chunk_rows`` give the same bytes.
        """
        root = Path(out_dir)
        for sub in ("bank", "cdr", "ads", "phones"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        pool = pa.array(self.pool.strings, type=pa.string())
        clock = Clock(START, self.days)
        bank_paths = [root / "bank" / f"{name.lower().replace(' ', '_')}.csv" for name, _, _ in BANKS]
        banks = BankWriter(bank_paths, pool, clock, self.book.bank, self.book.iban_idx, self.book.holder_idx,
                           self.book.opening_cents, GROUPED_IBAN_BANKS)
        calls = CallWriter(root / "cdr" / "calls.csv", pool, clock)
        targets = self.targets
        n_chunks = min(self.days, max(1, math.ceil(max(targets["bank"], targets["calls"]) / chunk_rows)))
        bounds = np.linspace(0, self.days, n_chunks + 1).astype(int)
        day_of_month = np.array([(START + timedelta(days=d)).day - 1 for d in range(self.days)])
        n_ads = 0
        with (root / "ads" / "ads.jsonl").open("w", encoding="utf-8", newline="\n") as ads_file:
            done = {"bank": 0, "calls": 0, "ads": 0}
            for k in range(n_chunks):
                d0, d1 = int(bounds[k]), int(bounds[k + 1])
                share = {key: (targets[key] - done[key]) if k == n_chunks - 1 else
                         round(targets[key] * (d1 - d0) / self.days) for key in targets}
                for key in done:
                    done[key] += share[key]
                rng = np.random.default_rng([self.seed, 101, k])
                lo, hi = d0 * 86_400, d1 * 86_400
                in_chunk = np.nonzero((self.ring_bank.ts >= lo) & (self.ring_bank.ts < hi))[0]
                parts = [self.ring_bank.take(in_chunk)]
                if share["bank"] > 0:
                    parts.append(bank_chunk(rng, self.population, self.book, self.tables, share["bank"],
                                            d0, d1, day_of_month))
                banks.write(BankRows.concat(parts))  # type: ignore[arg-type]
                in_chunk = np.nonzero((self.ring_calls.ts >= lo) & (self.ring_calls.ts < hi))[0]
                cparts = [self.ring_calls.take(in_chunk)]
                if share["calls"] > 0:
                    cparts.append(call_chunk(rng, self.population, self.tables, share["calls"], d0, d1))
                calls.write(CallRows.concat(cparts))  # type: ignore[arg-type]
                chunk_ads = [a for a in self.ads if lo <= a["_ts"] < hi]
                chunk_ads += background_ads(rng, self.population, self.providers, share["ads"], d0, d1,
                                            self.seed, k)
                n_ads += write_ads(ads_file, chunk_ads, clock)
        banks.close()
        calls.close()
        sources = [SourceFile(p, "bank_csv", n) for p, n in zip(bank_paths, banks.rows, strict=True)]
        sources.append(SourceFile(root / "cdr" / "calls.csv", "cdr_csv", calls.rows, {"region": "US"}))
        sources.append(SourceFile(root / "ads" / "ads.jsonl", "ads_jsonl", n_ads))
        for i, device in enumerate(self.truth.devices):
            owner = next(m for m in self.ring.members if m.person_id == device["person_id"])
            doc = extract(np.random.default_rng([self.seed, 202, i]), owner, device["_phone"], self.contacts,
                          self.ring, self.population, START, self.days)
            path = root / "phones" / device["file"]
            write_json(path, doc)
            sources.append(SourceFile(path, "phone_json", len(doc["messages"]) + len(doc["calls"]),
                                      {"region": "US"}))
        truth = self.truth.to_dict()
        truth["devices"] = [{k: v for k, v in d.items() if not k.startswith("_")} for d in self.truth.devices]
        truth["files"] = [{"path": str(s.path.relative_to(root)), "adapter": s.adapter, "rows": s.rows}
                          for s in sources]
        write_json(root / "truth.json", truth)
        return ScenarioFiles(root, sources, root / "truth.json")


def _ring_calls(rng: np.random.Generator, contacts: list[Contact], pool: StringPool,
                tables: BackgroundTables) -> CallRows:
    rows: list[tuple[int, ...]] = []
    for c in contacts:
        if c.kind not in ("voice", "sms"):
            continue
        styles = rng.choice(len(PHONE_STYLE_WEIGHTS), size=2, p=PHONE_STYLE_WEIGHTS)
        city = CITY_NAMES.index(c.city)
        rows.append((c.ts, pool.add(phone_formats(c.sender)[styles[0]]),
                     pool.add(phone_formats(c.recipient)[styles[1]]), c.duration, int(c.kind == "sms"),
                     int(tables.cells[city, int(rng.integers(0, tables.cells.shape[1]))]), pool.add(c.city)))
    return CallRows.from_rows(rows)  # type: ignore[return-value]


def _truth(seed: int, scale: float, ring: Ring, pop: Population, book: AccountBook, pool: StringPool,
           ads: list[dict[str, Any]], days: int) -> Truth:
    people: list[TruthPerson] = []
    for m in ring.members:
        people.append(TruthPerson(
            person_id=m.person_id, name=m.name, role=m.role, ring_member=m.role != "victim", minor=m.minor,
            age=m.age, home_city=m.home_city, phones=[phone_e164(p) for p in m.phones], emails=list(m.emails),
            accounts=[book.iban[a] for a in m.accounts],
            aliases=sorted({pool.strings[int(book.holder_idx[a])] for a in m.accounts} |
                           {pool.strings[int(book.payee_idx[a])] for a in m.accounts})))
    buyers = set(ring.buyers)
    offset = len(ring.members)
    for i in range(len(pop)):
        name = f"{pop.given[i]} {pop.family[i]}"
        email = pop.email[i]
        people.append(TruthPerson(
            person_id=f"P{offset + i + 1:06d}", name=name, role="buyer" if i in buyers else "innocent",
            ring_member=False, minor=False, age=int(pop.age[i]), home_city=CITY_NAMES[int(pop.city[i])],
            phones=[phone_e164(int(pop.phone[i]))], emails=[email] if email else [], accounts=[book.iban[i]],
            aliases=sorted({pool.strings[int(book.holder_idx[i])], pool.strings[int(book.payee_idx[i])]})))
    victims = ring.role("victim")
    devices: list[dict[str, Any]] = [
        {"file": "phone-1.json", "person_id": ring.role("controller")[0].person_id,
         "_phone": ring.role("controller")[0].phones[0]},
        {"file": "phone-2.json", "person_id": victims[0].person_id, "_phone": victims[0].phones[0]},
        {"file": "phone-3.json", "person_id": ring.role("recruiter")[0].person_id,
         "_phone": ring.role("recruiter")[0].phones[0]},
    ]
    for d in devices:
        d["phone"] = phone_e164(int(d["_phone"]))
    return Truth(
        seed=seed, scale=scale, people=people,
        circuit=[{"city": s.city, "start": (START + timedelta(days=s.start)).date().isoformat(),
                  "end": (START + timedelta(days=s.end)).date().isoformat()} for s in ring.stays],
        funnel_accounts=[book.iban[ring.funnel_account]],
        ring_ad_ids=sorted(a["ad_id"] for a in ads),
        devices=devices,
    )


def generate(seed: int = 7, scale: float | int = 1) -> Scenario:
    """A deterministic scenario for ``seed`` at ``scale`` (see the module docstring for row counts)."""
    if not isinstance(scale, int | float) or not math.isfinite(scale) or scale <= 0:
        raise InputError(f"scale must be a positive number, got {scale!r}", location="--scale")
    if scale > 20_000:
        raise InputError(f"scale {scale} is above the supported maximum of 20000 (10 M rows per source)",
                         location="--scale")
    rng = np.random.default_rng([seed, 0])
    days = period_days(float(scale))
    pool = StringPool()
    pop, book = build_population(rng, population_size(float(scale)), pool)
    tables = build_tables(rng, pool, len(pop))
    ring = build_ring(rng, pool, book, pop, days)
    ring_bank = ring_bank_rows(rng, ring, pool, book, days)
    contacts = ring_contacts(rng, ring, pop, days)
    ring_calls = _ring_calls(rng, contacts, pool, tables)
    ads = ring_ads(rng, ring, days, seed)
    providers = pick_providers(rng, pop, max(3, round(BASE_ADS * scale * 0.15 / 10)))
    truth = _truth(seed, float(scale), ring, pop, book, pool, ads, days)
    return Scenario(seed, float(scale), days, pool, pop, book, tables, ring, ring_bank, ring_calls, contacts,
                    ads, providers, truth)
