"""Run every worked fact pattern in ``src/palermo/law/examples/*.yaml`` against its engine.

An example file holds ``engine`` (elements | exposure | guidelines | restitution), ``facts`` (a facts
file inline) and either ``expect`` — a partial, nested view of the result that must match — or
``expect_error`` (a fragment of the error message, e.g. the field path). Lawyers add a case by adding
a file; no Python. The views are keyed by defendant id, count number and victim id so that an
expectation reads like the case: ``D1: {counts: {1: {tier: b2}}}``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest
import yaml

from palermo.domain.counts import check_facts
from palermo.domain.elements import assess_elements
from palermo.domain.exposure import assess_exposure
from palermo.domain.facts import parse_facts
from palermo.domain.guidelines import assess_guidelines
from palermo.domain.restitution import assess_restitution
from palermo.errors import PalermoError
from palermo.law.library import default_library

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "src/palermo/law/examples").glob("*.yaml"))


def _keyed(items: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return {str(item[key]): item for item in items}


def engine_view(engine: str, facts: dict[str, Any]) -> Any:
    """Run one engine on inline facts and return its result as nested, keyed JSON."""
    law = default_library()
    matter = parse_facts(facts, "example")
    check_facts(law, matter, "example")
    if engine == "elements":
        return {
            str(c.count): {**c.model_dump(mode="json"), "elements": {e.id: e.status for e in c.elements}}
            for c in assess_elements(law, matter)
        }
    if engine == "exposure":
        out = {}
        for d in assess_exposure(law, matter):
            data = d.model_dump(mode="json")
            data["counts"] = _keyed(data["counts"], "count")
            out[d.defendant] = data
        return out
    if engine == "guidelines":
        out = {}
        for g in assess_guidelines(law, matter):
            data = g.model_dump(mode="json")
            data["groups"] = _keyed(data["groups"], "victim")
            out[g.defendant] = data
        return out
    if engine == "restitution":
        data = assess_restitution(law, matter).model_dump(mode="json")
        data["victims"] = _keyed(data["victims"], "victim")
        return data
    raise ValueError(f"unknown engine {engine!r}")


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool) or expected is None or actual is None:
        return bool(expected == actual)
    try:
        return Decimal(str(expected)) == Decimal(str(actual))
    except InvalidOperation:
        return str(expected) == str(actual)


def mismatches(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Every place where the partial expectation differs from the result."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected a mapping, got {actual!r}"]
        found: list[str] = []
        for key, value in expected.items():
            if str(key) not in actual:
                found.append(f"{path}.{key}: missing from the result (keys: {', '.join(map(str, actual))})")
            else:
                found += mismatches(value, actual[str(key)], f"{path}.{key}")
        return found
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(expected) != len(actual):
            return [f"{path}: expected {expected!r}, got {actual!r}"]
        return [
            m
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for m in mismatches(e, a, f"{path}[{i}]")
        ]
    return [] if _same(expected, actual) else [f"{path}: expected {expected!r}, got {actual!r}"]


def check_example(example: dict[str, Any]) -> list[str]:
    """Problems with one example: an empty list means it holds."""
    if "expect_error" in example:
        try:
            engine_view(example["engine"], example["facts"])
        except PalermoError as exc:
            text = str(exc)
            return (
                []
                if example["expect_error"] in text
                else [f"error {text!r} lacks {example['expect_error']!r}"]
            )
        return [f"expected an error containing {example['expect_error']!r}, got a result"]
    return mismatches(example["expect"], engine_view(example["engine"], example["facts"]))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_holds(path: Path) -> None:
    example = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert check_example(example) == []


def test_there_are_at_least_sixty_examples() -> None:
    assert len(EXAMPLES) >= 60


def test_every_engine_has_examples() -> None:
    engines = {yaml.safe_load(p.read_text(encoding="utf-8"))["engine"] for p in EXAMPLES}
    assert engines == {"elements", "exposure", "guidelines", "restitution"}


def test_every_example_says_which_words_decide_it() -> None:
    undocumented = [p.name for p in EXAMPLES if not p.read_text(encoding="utf-8").startswith("#")]
    assert undocumented == []


def test_a_wrong_expected_value_fails() -> None:
    example = yaml.safe_load(EXAMPLES[0].read_text(encoding="utf-8"))
    assert check_example(example) == []
    broken = _corrupt(example["expect"]) if "expect" in example else None
    assert broken is not None
    assert check_example({**example, "expect": broken}) != []


def _corrupt(expected: Any) -> Any:
    """A copy of an expectation with its first leaf changed."""
    if isinstance(expected, dict):
        key = next(iter(expected))
        return {**expected, key: _corrupt(expected[key])}
    if isinstance(expected, bool):
        return not expected
    if isinstance(expected, int | float):
        return expected + 1
    return f"{expected}-wrong"
