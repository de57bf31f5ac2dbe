"""Exceptions raised by Palermo, as one tree so callers can catch at the depth they care about.

The CLI maps the tree onto exit codes, which scripts rely on::

    PalermoError                    any failure Palermo anticipated
    ├── InputError          exit 2  the user's input is wrong: fix it and run again
    │   ├── LawDataError            a statute/vocabulary/indicator YAML file is invalid
    │   ├── FactsError              a facts file (matter description) is invalid
    │   ├── NotFoundError           an id (case, offence, evidence, party…) does not exist
    │   └── ImportDataError         an ingest source has bad rows or an unknown format
    ├── DomainError         exit 1  the input is valid but the operation cannot succeed
    │   ├── IntegrityError          a hash or a custody chain does not verify
    │   └── AccessDenied            the user may not see or do this
    └── ConfigurationError  exit 1  settings, keys or the database are not usable

Every message names the file, line or field at fault, because the people who read them are
prosecutors and analysts, not developers: no traceback should ever be the explanation.
"""

from __future__ import annotations


class PalermoError(Exception):
    """Base class of every error Palermo raises on purpose."""

    exit_code: int = 1

    def __init__(self, message: str, *, location: str | None = None) -> None:
        self.message = message
        self.location = location
        super().__init__(f"{location}: {message}" if location else message)


class InputError(PalermoError):
    """The user's input is wrong; exit code 2."""

    exit_code = 2


class LawDataError(InputError):
    """A law-library YAML file does not validate."""


class FactsError(InputError):
    """A facts file describing a matter does not validate."""


class NotFoundError(InputError):
    """A referenced object does not exist."""


class ImportDataError(InputError):
    """An ingest source could not be imported."""


class DomainError(PalermoError):
    """The input is valid but the operation cannot succeed; exit code 1."""

    exit_code = 1


class IntegrityError(DomainError):
    """A stored hash or custody chain does not verify."""


class AccessDenied(DomainError):
    """The user lacks the permission for this action."""


class ConfigurationError(PalermoError):
    """Settings, keys or the database cannot be used."""

    exit_code = 1


__all__ = [
    "AccessDenied",
    "ConfigurationError",
    "DomainError",
    "FactsError",
    "ImportDataError",
    "InputError",
    "IntegrityError",
    "LawDataError",
    "NotFoundError",
    "PalermoError",
]
