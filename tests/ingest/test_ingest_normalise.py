"""Normalisation: one spelling per phone, email, account and name."""

from __future__ import annotations

from palermo.ingest.normalise import (
    fingerprint_name,
    iban_is_valid,
    normalise_account,
    normalise_email,
    normalise_phone,
)


def test_national_and_international_formats_agree() -> None:
    assert (
        normalise_phone("(202) 555-0143", "US") == normalise_phone("+1 202 555 0143", "NL") == "+12025550143"
    )


def test_00_prefix_is_read_as_international() -> None:
    assert normalise_phone("0031 6 1234 5678", "US") == "+31612345678"


def test_national_number_uses_the_default_region() -> None:
    assert normalise_phone("06 1234 5678", "NL") == "+31612345678"


def test_unparseable_ids_keep_their_digits() -> None:
    assert normalise_phone("349", "US") == "349"


def test_empty_phone_is_none() -> None:
    assert normalise_phone("  ", "US") is None


def test_email_is_lowercased_and_trimmed() -> None:
    assert normalise_email("  <Anna.B@Example.ORG> ") == "anna.b@example.org"


def test_invalid_email_is_none() -> None:
    assert normalise_email("anna at example") is None


def test_account_loses_spaces_and_case() -> None:
    assert normalise_account("nl91 abna-0417.1643 00") == "NL91ABNA0417164300"


def test_iban_checksum_is_checked() -> None:
    assert iban_is_valid("NL91ABNA0417164300") and not iban_is_valid("NL92ABNA0417164300")


def test_name_fingerprint_ignores_order_case_and_punctuation() -> None:
    assert fingerprint_name("Smyth, Jon") == fingerprint_name("JON  SMYTH") == "jon smyth"
