"""Pages: the calculators (sentencing exposure, US guideline estimate, restitution) on the case's facts.

The page drafts a facts document from the case (see :mod:`palermo.web.matter`); the person edits
it and submits; the engines' results come back with their explanations (the rules that fired and
the facts that fired them). Bad facts are a readable message next to the form, never a 500.
"""

from __future__ import annotations

from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from palermo.domain.exposure import assess_exposure
from palermo.domain.facts import parse_facts
from palermo.domain.guidelines import assess_guidelines
from palermo.domain.restitution import assess_restitution
from palermo.errors import FactsError
from palermo.web.deps import WS, CaseRef, CsrfChecked
from palermo.web.matter import draft_matter, to_yaml
from palermo.web.readmodels import Reads
from palermo.web.sections import attempt
from palermo.web.templating import render

router = APIRouter(include_in_schema=False)
MAX_FACTS = 200_000


def _page(
    request: Request,
    ws: Any,
    case_ref: str,
    facts_text: str,
    results: dict[str, Any] | None,
    error: str | None,
    status_code: int = 200,
    case: Any = None,
) -> Response:
    return render(
        request,
        "calculators.html",
        {
            "case": case or ws.cases.get(case_ref),
            "tab": "calculators",
            "facts_text": facts_text,
            "results": results,
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/cases/{case_ref}/calculators", response_class=HTMLResponse)
def calculators_page(request: Request, ws: WS, reads: Reads, case_ref: CaseRef) -> Response:
    """The calculators with the facts draft (cached: a YAML dump of every count is not cheap)."""
    case = reads.case(case_ref)
    draft = reads.memo(
        ("facts_draft", case_ref),
        lambda: to_yaml(draft_matter(case, reads.charges(case_ref), reads.parties(case_ref, "victim"))),
    )
    return _page(request, ws, case_ref, draft, None, None, case=case)


@router.post("/cases/{case_ref}/calculators", response_class=HTMLResponse)
def calculate(
    request: Request,
    ws: WS,
    case_ref: CaseRef,
    principal: CsrfChecked,
    facts: Annotated[str, Form(max_length=MAX_FACTS)],
) -> Response:
    """Run the three engines on the submitted facts; each engine's failure is shown on its own."""
    try:
        data = yaml.safe_load(facts)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        return _page(request, ws, case_ref, facts, None, f"The facts are not valid YAML: {where}{exc}", 400)
    try:
        matter = parse_facts(data, source="facts form")
    except FactsError as exc:
        return _page(request, ws, case_ref, facts, None, str(exc), 400)
    results = {
        "exposure": attempt(assess_exposure, ws.law, matter),
        "guidelines": attempt(assess_guidelines, ws.law, matter),
        "restitution": attempt(assess_restitution, ws.law, matter),
    }
    return _page(request, ws, case_ref, facts, results, None)
