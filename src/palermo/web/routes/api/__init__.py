"""The JSON API under ``/api/v1``: one router per resource, all behind a session and, for unsafe
methods, the ``X-CSRF-Token`` header. The OpenAPI document is at ``/api/v1/openapi.json``."""

from __future__ import annotations

from fastapi import APIRouter

from palermo.web.routes.api import analytics, cases, evidence, law, leads, proof
from palermo.web.schemas import ERRORS

router = APIRouter(prefix="/api/v1", responses=ERRORS)
for _module in (cases, evidence, proof, leads, analytics, law):
    router.include_router(_module.router)
