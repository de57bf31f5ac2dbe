"""Turning a staging table into statements with SQL: parse checks, normalisation, identifiers.

One engine serves the CSV adapters and the YAML mappings alike. Given a
:class:`~palermo.ingest.spec.TableSpec` it parses every value once into a TEMP table, then writes:

* checks that find each unreadable or missing value, with its line, as :class:`BadRow` objects;
* a ``SELECT`` producing the target rows (bad lines left out) with provenance columns;
* one ``SELECT`` for the ``identifiers`` table, for identifier columns the target table does not
  already carry as such (see :data:`~palermo.ingest.schema.DERIVED_IDENTIFIERS`; usually none).

Phones are normalised in Python (``phonenumbers``) but only on the DISTINCT raw values, which are
then joined back: a million call records usually hold a few thousand numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import phonenumbers
import pyarrow as pa

from palermo.ingest.base import BadRow, Batch
from palermo.ingest.normalise import blank_sql, normalise_phone, says_none_sql, shape_sql
from palermo.ingest.schema import DERIVED_COLUMNS, TABLE_COLUMNS
from palermo.ingest.spec import PARSED, Field, IdentifierRule, TableSpec, literal, raw_sql, rules, value_sql
from palermo.ingest.staging import Staged, quote_ident

#: Kinds whose present but unreadable value is a bad row, and what the bad row says. The value itself
#: is never quoted: it may be a victim's number or address (or her name typed in the wrong column).
#: Other bad values are described by their shape only (``normalise.shape``), for the same reason.
IDENTIFYING = {
    "phone": "cannot read the value as a phone number (it has no digits); the value is not shown",
    "email": "cannot read the value as an e-mail address; the value is not shown",
}


def unreadable_sql(raw: str, value: str) -> str:
    """SQL that is TRUE when the text ``raw`` holds something (not blank, not a placeholder) that
    gave no ``value``: an unreadable phone or e-mail (:data:`IDENTIFYING`)."""
    return f"NOT {blank_sql(raw)} AND NOT {says_none_sql(raw)} AND {value} IS NULL"


def _problems(
    spec: TableSpec,
    value_of: Callable[[Field], str | None],
    unreadable_of: Callable[[Field], str | None] = lambda f: None,
) -> list[tuple[str, str, str]]:
    """``(field, condition, problem SQL)`` for every way a value can be bad.

    Conditions read the raw text from staging row ``s``; ``value_of`` gives the parsed value (an
    expression while parsing, a column of the parsed table when explaining bad lines; None for a
    phone whose normalisation is deferred). ``unreadable_of`` may give, for a phone field, the
    flag :func:`phone_table` worked out once per distinct raw value (while parsing a million rows,
    the placeholder test per row cost more than the parse); None: test the row itself.

    A phone or e-mail field whose value is present but cannot be normalised makes the line bad
    (:data:`IDENTIFYING`), whichever field it is: stored as NULL it would read as "no number
    given", and a call, message, contact or ad would silently lose the party that ties it to the
    network. Where the row has other identifiers the rule is the same, so that one unreadable
    value is always seen by the analyst: she fixes the exhibit, or keeps the good rows with
    ``--skip-bad-rows`` and the bad ones listed.
    """
    out: list[tuple[str, str, str]] = []
    for f in spec.fields:
        if f.source is None:
            continue
        raw = raw_sql(f)
        if f.required:  # blank text is no value either (a required phone of spaces was stored NULL)
            out.append((f.source, blank_sql(raw), "'missing value'"))
        if f.kind in PARSED:
            what = f.kind if not f.formats else f"{f.kind} ({' or '.join(f.formats)})"
            out.append(
                (
                    f.source,
                    f"{raw} IS NOT NULL AND {value_of(f)} IS NULL",
                    f"'cannot read the value (' || {shape_sql(raw)} || {literal(') as ' + what)}",
                )
            )
        if f.kind in IDENTIFYING:
            value, flag = value_of(f), unreadable_of(f)
            if flag is not None:
                out.append((f.source, flag, literal(IDENTIFYING[f.kind])))
            elif value is not None:  # None: a deferred phone, checked once normalised (see scan)
                out.append((f.source, unreadable_sql(raw, value), literal(IDENTIFYING[f.kind])))
        if f.choices:
            allowed = ", ".join(literal(c) for c in f.choices)
            out.append(
                (
                    f.source,
                    f"{raw} IS NOT NULL AND lower({raw}) NOT IN ({allowed})",
                    f"'the value (' || {shape_sql(raw)} || "
                    f"{literal(') is not one of ' + '/'.join(f.choices))}",
                )
            )
    out.extend(spec.checks)
    if spec.repeat:
        rep = raw_sql(Field("", spec.repeat))
        out.append(
            (
                spec.repeat,
                f"{rep} IS NOT NULL AND {_count(rep)} IS NULL",
                f"'cannot read the value (' || {shape_sql(rep)} || ') as a count'",
            )
        )
    return out


def stored_rules(spec: TableSpec) -> tuple[IdentifierRule, ...]:
    """The identifier rules whose mentions go into ``identifiers``: those the target table does not
    already carry in an identifier column the analysis reads (``DERIVED_COLUMNS``)."""
    return tuple(r for r in rules(spec) if (spec.table, r.kind, r.column) not in DERIVED_COLUMNS)


def _count(raw: str) -> str:
    return f"TRY_CAST(TRY_CAST({raw} AS DOUBLE) AS BIGINT)"


def find_bad(
    con: Any, spec: TableSpec, staged: Staged, parsed: str, file_name: str, locator_prefix: str = "line:"
) -> tuple[str | None, list[BadRow]]:
    """Return a TEMP table of bad line numbers (or None) and the bad rows, from the ``_bad`` flags.

    The flag was computed while parsing, so a clean file costs one scan of a boolean column; the
    per-field details are only worked out for the (usually few) bad lines.
    """
    bad_table = f"{parsed}_bad"
    con.execute(f"CREATE TEMP TABLE {bad_table} AS SELECT _line FROM {parsed} WHERE _bad")
    if con.execute(f"SELECT count(*) FROM {bad_table}").fetchone()[0] == 0:
        con.execute(f"DROP TABLE {bad_table}")
        return None, []
    problems = _problems(spec, lambda f: f"p.{quote_ident(f.target)}")
    rows = f"{staged.table} s JOIN {parsed} p USING (_line) WHERE p._bad"
    details = " UNION ALL ".join(
        f"SELECT _line, {literal(field)}, {problem} FROM {rows} AND {cond}"
        for field, cond, problem in problems
    )
    found = con.execute(f"SELECT * FROM ({details}) ORDER BY 1, 2").fetchall()
    return bad_table, [
        BadRow(file_name, int(line), str(col), str(problem), f"{locator_prefix}{line}")
        for line, col, problem in found
    ]


def phone_key_sql(raw: str) -> str:
    """SQL for the text ``normalise_phone`` would give the same answer on as for ``raw``.

    ``(305) 555-2591``, ``305-555-2591`` and ``305 555 2591`` are one number written three ways;
    ``phonenumbers`` only looks at the digits (and a leading ``+``) of such text, so they share
    the key ``3055552591`` and are parsed once. Text with anything else in it (letters, an
    extension, a ``+`` inside) is its own key. Digits starting ``00`` are keyed as such only when
    the text itself starts ``00`` (``normalise_phone`` reads that as ``+``), never for ``0 0…``.
    """
    digits = f"regexp_replace({raw}, '[^0-9]', '', 'g')"
    plain = f"regexp_full_match({raw}, ' *[+]?[0-9 ().-]*[0-9][0-9 ().-]*')"
    return (
        f"CASE WHEN NOT {plain} THEN {raw} "
        f"WHEN ltrim({raw}) LIKE '+%' THEN '+' || {digits} "
        f"WHEN ltrim({raw}) LIKE '00%' OR {digits} NOT LIKE '00%' THEN {digits} "
        f"ELSE {raw} END"
    )


def phone_map(con: Any, spec: TableSpec, staged: Staged, region: str | None) -> str | None:
    """Normalise the distinct raw phone values of the phone fields; return the TEMP mapping table."""
    sources = [f for f in spec.fields if f.kind == "phone" and f.source]
    if not sources:
        return None
    union = " UNION ".join(f"SELECT {raw_sql(f)} AS raw FROM {staged.table} s" for f in sources)
    return phone_table(con, f"{staged.table}_phones", union, region)


def nanp_sql(key: str, region: str | None) -> str:
    """SQL for the E.164 form of a phone *key* (see :func:`phone_key_sql`) in the North American
    Numbering Plan, or NULL when the key is anything else and ``phonenumbers`` must read it.

    Ten digits whose area code starts 2-9 (read in a region of country code 1), the same behind a
    ``1`` trunk prefix, or ``+1`` and such ten digits: ``phonenumbers`` takes all three as possible
    numbers of country code 1, and nothing else about them changes the answer (the region is read
    upper-cased, as :func:`~palermo.ingest.normalise.normalise_phone` reads it). Most numbers in US
    call records and ads have these shapes, and ``phonenumbers`` spends about 10 µs on each, more
    than the rest of an ads import; ``test_ingest_phone_keys`` checks the rule against it.
    """
    plus = f"WHEN regexp_full_match({key}, '[+]1[2-9][0-9]{{9}}') THEN {key}"
    if not region or phonenumbers.country_code_for_region(region.upper()) != 1:
        return f"CASE {plus} END"
    return (
        f"CASE {plus} WHEN regexp_full_match({key}, '[2-9][0-9]{{9}}') THEN '+1' || {key} "
        f"WHEN regexp_full_match({key}, '1[2-9][0-9]{{9}}') THEN '+' || {key} END"
    )


def phone_table(con: Any, name: str, raws_sql: str, region: str | None) -> str:
    """Create TEMP table ``name`` mapping every ``raw`` value of ``raws_sql`` to its normalised phone
    (``norm``) and whether the value is unreadable (``unreadable``: see :func:`unreadable_sql`).

    ``phonenumbers`` costs about 10 µs a value, so only the distinct *keys* (see
    :func:`phone_key_sql`) are normalised, and of those only the ones :func:`nanp_sql` cannot
    answer in SQL go through Python: a million call records hold some 150 000 spellings of 60 000
    numbers. The ``unreadable`` flag is likewise worked out once per distinct value, and is the
    one test both the careful parse and the one-pass reader (:mod:`palermo.ingest.scan`) use.
    """
    con.execute(
        f"CREATE TEMP TABLE {name}_keys AS SELECT raw, key, {nanp_sql('key', region)} AS fast "
        f"FROM (SELECT raw, {phone_key_sql('raw')} AS key "
        f"FROM (SELECT DISTINCT raw FROM ({raws_sql}) WHERE raw IS NOT NULL))"
    )
    keys = [r[0] for r in con.execute(f"SELECT DISTINCT key FROM {name}_keys WHERE fast IS NULL").fetchall()]
    mapping = pa.table(
        {
            "key": pa.array(keys, pa.string()),
            "norm": pa.array([normalise_phone(k, region) for k in keys], pa.string()),
        }
    )
    con.register(f"{name}_arrow", mapping)
    con.execute(
        f"CREATE TEMP TABLE {name} AS SELECT raw, norm, {unreadable_sql('raw', 'norm')} AS unreadable "
        f"FROM (SELECT k.raw, coalesce(k.fast, m.norm) AS norm "
        f"FROM {name}_keys k LEFT JOIN {name}_arrow m ON k.fast IS NULL AND m.key = k.key)"
    )
    con.unregister(f"{name}_arrow")
    con.execute(f"DROP TABLE {name}_keys")
    return name


def phone_key_column(f: Field) -> str:
    """The column of a parsed table that holds the raw text a phone field is normalised from."""
    return quote_ident("_key_" + f.target)


def parse(con: Any, spec: TableSpec, staged: Staged, *, defer_phones: bool = False) -> str:
    """Materialise every target value once, with a ``_bad`` flag per line, in a TEMP table.

    Parsing once and reading the result three times (target rows, identifiers, bad lines) is what
    keeps ingest close to a bare ``read_csv``: the casts and phone joins are the expensive part.
    Raw text is copied only for identifier columns (the ``identifiers`` table keeps it).

    With ``defer_phones`` the phone fields are left as raw text in ``_key_<target>`` columns (see
    :func:`phone_key_column`): the single-pass reader in :mod:`palermo.ingest.scan` parses straight
    from ``read_csv`` and can only learn the distinct phones from this table.
    """
    phone_fields = [x for x in spec.fields if x.kind == "phone" and x.source]
    joins, aliases = [], {}
    if not defer_phones:
        phones = phone_map(con, spec, staged, spec.region)
        for i, f in enumerate(phone_fields):
            aliases[f.target] = f"p{i}"
            joins.append(f"LEFT JOIN {phones} p{i} ON p{i}.raw = {raw_sql(f)}")
    values = [
        f"{raw_sql(f)} AS {phone_key_column(f)}"
        if defer_phones and f in phone_fields
        else f"{value_sql(f, aliases.get(f.target))} AS {quote_ident(f.target)}"
        for f in spec.fields
    ]
    idents = {r.column for r in stored_rules(spec)}
    extra = [
        f"s.{quote_ident(f.source)} AS {quote_ident('_raw_' + f.target)}"
        for f in spec.fields
        if f.source and f.target in idents
    ]
    if spec.repeat:
        extra.append(f"{_count(raw_sql(Field('', spec.repeat)))} AS _repeat")
    if spec.extra.get("stmt_key"):
        extra.append(f"s.{quote_ident(spec.extra['stmt_key'])} AS _stmt_key")
    deferred = set(phone_fields) if defer_phones else set()
    conds = [
        cond
        for _, cond, _ in _problems(
            spec,
            lambda f: None if f in deferred else value_sql(f, aliases.get(f.target)),
            lambda f: f"coalesce({aliases[f.target]}.unreadable, FALSE)" if f.target in aliases else None,
        )
    ]
    extra.append(f"({' OR '.join(f'({c})' for c in conds)}) AS _bad" if conds else "FALSE AS _bad")
    parsed = f"{staged.table}_parsed"
    con.execute(
        f"CREATE TEMP TABLE {parsed} AS SELECT s._line, {', '.join(values + extra)} "
        f"FROM {staged.table} s {' '.join(joins)}"
    )
    return parsed


def batches(
    con: Any,
    spec: TableSpec,
    staged: Staged,
    *,
    evidence_id: int,
    file_name: str,
    locator_prefix: str = "line:",
) -> Iterator[Batch | BadRow]:
    """Everything an import of ``staged`` under ``spec`` yields: bad rows, then SQL batches."""
    parsed = parse(con, spec, staged)
    bad_table, bad = find_bad(con, spec, staged, parsed, file_name, locator_prefix)
    yield from bad
    yield from statements(spec, parsed, bad_table, evidence_id=evidence_id, locator_prefix=locator_prefix)


def statements(
    spec: TableSpec, parsed: str, bad_table: str | None, *, evidence_id: int, locator_prefix: str = "line:"
) -> Iterator[Batch]:
    """The SQL batches (target rows, then identifiers) over a parsed table, bad lines left out."""
    targets = [name for name, _ in TABLE_COLUMNS[spec.table]]
    by_target = {f.target: f for f in spec.fields}
    eid = int(evidence_id)
    locator = f"'{locator_prefix}' || p._line"
    stmt = f"'{eid}:{locator_prefix}' || p._line"
    if spec.extra.get("stmt_key"):
        stmt += " || ':col:' || p._stmt_key"
    source = f"{parsed} p"
    if spec.repeat:
        source += " CROSS JOIN LATERAL range(1, coalesce(p._repeat, 1) + 1) AS r(unit)"
        stmt += " || ':' || r.unit"
    where = f"WHERE p._line NOT IN (SELECT _line FROM {bad_table})" if bad_table else ""
    columns = ", ".join(f"p.{quote_ident(t)}" if t in by_target else f"NULL AS {t}" for t in targets)
    yield Batch(
        spec.table,
        ("evidence_id", "locator", "stmt_id", *targets),
        sql=f"SELECT {eid}, {locator}, {stmt}, {columns} FROM {source} {where}",
    )
    # every identifier column of a line from ONE scan of the parsed rows, crossed with the column
    # numbers (a UNION ALL of one SELECT per column reads them, and joins their phones, once per
    # column; a list of structs to unnest costs more than the CASEs)
    picks: list[tuple[str, str, str, str, str]] = []
    for rule in stored_rules(spec):
        fed_by = by_target.get(rule.column)
        if fed_by is None or fed_by.source is None:
            continue
        name = f"p.{quote_ident(rule.name_column)}" if rule.name_column in by_target else "NULL"
        raw = f"p.{quote_ident('_raw_' + rule.column)}"
        picks.append(
            (literal(":" + rule.column), literal(rule.kind), raw, f"p.{quote_ident(rule.column)}", name)
        )
    if picks:

        def pick(part: int) -> str:
            cases = " ".join(f"WHEN {i} THEN {p[part]}" for i, p in enumerate(picks))
            return f"CASE k.i {cases} END"

        numbers = ", ".join(f"({i})" for i in range(len(picks)))
        yield Batch(
            "identifiers",
            ("evidence_id", "locator", "stmt_id", "kind", "raw", "norm", "name"),
            sql=(
                f"SELECT {eid}, {locator}, {stmt} || {pick(0)}, {pick(1)}, nullif(trim({pick(2)}), ''), "
                f"{pick(3)} AS _norm, {pick(4)} FROM {source} CROSS JOIN (VALUES {numbers}) AS k(i) "
                f"{where} {'AND' if where else 'WHERE'} _norm IS NOT NULL"
            ),
        )


__all__ = [
    "batches",
    "find_bad",
    "nanp_sql",
    "parse",
    "phone_key_column",
    "phone_key_sql",
    "phone_map",
    "phone_table",
    "statements",
    "stored_rules",
    "unreadable_sql",
]
