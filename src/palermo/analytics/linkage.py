"""Probabilistic record linkage with Splink on DuckDB: the Fellegi-Sunter model, trained per run.

Why Splink: it generates plain SQL (blocking, comparison vectors, EM), so the same model runs on
DuckDB for one case and on Spark for national-scale data, and every match probability can be
explained level by level. This module is the one place that talks to Splink; entity resolution
(``resolve.py``) and the FEBRL accuracy tests both go through :func:`link_records`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any, Literal

import duckdb
import pandas as pd
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from palermo.analytics.backends.spark import isolated

# Splink logs every training step at INFO; an analyst's terminal needs none of it.
logging.getLogger("splink").setLevel(logging.WARNING)


@dataclass(frozen=True)
class LinkSpec:
    """What to compare and how to train, independent of the data.

    ``comparisons`` are Splink comparison creators (``splink.comparison_library``);
    ``blocking`` lists column groups whose equality proposes candidate pairs (each inner list is one
    ``block_on`` rule, items may be SQL expressions); ``deterministic`` rules estimate the prior
    match rate with ``deterministic_recall``; ``em_blocking`` rules drive EM for the m
    probabilities. With no EM rules, the m probabilities configured on the comparisons are used as
    priors (small case data is too thin for EM).
    """

    comparisons: Sequence[Any]
    blocking: Sequence[Sequence[str]]
    deterministic: Sequence[Sequence[str]] = ()
    deterministic_recall: float = 0.7
    em_blocking: Sequence[Sequence[str]] = ()
    prior_match_probability: float = 1e-3
    u_max_pairs: float = 1e6
    u_chunks: int = 10
    seed: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


def link_records(
    frames: pd.DataFrame | Sequence[pd.DataFrame],
    spec: LinkSpec,
    *,
    threshold: float = 0.5,
    id_column: str = "unique_id",
    spark: Any | None = None,
) -> pd.DataFrame:
    """Score candidate pairs and return those with match probability ≥ ``threshold``.

    One frame deduplicates; two frames link (``link_only``). The result has columns
    ``id_l``, ``id_r``, ``match_probability``, ``match_weight``, with ``id_l < id_r`` for dedupe.
    A fresh in-memory DuckDB connection keeps Splink's many scratch tables out of the case file.

    With ``spark`` (a ``SparkSession``, see ``backends.spark.spark_session``) the model is still
    trained on that in-memory DuckDB, then saved and scored on Spark: the frames are in this process
    anyway, training samples at most ``u_max_pairs``, and the engines sample random pairs
    differently, so training on Spark gave slightly different u values (match probabilities up to
    0.018 apart at 55 000 names). One trained model gives the same probability to every pair both
    engines compare alike; the part that grows with the data (blocking, comparing, scoring every
    candidate pair) is what runs on Spark. The comparisons themselves can still differ: Splink's
    Spark UDF for Jaro(-Winkler) scores some strings lower than DuckDB (and the textbook algorithm,
    as ``jellyfish`` computes it): "elsahya"/"selaya" 0.869 against 0.897, so at 55 000 names 3 of
    6 263 pairs fall below the threshold on Spark only.
    """
    inputs = [frames] if isinstance(frames, pd.DataFrame) else list(frames)
    link_type: Literal["dedupe_only", "link_only"] = "dedupe_only" if len(inputs) == 1 else "link_only"
    empty = pd.DataFrame(columns=["id_l", "id_r", "match_probability", "match_weight"])
    if any(len(f) == 0 for f in inputs) or (link_type == "dedupe_only" and len(inputs[0]) < 2):
        return empty
    con = duckdb.connect()
    try:
        api = DuckDBAPI(connection=con)
        registered = [api.register(f) for f in inputs]
        settings = _settings(spec, link_type, id_column, spec.comparisons, spec.prior_match_probability)
        linker = Linker(registered if len(registered) > 1 else registered[0], settings, log_level=None)
        _train(linker, spec, sum(len(f) for f in inputs))
        if spark is None:
            out = _predict(linker, threshold)
        else:
            # Splink's saved JSON keeps DuckDB's SQL in custom levels, which scored differently on
            # Spark; the comparisons are rebuilt for Spark from the spec and given the trained values.
            model = linker.misc.save_model_to_json()
            trained = _trained_comparisons(spec.comparisons, model["comparisons"])
            prior = float(model["probability_two_random_records_match"])
            with isolated(spark) as session:  # Splink's working views are dropped and uncached after
                spark_api = _spark_api(session)
                on_spark = [spark_api.register(f) for f in inputs]
                spark_linker = Linker(
                    on_spark if len(on_spark) > 1 else on_spark[0],
                    _settings(spec, link_type, id_column, trained, prior),
                    log_level=None,
                )
                out = _predict(spark_linker, threshold)
    finally:
        con.close()
    if out.empty:
        return empty
    out = out.rename(columns={f"{id_column}_l": "id_l", f"{id_column}_r": "id_r"})
    return out[["id_l", "id_r", "match_probability", "match_weight"]].reset_index(drop=True)


def _predict(linker: Linker, threshold: float) -> pd.DataFrame:
    pred = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
    out: pd.DataFrame = pred.as_pandas_dataframe()  # type: ignore[no-untyped-call]
    return out


def _settings(
    spec: LinkSpec,
    link_type: Literal["dedupe_only", "link_only"],
    id_column: str,
    comparisons: Sequence[Any],
    prior: float,
) -> SettingsCreator:
    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name=id_column,
        probability_two_random_records_match=prior,
        blocking_rules_to_generate_predictions=[block_on(*cols) for cols in spec.blocking],
        comparisons=list(comparisons),
        retain_intermediate_calculation_columns=False,
        **spec.extra,
    )


def _trained_comparisons(creators: Sequence[Any], trained: Sequence[dict[str, Any]]) -> list[Any]:
    """Copies of the spec's comparison creators carrying the m and u values a trained model holds.

    Matched by output column and checked level by level (the labels must agree), so a spec and a
    model that drifted apart fail loudly instead of scoring with shifted values. A level the model
    holds no trained value for keeps the value configured in the spec (Splink writes only trained
    values into a saved model)."""
    by_column = {str(c.get("output_column_name")): c for c in trained}
    out = []
    for creator in creators:
        built = creator.get_comparison("duckdb")
        model = by_column.get(built.output_column_name)
        if model is None:
            raise RuntimeError(f"the trained model has no comparison {built.output_column_name!r}")
        levels = [lv for lv in model["comparison_levels"] if not lv.get("is_null_level")]
        labels = [lv.label_for_charts for lv in built.comparison_levels if not lv.is_null_level]
        if [lv.get("label_for_charts") for lv in levels] != labels:
            raise RuntimeError(f"{built.output_column_name!r}: the trained levels do not match the spec")
        m_prior = creator.m_probabilities or [None] * len(levels)
        u_prior = creator.u_probabilities or [None] * len(levels)
        m = [_value(lv, "m_probability", p) for lv, p in zip(levels, m_prior, strict=True)]
        u = [_value(lv, "u_probability", p) for lv, p in zip(levels, u_prior, strict=True)]
        out.append(deepcopy(creator).configure(m_probabilities=m, u_probabilities=u))
    return out


def _value(level: dict[str, Any], key: str, prior: float | None) -> float | None:
    value = level.get(key)
    return float(value) if isinstance(value, int | float) else prior


def _spark_api(spark: Any) -> Any:
    """Splink's Spark API on a session. ``break_lineage_method="persist"`` keeps Splink's iterative
    steps from growing ever longer query plans without needing a checkpoint directory."""
    from splink import SparkAPI

    return SparkAPI(spark_session=spark, break_lineage_method="persist")  # type: ignore[no-untyped-call]


def _train(linker: Linker, spec: LinkSpec, n_records: int) -> None:
    """Estimate the prior, the u probabilities by random sampling, then m by EM where asked."""
    if spec.deterministic:
        linker.training.estimate_probability_two_random_records_match(
            [block_on(*cols) for cols in spec.deterministic], recall=spec.deterministic_recall
        )
    # u needs a fair sample of non-matching pairs; below ~30 records there are too few to beat
    # the configured priors, so keep them.
    if n_records >= 30:
        linker.training.estimate_u_using_random_sampling(
            max_pairs=spec.u_max_pairs, seed=spec.seed, min_count_per_level=None, num_chunks=spec.u_chunks
        )
    for cols in spec.em_blocking:
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(*cols))
