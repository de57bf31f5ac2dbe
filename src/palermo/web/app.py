"""The web application: ``create_app(workspace) -> FastAPI``.

Server-rendered pages (Jinja2 + htmx) and a JSON API under ``/api/v1`` share one set of routers'
dependencies and call the same Workspace methods, so the browser and a script see the same data
under the same rules. No page is served without a signed-in session (only the login form and the
static files are public). Every response carries headers that keep case data out of caches and
frames, and scripts are restricted to this origin, so the vendored assets are all that ever runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, replace
from datetime import timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from palermo.web import errors
from palermo.web.deps import Principal
from palermo.web.routes import analytics, api, auth, calculators, cases, evidence, law, proof
from palermo.web.views import forget_recorded_victims

_log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
DEFAULT_UPLOAD_LIMIT = 256 * 1024 * 1024

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # browsers heed it only over HTTPS (behind the TLS proxy `palermo serve` asks for off loopback)
    "Strict-Transport-Security": "max-age=31536000",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
}


class Guard:
    """Pure ASGI middleware: refuse bodies over the limit before reading them, add security headers.

    (A pure ASGI class rather than ``@app.middleware("http")``, which wraps every response in an
    extra task and measurably adds latency under concurrent load.)
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit + 64 * 1024:
            mb = self.limit // (1024 * 1024)
            response = errors.too_large(Request(scope), f"the upload is larger than the {mb} MB limit")
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass(frozen=True)
class WebSettings:
    """Knobs of the web layer; the upload limit also bounds the request body before it is read."""

    upload_limit_bytes: int = DEFAULT_UPLOAD_LIMIT
    secure_cookies: bool = False
    worker_threads: int = 8
    """Threads running the (synchronous) route handlers. Python runs one thread at a time, so more
    threads do not add throughput to these CPU-bound handlers; they add lock hand-offs (every
    database call or ``stat`` releases the interpreter lock and then queues to get it back) and
    database connections beyond the pool. A few threads keep slow requests from blocking fast ones."""
    sweep_every: timedelta | None = None
    """Run the workspace's account sweep (``ws.users.sweep``: accounts unused for
    ``inactive_account_days`` disabled, sessions that ran out recorded as ended) this often while
    serving; None (tests, embedding) never. ``palermo serve`` sweeps at start and sets it, so a server
    left running for months still disables unused accounts without a cron job."""


def _version() -> str:
    try:
        return metadata.version("palermo")
    except metadata.PackageNotFoundError:
        return "0.0.0"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Size the handler thread pool (see :attr:`WebSettings.worker_threads`) for the server's life, run
    the periodic account sweep if asked (:attr:`WebSettings.sweep_every`), and drop the victims'
    values held for redaction when it ends.

    Stopping waits for a sweep in progress to finish: it runs in a worker thread, which cancelling
    the task would not stop, so the server used to return (and ``palermo serve`` close the
    workspace) while the sweep was still writing."""
    limiter = anyio.to_thread.current_default_thread_limiter()
    previous = limiter.total_tokens
    limiter.total_tokens = app.state.settings.worker_threads
    every = app.state.settings.sweep_every
    stop = asyncio.Event()
    sweeper = asyncio.create_task(_sweep_periodically(app, every, stop)) if every else None
    try:
        yield
    finally:
        try:
            if sweeper is not None:
                stop.set()  # no new sweep starts; one under way ends (committed or rolled back) first
                await asyncio.shield(sweeper)
        finally:
            limiter.total_tokens = previous
            forget_recorded_victims(app.state.workspace)


async def _sweep_periodically(app: FastAPI, every: timedelta, stop: asyncio.Event) -> None:
    """Sweep the workspace's accounts every ``every`` until ``stop`` is set, in a worker thread (it is
    one short database transaction, the same as ``palermo user sweep``). A failed sweep is logged and
    tried again at the next turn rather than stopping the server: the next sign-in applies the rules
    to its own account in any case. Usernames are logged as ``palermo serve`` prints them at start;
    nothing else. ``stop`` is checked between sweeps, never during one (see :func:`lifespan`)."""
    while True:
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every.total_seconds())
        if stop.is_set():
            return
        try:
            result = await anyio.to_thread.run_sync(app.state.workspace.users.sweep)
        except Exception as exc:  # one line for the operator, as the CLI gives: not a traceback
            reason = (str(exc).strip().splitlines() or [""])[0]
            _log.error(
                "the periodic account sweep failed (%s: %s); it runs again in %s",
                type(exc).__name__,
                reason,
                every,
            )
            continue
        if result.disabled:
            _log.warning("disabled for inactivity (no sign-in): %s", ", ".join(result.disabled))


def create_app(workspace: Any, settings: WebSettings | None = None) -> FastAPI:
    """Build the FastAPI app serving ``workspace``."""
    app = FastAPI(
        lifespan=lifespan,
        title="Palermo",
        version=_version(),
        description="Build human-trafficking cases: cases, parties, charges, evidence, proof, leads, "
        "analytics and law. Sign in at /login; unsafe calls need the X-CSRF-Token header.",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.workspace = workspace
    # the workspace's own limit (settings.toml) holds whatever the caller passed: `palermo serve`
    # passes its settings for the cookies, and used to lift a lower limit back to the default
    stored = getattr(getattr(workspace, "settings", None), "upload_limit_bytes", DEFAULT_UPLOAD_LIMIT)
    chosen = settings or WebSettings()
    app.state.settings = replace(chosen, upload_limit_bytes=min(chosen.upload_limit_bytes, stored))
    errors.install(app)

    app.add_middleware(Guard, limit=app.state.settings.upload_limit_bytes)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for module in (auth, cases, proof, evidence, analytics, law, calculators):
        app.include_router(module.router)
    app.include_router(api.router)

    @app.get("/api/v1/openapi.json", include_in_schema=False)
    def openapi_document(principal: Principal) -> JSONResponse:
        """The OpenAPI document, for signed-in users only (it maps the whole case API)."""
        return JSONResponse(app.openapi())

    return app
