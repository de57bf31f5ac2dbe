"""The innocent population the ring hides in: people, their phones, accounts and social ties.

Analytics is only tested honestly when most of the data is innocent. The population is columnar
(numpy arrays indexed by person number) so that 150 000 people cost megabytes, not gigabytes. Social
structure is implicit and cheap to sample: a person's family is their block of four consecutive
numbers, their workplace a block of 25 in a fixed permutation, plus six fixed friends. Calls and P2P
payments are drawn among these ties, which gives the background graph the clustered, daytime-heavy
shape of a real call graph instead of uniform noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from palermo.scenario.people import (
    CITY_NAMES,
    PHONE_STYLE_WEIGHTS,
    allocate_phones,
    email_for,
    make_iban,
    make_names,
    name_variant,
    phone_formats,
)
from palermo.scenario.records import StringPool

# (printed name, code, holder style): each bank prints holder names its own way, as real banks do.
BANKS = (("NORTHWIND SAVINGS", "NWSB", "upper"), ("BLUE RIVER BANK", "BLRV", "family_first"),
         ("CEDAR TRUST", "CDRT", "initial"))
FAMILY_SIZE = 4
WORKPLACE_SIZE = 25
FRIENDS = 6


def holder_as_printed(given: str, family: str, style: str) -> str:
    """The account holder's name in a bank's house style."""
    if style == "upper":
        return f"{given} {family}".upper()
    if style == "family_first":
        return f"{family}, {given}"
    return f"{given[0]}. {family}".upper()


@dataclass
class AccountBook:
    """Every account with a statement in the files: pool indices of its printed forms, bank, balance."""

    iban: list[str]
    iban_idx: np.ndarray
    holder_idx: np.ndarray
    payee_idx: np.ndarray
    bank: np.ndarray
    opening_cents: np.ndarray

    def append(self, pool: StringPool, iban: str, holder: str, payee: str, bank: int, cents: int) -> int:
        """Add one (ring) account; returns its account number."""
        self.iban.append(iban)
        self.iban_idx = np.append(self.iban_idx, pool.add(iban))
        self.holder_idx = np.append(self.holder_idx, pool.add(holder))
        self.payee_idx = np.append(self.payee_idx, pool.add(payee))
        self.bank = np.append(self.bank, bank)
        self.opening_cents = np.append(self.opening_cents, cents)
        return len(self.iban) - 1


@dataclass
class Population:
    """Innocent people, person ``i`` owning phone ``phone[i]`` and account ``i`` of the account book."""

    given: list[str]
    family: list[str]
    city: np.ndarray
    phone: np.ndarray
    phone_fmt: np.ndarray
    email: list[str | None]
    activity: np.ndarray
    friends: np.ndarray
    work_members: np.ndarray
    work_of: np.ndarray
    age: np.ndarray

    def __len__(self) -> int:
        return len(self.given)

    def contacts(self, rng: np.random.Generator, who: np.ndarray) -> np.ndarray:
        """For each person in ``who``, one person they plausibly talk to or pay (family, work, friend)."""
        n = len(self)
        kind = rng.random(len(who))
        family = (who // FAMILY_SIZE) * FAMILY_SIZE + rng.integers(0, FAMILY_SIZE, len(who))
        work = self.work_members[self.work_of[who], rng.integers(0, WORKPLACE_SIZE, len(who))]
        friend = self.friends[who, rng.integers(0, FRIENDS, len(who))]
        out = np.where(kind < 0.35, family, np.where(kind < 0.65, work, friend)) % n
        clash = out == who
        out[clash] = (who[clash] + 1) % n
        return out


def build_population(rng: np.random.Generator, n: int, pool: StringPool) -> tuple[Population, AccountBook]:
    """``n`` innocent people with one account each (account number = person number)."""
    names = make_names(rng, n)
    given = [g for g, _ in names]
    family = [f for _, f in names]
    # Families share a city; a few cities are bigger than others.
    city_weights = np.linspace(2.0, 1.0, len(CITY_NAMES))
    city_weights /= city_weights.sum()
    block_city = rng.choice(len(CITY_NAMES), size=n // FAMILY_SIZE + 1, p=city_weights)
    city = block_city[np.arange(n) // FAMILY_SIZE]
    phone = allocate_phones(rng, [CITY_NAMES[c] for c in city])
    first = len(pool)
    for number in phone:
        for text in phone_formats(int(number)):
            pool.add(text)
    phone_fmt = first + np.arange(n, dtype=np.int64)[:, None] * len(PHONE_STYLE_WEIGHTS) + \
        np.arange(len(PHONE_STYLE_WEIGHTS))[None, :]
    email: list[str | None] = [email_for(g, f, rng) if rng.random() < 0.7 else None for g, f in names]
    perm = rng.permutation(n)
    n_work = -(-n // WORKPLACE_SIZE)
    padded = np.resize(perm, n_work * WORKPLACE_SIZE)
    work_members = padded.reshape(n_work, WORKPLACE_SIZE)
    work_of = np.empty(n, dtype=np.int64)
    work_of[perm] = np.arange(n) // WORKPLACE_SIZE
    friends = (np.arange(n)[:, None] + rng.integers(1, max(2, n), (n, FRIENDS))) % n
    activity = rng.lognormal(0.0, 0.8, n)
    age = rng.integers(19, 80, n)
    population = Population(given, family, city, phone, phone_fmt, email, activity / activity.sum(),
                            friends, work_members, work_of, age)

    bank = rng.integers(0, len(BANKS), n)
    numbers = rng.choice(10**9, size=n, replace=False)
    iban = [make_iban("US", BANKS[b][1], int(x)) for b, x in zip(bank, numbers, strict=True)]
    book = AccountBook(
        iban=iban,
        iban_idx=pool.add_many(iban).astype(np.int64),
        holder_idx=pool.add_many([holder_as_printed(g, f, BANKS[b][2])
                                  for (g, f), b in zip(names, bank, strict=True)]).astype(np.int64),
        payee_idx=pool.add_many([name_variant(g, f, rng) for g, f in names]).astype(np.int64),
        bank=bank.astype(np.int64),
        opening_cents=rng.integers(20_000, 900_000, n).astype(np.int64),
    )
    return population, book
