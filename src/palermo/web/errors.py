"""Turn every anticipated failure into a readable answer: a page for people, a JSON body for the API.

Nothing reaches the client as a traceback. ``palermo.errors`` maps onto HTTP statuses (bad input 400,
unknown id 404, not allowed 403, integrity or state conflicts 409, unusable configuration 503); a
request FastAPI cannot parse becomes 422 with the field at fault. An unexpected exception is still a
500, but its body says only that the error was logged, never what it was.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from palermo.errors import (
    AccessDenied,
    ConfigurationError,
    DomainError,
    InputError,
    NotFoundError,
    PalermoError,
)
from palermo.web.templating import render

log = logging.getLogger("palermo.web")


class LoginRequired(Exception):
    """No valid session: pages redirect to the login form, the API answers 401."""

    def __init__(self, reason: str = "not signed in") -> None:
        self.reason = reason
        super().__init__(reason)


class CsrfRejected(Exception):
    """An unsafe request without this session's CSRF token."""


def status_for(exc: PalermoError) -> int:
    """The HTTP status of a Palermo error (most specific class first)."""
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, InputError):
        return 400
    if isinstance(exc, AccessDenied):
        return 403
    if isinstance(exc, DomainError):
        return 409
    if isinstance(exc, ConfigurationError):
        return 503
    return 400


def wants_json(request: Request) -> bool:
    """API paths and htmx-less JSON clients get JSON; pages get HTML."""
    return request.url.path.startswith("/api/")


def _error(request: Request, status: int, kind: str, message: str, **extra: Any) -> Response:
    if wants_json(request):
        return JSONResponse({"error": {"type": kind, "message": message, **extra}}, status_code=status)
    title = {400: "That did not work", 403: "Not allowed", 404: "Not found", 409: "Cannot do that"}.get(
        status, "Something went wrong"
    )
    if request.headers.get("HX-Request"):
        response = render(request, "partials/error_flash.html", {"message": message}, status_code=status)
        response.headers["HX-Retarget"] = "#messages"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "error.html", {"title": title, "message": message}, status_code=status)


def too_large(request: Request, message: str) -> Response:
    """413 for a body over the upload limit (answered before the body is read)."""
    return _error(request, 413, "TooLarge", message)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(PalermoError)
    async def palermo_error(request: Request, exc: PalermoError) -> Response:
        status = status_for(exc)
        location = {"location": exc.location} if exc.location else {}
        return _error(request, status, type(exc).__name__, str(exc), **location)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if wants_json(request):
            return JSONResponse({"error": {"type": "LoginRequired", "message": exc.reason}}, status_code=401)
        target = request.url.path
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return RedirectResponse(f"/login?next={target}", status_code=303)

    @app.exception_handler(CsrfRejected)
    async def csrf_rejected(request: Request, exc: CsrfRejected) -> Response:
        message = "This form has expired or did not come from Palermo (missing CSRF token). Reload and retry."
        return _error(request, 403, "CsrfRejected", message)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"field": ".".join(str(p) for p in err.get("loc", ())), "problem": str(err.get("msg", "invalid"))}
            for err in exc.errors()
        ]
        text = "; ".join(f"{p['field']}: {p['problem']}" for p in problems) or "invalid request"
        return _error(request, 422, "ValidationError", text, problems=problems)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = f"there is no page at {request.url.path}"
        return _error(request, exc.status_code, "HTTPError", message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return _error(request, 500, "InternalError", "An unexpected error happened and was logged.")
