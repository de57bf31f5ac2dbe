"""Normalisation of strong identifiers: phones, emails, bank accounts, and name fingerprints.

Entity resolution joins records on these values, so two spellings of one identifier must become
one string: ``0612345678`` and ``+31 6 12345678`` (region NL) are the same phone, ``NL91 abna
0417164300`` and ``NL91ABNA0417164300`` the same account. Each function is pure and cached, because
large files repeat the same values many times and ingest normalises only DISTINCT values anyway.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

import fingerprints
import phonenumbers
from rigour.ids import IBAN

#: The region used to read national phone numbers when an import does not name one.
DEFAULT_REGION = "US"

_EMAIL = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$"
)
_NOT_DIGIT = re.compile(r"[^0-9]")
_ACCOUNT_JUNK = re.compile(r"[\s./-]")


#: What exports write where there is no number or address: a withheld caller ID, an unknown
#: party, a placeholder. Such a value is *no value* (stored NULL, as a blank is), never a bad row:
#: a call from a withheld number is still a call, and refusing it would make every real CDR fail.
#: A value outside this list with nothing readable in it (``call me``) is a bad row
#: (see ``tabular.IDENTIFYING``). Compared lower-cased and trimmed.
NO_VALUE = frozenset(
    {
        "withheld",
        "number withheld",
        "unknown",
        "unknown number",
        "private",
        "private number",
        "anonymous",
        "restricted",
        "unavailable",
        "not available",
        "hidden",
        "blocked",
        "no caller id",
        "none",
        "null",
        "nil",
        "n/a",
        "na",
        "-",
        "--",
        "?",
    }
)


#: What counts as blank around a value, the same in Python and SQL: DuckDB's ``trim`` alone strips
#: spaces and no-break spaces but not tabs, while Python's ``strip`` strips all three, so a tab-only
#: phone was a bad row in a CSV and no value in phone_json.
WHITESPACE = " \t\n\r\x0b\x0c\xa0"


def trim_sql(raw: str) -> str:
    """SQL for ``raw`` without the :data:`WHITESPACE` around it (as ``str.strip`` reads it)."""
    return f"trim({raw}, '{WHITESPACE}')"


def blank_sql(raw: str) -> str:
    """SQL that is TRUE when ``raw`` is NULL or only :data:`WHITESPACE`.

    One regular expression is cheaper on a million rows than ``trim`` (which copies the text), and
    its class (RE2's ``\\s`` is tab, newline, form feed, carriage return and space) is the set
    :data:`WHITESPACE` names.
    """
    return f"({raw} IS NULL OR regexp_full_match({raw}, '[\\s\\x{{0b}}\\x{{a0}}]*'))"


def says_none(raw: object) -> bool:
    """Whether ``raw`` is one of the :data:`NO_VALUE` placeholders (a withheld or unknown party)."""
    return raw is not None and str(raw).strip().lower() in NO_VALUE


def says_none_sql(raw: str) -> str:
    """SQL that is TRUE when the text ``raw`` is a :data:`NO_VALUE` placeholder (FALSE for NULL)."""
    listed = ", ".join("'" + v.replace("'", "''") + "'" for v in sorted(NO_VALUE))
    return f"coalesce(lower({trim_sql(raw)}) IN ({listed}), FALSE)"


#: Characters a value's shape names one by one (ASCII punctuation says nothing about a person).
_SYMBOLS = frozenset(string.punctuation)


def shape(value: str) -> str:
    """What a value looks like without what it says: ``16 characters: digits, spaces and +``.

    Messages about a value that cannot be read use this instead of the value, which may be a
    victim's number or name typed in the wrong column; the length and the kinds of characters are
    usually enough to find the cell and see why (a ``:`` in a duration, letters in an amount).
    ASCII punctuation is named as itself, anything else only by kind. :func:`shape_sql` gives the
    same text in SQL.
    """
    words = []
    if any(c in string.digits for c in value):
        words.append("digits")
    if any(c.isalpha() for c in value):
        words.append("letters")
    if any(c.isspace() for c in value):
        words.append("spaces")
    if any(not (c in string.digits or c.isalpha() or c.isspace() or c in _SYMBOLS) for c in value):
        words.append("other characters")
    symbols = " ".join(sorted({c for c in value if c in _SYMBOLS}))
    kinds = f"{', '.join(words)} and {symbols}" if words and symbols else ", ".join(words) or symbols
    count = f"{len(value)} character{'' if len(value) == 1 else 's'}"
    return f"{count}: {kinds}" if kinds else count


def shape_sql(raw: str) -> str:
    """SQL for :func:`shape` of the text ``raw`` (the same words for ASCII text)."""
    symbols = r"!-/:-@\[-`{-~"
    space = r"[\s\p{Z}]"
    words = (
        f"nullif(concat_ws(', ', "
        f"CASE WHEN regexp_matches({raw}, '[0-9]') THEN 'digits' END, "
        f"CASE WHEN regexp_matches({raw}, '\\pL') THEN 'letters' END, "
        f"CASE WHEN regexp_matches({raw}, '{space}') THEN 'spaces' END, "
        f"CASE WHEN regexp_matches({raw}, '[^0-9\\pL\\s\\p{{Z}}{symbols}]') THEN 'other characters' END"
        f"), '')"
    )
    signs = (
        f"nullif(array_to_string(list_sort(list_distinct(string_split("
        f"regexp_replace({raw}, '[^{symbols}]', '', 'g'), ''))), ' '), '')"
    )
    return (
        f"length({raw}) || CASE WHEN length({raw}) = 1 THEN ' character' ELSE ' characters' END || "
        f"coalesce(': ' || coalesce({words} || ' and ' || {signs}, {words}, {signs}), '')"
    )


@lru_cache(maxsize=262_144)
def normalise_phone(raw: str | None, region: str | None = DEFAULT_REGION) -> str | None:
    """A phone number in E.164 (``+31612345678``), else its cleaned digits, else None.

    We accept *possible* numbers rather than only *valid* ones: call records and seized phones are
    full of numbers whose ranges the metadata does not know yet (new blocks, VoIP, synthetic test
    data), and dropping them would silently cut edges from the network. Numbers that cannot be
    parsed at all (short codes, anonymised ids such as VAST's ``349``) keep their digits so they
    still match themselves.
    """
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    try:  # region codes are upper case to phonenumbers ("us" would be an unknown region)
        number = phonenumbers.parse(
            text, None if text.startswith("+") else (region.upper() if region else None)
        )
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_possible_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    digits = _NOT_DIGIT.sub("", text)
    if not digits:
        return None
    return ("+" + digits) if text.startswith("+") else digits


def phone_region(region: str) -> str | None:
    """``region`` as the upper-case region code ``phonenumbers`` reads national numbers with
    (``nl`` → ``NL``), or None when it knows no such region (``XX``, ``Netherlands``): a region it
    does not know would leave every national number as bare digits, matching nothing."""
    code = region.strip().upper()
    return code if code in phonenumbers.SUPPORTED_REGIONS else None


@lru_cache(maxsize=65_536)
def normalise_email(raw: str | None) -> str | None:
    """An email address trimmed and lowercased, or None when it is not a plausible address.

    Lowercasing the local part is not strictly RFC-correct, but every large provider treats it as
    case-insensitive and investigators expect ``Anna.B@x.com`` to match ``anna.b@x.com``.
    """
    if raw is None:
        return None
    text = raw.strip().strip("<>").strip().lower()
    if text.startswith("mailto:"):
        text = text[len("mailto:") :]
    if not text or not _EMAIL.match(text):
        return None
    return text


@lru_cache(maxsize=262_144)
def normalise_account(raw: str | None) -> str | None:
    """An IBAN or other account number uppercased without spaces, dots, slashes or dashes."""
    if raw is None:
        return None
    text = _ACCOUNT_JUNK.sub("", raw).upper()
    return text or None


def iban_is_valid(account: str | None) -> bool:
    """Whether a (normalised) account is an IBAN whose mod-97 checksum holds.

    A failed checksum usually means a typing error in a statement or a transcription, which an
    analyst should know before trusting a match on that account.
    """
    if not account:
        return False
    return bool(IBAN.is_valid(account))


@lru_cache(maxsize=65_536)
def fingerprint_name(name: str | None) -> str | None:
    """A name fingerprint that ignores case, accents, punctuation and word order.

    ``Smyth, Jon`` and ``JON SMYTH`` give the same fingerprint, which is the blocking key entity
    resolution starts from; it is not a decision that two people are the same.
    """
    if name is None:
        return None
    fp = fingerprints.generate(name)
    if not fp:
        return None
    return " ".join(sorted(fp.split()))


def clean_text(raw: str | None) -> str | None:
    """Collapse whitespace; empty strings become None so SQL sees a real NULL."""
    if raw is None:
        return None
    text = " ".join(str(raw).split())
    return text or None


__all__ = [
    "DEFAULT_REGION",
    "NO_VALUE",
    "WHITESPACE",
    "blank_sql",
    "clean_text",
    "fingerprint_name",
    "iban_is_valid",
    "normalise_account",
    "normalise_email",
    "normalise_phone",
    "phone_region",
    "says_none",
    "says_none_sql",
    "shape",
    "shape_sql",
    "trim_sql",
]
