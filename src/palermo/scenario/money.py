"""The ring's money, following FinCEN's human-trafficking red flags (FIN-2014-A008, FIN-2020-A008).

* **Structured cash**: the victims' earnings are deposited in cash into the money handler's *funnel*
  account (held under his initials at a second bank), at branches of whatever city the circuit is in,
  in amounts just under the $10 000 currency-transaction-report threshold.
* **Funnel account**: many inbound deposits from different cities, followed within days by rapid
  outflow: wires abroad, transfers to the controllers, cash withdrawals.
* Some adult victims hold accounts in their own name that receive cash and immediately pass it on
  to the funnel account (the payment is written on both banks' statements).
* **Controller spending**: many payments to escort-ad sites, hotel and motel charges in every circuit
  city, rent for several residences, card payments at night.
* Drivers buy fuel in the cities they move between and rent cars; recruiters buy bus and air tickets
  just before new victims join.
"""

from __future__ import annotations

import numpy as np

from palermo.scenario.operation import Member, Ring
from palermo.scenario.people import make_iban
from palermo.scenario.population import AccountBook
from palermo.scenario.records import CHANNEL, BankRows, StringPool

AD_SITES = ("ESCORTADS.EXAMPLE", "NIGHTLIST.EXAMPLE")
MOTELS = ("STARLIGHT MOTEL", "ROADWAY LODGE", "EXPRESS STAY INN", "HIGHWAY 9 MOTEL")
NIGHT = ("LATE NIGHT LIQUOR", "24H MART", "CLUB VELVET")
TRAVEL = ("GREYLINE BUS", "SKYJET AIR")
THRESHOLD_CENTS = 1_000_000


class _Ledger:
    """Collects ring bank lines as tuples in ``BankRows`` field order."""

    def __init__(self, pool: StringPool, book: AccountBook, rng: np.random.Generator) -> None:
        self.pool, self.book, self.rng = pool, book, rng
        self.rows: list[tuple[int, ...]] = []

    def line(self, ts: int, account: int, cents: int, credit: bool, channel: str, desc: str,
             city: str = "", cp_iban: str = "", cp_name: str = "") -> None:
        p = self.pool.add
        self.rows.append((ts, account, p(cp_iban), p(cp_name), cents, int(credit), CHANNEL[channel], p(desc),
                          p(city)))

    def transfer(self, ts: int, src: int, dst: int, cents: int, channel: str, desc: str) -> None:
        """A payment between two accounts in the files: one line on each statement."""
        strings = self.pool.strings
        self.line(ts, src, cents, False, channel, desc, cp_iban=strings[int(self.book.iban_idx[dst])],
                  cp_name=strings[int(self.book.payee_idx[dst])])
        self.line(ts + int(self.rng.integers(0, 120)), dst, cents, True, channel, desc,
                  cp_iban=strings[int(self.book.iban_idx[src])],
                  cp_name=strings[int(self.book.payee_idx[src])])

    def at(self, day: int, night: bool = False) -> int:
        hour = int(self.rng.choice([22, 23, 0, 1, 2, 3])) if night else int(self.rng.integers(9, 18))
        return day * 86_400 + hour * 3600 + int(self.rng.integers(0, 3600))


def ring_bank_rows(rng: np.random.Generator, ring: Ring, pool: StringPool, book: AccountBook,
                   days: int) -> BankRows:
    """Every statement line of the ring's accounts over ``days`` days."""
    led = _Ledger(pool, book, rng)
    funnel = ring.funnel_account
    handler = ring.role("money_handler")[0]
    controllers = ring.role("controller")
    victims = ring.role("victim")
    banked = [v for v in victims if v.accounts]
    balance = cash = 0
    for day in range(days):
        stay = ring.stay_on(day)
        active = sum(1 for v in victims if v.joined_day <= day and v.exploitation == "sex")
        cash += int(active * rng.integers(40_000, 90_000))
        # Structured deposits: the takings go in as soon as they reach just under the threshold.
        while cash >= 950_000:
            cents = min(cash, int(rng.integers(900_000, 995_000)))
            led.line(led.at(day), funnel, cents, True, "cash_deposit", "CASH DEPOSIT BRANCH", stay.city)
            balance += cents
            cash -= cents
        for v in banked:
            if v.joined_day <= day and rng.random() < 0.25:
                cents = int(rng.integers(150_000, 300_000))
                led.line(led.at(day), v.accounts[0], cents, True, "cash_deposit", "CASH DEPOSIT", stay.city)
                led.transfer(led.at(day) + 3600, v.accounts[0], funnel, cents, "p2p", "for rent")
                balance += cents
        if day % 3 == 2 and balance > 0:
            for iban in ring.foreign_ibans[: int(rng.integers(1, len(ring.foreign_ibans) + 1))]:
                cents = int(balance * rng.uniform(0.15, 0.25))
                led.line(led.at(day), funnel, cents, False, "wire", "WIRE TRANSFER FAMILY SUPPORT",
                         cp_iban=iban, cp_name=f"BENEFICIARY {iban[:2]}")
                balance -= cents
            for boss in controllers:
                cents = int(balance * rng.uniform(0.10, 0.2))
                led.transfer(led.at(day), funnel, boss.accounts[0], cents, "transfer", "consulting")
                balance -= cents
            cents = int(balance * 0.5)
            led.line(led.at(day), funnel, cents, False, "cash_withdrawal", "ATM WITHDRAWAL", ring.circuit[0])
            balance -= cents
        for boss in controllers:
            _controller_day(led, rng, boss, day, stay.city, active)
        if day == stay.start and day > 0:
            for driver in ring.role("driver"):
                origin = ring.stay_on(day - 1).city
                for city in (origin, stay.city):
                    led.line(led.at(day), driver.accounts[0], int(rng.integers(4_000, 9_000)), False, "card",
                             "POS PURCHASE", city, cp_name="FASTFUEL")
        if day % 30 == 0:
            for driver in ring.role("driver"):
                led.line(led.at(day), driver.accounts[0], int(rng.integers(60_000, 120_000)), False, "card",
                         "CAR RENTAL", stay.city, cp_name="QUICKRENT CARS")
            for k, city in enumerate(ring.circuit[:3]):
                boss = controllers[k % 2]
                led.line(led.at(day), boss.accounts[0], int(rng.integers(110_000, 180_000)), False,
                         "transfer", "RENT", cp_iban=make_iban("US", "LNDL", 7_900_000 + k),
                         cp_name=f"RENT {city.upper()} APTS {k}")
        if day % 14 == 0:
            led.transfer(led.at(day), funnel, handler.accounts[0], int(rng.integers(200_000, 400_000)),
                         "transfer", "salary")
    for recruiter in ring.role("recruiter"):
        for v in victims:
            if v.joined_day > 0:
                led.line(led.at(max(0, v.joined_day - 2)), recruiter.accounts[0],
                         int(rng.integers(9_000, 45_000)), False, "card", "TICKET", v.home_city,
                         cp_name=TRAVEL[int(rng.integers(0, 2))])
        for day in range(7, days, 28):
            led.transfer(led.at(day), funnel, recruiter.accounts[0], int(rng.integers(50_000, 150_000)),
                         "transfer", "bonus")
    return BankRows.from_rows(led.rows)  # type: ignore[return-value]


def _controller_day(led: _Ledger, rng: np.random.Generator, boss: Member, day: int, city: str,
                    active: int) -> None:
    account = boss.accounts[0]
    if rng.random() < 0.6:
        led.line(led.at(day, night=True), account, int(rng.integers(2_000, 8_000)), False, "online",
                 "ONLINE PAYMENT", cp_name=AD_SITES[int(rng.integers(0, 2))])
    for _ in range(max(1, active // 4)):
        led.line(led.at(day, night=True), account, int(rng.integers(6_900, 15_000)), False, "card",
                 "POS PURCHASE", city, cp_name=MOTELS[int(rng.integers(0, len(MOTELS)))])
    if rng.random() < 0.3:
        led.line(led.at(day, night=True), account, int(rng.integers(1_500, 12_000)), False, "card",
                 "POS PURCHASE", city, cp_name=NIGHT[int(rng.integers(0, len(NIGHT)))])
