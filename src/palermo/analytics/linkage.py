"""Probabilistic record linkage with Splink on DuckDB: the Fellegi-Sunter model, trained per run.

Why Splink: it generates plain SQL (blocking, comparison vectors, EM), so the same model runs on
DuckDB for one case and on Spark for national-scale data, and every match probability can be
explained level by level. This module is the one place that talks to Splink; entity resolution
(``resolve.py``) and the FEBRL accuracy tests both go through :func:`link_records`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import duckdb
import pandas as pd
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

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
    With ``spark`` (a ``SparkSession``, see ``backends.spark.spark_session``) the same model,
    blocking and training run on Spark instead: Splink generates the SQL for either engine.
    """
    inputs = [frames] if isinstance(frames, pd.DataFrame) else list(frames)
    link_type: Literal["dedupe_only", "link_only"] = "dedupe_only" if len(inputs) == 1 else "link_only"
    empty = pd.DataFrame(columns=["id_l", "id_r", "match_probability", "match_weight"])
    if any(len(f) == 0 for f in inputs) or (link_type == "dedupe_only" and len(inputs[0]) < 2):
        return empty
    con = duckdb.connect() if spark is None else None
    try:
        api: Any = _spark_api(spark) if con is None else DuckDBAPI(connection=con)
        registered = [api.register(f) for f in inputs]
        settings = SettingsCreator(
            link_type=link_type,
            unique_id_column_name=id_column,
            probability_two_random_records_match=spec.prior_match_probability,
            blocking_rules_to_generate_predictions=[block_on(*cols) for cols in spec.blocking],
            comparisons=list(spec.comparisons),
            retain_intermediate_calculation_columns=False,
            **spec.extra,
        )
        linker = Linker(registered if len(registered) > 1 else registered[0], settings, log_level=None)
        _train(linker, spec, sum(len(f) for f in inputs))
        pred = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
        out: pd.DataFrame = pred.as_pandas_dataframe()  # type: ignore[no-untyped-call]
    finally:
        if con is not None:
            con.close()
    if out.empty:
        return empty
    out = out.rename(columns={f"{id_column}_l": "id_l", f"{id_column}_r": "id_r"})
    return out[["id_l", "id_r", "match_probability", "match_weight"]].reset_index(drop=True)


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
