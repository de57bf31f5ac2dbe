"""Hash chains: the tamper evidence shared by the audit log and every chain of custody.

Each entry stores the SHA-256 of the previous entry (``prev_hash``) and its own hash over a
canonical form of its fields *plus* that ``prev_hash``. Editing an entry changes its hash; deleting
or reordering entries breaks the link of the next one; truncating the tail is caught by comparing
with the head kept elsewhere (the item's ``custody_head``; for the audit log, a :class:`Checkpoint`
that someone outside the operator holds, see :func:`check_checkpoint`). A chain is the
simple first step the security requirements accept (H-01 note); a Merkle tree can later be built
over the same entry hashes.

The canonical form is JSON with sorted keys, no whitespace, UTF-8, and datetimes as ISO 8601 UTC
with microseconds, so the hash is the same on SQLite and PostgreSQL and in ten years' time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

GENESIS = "0" * 64


def canonical_value(value: object) -> object:
    """Turn a field value into its canonical JSON-compatible form."""
    if isinstance(value, datetime):
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return aware.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, Mapping):
        return {str(k): canonical_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical_value(v) for v in value]
    return value


def canonical(fields: Mapping[str, object]) -> bytes:
    """The canonical byte form of an entry's fields."""
    data: Any = canonical_value(fields)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(prev_hash: str, fields: Mapping[str, object]) -> str:
    """SHA-256 over the previous hash and the canonical fields."""
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical(fields)).hexdigest()


@dataclass(frozen=True)
class ChainEntry:
    """One stored entry: its position, the fields that were hashed, and the stored hashes."""

    seq: int
    fields: Mapping[str, object]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainProblem:
    """One place where the chain does not verify."""

    seq: int
    problem: str

    def __str__(self) -> str:
        return f"entry {self.seq}: {self.problem}"


def verify(
    entries: Iterable[ChainEntry], *, expected_head: str | None = None, expected_count: int | None = None
) -> list[ChainProblem]:
    """Check a chain in stored order; return every problem found (empty when intact).

    ``expected_head``/``expected_count`` come from outside the chain and catch a truncated tail.
    """
    problems: list[ChainProblem] = []
    prev = GENESIS
    count = 0
    for position, entry in enumerate(entries, start=1):
        count += 1
        if entry.seq != position:
            problems.append(ChainProblem(entry.seq, f"out of sequence (expected {position})"))
        if entry.prev_hash != prev:
            problems.append(ChainProblem(entry.seq, "previous-hash link broken (entry deleted or reordered)"))
        if entry_hash(entry.prev_hash, entry.fields) != entry.hash:
            problems.append(ChainProblem(entry.seq, "content does not match its hash (entry edited)"))
        prev = entry.hash
    if expected_count is not None and count != expected_count:
        problems.append(ChainProblem(count, f"chain holds {count} entries, {expected_count} recorded"))
    if expected_head is not None and prev != expected_head and count:
        problems.append(ChainProblem(count, "last entry is not the recorded head (tail removed)"))
    return problems


def verify_segment(entries: Sequence[ChainEntry]) -> list[ChainProblem]:
    """Check that ``entries[1:]`` continue ``entries[0]`` (trusted: part of a chain verified whole):
    consecutive ``seq``, each linked to the one before and matching its own hash."""
    problems: list[ChainProblem] = []
    for before, entry in pairwise(entries):
        if entry.seq != before.seq + 1:
            problems.append(ChainProblem(entry.seq, f"out of sequence (expected {before.seq + 1})"))
        if entry.prev_hash != before.hash:
            problems.append(ChainProblem(entry.seq, "previous-hash link broken (entry deleted or reordered)"))
        if entry_hash(entry.prev_hash, entry.fields) != entry.hash:
            problems.append(ChainProblem(entry.seq, "content does not match its hash (entry edited)"))
    return problems


@dataclass(frozen=True)
class Checkpoint:
    """A head of a chain as someone outside kept it: the newest entry's ``seq`` and ``hash``, and
    how many entries there were.

    The chain alone cannot show that its newest entries were removed (what is left still links
    up), nor that its tail was rewritten with freshly hashed entries; a head held elsewhere can.
    """

    seq: int
    hash: str
    count: int


#: What a checkpoint's head that no longer matches means; a hash cannot tell the two apart.
REWRITTEN = (
    "does not match the checkpoint's hash "
    "(history rewritten, or the checkpoint is of another workspace's log)"
)


def check_checkpoint(entries: Sequence[ChainEntry], checkpoint: Checkpoint) -> list[ChainProblem]:
    """Check that ``entries`` still hold the checkpoint's head and are no shorter than it recorded.

    The chain may have grown since (later entries are expected); it may not have lost the head
    entry, nor hold a different entry at that ``seq``, nor fewer entries than were counted.
    """
    problems: list[ChainProblem] = []
    held = next((e for e in entries if e.seq == checkpoint.seq), None)
    if held is None:
        problems.append(ChainProblem(checkpoint.seq, "missing: the checkpoint's head is gone (tail removed)"))
    elif held.hash != checkpoint.hash:
        problems.append(ChainProblem(checkpoint.seq, REWRITTEN))
    if len(entries) < checkpoint.count:
        problems.append(
            ChainProblem(
                len(entries),
                f"chain holds {len(entries)} entries, the checkpoint recorded {checkpoint.count}",
            )
        )
    return problems


def next_link(last: Sequence[object] | None) -> tuple[int, str]:
    """``(seq, prev_hash)`` for a new entry after ``last = (seq, hash)`` or after nothing."""
    if last is None:
        return 1, GENESIS
    seq, last_hash = last[0], last[1]
    if not isinstance(seq, int) or not isinstance(last_hash, str):
        raise TypeError("last must be (seq: int, hash: str)")
    return seq + 1, last_hash
