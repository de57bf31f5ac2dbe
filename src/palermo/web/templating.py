"""Jinja2 rendering shared by every page: one place adds the signed-in user and the CSRF token.

Autoescaping is on for every template (Starlette's default for ``.html``), so case data such as an
exhibit description can never inject markup into a page.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

TEMPLATES = Path(__file__).with_name("templates")
CSRF_COOKIE = "palermo_csrf"

templates = Jinja2Templates(directory=str(TEMPLATES))

FLASH = {
    "case-created": "Case created.",
    "linked": "Proof link added.",
    "lead-accepted": "Lead accepted: it is now a proof link.",
    "lead-rejected": "Lead rejected.",
    "uploaded": "Exhibit stored and hashed.",
    "signed-out": "You are signed out.",
}
"""Messages shown after a redirect, chosen by code so a crafted URL cannot put words on a page."""


def _when(value: datetime | str | None) -> str:
    """Dates shown to people: UTC, to the minute, always with the zone so nobody guesses."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return value.strftime("%Y-%m-%d %H:%M UTC") if value.tzinfo else value.strftime("%Y-%m-%d %H:%M")


def _size(value: int | None) -> str:
    """File sizes in the unit a person reads fastest."""
    if value is None:
        return ""
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{value} B"


templates.env.filters["when"] = _when
templates.env.filters["size"] = _size


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """Render ``name`` with the user, CSRF token and flash message every layout needs."""
    ctx: dict[str, Any] = {
        "user": getattr(request.state, "principal", None),
        "csrf_token": request.cookies.get(CSRF_COOKIE, "")
        if getattr(request.state, "principal", None)
        else "",
        "flash": FLASH.get(request.query_params.get("done", "")),
        "flash_kind": "ok",
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
