"""Jinja2 rendering shared by every page: one place adds the signed-in user and the CSRF token.

Autoescaping is on for every template (Starlette's default for ``.html``), so case data such as an
exhibit description can never inject markup into a page.

The heavy parts of a page (the proof matrix, the timeline table) are the same for every member of
the case until the case changes, so :func:`fragment` renders them once per generation (see
:mod:`palermo.web.readmodels`) and only fills in the reader's own CSRF token on each request.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

TEMPLATES = Path(__file__).with_name("templates")
CSRF_COOKIE = "palermo_csrf"

templates = Jinja2Templates(directory=str(TEMPLATES))
# Templates ship with the package and do not change while the server runs: compile each once and
# skip the per-render modification-time checks of the template and its parents.
templates.env.auto_reload = False

FLASH = {
    "case-created": "Case created.",
    "linked": "Proof link added.",
    "lead-accepted": "Lead accepted: it is now a proof link.",
    "lead-rejected": "Lead rejected.",
    "lead-confirmed": "Lead confirmed after review: its proof link stays, no longer flagged.",
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
        "csrf_token": _csrf(request),
        "flash": FLASH.get(request.query_params.get("done", "")),
        "flash_kind": "ok",
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)


CSRF_SLOT = "__palermo_csrf_slot__"
"""Stands for the session's CSRF token in cached fragments (plain letters: unchanged by escaping)."""


def _csrf(request: Request) -> str:
    return request.cookies.get(CSRF_COOKIE, "") if getattr(request.state, "principal", None) else ""


def fragment(
    request: Request,
    reads: Any,
    key: tuple[Hashable, ...],
    name: str,
    context: dict[str, Any],
    *,
    cache: bool = True,
) -> Markup:
    """Template ``name`` rendered once per generation for ``key`` (which must name all of ``context``).

    The cached HTML holds :data:`CSRF_SLOT` where the template prints ``csrf_token``; each request
    gets its own (escaped) token put in its place, so the forms still carry the reader's token.
    ``cache=False`` renders without keeping the result (for a passing problem, say "in use").
    """

    def build() -> str:
        return templates.get_template(name).render({**context, "csrf_token": CSRF_SLOT})

    html: str = reads.memo(("fragment", name, *key), build) if cache else build()
    return Markup(html.replace(CSRF_SLOT, str(escape(_csrf(request)))))
