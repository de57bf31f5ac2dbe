"""Judgements that contradict each other: which ones, which wins, and why.

Each judgement is about one pair of keys, and the latest on a pair replaces the earlier ones, so two
judgements never disagree about the same pair. They can still disagree through transitivity:
``same(A, B)``, ``same(B, C)`` and ``not_same(A, C)`` cannot all hold, because resolution joins
whatever ``same`` judgements join. The precedence rule, applied by every resolution run and shown by
``palermo judge list`` and ``palermo analyze``:

1. A *not_same* wins over a *same* that only follows from other judgements: the pair is kept apart.
   It is the one statement about that pair, where the chain is an inference; and the two mistakes
   are not alike in a criminal case: a wrong merge puts one person's calls, payments and role on
   another (a victim's on a suspect's), a wrong split only hides a link the analyst can restore
   with one judgement on the pair (which replaces the not_same).
2. Between two *same* judgements the newer wins: sames are applied newest first, and one that
   would join two keys a not_same keeps apart, given the newer sames already applied, is set aside.
   The newer judgement was made with more of the evidence read.

Model links (shared contact names, ads, Splink) are never in conflict with a judgement: a not_same
cuts them as a matter of course (they are counted as overruled links, not reported here). A set-aside
judgement is not deleted: it stays in the list, marked, and applies again as soon as the conflict
is gone (the not_same replaced or the chain changed).

Conflicts name judgements by id and verdict only, never by their keys, which are phone numbers and
names (a victim's among them); ``palermo judge list`` shows the keys through the redaction rule.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from palermo.analytics.judgements import Judgement

#: The precedence rule in one line, for the reasons outputs give.
RULE = "a not_same wins over a same that only follows from other judgements; of two sames the newer wins"


@dataclass(frozen=True)
class JudgementRef:
    """A judgement as a conflict names it: by id and verdict, never by its keys."""

    judgement_id: str
    verdict: str

    def __str__(self) -> str:
        return f"{self.judgement_id} ({self.verdict})"


@dataclass(frozen=True)
class Conflict:
    """A not_same (``winner``, applied) and the same judgements that together would join its two
    keys (``against``, oldest first), of which ``set_aside`` are not applied so that it holds."""

    winner: JudgementRef
    against: tuple[JudgementRef, ...]
    set_aside: tuple[JudgementRef, ...]
    reason: str

    def involves(self, judgement_id: str) -> bool:
        return any(r.judgement_id == judgement_id for r in (self.winner, *self.against))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def find_conflicts(judgements: Iterable[Judgement]) -> list[Conflict]:
    """The conflicts among ``judgements`` and which of them give way, by the rule above.

    Only the judgements matter (not the model), so ``palermo judge list`` can say before the next
    analysis exactly what that analysis will set aside. The sames are added newest first to a
    union-find of keys that remembers, for each group, the not_sames reaching out of it; a same
    that would merge two groups a not_same spans is set aside, and the conflict names it, the
    not_same, and the applied sames that tie its keys to the not_same's.
    """
    ordered = sorted(judgements, key=lambda j: (j.created_at, j.judgement_id))
    age = {j.judgement_id: i for i, j in enumerate(ordered)}
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        parent.setdefault(key, key)
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    apart: dict[str, list[tuple[Judgement, str]]] = defaultdict(list)  # group → (not_same, far key)
    for j in ordered:
        if j.verdict == "not_same":
            apart[find(j.left_key)].append((j, j.right_key))
            apart[find(j.right_key)].append((j, j.left_key))
    applied: dict[str, list[tuple[str, Judgement]]] = defaultdict(list)  # key → (key, same) applied
    found: dict[str, tuple[Judgement, set[str], set[str]]] = {}  # not_same id → (it, against, set aside)
    by_id = {j.judgement_id: j for j in ordered}
    for same in reversed([j for j in ordered if j.verdict == "same"]):
        u, v = same.left_key, same.right_key
        ru, rv = find(u), find(v)
        if ru != rv:
            broken = [(n, far) for n, far in apart[ru] if find(far) == rv]
            if broken:
                for n, far in broken:
                    near = n.left_key if far == n.right_key else n.right_key
                    _, against, lost = found.setdefault(n.judgement_id, (n, set(), set()))
                    against.update({same.judgement_id, *_path(applied, near, u), *_path(applied, v, far)})
                    lost.add(same.judgement_id)
                continue
            if len(apart[ru]) < len(apart[rv]):
                ru, rv = rv, ru
            parent[rv] = ru
            apart[ru].extend(apart.pop(rv, []))
        applied[u].append((v, same))
        applied[v].append((u, same))
    return [
        _conflict(
            n,
            [by_id[i] for i in sorted(against, key=age.__getitem__)],
            [by_id[i] for i in sorted(lost, key=age.__getitem__)],
        )
        for n, against, lost in sorted(found.values(), key=lambda f: age[f[0].judgement_id])
    ]


def _conflict(apart: Judgement, against: list[Judgement], lost: list[Judgement]) -> Conflict:
    """The not_same ``apart`` against the sames ``against`` (oldest first), ``lost`` set aside."""
    winner = _ref(apart)
    return Conflict(
        winner,
        tuple(map(_ref, against)),
        tuple(map(_ref, lost)),
        f"{winner} conflicts with {', '.join(str(_ref(j)) for j in against)}, which together join its two "
        f"keys: {winner.judgement_id} wins and {', '.join(j.judgement_id for j in lost)} "
        f"{'is' if len(lost) == 1 else 'are'} set aside ({RULE}).",
    )


def set_aside(conflicts: Iterable[Conflict]) -> frozenset[str]:
    """The ids of the judgements the conflicts set aside (resolution does not apply them)."""
    return frozenset(r.judgement_id for c in conflicts for r in c.set_aside)


def _path(applied: dict[str, list[tuple[str, Judgement]]], start: str, goal: str) -> list[str]:
    """The ids of the applied sames on a shortest path from ``start`` to ``goal`` (same group)."""
    if start == goal:
        return []
    came: dict[str, tuple[str, str]] = {start: (start, "")}
    queue = deque([start])
    while queue:
        key = queue.popleft()
        for other, same in applied[key]:
            if other not in came:
                came[other] = (key, same.judgement_id)
                if other == goal:
                    path = []
                    while other != start:
                        other, jid = came[other]
                        path.append(jid)
                    return path
                queue.append(other)
    return []


def _ref(judgement: Judgement) -> JudgementRef:
    return JudgementRef(judgement.judgement_id, judgement.verdict)
