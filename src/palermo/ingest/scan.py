"""The fast path for a clean CSV file: one pass from ``read_csv`` to the parsed table.

Most exhibits have no bad rows, yet the careful path (:func:`~palermo.ingest.staging.stage_csv`
then :func:`~palermo.ingest.tabular.parse`) copies every field into a staging table of text first,
only so that a bad line could be explained. Here the parse runs straight over ``read_csv`` with the
same expressions and the same ``_bad`` flag, and the line numbers come for free from the parsed
table's ``rowid`` (storage order is file order). The result is then checked cheaply:

* a broken record (``store_rejects``), a value flagged ``_bad``, a phone that cannot be read (known
  only once the distinct phones are normalised), or a quoted line break (the file has more newlines
  than records) means the careful path must run to name the lines, so
  :func:`scan_csv` returns ``None`` and the adapter stages the file as before;
* otherwise the phones are normalised from the distinct raw values in the parsed table, and the
  statements are built over a view that joins them back.

Both paths give identical tables on a good file (``tests/ingest/test_ingest_scan.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from palermo.ingest.spec import TableSpec
from palermo.ingest.staging import Staged, count_newlines, csv_source, file_header, quote_ident, unreadable
from palermo.ingest.tabular import parse, phone_key_column, phone_table

#: What an adapter does between reading the header and parsing: check the columns, maybe derive
#: some (a view over the source), and say which spec applies.
Prepare = Callable[[Any, Staged], tuple[TableSpec, Staged]]


def _drop(con: Any, views: tuple[str, ...], tables: tuple[str, ...]) -> None:
    for view in views:
        con.execute(f"DROP VIEW IF EXISTS {view}")
    for table in tables:
        con.execute(f"DROP TABLE IF EXISTS {table}")


def scan_csv(
    con: Any, path: Path, options: dict[str, Any] | Any, prepare: Prepare
) -> tuple[TableSpec, str] | None:
    """Parse a clean CSV file in one pass: the spec and a parsed view with ``_line``, or None.

    None means the file has something only the careful path can explain (see the module
    docstring); everything this function created is dropped again first.
    """
    tag = uuid.uuid4().hex[:12]
    source, rej, rej_scan = f"scan_{tag}", f"rej_{tag}", f"rejscan_{tag}"
    try:
        con.execute(
            f"CREATE TEMP VIEW {source} AS SELECT NULL::BIGINT AS _line, * "
            f"FROM {csv_source(path, options, rej, rej_scan)}"
        )
        columns = tuple(r[0] for r in con.execute(f"DESCRIBE {source}").fetchall())[1:]
    except Exception as exc:  # duckdb raises several error classes for unreadable files
        raise unreadable(path, exc) from exc
    if "_line" in columns:
        _drop(con, (source,), ())
        return None
    spec, staged = prepare(con, Staged(source, columns, 0, file_header(con, path, options, columns)))
    views = (staged.table, source) if staged.table != source else (source,)
    try:
        parsed = parse(con, spec, staged, defer_phones=True)
    except Exception as exc:
        raise unreadable(path, exc) from exc
    rejected = int(con.execute(f"SELECT count(*) FROM {rej}").fetchone()[0])
    _drop(con, (), (rej, rej_scan))
    first, last, records, bad = con.execute(
        f"SELECT min(rowid), max(rowid), count(*), coalesce(bool_or(_bad), FALSE) FROM {parsed}"
    ).fetchone()
    contiguous = not records or int(last) - int(first) + 1 == int(records)
    if rejected or bad or not contiguous or count_newlines(path) > int(records) + 1:
        _drop(con, views, (parsed,))
        return None
    phones = [f for f in spec.fields if f.kind == "phone" and f.source]
    joins, values = [], [f"p.rowid - {int(first or 0)} + 2 AS _line"]
    if phones:
        union = " UNION ".join(f"SELECT {phone_key_column(f)} AS raw FROM {parsed}" for f in phones)
        table = phone_table(con, f"{parsed}_phones", union, spec.region)
        unreadable_phone = con.execute(f"SELECT count(*) FROM {table} WHERE unreadable").fetchone()[0]
        if unreadable_phone:  # a bad row (see tabular.IDENTIFYING): the careful path names its line
            _drop(con, views, (parsed, table))
            return None
        for i, f in enumerate(phones):
            joins.append(f"LEFT JOIN {table} m{i} ON m{i}.raw = p.{phone_key_column(f)}")
            values.append(f"m{i}.norm AS {quote_ident(f.target)}")
    view = f"{parsed}_lines"
    con.execute(
        f"CREATE TEMP VIEW {view} AS SELECT p.* EXCLUDE (_line), {', '.join(values)} "
        f"FROM {parsed} p {' '.join(joins)}"
    )
    return spec, view


__all__ = ["Prepare", "scan_csv"]
