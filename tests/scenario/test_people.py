"""Names are synthetic (from the generator's syllable tables) and numbers are fictional."""

from __future__ import annotations

from difflib import SequenceMatcher

import numpy as np
import phonenumbers

from palermo.scenario import Scenario, ScenarioFiles, is_synthetic_name
from palermo.scenario.people import allocate_phones, make_iban, name_variant


def test_every_truth_name_comes_from_the_syllable_tables(small: tuple[Scenario, ScenarioFiles]) -> None:
    assert all(is_synthetic_name(p["name"]) for p in small[0].truth.people)


def test_a_real_looking_name_is_not_synthetic() -> None:
    assert not is_synthetic_name("John Smith")


def test_phones_use_the_fictional_555_exchange_and_validate(small: tuple[Scenario, ScenarioFiles]) -> None:
    phones = [p for person in small[0].truth.people for p in person["phones"]]
    assert len(phones) == len(set(phones))
    assert all(p[5:8] == "555" for p in phones)
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(p)) for p in phones)


def test_ring_and_population_numbers_never_collide() -> None:
    rng = np.random.default_rng(1)
    population = allocate_phones(rng, ["Memphis"] * 9_000)
    ring = allocate_phones(rng, ["Memphis"] * 50, reserved=True)
    assert not set(population) & set(ring)


def test_iban_check_digits_are_valid() -> None:
    iban = make_iban("RO", "RZBR", 1234567890123456, 16)
    digits = "".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])
    assert int(digits) % 97 == 1


def test_name_variants_keep_the_family_name_recognisable() -> None:
    rng = np.random.default_rng(3)
    variants = {name_variant("Karilo", "Tavenor", rng) for _ in range(60)}
    assert len(variants) >= 4
    assert all(SequenceMatcher(None, v.lower(), "karilo tavenor").ratio() > 0.5 for v in variants)
