"""Entity resolution must give the same answer every time it runs on the same evidence: a court may
ask for the analysis to be re-run, and a link that comes and goes between runs cannot be explained."""

from __future__ import annotations

import random
from typing import Any

import duckdb

from palermo.analytics.mentions import summarise_mentions
from palermo.analytics.names import match_names

_SYLLABLES = [
    "la",
    "ne",
    "fe",
    "ro",
    "ton",
    "ga",
    "ez",
    "mo",
    "rar",
    "nor",
    "ya",
    "ros",
    "ki",
    "vel",
    "den",
    "sa",
    "ri",
    "pet",
    "ran",
    "dor",
    "mi",
    "ka",
    "sin",
    "tu",
    "bel",
    "co",
    "vic",
    "zar",
    "lu",
    "pa",
]


def _word(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts))


def _names(count: int, seed: int = 3) -> list[str]:
    """Synthetic full-name keys, a fifth of them also written with one typo: enough names that
    Splink samples pairs to estimate its u probabilities (over a million pairs)."""
    rng = random.Random(seed)
    out: set[str] = set()
    while len(out) < count:
        given, family = _word(rng, 2), _word(rng, 3)
        out.add(f"name:{given} {family}")
        if rng.random() < 0.2:
            i = rng.randrange(len(family))
            out.add(f"name:{given} {family[:i]}{rng.choice('aeiouy')}{family[i + 1 :]}")
    return sorted(out)


def test_name_matching_repeats_exactly() -> None:
    keys = _names(2000)
    first = match_names(keys, threshold=0.85)
    assert first, "the fixture should produce some matches"
    assert match_names(keys, threshold=0.85) == first


def test_named_mentions_come_in_a_defined_order(con: duckdb.DuckDBPyConnection, load: Any) -> None:
    """The spellings of a name are numbered in the order resolution reads them, and that number
    breaks ties between equally frequent labels; read in hash order, labels changed between runs."""
    for i in range(400):
        load.add(
            "payments",
            1,
            from_account=f"US{i % 37:04d}",
            from_name=f"holder {i % 53} {'smith' if i % 2 else 'SMITH'}",
            to_account=f"US{(i * 7) % 41:04d}",
            to_name=f"payee {i % 29}",
        )
    _, named, _ = summarise_mentions(con, "TEST-1")
    assert len(named) > 100 and named == sorted(named, key=lambda r: (r[0], r[1], r[2] or "", r[3]))
