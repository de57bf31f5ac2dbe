"""The password rules of IA-03 (CJIS IA-5(1)(a); ASVS V6.2.4, V6.2.9): each of the top 3,000 common
passwords is refused with a reason, long passphrases are accepted and never truncated, and the vendored
blocklist is the file its record says it is."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

import palermo.security
from palermo.errors import AccessDenied, InputError
from palermo.security.auth import COMMON_PASSWORDS_FILE, check_password_strength, is_common_password
from palermo.workspace import Workspace

VENDOR = Path(palermo.security.__file__).parent / "vendor"
ROW = re.compile(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$")
TOP_3000 = (VENDOR / COMMON_PASSWORDS_FILE).read_text(encoding="utf-8").splitlines()[:3000]


def _recorded() -> dict[str, str]:
    rows = (ROW.match(line) for line in (VENDOR / "VENDORED.md").read_text().splitlines())
    return {m.group(1): m.group(2) for m in rows if m}


def test_every_vendored_file_is_recorded_with_its_hash() -> None:
    recorded = _recorded()
    assert {p.name for p in VENDOR.iterdir() if p.name != "VENDORED.md"} == set(recorded)
    for name, digest in recorded.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name


def test_the_licence_record_names_both_copyright_holders_and_the_origin() -> None:
    """The list is Dropbox's (from Burnett's corpus), carried by Daniel Wolf's port: both MIT notices."""
    notices = {p.name: p.read_text(encoding="utf-8") for p in VENDOR.glob("LICENSE-*.txt")}
    assert any("Copyright (c) 2012-2015 Dan Wheeler and Dropbox, Inc." in text for text in notices.values())
    assert any("Copyright (c) 2016 Daniel Wolf" in text for text in notices.values())
    record = (VENDOR / "VENDORED.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in record for name in notices)
    assert "github.com/dropbox/zxcvbn" in record and "Mark Burnett" in record and "xato.net" in record


def test_the_list_is_the_frequency_list_it_claims_to_be() -> None:
    assert len(TOP_3000) == 3000 and len(set(TOP_3000)) == 3000
    assert TOP_3000[:5] == ["123456", "password", "12345678", "qwerty", "123456789"]


@pytest.mark.parametrize("password", TOP_3000)
def test_each_of_the_top_3000_passwords_is_refused_with_a_reason(password: str) -> None:
    assert is_common_password(password)  # on the list, whatever its length
    with pytest.raises(InputError) as refused:
        check_password_strength(password, "someone")
    assert refused.value.location == "password" and len(str(refused.value)) > 20


@pytest.mark.parametrize("password", [p for p in TOP_3000 if len(p) >= 12])
def test_a_common_password_long_enough_is_refused_as_common(password: str) -> None:
    for variant in (password, password.upper(), password.capitalize()):
        with pytest.raises(InputError, match="most common passwords"):
            check_password_strength(variant, "someone")


@pytest.mark.parametrize(
    "password", ["Password1234", "dragon2026!!!!", "  sunshine  2024  ", "!!!Baseball!!!99", "Palermo2026!!"]
)
def test_a_common_word_padded_to_length_with_digits_or_symbols_is_refused(password: str) -> None:
    with pytest.raises(InputError, match="most common passwords"):
        check_password_strength(password, "someone")


@pytest.mark.parametrize(
    "password",
    [
        "1234567890123",  # a listed number with a digit more
        "123456123456",  # a listed number twice
        "1234-5678-9012",  # separators between the digits of a listed one
        "2026-12345678",  # a year before a listed number
        "Ｐａｓｓｗｏｒｄ１２３４",  # fullwidth: NFKC makes it password1234
        "ＤＲＡＧＯＮ2026!!",  # fullwidth word, padded
        "dragondragon",  # a listed word twice
    ],
)
def test_a_listed_password_repeated_extended_or_in_fullwidth_is_refused(password: str) -> None:
    assert is_common_password(password)
    with pytest.raises(InputError, match="most common passwords"):
        check_password_strength(password, "someone")


@pytest.mark.parametrize(
    "password",
    [
        "dragon dragon!",  # a listed word twice, with a separator
        "password.password",
        "iloveyou iloveyou",
        "letmein!letmein!",
        "monkey monkey monkey",
        "abc123 abc123",  # a listed password with digits in it, twice
        "p@ssw0rd p@ssw0rd!",  # a listed password with symbols in it, twice
        "dragon1 dragon2",  # one listed word, twice, with digits
        "123456789012a",  # a listed number and a letter
        "x1234567890123",
        "١٢٣٤٥٦٧٨٩٠١٢",  # Arabic-Indic digits: 123456789012
        "۱۲۳۴۵۶۱۲۳۴۵۶",  # Persian digits: 123456 twice
    ],
)
def test_a_listed_password_repeated_with_separators_or_with_a_letter_or_other_digits_is_refused(
    password: str,
) -> None:
    assert is_common_password(password)
    with pytest.raises(InputError, match="most common passwords"):
        check_password_strength(password, "someone")


@pytest.mark.parametrize(
    "password", ["830174926351", "4071 9935 2268 1150", "83017492635x", "٨٣٠١٧٤٩٢٦٣٥١", "q7 830174926351"]
)
def test_digits_that_are_no_listed_number_are_accepted(password: str) -> None:
    check_password_strength(password, "someone")


def test_the_username_is_found_in_any_width_or_case() -> None:
    with pytest.raises(InputError, match="username"):
        check_password_strength("ＭＡＲＩＡ.lopez 2026 spring", "maria.lopez")


@pytest.mark.parametrize(
    "password",
    [
        "long enough passphrase 42",
        "dragon fruit on the windowsill",
        "2026 baseball tickets please",
        "the password is on the fridge",
        "letmein said the cat twice",
        "my monkey likes 42 bananas",
        "monkey see monkey do forever",  # a listed word twice among others
        "iloveyou more than pizza",
    ],
)
def test_a_passphrase_that_contains_a_common_word_is_accepted(password: str) -> None:
    check_password_strength(password, "someone")


def _passphrase(length: int) -> str:
    words = "tide lantern quorum basil ferry umbra cobalt wicket meadow pylon"
    return (words + " " + words)[: length - 1] + "Z"


@pytest.mark.parametrize("length", [64, 128])
def test_a_long_passphrase_is_accepted_and_not_truncated(web_ws: Workspace, length: int) -> None:
    passphrase = _passphrase(length)
    assert len(passphrase) == length
    web_ws.users.add(f"long{length}", passphrase, "analyst")
    assert web_ws.users.authenticate(f"long{length}", passphrase).username == f"long{length}"
    with pytest.raises(AccessDenied):  # a changed last character fails: nothing was cut off
        web_ws.users.authenticate(f"long{length}", passphrase[:-1] + "Y")
