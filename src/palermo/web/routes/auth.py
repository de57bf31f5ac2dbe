"""Sign in and sign out.

The login form is protected against login CSRF with a double-submit token (a random value in a
short-lived cookie that must come back in the form), because there is no session yet to bind a
CSRF token to. A successful sign-in always starts a *new* server-side session (no fixation), sets
the session cookie ``HttpOnly`` + ``SameSite=Strict``, and a separate CSRF cookie the pages embed
in every form and htmx request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from palermo.errors import AccessDenied
from palermo.security.auth import hash_token, new_token, tokens_match
from palermo.web.deps import SESSION_COOKIE, WS, CsrfChecked, Principal
from palermo.web.templating import CSRF_COOKIE, render

router = APIRouter(include_in_schema=False)
LOGIN_COOKIE = "palermo_login"
SESSION_MAX_AGE = 12 * 3600


def _safe_next(value: str | None) -> str:
    """Only same-site paths are allowed after sign-in (no open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/cases"


def _login_page(
    request: Request, *, error: str | None = None, username: str = "", status: int = 200
) -> Response:
    token = new_token()
    response = render(
        request,
        "login.html",
        {
            "login_token": token,
            "next_url": _safe_next(request.query_params.get("next") or request.query_params.get("n")),
            "error": error,
            "username": username,
        },
        status_code=status,
    )
    secure = request.app.state.settings.secure_cookies
    response.set_cookie(
        LOGIN_COOKIE, hash_token(token), max_age=900, httponly=True, samesite="strict", secure=secure
    )
    return response


@router.get("/", response_class=HTMLResponse)
def home(principal: Principal) -> Response:
    """The start page is the case list (which itself requires a session)."""
    return RedirectResponse("/cases", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    ws: WS,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=2048)] = "",
    totp: Annotated[str, Form(max_length=16)] = "",
    login_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/cases",
) -> Response:
    """Check the credentials; on success start a session and go where the person was heading."""
    if not tokens_match(login_token, request.cookies.get(LOGIN_COOKIE, "")):
        return _login_page(request, error="The sign-in form expired. Please try again.", status=400)
    if not username or not password:
        return _login_page(request, error="Enter your username and password.", username=username, status=400)
    try:
        session = ws.users.sign_in(username, password, totp or None)
    except AccessDenied as exc:
        return _login_page(request, error=str(exc), username=username, status=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    secure = request.app.state.settings.secure_cookies
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="strict",
        secure=secure,
    )
    response.set_cookie(
        CSRF_COOKIE,
        session.csrf_token,
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="strict",
        secure=secure,
    )
    response.delete_cookie(LOGIN_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, ws: WS, principal: CsrfChecked) -> Response:
    """End the session on the server, then clear the cookies."""
    ws.users.end_session(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login?done=signed-out", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response
