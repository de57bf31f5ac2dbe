"""schemathesis over the OpenAPI document: no generated request, valid or malformed, gets a 5xx.

Signed in as a prosecutor who is a member of the fixture case, with the CSRF header, so the
requests reach the handlers instead of stopping at the login gate. Examples are bounded per
operation to keep the suite fast.
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode

from .conftest import Seeded, csrf

EXAMPLES = {GenerationMode.POSITIVE: 15, GenerationMode.NEGATIVE: 8}


@pytest.mark.slow
@pytest.mark.parametrize(
    "mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "malformed"]
)
def test_no_generated_request_gets_a_server_error(
    pat: TestClient, seeded: Seeded, mode: GenerationMode
) -> None:
    app = pat.app
    schema = schemathesis.openapi.from_dict(app.openapi())  # type: ignore[attr-defined]
    cookies = dict(pat.cookies)
    headers = {"X-CSRF-Token": csrf(pat)}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES[mode], deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def check(case: schemathesis.Case) -> None:
            if "case_ref" in (case.path_parameters or {}) and case.path_parameters["case_ref"] != "":
                case.path_parameters["case_ref"] = "WEB-1"
            response = case.call(app=app, headers=headers, cookies=cookies)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}"
                )

        try:
            check()
        except Unsatisfiable:  # no malformed variant exists (e.g. an operation without parameters)
            assert mode is GenerationMode.NEGATIVE, operation.label
    assert failures == []
