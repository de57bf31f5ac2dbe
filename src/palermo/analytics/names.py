"""Person names as evidence of identity: normalised keys, and the Splink model that matches variants.

Names are weak identifiers: "Jon Smyth", "JOHN SMITH" and "Smith, J." may be one man or three.
So names only ever *link identifiers* (the phone saved as "Jon Smyth", the account held by
"JOHN SMITH"), a full name (two words or more) is matched across the case, and a single word
(a nickname such as "Boss") only within the device or statement it was saved on. Variant spellings
are matched by Splink with conservative prior m/u probabilities, refined by sampling the case's own
names, because a case rarely holds enough names for EM to learn from.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import pandas as pd
import splink.comparison_level_library as cll
import splink.comparison_library as cl

from palermo.analytics.linkage import LinkSpec, link_records

_TOKEN = re.compile(r"[a-z0-9]+")
# Titles and particles carry no identity.
_NOISE = frozenset({"mr", "mrs", "ms", "miss", "dr", "sr", "jr", "the"})
# Words that make a name an organisation or a merchant, which Splink must not treat as a person.
_ORGANISATION = frozenset(
    {
        "llc",
        "inc",
        "ltd",
        "co",
        "corp",
        "company",
        "gmbh",
        "bv",
        "sa",
        "plc",
        "bank",
        "rent",
        "properties",
        "apts",
        "apartments",
        "hotel",
        "motel",
        "inn",
        "lodge",
        "suites",
        "store",
        "market",
        "foods",
        "retail",
        "logistics",
        "health",
        "schools",
        "builders",
        "motors",
        "services",
        "beneficiary",
        "cash",
        "deposit",
        "atm",
        "transfer",
        "payment",
        "salary",
        "new",
    }
)


def tokens(name: str) -> list[str]:
    """Lower-case ASCII tokens, given name first: "SMITH, John" and "John Smith" → john smith."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    if "," in text:
        last, _, first = text.partition(",")
        text = f"{first} {last}"
    words = [t for t in _TOKEN.findall(text) if t not in _NOISE]
    # "SMITH J" and "J. Smith" are the same name: initials first, then the words, in order.
    return [t for t in words if len(t) == 1] + [t for t in words if len(t) > 1]


def name_key(name: str, scope: str | None) -> str | None:
    """The graph key of a name: global for full names, scoped to its device or statement otherwise.

    A full name has at least two words of two letters or more. An initial and a word ("O new",
    "J. Smith") and a single word ("Boss") are too common to join across devices, so they are keys
    within their scope only (Splink may still match a partial name to a full one).
    """
    toks = tokens(name)
    if not toks:
        return None
    if len(toks) == 1:
        return f"nick:{scope or '-'}:{toks[0]}"
    if sum(1 for t in toks if len(t) >= 2) >= 2:
        return "name:" + " ".join(toks)
    return f"part:{scope or '-'}:" + " ".join(toks)


def _name_tokens(key: str) -> list[str]:
    """The words of a ``name:`` or ``part:<scope>:`` key."""
    return key.rsplit(":", 1)[1].split(" ")


def _person_spec(n_names: int) -> LinkSpec:
    """Splink comparisons for given name and surname with documented priors.

    The priors say: a true match has the same surname 85 % of the time (else one typo away: C/K,
    i/y, a doubled letter) and the same given name 70 %; an initial ("J") standing for a full given
    name is common in bank holder names, but an initial agreeing with an initial is weak evidence.
    u values are the chance of such agreement between different people; they are re-estimated from
    the case's names when there are enough. The prior match probability assumes each person appears
    under about two spellings among ``n_names`` distinct names.
    """
    given = cl.CustomComparison(
        output_column_name="given",
        comparison_levels=[
            cll.NullLevel("given"),
            cll.CustomLevel("given_l = given_r AND length(given_l) > 1", label_for_charts="exact given name"),
            cll.CustomLevel(
                "length(given_l) > 1 AND length(given_r) > 1 "
                "AND jaro_winkler_similarity(given_l, given_r) >= 0.88",
                label_for_charts="similar given name",
            ),
            cll.CustomLevel(
                "substr(given_l, 1, 1) = substr(given_r, 1, 1)", label_for_charts="initial agrees"
            ),
            cll.ElseLevel(),
        ],
    ).configure(m_probabilities=[0.70, 0.18, 0.08, 0.04], u_probabilities=[0.01, 0.03, 0.05, 0.91])
    surname = cl.CustomComparison(
        output_column_name="surname",
        comparison_levels=[
            cll.NullLevel("surname"),
            cll.ExactMatchLevel("surname"),
            cll.DamerauLevenshteinLevel("surname", 1),
            cll.ElseLevel(),
        ],
    ).configure(m_probabilities=[0.85, 0.13, 0.02], u_probabilities=[0.005, 0.01, 0.985])
    return LinkSpec(
        comparisons=[given, surname],
        blocking=[["surname"], ["given", "substr(surname, 1, 3)"]],
        prior_match_probability=min(0.5, 2.0 / max(n_names, 2)),
        # names are few and cheap to compare: a small single-pass sample gives stable u values
        u_max_pairs=2e5,
        u_chunks=1,
    )


def is_person_name(key: str) -> bool:
    """A full or partial name key that looks like a person: 2–4 alphabetic words, no organisation word."""
    if not key.startswith(("name:", "part:")):
        return False
    toks = _name_tokens(key)
    return 2 <= len(toks) <= 4 and all(t.isalpha() and t not in _ORGANISATION for t in toks)


def match_names(
    keys: list[str], threshold: float = 0.9, *, spark: Any | None = None
) -> list[tuple[str, str, float]]:
    """Pairs of person-name keys that Splink scores as the same person, with the probability
    (on Spark when given a ``SparkSession``, else on an in-memory DuckDB)."""
    full = sorted({k for k in keys if is_person_name(k)})
    if len(full) < 2:
        return []
    rows = []
    for key in full:
        toks = _name_tokens(key)
        rows.append({"unique_id": key, "given": toks[0], "surname": toks[-1]})
    frame = pd.DataFrame(rows).astype("string")
    pairs = link_records(frame, _person_spec(len(full)), threshold=threshold, spark=spark)
    return sorted(  # Splink returns pairs in whatever order its threads finish
        (str(a), str(b), float(p))
        for a, b, p in zip(pairs.id_l, pairs.id_r, pairs.match_probability, strict=True)
    )
