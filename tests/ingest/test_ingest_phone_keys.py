"""Phone keys: the spellings ingest parses once must normalise exactly as each spelling would."""

from __future__ import annotations

import random

import duckdb

from palermo.ingest.normalise import normalise_phone
from palermo.ingest.tabular import nanp_sql, phone_key_sql

_ALPHABET = "0123456789 ().-+"


def _spellings(seed: int = 11, count: int = 3000) -> list[str]:
    """Numbers as people write them, plus random text from the characters a key may drop."""
    rng = random.Random(seed)
    out = [
        "0 031 20 123 4567",
        "(00) 44 20 7946 0000",
        "00 44 20 7946 0000",
        "+44 (0) 20 7946 0000",
        "1-2",
        "+1-2",
        "(",
        "+",
        "",
        "  ",
        "555-1234 x12",
        "+1 (555) 010-0199 ext. 7",
        "(+1) 305 555 2591",
        "0612345678",
        "+31 6 12345678",
        "06-12 34 56 78",
        "+31.6.1234.5678",
        "001 202 555 0143",
    ]
    for _ in range(count):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 14)))
        style = rng.randrange(5)
        if style == 0:
            out.append("".join(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 18))))
        elif style == 1:
            out.append("+" + " ".join(digits[i : i + 3] for i in range(0, len(digits), 3)))
        elif style == 2:
            out.append(f"({digits[:3]}) {digits[3:6]}-{digits[6:]}")
        elif style == 3:
            out.append(
                rng.choice(["00", "0", "+", " "])
                + "-".join(digits[i : i + 2] for i in range(0, len(digits), 2))
            )
        else:
            out.append(digits)
    return out


def test_every_spelling_normalises_like_its_key() -> None:
    raws = _spellings()
    con = duckdb.connect()
    con.execute("CREATE TABLE r (raw VARCHAR)")
    con.executemany("INSERT INTO r VALUES (?)", [[r] for r in raws])
    pairs = con.execute(f"SELECT raw, {phone_key_sql('raw')} FROM r").fetchall()
    assert len(pairs) == len(raws)
    for region in ("US", "NL", "GB"):
        differ = [
            (raw, key) for raw, key in pairs if normalise_phone(raw, region) != normalise_phone(key, region)
        ]
        assert differ == [], region


def test_spellings_of_one_number_share_a_key() -> None:
    con = duckdb.connect()
    keys = {
        con.execute(f"SELECT {phone_key_sql('$1')}", [raw]).fetchone()[0]  # type: ignore[index]
        for raw in ("(305) 555-2591", "305-555-2591", "305 555 2591", "305.555.2591")
    }
    assert keys == {"3055552591"}


def _keys(seed: int = 5, count: int = 20000) -> list[str]:
    """Keys of every shape the North-American rule looks at, and near misses (area code 0/1,
    9 or 12 digits, other country codes), so both its answers and its refusals are checked."""
    rng = random.Random(seed)
    out = [
        "2125550143",
        "12125550143",
        "+12125550143",
        "0125550143",
        "1125550143",
        "+11255501430",
        "+442079460000",
    ]
    for _ in range(count):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(9, 12)))
        out.append(rng.choice(["", "", "1", "+", "+1"]) + digits)
    return out


def test_north_american_numbers_read_in_sql_match_phonenumbers() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE k (key VARCHAR)")
    con.executemany("INSERT INTO k VALUES (?)", [[k] for k in _keys()])
    for region in ("US", "CA", "us", "Ca", "GB", None):
        answered = con.execute(f"SELECT key, {nanp_sql('key', region)} AS e164 FROM k").fetchall()
        fast = [(key, e164) for key, e164 in answered if e164 is not None]
        assert len(fast) > (1000 if region and region.upper() in ("US", "CA") else 100), region
        differ = [(key, e164) for key, e164 in fast if normalise_phone(key, region) != e164]
        assert differ == [], region


def test_a_region_in_lower_case_is_the_same_region() -> None:
    """``-o region=us`` and the API pass the text through; phonenumbers only knows "US"."""
    assert (
        normalise_phone("(212) 555-0143", "us") == normalise_phone("(212) 555-0143", "US") == "+12125550143"
    )
