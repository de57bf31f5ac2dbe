"""Palermo: build human-trafficking cases that hold up in court.

``palermo.Workspace`` is the front door (``Workspace.init(path)`` / ``Workspace.open(path)``); the law
library (``palermo.LawLibrary``, ``palermo.default_library()``) can be used on its own. Heavy names are
imported lazily so that ``import palermo`` stays light and free of database drivers.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from palermo.errors import (
    AccessDenied,
    ConfigurationError,
    DomainError,
    FactsError,
    ImportDataError,
    InputError,
    IntegrityError,
    LawDataError,
    NotFoundError,
    PalermoError,
)

if TYPE_CHECKING:
    from palermo.law.library import LawLibrary, default_library
    from palermo.workspace import Workspace

__version__ = "0.1.0"

_LAZY = {
    "Workspace": "palermo.workspace",
    "LawLibrary": "palermo.law.library",
    "default_library": "palermo.law.library",
}

__all__ = [
    "AccessDenied",
    "ConfigurationError",
    "DomainError",
    "FactsError",
    "ImportDataError",
    "InputError",
    "IntegrityError",
    "LawDataError",
    "LawLibrary",
    "NotFoundError",
    "PalermoError",
    "Workspace",
    "__version__",
    "default_library",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'palermo' has no attribute {name!r}")
