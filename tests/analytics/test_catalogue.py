"""The indicator catalogue: enough sourced red flags, valid legal terms, SQL that runs and transpiles."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from palermo.analytics.backends.base import transpile
from palermo.analytics.indicators.catalogue import CATALOGUE, HIT_COLUMNS, Indicator, load_catalogue
from palermo.analytics.tables import create_analysis_tables
from palermo.errors import LawDataError
from palermo.ingest.schema import create_schema

INDICATORS = load_catalogue()
VOCABULARY = Path(__file__).resolve().parents[2] / "src/palermo/law/vocabulary.yaml"


def _vocabulary() -> set[str]:
    terms = yaml.safe_load(VOCABULARY.read_text(encoding="utf-8"))["terms"]
    return {f"{t['category']}:{t['id']}" for t in terms}


def test_catalogue_has_at_least_fifteen_indicators() -> None:
    assert len(INDICATORS) >= 15


def test_catalogue_covers_money_ads_and_communications() -> None:
    assert {i.category for i in INDICATORS} == {"money", "ads", "communications"}


def test_every_supported_element_is_a_vocabulary_term() -> None:
    known = _vocabulary()
    unknown = {(i.id, term) for i in INDICATORS for term in i.supports if term not in known}
    assert unknown == set()


def test_money_indicators_cite_the_fincen_advisories() -> None:
    cited = " ".join(i.source for i in INDICATORS if i.category == "money")
    assert "FIN-2014-A008" in cited and "FIN-2020-A008" in cited


@pytest.mark.parametrize("indicator", INDICATORS, ids=lambda i: i.id)
def test_indicator_sql_transpiles_to_spark(indicator: Indicator) -> None:
    assert "SELECT" in transpile(indicator.sql, "spark").upper()


def test_every_indicator_returns_the_hit_columns_on_empty_tables() -> None:
    con = duckdb.connect()
    create_schema(con)
    create_analysis_tables(con)
    for indicator in INDICATORS:
        cur = con.execute(indicator.sql, {"case_ref": "EMPTY"})
        assert tuple(d[0] for d in cur.description) == HIT_COLUMNS, indicator.id


def test_loader_rejects_an_unknown_key(tmp_path: Path) -> None:
    raw = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    raw["indicators"][0]["threshold"] = 3
    bad = tmp_path / "catalogue.yaml"
    bad.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(LawDataError, match="threshold"):
        load_catalogue(bad)


def test_loader_rejects_a_malformed_legal_term(tmp_path: Path) -> None:
    raw = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    raw["indicators"][0]["supports"] = ["coercion"]
    bad = tmp_path / "catalogue.yaml"
    bad.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(LawDataError, match="supports"):
        load_catalogue(bad)


def test_no_indicator_uses_backslash_b_word_boundaries() -> None:
    """``\\b`` is ASCII-only in DuckDB (RE2) and Unicode-aware in Spark (Java 17): "herö" matched "her"
    on one engine only. The catalogue writes its boundaries as explicit ASCII classes instead."""
    assert [i.id for i in INDICATORS if "\\b" in i.sql] == []


def test_cash_deposits_that_net_to_zero_do_not_abort_the_indicators(tmp_path: Path) -> None:
    from palermo.analytics.indicators.runner import find_hits

    from .conftest import Loader

    con = duckdb.connect(str(tmp_path / "a.duckdb"))
    create_schema(con)
    load = Loader(con)
    for amount, city in ((50, "Miami"), (-50, "Newark"), (30, "Denver"), (-30, "Miami"), (0, "Newark")):
        load.add(
            "payments",
            1,
            ts="2025-01-01 10:00",
            to_account="X1",
            amount=amount,
            channel="cash_deposit",
            city=city,
        )
    load.add(
        "payments", 1, ts="2025-01-02 10:00", from_account="X1", to_account="Y1", amount=10, channel="wire"
    )
    found = find_hits(con, "TEST-1", [i for i in INDICATORS if i.id == "M_FUNNEL_ACCOUNT"])
    assert found == []  # was: ConversionException (100 * out / 0), and no analysis at all


def test_a_hits_statements_are_stored_in_exhibit_and_row_order(tmp_path: Path) -> None:
    from palermo.analytics.indicators.runner import store_hits

    con = duckdb.connect(str(tmp_path / "a.duckdb"))
    create_schema(con)
    record = {
        "subject_kind": "phone",
        "subject": "+15555550100",
        "score": 1.0,
        "detail": "d",
        "stmt_ids": ["7:line:10", "2:line:3", "7:line:9"],
        "evidence_ids": [7, 2],
        "locators": ["line:10", "line:3", "line:9"],
    }
    (hit,) = store_hits(con, "TEST-1", [(INDICATORS[0], record)])
    assert hit.stmt_ids == ("2:line:3", "7:line:9", "7:line:10")
    assert hit.locators == ("line:3", "line:9", "line:10")  # still row-aligned with the statements
