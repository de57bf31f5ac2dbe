"""The baseline's name handling: the same keys and the same Fellegi-Sunter model as Palermo, in pandas.

Palermo (``palermo.analytics.names``) turns every name beside an identifier into a key (a full
name is global, a nickname or partial name is scoped to its device or account) and lets Splink match
spelling variants of person names. A notebook analyst does the same with the ``recordlinkage``
package: block on surname and on (given name, first three letters of the surname), compare with
Jaro-Winkler and Damerau-Levenshtein (jellyfish), and score with the same m/u priors, re-estimating
u from a random sample of pairs as Splink does. Only the per-name rules (``name_key``,
``is_person_name``: plain Python, the same cost on both sides) are Palermo's own; the matching is
the pandas way of doing that work.
"""

from __future__ import annotations

import math

import jellyfish
import numpy as np
import pandas as pd
import recordlinkage

# What counts as a name, and its key, are Palermo's own rules (plain Python per name, the same cost
# either way): the two must agree on them, so they are imported, not copied.
from palermo.analytics.names import is_person_name, name_key

__all__ = ["match_names", "name_key"]

#: m and u priors per level, the same numbers as Palermo's Splink comparisons (names._person_spec).
GIVEN_M, GIVEN_U = (0.70, 0.18, 0.08, 0.04), (0.01, 0.03, 0.05, 0.91)
SURNAME_M, SURNAME_U = (0.85, 0.13, 0.02), (0.005, 0.01, 0.985)
#: Random pairs drawn to re-estimate u (Splink: ``estimate_u_using_random_sampling(max_pairs=2e5)``).
U_MAX_PAIRS = 200_000


def _levels(gl: pd.Series, gr: pd.Series, sl: pd.Series, sr: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Comparison level per pair for given name (0..3) and surname (0..2), first matching level wins."""
    jw = np.fromiter(
        (jellyfish.jaro_winkler_similarity(a, b) for a, b in zip(gl, gr, strict=True)), float, len(gl)
    )
    dl = np.fromiter(
        (jellyfish.damerau_levenshtein_distance(a, b) for a, b in zip(sl, sr, strict=True)), int, len(sl)
    )
    long_l, long_r = gl.str.len().to_numpy() > 1, gr.str.len().to_numpy() > 1
    given = np.select(
        [
            (gl.to_numpy() == gr.to_numpy()) & long_l,
            long_l & long_r & (jw >= 0.88),
            gl.str[0].to_numpy() == gr.str[0].to_numpy(),
        ],
        [0, 1, 2],
        3,
    )
    surname = np.select([sl.to_numpy() == sr.to_numpy(), dl <= 1], [0, 1], 2)
    return given, surname


def _estimate_u(frame: pd.DataFrame, seed: int = 1) -> tuple[list[float], list[float]]:
    """u per level from random record pairs (most random pairs are different people)."""
    n = len(frame)
    if n < 30:
        return list(GIVEN_U), list(SURNAME_U)
    total = n * (n - 1) // 2
    rng = np.random.default_rng(seed)
    size = int(min(U_MAX_PAIRS, total))
    left, right = rng.integers(0, n, size), rng.integers(0, n, size)
    keep = left != right
    left, right = left[keep], right[keep]
    given, surname = _levels(
        frame["given"].iloc[left].reset_index(drop=True),
        frame["given"].iloc[right].reset_index(drop=True),
        frame["surname"].iloc[left].reset_index(drop=True),
        frame["surname"].iloc[right].reset_index(drop=True),
    )
    out = []
    for levels, prior in ((given, GIVEN_U), (surname, SURNAME_U)):
        counts = np.bincount(levels, minlength=len(prior)) / max(len(levels), 1)
        out.append([float(c) if c > 0 else p for c, p in zip(counts, prior, strict=True)])
    return out[0], out[1]


def match_names(keys: list[str], threshold: float = 0.85) -> list[tuple[str, str, float]]:
    """Pairs of person-name keys whose Fellegi-Sunter match probability reaches ``threshold``."""
    full = sorted({k for k in keys if is_person_name(k)})
    if len(full) < 2:
        return []
    words = [k.rsplit(":", 1)[1].split(" ") for k in full]
    frame = pd.DataFrame(
        {"given": [w[0] for w in words], "surname": [w[-1] for w in words]}, index=pd.Index(full, name="key")
    )
    frame["s3"] = frame["surname"].str[:3]
    indexer = recordlinkage.Index()
    indexer.block("surname")
    indexer.block(["given", "s3"])
    pairs = indexer.index(frame)
    if len(pairs) == 0:
        return []
    left, right = pairs.get_level_values(0), pairs.get_level_values(1)
    given, surname = _levels(
        frame.loc[left, "given"].reset_index(drop=True),
        frame.loc[right, "given"].reset_index(drop=True),
        frame.loc[left, "surname"].reset_index(drop=True),
        frame.loc[right, "surname"].reset_index(drop=True),
    )
    u_given, u_surname = _estimate_u(frame)
    prior = min(0.5, 2.0 / max(len(full), 2))
    bf_given = np.log2(np.asarray(GIVEN_M) / np.asarray(u_given))
    bf_surname = np.log2(np.asarray(SURNAME_M) / np.asarray(u_surname))
    weight = math.log2(prior / (1 - prior)) + bf_given[given] + bf_surname[surname]
    prob = 1.0 / (1.0 + np.exp2(-weight))
    hit = prob >= threshold
    out = []
    for a, b, p in zip(left[hit], right[hit], prob[hit], strict=True):
        out.append((min(a, b), max(a, b), float(p)))
    return out
