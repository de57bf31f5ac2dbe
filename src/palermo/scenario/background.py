"""Innocent background activity: ordinary bank lines and calls, generated in vectorised chunks.

Each call to ``bank_chunk`` / ``call_chunk`` draws the rows of one slice of days with numpy and
returns columnar buffers, so the writers can stream 10 M rows without holding them. What the rows
look like, and why:

* bank: groceries, restaurants, fuel and online shopping by card; utilities online; rent and salaries by
  transfer on the days they are due; ATM withdrawals; the occasional hotel stay in another city (so a
  hotel charge alone proves nothing); small cash deposits; P2P payments among family, colleagues and
  friends, written on *both* statements as real exports do.
* calls: among family, colleagues and friends, a third of them SMS, mostly between 8:00 and 22:00, from
  cells of the caller's home city (one call in ten while travelling). Numbers are written in the mixed
  formats of real CDRs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from palermo.scenario.people import CITIES, CITY_NAMES, PHONE_STYLE_WEIGHTS, make_iban, make_names
from palermo.scenario.population import AccountBook, Population
from palermo.scenario.records import CHANNEL, BankRows, CallRows, StringPool

DAY = 86_400
CELLS_PER_CITY = 150
DAYTIME = np.array([1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 3, 5, 6, 6, 6, 7, 6, 6, 6, 6, 7, 7, 6, 5, 4, 3, 2], float)
DAYTIME /= DAYTIME.sum()
EVENING = np.array([2, 1, 0.5, 0.2, 0.2, 0.2, 0.5, 1, 2, 3, 3, 4, 6, 4, 3, 3, 4, 6, 8, 9, 8, 6, 4, 3], float)
EVENING /= EVENING.sum()

GROCERS = ("FRESHMART", "GREENLEAF GROCERY", "VALUE BASKET", "CORNER MARKET")
RESTAURANTS = ("BLUE PLATE DINER", "NOODLE HOUSE", "TACO CORNER", "PIZZA PALACE", "GRILL 22")
FUEL = ("FASTFUEL", "ROADSTAR GAS", "QUIKFILL")
SHOPS = ("SHOPNOW.EXAMPLE", "MEGASTORE.EXAMPLE", "BOOKNOOK.EXAMPLE")
UTILITIES = ("CITY POWER AND WATER", "CONNECTA MOBILE", "STREAMBOX.EXAMPLE")
HOTELS = ("CITYVIEW SUITES", "HARBOR INN", "STARLIGHT MOTEL", "ROADWAY LODGE", "PARKSIDE HOTEL")
P2P_NOTES = ("dinner", "thanks!", "rent share", "birthday gift", "tickets", "groceries", "gas money")
EMPLOYER_KINDS = ("LOGISTICS", "HEALTH", "SCHOOLS", "RETAIL", "BUILDERS", "FOODS", "MOTORS")

# kind: (probability, channel, credit, merchant table, median dollars, sigma, hour profile)
KINDS: dict[str, tuple[float, str, bool, tuple[str, ...], float, float, np.ndarray]] = {
    "grocery": (0.24, "card", False, GROCERS, 55, 0.6, DAYTIME),
    "restaurant": (0.14, "card", False, RESTAURANTS, 32, 0.5, EVENING),
    "fuel": (0.08, "card", False, FUEL, 45, 0.4, DAYTIME),
    "shop": (0.09, "online", False, SHOPS, 60, 0.9, EVENING),
    "utility": (0.05, "online", False, UTILITIES, 95, 0.5, DAYTIME),
    "rent": (0.04, "transfer", False, (), 1350, 0.3, DAYTIME),
    "salary": (0.08, "transfer", True, (), 2300, 0.35, DAYTIME),
    "atm": (0.07, "cash_withdrawal", False, (), 100, 0.6, DAYTIME),
    "hotel": (0.015, "card", False, HOTELS, 160, 0.4, EVENING),
    "cash_in": (0.025, "cash_deposit", True, (), 250, 0.7, DAYTIME),
    "p2p": (0.16, "p2p", False, (), 45, 0.9, EVENING),
}
KIND_NAMES = tuple(KINDS)
KIND_P = np.array([KINDS[k][0] for k in KIND_NAMES])
KIND_P /= KIND_P.sum()
P2P_SHARE = KINDS["p2p"][0] / sum(v[0] for v in KINDS.values())


@dataclass
class BackgroundTables:
    """Pool indices the background rows draw from, built once per scenario."""

    merchant: dict[str, np.ndarray]
    employer_iban: np.ndarray
    employer_name: np.ndarray
    landlord_iban: np.ndarray
    landlord_name: np.ndarray
    city_name: np.ndarray
    cells: np.ndarray
    notes: np.ndarray
    labels: dict[str, int]


def _company_names(rng: np.random.Generator, n: int, kinds: tuple[str, ...]) -> list[str]:
    """``n`` distinct synthetic company names ("TAVENOR & MORLEY FOODS"): distinct, because name-based
    resolution would otherwise merge unrelated firms into giant false hubs."""
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        for (_, a), (_, b) in zip(make_names(rng, n), make_names(rng, n), strict=True):
            name = f"{a.upper()} & {b.upper()} {kinds[int(rng.integers(0, len(kinds)))]}"
            if name not in seen and len(names) < n:
                seen.add(name)
                names.append(name)
    return names


def build_tables(rng: np.random.Generator, pool: StringPool, people: int) -> BackgroundTables:
    """Intern the merchants, employers, landlords, cities and cells the background refers to.

    One employer per workplace of 25 and one landlord per eight people keep payees at realistic
    degrees: a handful of hub payees paying or collecting from thousands would dominate any graph.
    """
    merchant = {k: pool.add_many(list(v[3])) for k, v in KINDS.items() if v[3]}
    n_employers, n_landlords = max(4, -(-people // 25)), max(4, people // 8)
    employers = [f"{name} LLC" for name in _company_names(rng, n_employers, EMPLOYER_KINDS)]
    landlords = [f"RENT {name}" for name in _company_names(rng, n_landlords, ("PROPERTIES", "HOMES", "APTS"))]
    cells = np.array([[pool.add(f"{CITIES[c][1]}-{k:04d}") for k in range(1, CELLS_PER_CITY + 1)]
                      for c in CITY_NAMES], dtype=np.int64)
    labels = {text: pool.add(text) for text in (
        "POS PURCHASE", "CARD PAYMENT", "ONLINE PAYMENT", "DIRECT DEBIT", "SALARY", "RENT",
        "ATM WITHDRAWAL", "CASH DEPOSIT", "P2P PAYMENT")}
    return BackgroundTables(
        merchant=merchant,
        employer_iban=pool.add_many([make_iban("US", "EMPL", 5_000_000 + i) for i in range(n_employers)]),
        employer_name=pool.add_many(employers),
        landlord_iban=pool.add_many([make_iban("US", "LNDL", 7_000_000 + i) for i in range(n_landlords)]),
        landlord_name=pool.add_many(landlords),
        city_name=pool.add_many(list(CITY_NAMES)),
        cells=cells,
        notes=pool.add_many(list(P2P_NOTES)),
        labels=labels,
    )


def _times(rng: np.random.Generator, days: np.ndarray, profile: np.ndarray) -> np.ndarray:
    hours = rng.choice(24, size=len(days), p=profile)
    return days.astype(np.int64) * DAY + hours * 3600 + rng.integers(0, 3600, len(days))


def bank_chunk(rng: np.random.Generator, pop: Population, book: AccountBook, tables: BackgroundTables,
               n_rows: int, day0: int, day1: int, day_of_month: np.ndarray) -> BankRows:
    """About ``n_rows`` innocent statement lines dated in days ``[day0, day1)``."""
    n_events = max(1, round(n_rows / (1 + P2P_SHARE)))
    kind = rng.choice(len(KIND_NAMES), size=n_events, p=KIND_P)
    who = np.searchsorted(np.cumsum(pop.activity), rng.random(n_events) * pop.activity.sum())
    who = np.minimum(who, len(pop) - 1)
    days = rng.integers(day0, day1, n_events)
    ts = np.empty(n_events, dtype=np.int64)
    cents = np.empty(n_events, dtype=np.int64)
    cp_iban = np.zeros(n_events, dtype=np.int64)
    cp_name = np.zeros(n_events, dtype=np.int64)
    desc = np.zeros(n_events, dtype=np.int64)
    credit = np.zeros(n_events, dtype=np.int64)
    channel = np.zeros(n_events, dtype=np.int64)
    city = tables.city_name[pop.city[who]].astype(np.int64)
    for k, name in enumerate(KIND_NAMES):
        sel = np.nonzero(kind == k)[0]
        if not len(sel):
            continue
        _, chan, is_credit, merchants, median, sigma, profile = KINDS[name]
        d = days[sel]
        if name in ("salary", "rent"):
            # Due dates: salaries on the 1st and 15th, rent on the 1st (day-of-month 0 / 14).
            due = (0, 14) if name == "salary" else (0,)
            offset = day_of_month[d] - np.array(due)[rng.integers(0, len(due), len(d))]
            d = np.clip(d - offset, day0, day1 - 1)
        ts[sel] = _times(rng, d, profile)
        cents[sel] = np.maximum(100, (rng.lognormal(np.log(median), sigma, len(sel)) * 100).astype(np.int64))
        credit[sel] = int(is_credit)
        channel[sel] = CHANNEL[chan]
        if merchants:
            cp_name[sel] = tables.merchant[name][rng.integers(0, len(merchants), len(sel))]
            desc[sel] = tables.labels["ONLINE PAYMENT" if chan == "online" else "POS PURCHASE"]
        if name == "salary":
            emp = pop.work_of[who[sel]] % len(tables.employer_iban)
            cp_iban[sel], cp_name[sel] = tables.employer_iban[emp], tables.employer_name[emp]
            desc[sel] = tables.labels["SALARY"]
            city[sel] = 0
        elif name == "rent":
            ll = (who[sel] // 4 * 7919) % len(tables.landlord_iban)
            cp_iban[sel], cp_name[sel] = tables.landlord_iban[ll], tables.landlord_name[ll]
            desc[sel] = tables.labels["RENT"]
            city[sel] = 0
        elif name == "atm":
            desc[sel] = tables.labels["ATM WITHDRAWAL"]
        elif name == "cash_in":
            desc[sel] = tables.labels["CASH DEPOSIT"]
        elif name == "hotel":
            city[sel] = tables.city_name[rng.integers(0, len(CITY_NAMES), len(sel))]
        elif name in ("shop", "utility"):
            city[sel] = 0
    main = BankRows(ts=ts, account=who.astype(np.int64), cp_iban=cp_iban, cp_name=cp_name, cents=cents,
                    credit=credit, channel=channel, description=desc, city=city)
    p2p = np.nonzero(kind == KIND_NAMES.index("p2p"))[0]
    friend = pop.contacts(rng, who[p2p])
    note = tables.notes[rng.integers(0, len(tables.notes), len(p2p))]
    main.cp_iban[p2p] = book.iban_idx[friend]
    main.cp_name[p2p] = book.payee_idx[friend]
    main.description[p2p] = note
    main.city[p2p] = 0
    mirror = BankRows(ts=main.ts[p2p], account=friend.astype(np.int64), cp_iban=book.iban_idx[who[p2p]],
                      cp_name=book.payee_idx[who[p2p]], cents=main.cents[p2p],
                      credit=np.ones(len(p2p), dtype=np.int64), channel=main.channel[p2p],
                      description=note, city=main.city[p2p])
    return BankRows.concat([main, mirror])  # type: ignore[return-value]


def call_chunk(rng: np.random.Generator, pop: Population, tables: BackgroundTables, n_rows: int,
               day0: int, day1: int) -> CallRows:
    """``n_rows`` innocent calls and SMS dated in days ``[day0, day1)``."""
    caller = np.searchsorted(np.cumsum(pop.activity), rng.random(n_rows) * pop.activity.sum())
    caller = np.minimum(caller, len(pop) - 1)
    callee = pop.contacts(rng, caller)
    sms = (rng.random(n_rows) < 0.35).astype(np.int64)
    duration = np.where(sms == 1, 0, np.clip(rng.lognormal(4.2, 1.0, n_rows), 3, 5400)).astype(np.int64)
    styles = len(PHONE_STYLE_WEIGHTS)
    caller_fmt = pop.phone_fmt[caller, rng.choice(styles, size=n_rows, p=PHONE_STYLE_WEIGHTS)]
    callee_fmt = pop.phone_fmt[callee, rng.choice(styles, size=n_rows, p=PHONE_STYLE_WEIGHTS)]
    travelling = rng.random(n_rows) < 0.1
    city = np.where(travelling, rng.integers(0, len(CITY_NAMES), n_rows), pop.city[caller])
    cell = tables.cells[city, rng.integers(0, CELLS_PER_CITY, n_rows)]
    ts = _times(rng, rng.integers(day0, day1, n_rows), DAYTIME)
    return CallRows(ts=ts, caller=caller_fmt, callee=callee_fmt, duration=duration, sms=sms, cell=cell,
                    city=tables.city_name[city].astype(np.int64))
