"""The ring's calls and messages, day by day, and what three seized phones would show.

Patterns the analysis should find (and that the innocent background does not have):

* each controller is in contact with every victim he runs, several times a day, mostly at odd hours
  (22:00-04:00), from the cells of the city the victims are in that week;
* the controllers' *work* phone (the one in the ads) is called and texted by many buyers, always in the
  current circuit city;
* drivers call the controllers around each move day, from the origin and then the destination city;
* recruiters text prospective victims job offers abroad and "debts" before they join; some prospects
  never join (so a recruiter contact alone is not proof);
* the money handler and the controllers talk about deposits and wires.

SMS appear in the CDR *and* in the seized phones; WhatsApp and Telegram messages only in the phones, as
in real cases. Message bodies carry the evidence phrases (threats, debt, quotas) the proof matrix needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from palermo.scenario.operation import Member, Ring
from palermo.scenario.people import CITY_NAMES, nickname
from palermo.scenario.population import Population

ODD_HOURS = np.array([8, 7, 6, 4, 2, 1, 0.5, 0.5, 0.5, 0.5, 1, 1, 2, 2, 2, 2, 3, 3, 4, 5, 6, 7, 8, 9], float)
ODD_HOURS /= ODD_HOURS.sum()

TO_VICTIM = (
    "you still owe me {debt}. no days off until it is paid",
    "quota is {quota} tonight. dont come back short",
    "if you talk to anyone your family will hear about it",
    "answer when I call. I check your phone",
    "new ads are up, be ready at {hour}",
    "how many today?",
    "give the money to the driver, all of it",
    "you dont leave the room without asking me",
)
TO_WORKER = (
    "you work until the house is done. no pay until the debt is paid",
    "your passport stays with me",
    "you still owe me {debt} for the room and food",
    "if you talk to anyone your family will hear about it",
)
FROM_VICTIM = ("3 so far", "im tired can I rest tomorrow", "done, money is with the driver",
               "please let me call my mom", "ok", "sorry only {n} today", "i want to go home")
RECRUITING = (
    "hi {nick}, there is a job abroad, waitress, good money, {amount} a month",
    "I can pay the ticket, you pay me back later from work",
    "with the ticket and the room your debt is {debt} now",
    "dont tell your parents yet, surprise them when you send money home",
    "hotel job in {city}, start next week, I arrange everything",
)
TO_DRIVER = ("pick them up at {hour}, we move to {city}", "take the girls to the motel, room is paid",
             "gas money is in your account", "move tomorrow early, {city}")
MONEY_TALK = ("deposit done in {city}, {amount}", "count is short this week", "wire went out today",
              "dont put more than 9 in one deposit", "new account is ready")
BOSS_TALK = ("numbers good in {city}", "the new one is ready for ads", "we move on {day}", "ok")
FROM_BUYER = ("hi are you available tonight?", "how much for an hour", "saw your ad, is she available",
              "what hotel?", "is the new girl there")
TO_BUYER = ("{price} for the hour. text when you are in the lobby", "room {room}. come alone", "30 min")
FAMILY = ("where are you? please call us", "we miss you", "did you get the job?")


@dataclass
class Contact:
    """One call or message; phones are 10-digit national numbers, ``ts`` seconds since the start."""

    ts: int
    sender: int
    recipient: int
    kind: str  # voice | sms | whatsapp | telegram
    body: str = ""
    duration: int = 0
    city: str = ""


def _at(rng: np.random.Generator, day: int, profile: np.ndarray = ODD_HOURS) -> int:
    return day * 86_400 + int(rng.choice(24, p=profile)) * 3600 + int(rng.integers(0, 3600))


def _fill(rng: np.random.Generator, template: str, ring: Ring, day: int, nick: str = "") -> str:
    return template.format(debt=f"${int(rng.integers(20, 90)) * 100}", quota=int(rng.integers(5, 11)) * 100,
                           hour=f"{int(rng.integers(1, 12))}pm", n=int(rng.integers(1, 3)),
                           nick=nick, amount=f"${int(rng.integers(30, 60)) * 100}",
                           city=ring.stay_on(day + 1).city, price=int(rng.integers(15, 30)) * 10,
                           room=int(rng.integers(101, 340)), day=f"day {day + 2}")


def ring_contacts(rng: np.random.Generator, ring: Ring, pop: Population, days: int) -> list[Contact]:
    """Every call and message the ring makes or receives over ``days`` days."""
    out: list[Contact] = []
    controllers = {m.person_id: m for m in ring.role("controller")}
    boss_a, boss_b = ring.role("controller")
    handler = ring.role("money_handler")[0]
    starts = {s.start for s in ring.stays}

    def add(day: int, a: Member | int, b: Member | int, templates: tuple[str, ...] | None, city: str,
            voice: float = 0.3, chat: float = 0.2, phone_a: int = 0) -> None:
        pa = a.phones[min(phone_a, len(a.phones) - 1)] if isinstance(a, Member) else a
        pb = b.phones[0] if isinstance(b, Member) else b
        roll = rng.random()
        ts = _at(rng, day)
        if roll < voice or templates is None:
            out.append(Contact(ts, pa, pb, "voice", duration=int(rng.integers(15, 400)), city=city))
        else:
            kind = ("whatsapp" if rng.random() < 0.7 else "telegram") if roll < voice + chat else "sms"
            nick = nickname(b.given) if isinstance(b, Member) else ""
            body = _fill(rng, templates[int(rng.integers(0, len(templates)))], ring, day, nick)
            out.append(Contact(ts, pa, pb, kind, body=body, city=city))

    for day in range(days):
        city = ring.stay_on(day).city
        for v in ring.role("victim"):
            if v.joined_day > day:
                continue
            boss = controllers[v.controller or boss_a.person_id]
            phone = v.phones[-1] if (len(v.phones) > 1 and day >= days // 2) else v.phones[0]
            for _ in range(int(rng.poisson(1.3))):
                if rng.random() < 0.7:
                    add(day, boss, phone, TO_WORKER if v.exploitation == "labour" else TO_VICTIM, city)
                else:
                    add(day, phone, boss, FROM_VICTIM, city)
        add(day, boss_a, boss_b, BOSS_TALK, city, voice=0.6)
        if day in starts and day > 0:
            origin = ring.stay_on(day - 1).city
            for driver in ring.role("driver"):
                for k in range(int(rng.integers(3, 7))):
                    add(day, boss_a if k % 2 else boss_b, driver, TO_DRIVER, city)
                    add(day, driver, boss_a, None, origin if k < 2 else city)
        elif rng.random() < 0.3:
            driver = ring.role("driver")[day % 2]
            add(day, driver, boss_a, None, city)
        if day % 3 == 0:
            add(day, handler, boss_a if day % 2 else boss_b, MONEY_TALK, ring.circuit[0], voice=0.4)
        local_buyers = [b for b in ring.buyers if _city(pop, b) == city]
        active = sum(1 for v in ring.role("victim") if v.joined_day <= day and v.exploitation == "sex")
        for _ in range(int(rng.poisson(0.8 * active))) if local_buyers else ():
            buyer = int(pop.phone[local_buyers[int(rng.integers(0, len(local_buyers)))]])
            boss = boss_a if rng.random() < 0.6 else boss_b
            add(day, buyer, boss.phones[1], FROM_BUYER, city, voice=0.5, chat=0.0)
            if rng.random() < 0.6:
                add(day, boss, buyer, TO_BUYER, city, voice=0.0, chat=0.0, phone_a=1)
    for recruiter in ring.role("recruiter"):
        targets = [v for v in ring.role("victim") if v.joined_day > 0]
        for target in targets:
            for _ in range(int(rng.integers(3, 8))):
                day = max(0, target.joined_day - int(rng.integers(2, 21)))
                add(day, recruiter, target, RECRUITING, target.home_city, voice=0.2, chat=0.5)
        for prospect in ring.prospects:
            for _ in range(int(rng.integers(1, 4))):
                add(int(rng.integers(0, days)), recruiter, int(pop.phone[prospect]), RECRUITING,
                    _city(pop, prospect), voice=0.1, chat=0.5)
        add(int(rng.integers(0, days)), recruiter, boss_a, BOSS_TALK, ring.circuit[0], voice=0.7)
    victim = ring.role("victim")[0]
    mother = int(pop.phone[int(rng.integers(0, len(pop)))])
    for _ in range(12):
        day = int(rng.integers(0, days))
        add(day, mother, victim, FAMILY, ring.stay_on(day).city, voice=0.3, chat=0.0)
    out.sort(key=lambda c: (c.ts, c.sender, c.recipient))
    return out


def _city(pop: Population, person: int) -> str:
    return CITY_NAMES[int(pop.city[person])]
