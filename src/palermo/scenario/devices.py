"""Seized phones: what an extraction tool would export from a controller's, a victim's and a recruiter's
device.

The address books are where entity resolution earns its keep: people are saved the way their owner
thinks of them ("Kari", "K drv", "Mira new", a misspelt surname, a number saved twice under two
names), never under the canonical names of the ground truth. Numbers are written in the national or
international format the phone happened to store. Messages are the ring's SMS and chat traffic
(``comms``) seen from the owner's side, so the same SMS is both a CDR row and a message here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np

from palermo.scenario.comms import Contact
from palermo.scenario.operation import Member, Ring
from palermo.scenario.people import nickname, phone_formats, spelling_variant
from palermo.scenario.population import Population

MODELS = ("Nova A12", "Pixelon 6", "Orbit X3")
ROLE_TAGS = {"controller": "boss", "driver": "drv", "money_handler": "bank", "recruiter": "job",
             "victim": "new"}


def _imei(rng: np.random.Generator) -> str:
    digits = [int(d) for d in rng.integers(0, 10, 14)]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits))
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def _saved_name(rng: np.random.Generator, m: Member, k: int) -> str:
    """How the owner saved ``m``: nickname, role tag, partial or misspelt name."""
    options = (nickname(m.given), f"{m.given[0]} {ROLE_TAGS.get(m.role, '')}".strip(),
               f"{spelling_variant(m.given, rng)} {m.family[0]}.", m.given, f"{m.given} {m.family}".lower())
    return options[(k + int(rng.integers(0, len(options)))) % len(options)]


def extract(rng: np.random.Generator, owner: Member, phone: int, contacts: list[Contact], ring: Ring,
            pop: Population, start: datetime, seized_day: int) -> dict[str, Any]:
    """The extraction document (contract format ``phone_json``) of ``owner``'s phone ``phone``."""
    by_phone = {p: m for m in ring.members for p in m.phones}
    buyers = {int(pop.phone[b]) for b in ring.buyers}
    mine = [c for c in contacts if phone in (c.sender, c.recipient) and c.ts < seized_day * 86_400]

    def iso(ts: int) -> str:
        return (start + timedelta(seconds=ts)).isoformat()

    def shown(number: int) -> str:
        return phone_formats(number)[int(rng.choice([0, 1, 2]))]

    book: list[dict[str, Any]] = []
    seen: set[int] = set()
    for c in mine:
        other = c.recipient if c.sender == phone else c.sender
        if other in seen:
            continue
        seen.add(other)
        member = by_phone.get(other)
        if member is not None:
            name = _saved_name(rng, member, len(book))
            if len(member.phones) > 1 and member.role == "victim" and other == member.phones[-1]:
                name = f"{nickname(member.given)} new#"
        elif other in buyers:
            if rng.random() < 0.5:
                continue
            name = f"client {len(book) + 1}"
        else:
            name = ("Mom", "home", "Auntie")[len(book) % 3]
        email = member.emails if member is not None and member.emails and rng.random() < 0.3 else []
        book.append({"id": f"c{len(book) + 1}", "name": name, "phones": [shown(other)], "emails": email})
    messages = [
        {"id": f"m{i + 1}", "timestamp": iso(c.ts), "from": shown(c.sender), "to": shown(c.recipient),
         "body": c.body, "app": c.kind, "direction": "out" if c.sender == phone else "in"}
        for i, c in enumerate(x for x in mine if x.kind != "voice")
    ]
    calls = [
        {"id": f"k{i + 1}", "timestamp": iso(c.ts), "from": shown(c.sender), "to": shown(c.recipient),
         "duration_s": c.duration}
        for i, c in enumerate(x for x in mine if x.kind == "voice")
    ]
    return {
        "device": {"owner_phone": phone_formats(phone)[1], "imei": _imei(rng),
                   "model": MODELS[int(rng.integers(0, len(MODELS)))],
                   "extracted_at": iso(seized_day * 86_400 + 10 * 3600), "tool": "OpenExtract",
                   "tool_version": "4.2.0"},
        "contacts": book,
        "messages": messages,
        "calls": calls,
    }
