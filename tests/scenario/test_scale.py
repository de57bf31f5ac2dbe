"""``scale`` sets the row counts; nonsense scales are refused with an input error."""

from __future__ import annotations

from pathlib import Path

import pytest

from palermo.errors import InputError
from palermo.scenario import generate


def test_background_rows_grow_with_scale(tmp_path: Path) -> None:
    one = generate(seed=5, scale=1).write(tmp_path / "one")
    scenario = generate(seed=5, scale=40)
    forty = scenario.write(tmp_path / "forty")
    ring_calls = len(scenario.ring_calls)
    assert forty.rows("cdr_csv") - ring_calls == 40 * 500
    assert forty.rows("ads_jsonl") > 10 * one.rows("ads_jsonl") / 4
    assert forty.rows("bank_csv") > 15_000


def test_scale_one_is_a_few_hundred_rows_per_source(tmp_path: Path) -> None:
    files = generate(seed=5, scale=1).write(tmp_path)
    for adapter in ("bank_csv", "cdr_csv", "ads_jsonl"):
        assert 100 <= files.rows(adapter) <= 3_000, adapter


@pytest.mark.parametrize("scale", [0, -1, float("nan"), 50_000])
def test_bad_scale_is_an_input_error(scale: float) -> None:
    with pytest.raises(InputError, match="scale"):
        generate(seed=1, scale=scale)
