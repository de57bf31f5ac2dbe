"""Palermo: build human-trafficking cases that hold up in court.

``palermo.Workspace`` is the front door (``Workspace.init(path)`` / ``Workspace.open(path)``). It is
imported lazily so that ``import palermo.law`` stays light and free of database drivers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from palermo.workspace import Workspace

__all__ = ["Workspace"]


def __getattr__(name: str) -> Any:
    if name == "Workspace":
        from palermo.workspace import Workspace

        return Workspace
    raise AttributeError(f"module 'palermo' has no attribute {name!r}")
