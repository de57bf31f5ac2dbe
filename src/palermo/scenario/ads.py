"""Online ads: the ring's escort ads hidden among ordinary classifieds and independent adults' ads.

The ring's ads carry the indicators published ad research uses (e.g. Ibanez & Suthers 2014; the
Memex/DARPA indicator lists): one controller's phone on many ads across cities, third-person wording
("she is new in town"), age-suggestive terms ("young", "fresh", "new girl"), the same image hashes
reused across ads and cities, and posting places that follow the circuit week by week. Minors' ads
claim an age of 18-19. The background has sale-of-goods and service classifieds, and legitimate adult
ads written in the first person by one person with one phone in one city, so that "adult ad" alone is
not an indicator.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from palermo.scenario.operation import Ring
from palermo.scenario.people import CITY_NAMES, nickname, phone_formats
from palermo.scenario.population import Population

ESCORT_SITES = ("escortads.example", "nightlist.example")
CLASSIFIED_SITES = ("classifieds.example", "marketboard.example")
RING_TITLES = ("NEW IN TOWN - young {nick}", "Fresh new girl just arrived in {city}",
               "Sweet young {nick} - first week in {city}", "2 new girls in town, {city}")
RING_TEXTS = (
    "{Nick} is new in town and ready to please. She is young, fresh and sweet. Available 24/7, incall only."
    " Call or text {phone}. Ask for {nick}.",
    "She is a new girl, just arrived. Young and petite. Only here this week in {city}. Text {phone}, no "
    "blocked numbers.",
    "Sweet {nick} and her friend are visiting {city} for a short time. Young, fresh faces. Call {phone} "
    "to book.",
)
ADULT_TEXTS = ("Hi, I'm {nick}, an independent companion based in {city}. Mature, discreet, by "
               "appointment only. I screen all clients. Call me at {phone}.",
               "{Nick} here. Relaxing company for gentlemen in {city}, my own place, my own rules. {phone}")
ITEMS = ("sofa", "mountain bike", "phone", "dining table", "washer", "baby stroller", "TV", "desk",
         "guitar", "used car", "lawn mower", "bookshelf")
SERVICES = ("house cleaning", "moving help", "math tutoring", "plumbing", "dog walking", "painting")
CONDITIONS = ("like new", "good condition", "barely used", "some scratches")


@dataclass
class Provider:
    """An independent adult advertiser: one person, one phone, one city, her own pictures."""

    person: int
    city: str
    images: list[str]


def ad_id(seed: int, *key: int | str) -> str:
    """A stable opaque id, the same for the same seed and key, that reveals nothing about the poster."""
    return hashlib.blake2b(repr((seed, *key)).encode(), digest_size=7).hexdigest()


def _hashes(rng: np.random.Generator, n: int) -> list[str]:
    return [f"{int(x):016x}" for x in rng.integers(0, 2**63, n)]


def ring_ads(rng: np.random.Generator, ring: Ring, days: int, seed: int) -> list[dict[str, Any]]:
    """The ring's ads over the period; ``_ts`` (seconds since start) is stripped by the writer."""
    controllers = {m.person_id: m for m in ring.role("controller")}
    stock = _hashes(rng, 3)
    images = {v.person_id: _hashes(rng, 4) for v in ring.role("victim")}
    out: list[dict[str, Any]] = []
    for day in range(days):
        city = ring.stay_on(day).city
        for v in ring.role("victim"):
            if v.joined_day > day or v.exploitation != "sex" or rng.random() > 0.45:
                continue
            boss = controllers[v.controller or ""]
            roll = rng.random()
            other = next(c for c in controllers.values() if c is not boss)
            number = boss.phones[1] if roll < 0.85 else (other.phones[1] if roll < 0.95 else v.phones[0])
            shown = phone_formats(number)[int(rng.integers(1, 5))]
            nick = nickname(v.given)
            fill = {"nick": nick, "Nick": nick, "city": city, "phone": shown}
            pics = list(rng.choice(images[v.person_id], size=int(rng.integers(1, 4)), replace=False))
            if rng.random() < 0.2:
                pics.append(stock[int(rng.integers(0, len(stock)))])
            out.append({
                "ad_id": ad_id(seed, "ring", len(out)),
                "_ts": day * 86_400 + int(rng.integers(36_000, 82_800)),
                "site": ESCORT_SITES[int(rng.integers(0, 2))], "city": city,
                "title": RING_TITLES[int(rng.integers(0, len(RING_TITLES)))].format(**fill),
                "text": RING_TEXTS[int(rng.integers(0, len(RING_TEXTS)))].format(**fill),
                "phone": shown, "email": boss.emails[0] if boss.emails and rng.random() < 0.3 else None,
                "price": int(rng.integers(15, 31)) * 10, "currency": "USD", "image_hashes": pics,
                "age_claimed": int(rng.integers(18, 20)) if v.minor else int(v.age + rng.integers(0, 3)),
                "_victim": v.person_id,
            })
    return out


def pick_providers(rng: np.random.Generator, pop: Population, count: int) -> list[Provider]:
    """Independent adult advertisers drawn from the adult population."""
    chosen = rng.choice(np.nonzero(pop.age < 45)[0], size=min(count, len(pop)), replace=False)
    return [Provider(int(p), CITY_NAMES[int(pop.city[p])], _hashes(rng, 3)) for p in sorted(chosen)]


def background_ads(rng: np.random.Generator, pop: Population, providers: list[Provider], n: int, day0: int,
                   day1: int, seed: int, chunk: int) -> list[dict[str, Any]]:
    """``n`` innocent ads dated in days ``[day0, day1)``: classifieds and independent adults."""
    out: list[dict[str, Any]] = []
    posters = rng.integers(0, len(pop), n)
    for i in range(n):
        ts = int(rng.integers(day0, day1)) * 86_400 + int(rng.integers(25_200, 82_800))
        if providers and rng.random() < 0.15:
            prov = providers[int(rng.integers(0, len(providers)))]
            person, city = prov.person, prov.city
            nick = nickname(pop.given[person])
            shown = phone_formats(int(pop.phone[person]))[0]
            fill = {"nick": nick, "Nick": nick, "city": city, "phone": shown}
            ad = {"site": ESCORT_SITES[person % 2], "title": f"{nick} - independent, {city}",
                  "text": ADULT_TEXTS[person % 2].format(**fill), "price": 200 + 10 * (person % 15),
                  "image_hashes": list(prov.images), "age_claimed": int(pop.age[person]),
                  "email": pop.email[person]}
        else:
            person = int(posters[i])
            city = CITY_NAMES[int(pop.city[person])]
            shown = phone_formats(int(pop.phone[person]))[int(rng.integers(0, 5))]
            if rng.random() < 0.7:
                item = ITEMS[int(rng.integers(0, len(ITEMS)))]
                price = int(rng.integers(1, 80)) * 10
                title = f"{item} for sale"
                text = (f"Selling my {item}, {CONDITIONS[int(rng.integers(0, 4))]}. ${price} or best offer. "
                        f"Pick up in {city}. Text {shown}.")
            else:
                item = SERVICES[int(rng.integers(0, len(SERVICES)))]
                price = int(rng.integers(2, 12)) * 10
                title = f"{item} - reasonable rates"
                text = f"Reliable {item} in {city} and nearby. Call {shown} for a free quote."
            ad = {"site": CLASSIFIED_SITES[int(rng.integers(0, 2))], "title": title, "text": text,
                  "price": price, "image_hashes": _hashes(rng, int(rng.integers(0, 3))), "age_claimed": None,
                  "email": pop.email[person] if rng.random() < 0.3 else None}
        out.append({"ad_id": ad_id(seed, chunk, i), "_ts": ts, "city": city, "phone": shown,
                    "currency": "USD", **ad})
    return out
