"""Table specs: how each column of an analytics table is read from a source column.

A :class:`TableSpec` is the common language of the CSV adapters and the YAML mappings: for every
target column, the source column that feeds it, how to read it (``timestamp`` with formats,
``int``, ``decimal``, ``phone`` …), whether it is required, and which strong identifiers the table
yields. ``value_sql`` turns one field into the DuckDB expression that reads it, returning NULL
(never an error) when the text cannot be read, so the checks can name the line instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from palermo.ingest.staging import quote_ident

#: Value kinds a field may be read as. Kinds in PARSED can fail and then make a row bad.
KINDS = frozenset(
    {
        "text",
        "upper",
        "lower",
        "timestamp",
        "int",
        "decimal",
        "double",
        "phone",
        "email",
        "account",
        "day_offset",
    }
)
PARSED = frozenset({"timestamp", "int", "decimal", "double", "day_offset"})
_EMAIL_RE = r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$"


@dataclass(frozen=True)
class Field:
    """How one target column is filled: from ``source`` read as ``kind``, or a constant."""

    target: str
    source: str | None = None
    kind: str = "text"
    formats: tuple[str, ...] = ()
    const: Any = None
    required: bool = False
    choices: tuple[str, ...] = ()
    prefix: str = ""
    absolute: bool = False
    origin: str | None = None  # for day_offset: the date that step 0 stands for
    decimal_comma: bool = False  # 1.234,50 (continental) instead of 1,234.50


@dataclass(frozen=True)
class IdentifierRule:
    """A strong identifier to record for resolution: which target column, of what kind, beside which name."""

    kind: str
    column: str
    name_column: str | None = None


@dataclass(frozen=True)
class TableSpec:
    """A complete description of how staging rows become rows of one analytics table."""

    table: str
    fields: tuple[Field, ...]
    identifiers: tuple[IdentifierRule, ...] = ()
    repeat: str | None = None  # source column holding a count: one statement per unit (edge weights)
    region: str | None = None
    extra: dict[str, str] = field(
        default_factory=dict
    )  # stmt_key: a column that tells statements of one line apart
    #: ``(field, condition, problem)``: checks across fields of one staging row ``s`` that make the
    #: line bad (``problem`` is SQL text), for rules no single field can state, such as a bank
    #: statement's negative amount that contradicts its direction column.
    checks: tuple[tuple[str, str, str], ...] = ()


DEFAULT_IDENTIFIERS: dict[str, tuple[IdentifierRule, ...]] = {
    "payments": (
        IdentifierRule("account", "from_account", "from_name"),
        IdentifierRule("account", "to_account", "to_name"),
    ),
    "calls": (IdentifierRule("phone", "caller"), IdentifierRule("phone", "callee")),
    "messages": (IdentifierRule("phone", "sender"), IdentifierRule("phone", "recipient")),
    "contacts": (IdentifierRule("phone", "phone", "name"), IdentifierRule("email", "email", "name")),
    "ads": (IdentifierRule("phone", "phone"), IdentifierRule("email", "email")),
}


def rules(spec: TableSpec) -> tuple[IdentifierRule, ...]:
    return spec.identifiers or DEFAULT_IDENTIFIERS.get(spec.table, ())


def raw_sql(f: Field) -> str:
    """The raw text of ``f`` in staging row ``s``.

    DuckDB already reads empty CSV fields as NULL, so phone and text fields are used as they are
    (phones are cleaned by ``normalise_phone``, names are kept "raw as given"); values that must
    parse are trimmed first so padding never makes a good row bad.
    """
    column = f"s.{quote_ident(f.source or '')}"
    if f.kind in ("phone", "text") and not f.prefix:
        return column
    return f"nullif(trim({column}), '')"


#: The end of a time written with a zone: ``…05:06Z``, ``…05:06:07+02:00``, ``…05:06:07.5-0130``.
_ZONED = r"[0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$"


def timestamp_sql(raw: str) -> str:
    """SQL reading the text ``raw`` as a timestamp: a time with an explicit zone (``Z``, ``+02:00``)
    in UTC, a time without one as written (the exhibit's local clock; nothing says which zone).

    ``TRY_CAST(… AS TIMESTAMP)`` alone drops the offset, so ``05:06+02:00`` and ``05:06Z`` were
    stored as the same instant and a CDR disagreed with an FtM stream (which holds UTC) about the
    same call. Only rows whose text ends in a zone take the zone-aware cast, so naive times cost
    one regular expression more; ``timezone('UTC', …)`` does not depend on the session's zone. A
    zone that moves the time out of the years 1-9999 makes it unreadable.
    """
    zoned = f"timezone('UTC', TRY_CAST({raw} AS TIMESTAMPTZ))"
    return (
        f"CASE WHEN regexp_matches({raw}, '{_ZONED}') THEN "
        f"CASE WHEN {zoned} BETWEEN TIMESTAMP '0001-01-01' AND TIMESTAMP '9999-12-31 23:59:59.999999' "
        f"THEN {zoned} END ELSE TRY_CAST({raw} AS TIMESTAMP) END"
    )


def value_sql(f: Field, phone_alias: str | None) -> str:
    """The SQL expression reading field ``f`` from staging row ``s`` (NULL when unreadable)."""
    if f.source is None:
        return "NULL" if f.const is None else literal(f.const)
    raw = raw_sql(f)
    if f.prefix:
        raw = f"({literal(f.prefix)} || {raw})"
    kind = f.kind
    if kind == "timestamp":
        if f.formats:
            tries = ", ".join(f"try_strptime({raw}, {literal(fmt)})" for fmt in f.formats)
            return f"coalesce({tries})" if len(f.formats) > 1 else tries
        return timestamp_sql(raw)
    if kind == "day_offset":
        return (
            f"(CAST({literal(f.origin or '1970-01-01')} AS TIMESTAMP) + to_days(TRY_CAST({raw} AS INTEGER)))"
        )
    if kind == "int":
        return f"TRY_CAST(TRY_CAST({raw} AS DOUBLE) AS BIGINT)"
    if kind in ("decimal", "double"):
        # only a number written the one way the file's convention allows is read: "2177,89" in a
        # decimal-point file is not 217789, and "1.234,56" is not 1.23 (a money indicator would
        # fire on the misread amount); anything else is a bad row naming its line
        text = (
            f"replace(replace({raw}, '.', ''), ',', '.')" if f.decimal_comma else f"replace({raw}, ',', '')"
        )
        expr = (
            f"TRY_CAST(CASE WHEN regexp_full_match({raw}, {literal(number_shape(f))}) THEN {text} END "
            f"AS {'DECIMAL(18,2)' if kind == 'decimal' else 'DOUBLE'})"
        )
        return f"abs({expr})" if f.absolute else expr
    if kind == "phone":
        return f"{phone_alias}.norm"
    if kind == "email":
        return email_sql(raw)
    if kind == "account":
        cleaned = raw
        for junk in (" ", ".", "/", "-", "\t"):
            cleaned = f"replace({cleaned}, {literal(junk)}, '')"
        return f"nullif(upper({cleaned}), '')"
    if kind == "upper":
        return f"upper({raw})"
    if kind == "lower":
        return f"lower({raw})"
    return raw


def email_sql(raw: str) -> str:
    """SQL for the e-mail address in the text ``raw``, or NULL when it is none: read as
    :func:`~palermo.ingest.normalise.normalise_email` reads it (trimmed, ``<…>`` and ``mailto:``
    taken off, lower-cased), so ``<Mira@Example.org>`` in a CSV is the address a JSON export gives."""
    text = f"regexp_replace(lower(trim(trim(trim({raw}), '<>'))), '^mailto:', '')"
    return f"CASE WHEN regexp_full_match({text}, {literal(_EMAIL_RE)}) THEN {text} END"


def number_shape(f: Field) -> str:
    """The regular expression a decimal or double field's text must match in full.

    Thousands separators must group by three (``1,234,567.89``; ``1.234.567,89`` with
    ``decimal_comma``), and a decimal amount has at most two decimals: a money column with more is
    in another convention (``12.345`` is twelve thousand in Germany) and rounding it would hide that.
    """
    group, point = (r"[.]", ",") if f.decimal_comma else (",", r"[.]")
    decimals = "{1,2}" if f.kind == "decimal" else "+"
    return rf"[+-]?(?:[0-9]{{1,3}}(?:{group}[0-9]{{3}})+|[0-9]+)(?:{point}[0-9]{decimals})?"


def literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


__all__ = [
    "DEFAULT_IDENTIFIERS",
    "KINDS",
    "PARSED",
    "Field",
    "IdentifierRule",
    "TableSpec",
    "email_sql",
    "literal",
    "number_shape",
    "raw_sql",
    "rules",
    "value_sql",
]
