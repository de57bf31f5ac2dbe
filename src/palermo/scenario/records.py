"""Columnar record buffers: how rows travel from the generators to the writers.

Ten million rows of Python dicts would not fit the time or memory budget, so rows are numpy integer
columns: timestamps are seconds since the scenario's start, and every string (a name, an IBAN, a phone
as written, a description) is an index into one ``StringPool``. The writers turn the pool into one
Arrow string array and ``take`` from it, so formatting a million rows costs a few vectorised calls.
The ring's few thousand hand-made rows use the same buffers, which is how they end up interleaved with
the innocent background in the same files.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


class StringPool:
    """Interned strings; index 0 is always the empty string (an empty CSV field)."""

    def __init__(self) -> None:
        self.strings: list[str] = [""]
        self._index: dict[str, int] = {"": 0}

    def add(self, value: str) -> int:
        """The index of ``value``, adding it on first sight."""
        found = self._index.get(value)
        if found is None:
            found = len(self.strings)
            self.strings.append(value)
            self._index[value] = found
        return found

    def add_many(self, values: list[str]) -> np.ndarray:
        """Indices of many values at once, as an int32 array."""
        return np.fromiter((self.add(v) for v in values), dtype=np.int32, count=len(values))

    def __len__(self) -> int:
        return len(self.strings)


@dataclass
class Columns:
    """Base for the columnar buffers: equal-length numpy arrays, one per field."""

    def __len__(self) -> int:
        return len(getattr(self, fields(self)[0].name))

    def take(self, index: np.ndarray) -> Columns:
        """The rows at ``index``, in that order."""
        return type(self)(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @classmethod
    def concat(cls, parts: list[Columns]) -> Columns:
        """All rows of ``parts`` one after the other."""
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)})

    @classmethod
    def from_rows(cls, rows: list[tuple[int, ...]]) -> Columns:
        """Build from Python tuples in field order (used for the ring's hand-made rows)."""
        names = [f.name for f in fields(cls)]
        if not rows:
            return cls(**{n: np.zeros(0, dtype=np.int64) for n in names})
        arr = np.array(rows, dtype=np.int64)
        return cls(**{n: arr[:, i] for i, n in enumerate(names)})


@dataclass
class BankRows(Columns):
    """Bank statement lines; ``account`` indexes the scenario's account book."""

    ts: np.ndarray
    account: np.ndarray
    cp_iban: np.ndarray
    cp_name: np.ndarray
    cents: np.ndarray
    credit: np.ndarray
    channel: np.ndarray
    description: np.ndarray
    city: np.ndarray


@dataclass
class CallRows(Columns):
    """Call-detail records; caller/callee are pool indices of the number *as written*."""

    ts: np.ndarray
    caller: np.ndarray
    callee: np.ndarray
    duration: np.ndarray
    sms: np.ndarray
    cell: np.ndarray
    city: np.ndarray


CHANNELS = ("transfer", "card", "cash_deposit", "cash_withdrawal", "wire", "p2p", "online")
CHANNEL = {name: i for i, name in enumerate(CHANNELS)}
