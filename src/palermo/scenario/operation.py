"""The trafficking operation: who is in the ring, who its victims are, and where they are moved.

The shape follows typical US federal sex-trafficking prosecutions (18 U.S.C. § 1591 with a § 1594(c)
conspiracy): two *controllers* who run the victims and answer the ad phones, two or three *recruiters*
who approach young people with job offers and debts, two *drivers* who move the victims, and one *money
handler* whose account collects the cash. Six to twelve victims, some of them minors aged 14-17, are
moved around a *circuit* of three to five cities, staying one to three weeks in each (the stays are
``Stay`` records; every ad, hotel charge, cash deposit and driver call follows them). Later victims
join part-way through, after a recruiter has worked on them. One adult victim may be held for forced
labour (§ 1589) instead of commercial sex. Buyers are ordinary members of the population in the
circuit cities who answer the ads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from palermo.scenario.people import CITY_NAMES, allocate_phones, email_for, make_iban, make_names
from palermo.scenario.population import BANKS, AccountBook, Population, holder_as_printed
from palermo.scenario.records import StringPool

RING_ROLES = ("controller", "recruiter", "driver", "money_handler")
FOREIGN = (("RO", "RZBR", 16), ("MD", "AGRN", 18), ("BG", "UNCR", 14))


@dataclass
class Member:
    """A ring member or victim. Phones are 10-digit national numbers; accounts are account numbers."""

    person_id: str
    given: str
    family: str
    role: str
    age: int
    home_city: str
    phones: list[int] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    accounts: list[int] = field(default_factory=list)
    joined_day: int = 0
    controller: str | None = None
    exploitation: str | None = None

    @property
    def name(self) -> str:
        """Canonical name, as in the ground truth."""
        return f"{self.given} {self.family}"

    @property
    def minor(self) -> bool:
        """Under 18 at the start of the scenario."""
        return self.role == "victim" and self.age < 18


@dataclass
class Stay:
    """The victims are in ``city`` from ``start`` (inclusive) to ``end`` (exclusive), in days."""

    start: int
    end: int
    city: str


@dataclass
class Ring:
    """The operation, its victims, their movements, and the people it touches."""

    members: list[Member]
    circuit: list[str]
    stays: list[Stay]
    buyers: list[int]
    prospects: list[int]
    funnel_account: int
    foreign_ibans: list[str]

    def role(self, role: str) -> list[Member]:
        """Members with ``role``, in id order."""
        return [m for m in self.members if m.role == role]

    def stay_on(self, day: int) -> Stay:
        """Where the victims are on ``day``."""
        for stay in self.stays:
            if stay.start <= day < stay.end:
                return stay
        return self.stays[-1]


def plan_stays(rng: np.random.Generator, circuit: list[str], days: int) -> list[Stay]:
    """Consecutive one-to-three-week stays going round ``circuit`` until the period ends."""
    stays: list[Stay] = []
    day, i = 0, 0
    while day < days:
        length = int(rng.integers(7, 22))
        stays.append(Stay(day, min(days, day + length), circuit[i % len(circuit)]))
        day += length
        i += 1
    return stays


def _account(book: AccountBook, pool: StringPool, rng: np.random.Generator, m: Member, holder: str | None,
             bank: int) -> None:
    number = int(rng.integers(10**9, 10**10))
    iban = make_iban("US", BANKS[bank][1], number)
    printed = holder or holder_as_printed(m.given, m.family, BANKS[bank][2])
    m.accounts.append(book.append(pool, iban, printed, f"{m.given} {m.family}",
                                  bank, int(rng.integers(50_000, 400_000))))


def build_ring(rng: np.random.Generator, pool: StringPool, book: AccountBook, pop: Population,
               days: int) -> Ring:
    """Draw the ring, its victims, circuit and stays, with phones and accounts of their own."""
    n_rec, n_vic = int(rng.integers(2, 4)), int(rng.integers(6, 13))
    n_minor = int(rng.integers(2, max(3, n_vic // 2)))
    stops = rng.choice(len(CITY_NAMES), size=int(rng.integers(3, 6)), replace=False)
    circuit = [CITY_NAMES[i] for i in stops]
    roles = ["controller"] * 2 + ["recruiter"] * n_rec + ["driver"] * 2 + ["money_handler"]
    roles += ["victim"] * n_vic
    names = make_names(rng, len(roles))
    members: list[Member] = []
    for i, (role, (given, family)) in enumerate(zip(roles, names, strict=True)):
        victim_no = i - (len(roles) - n_vic)
        age = (int(rng.integers(14, 18)) if 0 <= victim_no < n_minor else int(rng.integers(18, 27))) \
            if role == "victim" else int(rng.integers(24, 52))
        home = circuit[0] if role != "victim" else CITY_NAMES[int(rng.integers(0, len(CITY_NAMES)))]
        members.append(Member(f"P{i + 1:06d}", given, family, role, age, home))
    controllers = [m for m in members if m.role == "controller"]
    victims = [m for m in members if m.role == "victim"]
    for k, v in enumerate(victims):
        v.controller = controllers[k % 2].person_id
        late = int(rng.integers(days // 6, max(days // 6 + 1, days * 3 // 5)))
        v.joined_day = 0 if k < (n_vic + 1) // 2 else late
        v.exploitation = "labour" if (n_vic >= 8 and k == n_vic - 1 and v.age >= 18) else "sex"
    # Phones: controllers carry a personal phone and a "work" phone printed in ads; the first victims'
    # phones are swapped for a new one half-way (burner churn, a classic resolution problem).
    phone_cities = []
    for m in members:
        count = 2 if m.role == "controller" or (m.role == "victim" and m is victims[0]) else 1
        phone_cities.extend([m.home_city] * count)
    numbers = iter(int(x) for x in allocate_phones(rng, phone_cities, reserved=True))
    for m in members:
        m.phones.append(next(numbers))
        if m.role == "controller" or m is victims[0]:
            m.phones.append(next(numbers))
        if m.role != "victim" or rng.random() < 0.4:
            m.emails.append(email_for(m.given, m.family, rng))
    handler = next(m for m in members if m.role == "money_handler")
    _account(book, pool, rng, handler, None, 0)
    _account(book, pool, rng, handler, f"{handler.given[0]} {handler.family[0]} {handler.family}".upper(), 1)
    for m in members:
        if m.role in ("controller", "driver", "recruiter") or (m.role == "victim" and m.age >= 18 and
                                                                   rng.random() < 0.5):
            _account(book, pool, rng, m, None, int(rng.integers(0, len(BANKS))))
    circuit_idx = [CITY_NAMES.index(c) for c in circuit]
    local = np.nonzero(np.isin(pop.city, circuit_idx))[0]
    buyers = sorted(int(x) for x in rng.choice(local, size=min(len(local), 8 + 3 * n_vic), replace=False))
    prospects = sorted(int(x) for x in rng.choice(len(pop), size=min(len(pop), 4), replace=False)
                       if int(x) not in buyers)
    foreign = [make_iban(c, bank, int(rng.integers(10**9, 10**10)), width) for c, bank, width in FOREIGN]
    return Ring(members, circuit, plan_stays(rng, circuit, days), buyers, prospects,
                handler.accounts[1], foreign)
