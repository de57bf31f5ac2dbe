"""Per-case read models, cached until the case store or the analytics change.

Most page views are reads of data that changes rarely (a new exhibit, an accepted lead, a new
analysis) but costs tens of milliseconds to assemble on a large case: the proof matrix, the charge
list, the facts draft, the network and timeline views. Twenty people working on one case would
otherwise rebuild the same objects for every click, and under concurrent load those costs queue.

A cached value is keyed by what was asked and stamped with the workspace's *generation*: the id
of the newest audit event (every store write is audited, by whichever process makes it) and the
analytics file's size and modification time (every import and analysis rewrites it). A request
reads the stamp once (one indexed lookup and two ``stat`` calls) and uses a cached value only if
its stamp is the same, so a write is visible to the very next request, in this process or another.

Cached values are shared between requests and must be treated as read-only by callers. Access
rules are not cached: need-to-know and the victim-identity permission are checked per request, and
a view that depends on the permission carries it in its key.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Annotated, Any

from fastapi import Depends, Request

from palermo.web.deps import WS, analytics_version

CACHE_ENTRIES = 512
Stamp = tuple[int, ...]

_values: OrderedDict[tuple[Hashable, ...], tuple[Stamp, Any]] = OrderedDict()
_guard = threading.Lock()
_building: dict[tuple[Hashable, ...], threading.Lock] = {}


def workspace_stamp(ws: Any) -> Stamp:
    """The generation of ``ws``: newest audit event id plus the analytics file's stat."""
    return (ws.audit.generation(), *analytics_version(ws))


def cached(ws: Any, stamp: Stamp, key: tuple[Hashable, ...], build: Callable[[], Any]) -> Any:
    """The value for ``key`` at ``stamp``, building it (once, even under concurrent misses) if needed."""
    full = (str(ws.path), *key)
    with _guard:
        hit = _values.get(full)
        if hit is not None and hit[0] == stamp:
            _values.move_to_end(full)
            return hit[1]
        lock = _building.setdefault(full, threading.Lock())
    with lock:  # one thread builds; the others wait for its result instead of repeating the work
        with _guard:
            hit = _values.get(full)
            if hit is not None and hit[0] == stamp:
                return hit[1]
        value = build()
        with _guard:
            _values[full] = (stamp, value)
            _values.move_to_end(full)
            while len(_values) > CACHE_ENTRIES:
                _values.popitem(last=False)
            _building.pop(full, None)
    return value


def clear() -> None:
    """Forget every cached value (tests; and after an in-process write that bypasses the audit)."""
    with _guard:
        _values.clear()


def forget_workspace(ws: Any) -> None:
    """Forget the values cached for ``ws`` (its server stops: redaction rules hold victims' names)."""
    with _guard:
        for key in [k for k in _values if k[0] == str(ws.path)]:
            del _values[key]


class CaseReads:
    """The read models one request needs, all stamped with the generation read at its start."""

    def __init__(self, ws: Any, stamp: Stamp) -> None:
        self.ws = ws
        self.stamp = stamp

    def memo(self, key: tuple[Hashable, ...], build: Callable[[], Any]) -> Any:
        """Any derived view (network, timeline, rendered JSON) cached under ``key``."""
        return cached(self.ws, self.stamp, key, build)

    def case(self, case_ref: str) -> Any:
        return self.memo(("case", case_ref), lambda: self.ws.cases.get(case_ref))

    def matrix(self, case_ref: str) -> Any:
        return self.memo(("matrix", case_ref), lambda: self.ws.proof.matrix(case_ref))

    def gaps(self, case_ref: str) -> Any:
        return self.memo(("gaps", case_ref), lambda: self.matrix(case_ref).gaps())

    def evidence(self, case_ref: str) -> Any:
        return self.memo(("evidence", case_ref), lambda: self.ws.evidence.list(case_ref))

    def leads(self, case_ref: str, status: str | None = None) -> Any:
        return self.memo(("leads", case_ref, status), lambda: self.ws.leads.list(case_ref, status=status))

    def flagged_leads(self, case_ref: str) -> Any:
        """Accepted leads whose evidence was forgotten, waiting for a person to look at them again."""
        return self.memo(("leads-flagged", case_ref), lambda: self.ws.leads.list(case_ref, flagged=True))

    def parties(self, case_ref: str, role: str | None = None) -> Any:
        return self.memo(("parties", case_ref, role), lambda: self.ws.parties.list(case_ref, role))

    def charges(self, case_ref: str) -> Any:
        return self.memo(("charges", case_ref), lambda: self.ws.charges.list(case_ref))


def get_reads(ws: WS) -> CaseReads:
    """The request's :class:`CaseReads` (the generation is read once per request)."""
    return CaseReads(ws, workspace_stamp(ws))


def reads_of(request: Request) -> CaseReads:
    """Same, for helpers that get the request rather than a dependency."""
    return get_reads(request.app.state.workspace)


Reads = Annotated[CaseReads, Depends(get_reads)]
