"""Synthetic identities: names, phone numbers, e-mail addresses and account numbers.

Nothing here comes from a real person. Names are glued together from the syllable tables below, so a
test can prove every name came from this module (``is_synthetic_name``), and nobody's real name can
leak into a fixture. Phone numbers use the fictional ``555`` exchange of real US area codes
(``+1 404 555 0123``): they parse and validate with ``phonenumbers`` as the ingest adapters need, but are
not issued to subscribers. E-mail addresses live under the reserved ``.example`` domain.

Entity resolution is the point of the exercise, so this module also makes the *noise* real data has:
the same person written as "Karilo Tavenor", "KARILO TAVENOR", "K. Tavenor", "Carilo Tavenor" or
"Kari"; the same phone written as ``+14045550123``, ``(404) 555-0123`` or ``404-555-0123``.
"""

from __future__ import annotations

import re

import numpy as np

GIVEN_START = ("Ka", "Mi", "Lo", "Da", "Ri", "Se", "Ta", "Vi", "No", "Ara", "Be", "Cor", "El", "Fa", "Ja",
               "Le", "Ma", "Ne", "Ola", "Pe", "Sa", "To", "Ye", "Zo")
GIVEN_MID = ("", "ri", "la", "ne", "vi", "ro", "sa", "ma", "li")
GIVEN_END = ("n", "na", "ra", "lo", "ssa", "el", "ya", "to", "ris", "mi", "do", "ka")
FAMILY_START = ("Tav", "Mor", "Bel", "Cas", "Dun", "Fer", "Gal", "Hol", "Kes", "Lan", "Mar", "Nor", "Ord",
                "Pel", "Ros", "Sar", "Tor", "Val", "Wen", "Yar")
FAMILY_MID = ("", "a", "e", "i", "o", "en", "ar", "il")
FAMILY_END = ("nor", "ley", "ton", "ski", "ez", "ov", "ard", "win", "ell", "berg", "ada", "ani")

_GIVEN_RE = "(?:" + "|".join(GIVEN_START) + ")(?:" + "|".join(m for m in GIVEN_MID if m) + ")?(?:" + \
    "|".join(GIVEN_END) + ")"
_FAMILY_RE = "(?:" + "|".join(FAMILY_START) + ")(?:" + "|".join(m for m in FAMILY_MID if m) + ")?(?:" + \
    "|".join(FAMILY_END) + ")"
SYNTHETIC_NAME = re.compile(f"^{_GIVEN_RE} {_FAMILY_RE}$")

# City -> (area codes, short code for cell ids). Real city names make maps and timelines readable;
# the people and numbers in them are invented.
CITIES: dict[str, tuple[tuple[int, ...], str]] = {
    "Atlanta": ((404, 470, 678), "ATL"),
    "Houston": ((713, 281, 832), "HOU"),
    "Dallas": ((214, 469, 972), "DAL"),
    "Miami": ((305, 786), "MIA"),
    "Orlando": ((407, 321), "ORL"),
    "Charlotte": ((704, 980), "CLT"),
    "Nashville": ((615, 629), "BNA"),
    "Memphis": ((901,), "MEM"),
    "Phoenix": ((602, 480), "PHX"),
    "Las Vegas": ((702, 725), "LAS"),
    "Denver": ((303, 720), "DEN"),
    "Newark": ((973, 862), "EWR"),
}
CITY_NAMES = tuple(CITIES)
PHONE_STYLES = ("e164", "intl", "national", "dashed", "plain")
PHONE_STYLE_WEIGHTS = np.array([0.35, 0.15, 0.25, 0.15, 0.10])
_SPELLING_SWAPS = (("K", "C"), ("C", "K"), ("i", "y"), ("y", "i"), ("v", "w"), ("ss", "s"), ("l", "ll"),
                   ("o", "oh"), ("a", "ah"), ("e", "ei"))


def is_synthetic_name(name: str) -> bool:
    """True when ``name`` is a canonical "Given Family" built from this module's syllable tables."""
    return SYNTHETIC_NAME.match(name) is not None


def make_names(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    """``n`` (given, family) pairs drawn from the syllable tables."""
    gs = rng.integers(0, len(GIVEN_START), n)
    gm = rng.integers(0, len(GIVEN_MID), n)
    ge = rng.integers(0, len(GIVEN_END), n)
    fs = rng.integers(0, len(FAMILY_START), n)
    fm = rng.integers(0, len(FAMILY_MID), n)
    fe = rng.integers(0, len(FAMILY_END), n)
    return [
        (GIVEN_START[a] + GIVEN_MID[b] + GIVEN_END[c], FAMILY_START[d] + FAMILY_MID[e] + FAMILY_END[f])
        for a, b, c, d, e, f in zip(gs, gm, ge, fs, fm, fe, strict=True)
    ]


def spelling_variant(word: str, rng: np.random.Generator) -> str:
    """The same word misspelt the way clerks and phone owners do (C/K, i/y, doubled letters)."""
    options = [(a, b) for a, b in _SPELLING_SWAPS if a in word]
    if not options:
        return word + "e"
    a, b = options[int(rng.integers(0, len(options)))]
    return word.replace(a, b, 1)


def nickname(given: str) -> str:
    """A short form of a given name ("Karilo" -> "Kari"), as saved in phone contacts."""
    return given[:4] if len(given) > 4 else given[:2] + "y"


def name_variant(given: str, family: str, rng: np.random.Generator) -> str:
    """One of the ways a third party writes this person's name (bank payee, contact list, ad)."""
    kind = int(rng.integers(0, 6))
    if kind == 0:
        return f"{given} {family}".upper()
    if kind == 1:
        return f"{given[0]}. {family}"
    if kind == 2:
        return f"{spelling_variant(given, rng)} {family}"
    if kind == 3:
        return f"{given} {spelling_variant(family, rng)}"
    if kind == 4:
        return f"{family.upper()} {given[0]}"
    return f"{given} {family}"


def phone_e164(national: int) -> str:
    """E.164 form of a 10-digit NANP number."""
    return f"+1{national}"


def phone_formats(national: int) -> tuple[str, str, str, str, str]:
    """The five ways a number is written in the files, in ``PHONE_STYLES`` order."""
    s = f"{national:010d}"
    a, b, c = s[:3], s[3:6], s[6:]
    return (f"+1{s}", f"+1 {a} {b} {c}", f"({a}) {b}-{c}", f"{a}-{b}-{c}", s)


def allocate_phones(rng: np.random.Generator, cities: list[str], *, reserved: bool = False) -> np.ndarray:
    """One unique fictional-exchange number (``AAA 555 XXXX``) per entry of ``cities`` (a home city).

    The innocent population draws line numbers 0000-8999 and the ring (``reserved=True``) 9000-9999,
    so the two never collide without having to be allocated together. A number gets an area code of
    its home city while that city's range lasts; the overflow (only at the largest scales) takes
    unused numbers of other cities, as people who moved do.
    """
    codes = np.array([c for name in CITY_NAMES for c in CITIES[name][0]], dtype=np.int64)
    lines = np.arange(9_000, 10_000) if reserved else np.arange(9_000)
    used = np.ones(len(codes) * 10_000, dtype=bool)
    used[(np.arange(len(codes))[:, None] * 10_000 + lines[None, :]).ravel()] = False
    out = np.full(len(cities), -1, dtype=np.int64)
    city_arr = np.array(cities)
    for city in sorted(set(cities)):
        idx = np.nonzero(city_arr == city)[0]
        own = np.nonzero(np.isin(codes, CITIES[city][0]))[0]
        pool = (own[:, None] * 10_000 + lines[None, :]).ravel()
        take = min(len(idx), len(pool))
        picks = rng.choice(pool, size=take, replace=False)
        used[picks] = True
        out[idx[:take]] = codes[picks // 10_000] * 10_000_000 + 5_550_000 + picks % 10_000
    missing = np.nonzero(out < 0)[0]
    if len(missing):
        free = np.nonzero(~used)[0]
        if len(free) < len(missing):
            raise ValueError(f"cannot allocate {len(cities)} distinct fictional numbers")
        picks = rng.choice(free, size=len(missing), replace=False)
        out[missing] = codes[picks // 10_000] * 10_000_000 + 5_550_000 + picks % 10_000
    return out


def email_for(given: str, family: str, rng: np.random.Generator) -> str:
    """A reserved-domain address that a person might choose."""
    domain = ("mail.example", "post.example", "inbox.example")[int(rng.integers(0, 3))]
    local = (f"{given}.{family}", f"{given[0]}{family}", f"{given}{int(rng.integers(10, 99))}")[
        int(rng.integers(0, 3))]
    return f"{local.lower()}@{domain}"


def _iban_check(country: str, bban: str) -> str:
    digits = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{98 - int(digits) % 97:02d}"


def make_iban(country: str, bank_code: str, number: int, width: int = 14) -> str:
    """An ISO 13616-shaped account key with a valid mod-97 check (normalised: no spaces)."""
    bban = f"{bank_code}{number:0{width}d}"
    return f"{country}{_iban_check(country, bban)}{bban}"


def spaced(iban: str) -> str:
    """The printed form of an IBAN, in groups of four."""
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
