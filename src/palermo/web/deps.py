"""Request dependencies (``Annotated`` aliases): the workspace, the signed-in person, CSRF and case access.

Every page and API route declares what it needs in its signature, so the rules are visible where
they apply and cannot be forgotten: ``Principal`` means "signed in", ``CsrfChecked`` means "an
unsafe request carrying this session's CSRF token", ``CaseRef`` means "a case the person is a member
of" (need to know). Data is then read only through Workspace methods.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path as FilePath
from typing import Annotated, Any

import duckdb
from fastapi import Depends, Path, Request

from palermo.errors import AccessDenied, ConfigurationError, NotFoundError
from palermo.security.access import Permission, parse_role
from palermo.security.access import Principal as PrincipalModel
from palermo.web.errors import CsrfRejected, LoginRequired
from palermo.workspace import Workspace

SESSION_COOKIE = "palermo_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

analytics_lock = threading.RLock()
"""DuckDB allows one writer and its connection is not thread-safe: analytics calls take turns."""
_analytics: dict[FilePath, Any] = {}


async def get_workspace(request: Request) -> Workspace:
    """The Workspace the app was created with.

    Pure look-ups are ``async`` so FastAPI runs them on the event loop instead of handing each
    one to the thread pool (a thread hop per dependency adds up under concurrent load).
    """
    workspace: Workspace = request.app.state.workspace
    return workspace


WS = Annotated[Workspace, Depends(get_workspace)]


def get_principal(request: Request, ws: WS) -> PrincipalModel:
    """The signed-in person, from the server-side session named by the cookie (else LoginRequired)."""
    try:
        session = ws.users.resume_session(request.cookies.get(SESSION_COOKIE))
    except AccessDenied as exc:
        raise LoginRequired(str(exc)) from exc
    user = session.user
    principal = PrincipalModel(
        user_id=user.id,
        username=user.username,
        role=parse_role(user.role),
        case_refs=frozenset(ws.users.case_refs(user.id)),
    )
    request.state.principal = principal
    request.state.session = session
    return principal


Principal = Annotated[PrincipalModel, Depends(get_principal)]


async def check_csrf(request: Request, principal: Principal, ws: WS) -> PrincipalModel:
    """Unsafe requests must carry the session's CSRF token, as a header (htmx, API) or a form field."""
    if request.method in SAFE_METHODS:
        return principal
    token = request.headers.get(CSRF_HEADER)
    if not token and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    if not ws.users.csrf_ok(request.state.session, token):
        raise CsrfRejected()
    return principal


CsrfChecked = Annotated[PrincipalModel, Depends(check_csrf)]


async def member_case(
    case_ref: Annotated[str, Path(min_length=1, max_length=64)], principal: Principal
) -> str:
    """A case reference the person may read; a non-member gets the same answer as for an unknown case."""
    if not principal.may(Permission.CASE_READ, case_ref):
        raise NotFoundError(f"no case {case_ref!r} that you are a member of", location="case_ref")
    return case_ref


CaseRef = Annotated[str, Depends(member_case)]


def require(principal: PrincipalModel, permission: Permission, case_ref: str | None = None) -> None:
    """Raise AccessDenied unless the person holds ``permission`` (on the case, for case-level ones)."""
    principal.require(permission, case_ref)


CACHED_CALLS = frozenset({"key_players", "network", "timeline", "explain", "redaction"})
_cache: OrderedDict[tuple[Any, ...], tuple[tuple[int, ...], Any]] = OrderedDict()
_cache_lock = threading.Lock()
CACHE_ENTRIES = 256


def analytics_version(ws: Workspace) -> tuple[int, ...]:
    """Changes whenever the analytics file (or its WAL) changes, i.e. after any import or analysis."""
    stamp: list[int] = []
    for name in ("analytics.duckdb", "analytics.duckdb.wal"):
        try:
            info = (ws.path / name).stat()
            stamp += [info.st_mtime_ns, info.st_size]
        except FileNotFoundError:
            stamp += [0, 0]
    return tuple(stamp)


def with_analytics(ws: Workspace, call: str, *args: Any, **kwargs: Any) -> Any:
    """Call ``ws.analytics.<call>(...)`` one request at a time (see :data:`analytics_lock`).

    Read-only results (key players, network, timeline, explanations) are cached until the analytics
    file changes: they are recomputed only after new imports or a new analysis, so twenty people
    opening the same dashboard do not queue behind one DuckDB connection.
    """
    key = (ws.path, call, repr(args), repr(sorted(kwargs.items())))
    cacheable = call in CACHED_CALLS
    if cacheable:
        version = analytics_version(ws)
        with _cache_lock:
            hit = _cache.get(key)
            if hit is not None and hit[0] == version:
                _cache.move_to_end(key)
                return hit[1]
    with analytics_lock:
        if ws.path not in _analytics:
            _analytics[ws.path] = ws.analytics
        method = getattr(_analytics[ws.path], call, None)
        if method is None:
            raise ConfigurationError(f"the analytics in this build cannot answer {call!r} yet")
        if cacheable:
            version = analytics_version(ws)
        try:
            result = method(*args, **kwargs)
        except duckdb.CatalogException as exc:  # the analysis tables do not exist yet
            case = args[0] if args else "this case"
            raise NotFoundError(
                f"no analysis results for {case} yet (run `palermo analyze {case}`)", location="analytics"
            ) from exc
        except duckdb.IOException as exc:  # e.g. another process holds the analytics file's lock
            _analytics.pop(ws.path, None)
            raise ConfigurationError(
                "the analytics database is in use by another process (an import or analysis?); "
                "try again when it has finished",
                location="analytics.duckdb",
            ) from exc
    if cacheable:
        with _cache_lock:
            _cache[key] = (version, result)
            while len(_cache) > CACHE_ENTRIES:
                _cache.popitem(last=False)
    return result


def release_analytics(ws: Workspace) -> None:
    """Close the cached analytics connection of ``ws`` (at shutdown, so the DuckDB file is freed) and
    forget the results cached from it (redaction rules among them hold victims' names)."""
    with analytics_lock:
        engine = _analytics.pop(ws.path, None)
        if engine is not None and hasattr(engine, "close"):
            engine.close()
    with _cache_lock:
        for key in [k for k in _cache if k[0] == ws.path]:
            del _cache[key]
