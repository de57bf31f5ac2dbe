"""Loading a CSV file into a DuckDB staging table with the physical line of every record.

Why a staging table of VARCHARs: DuckDB's typed CSV reader either fails on the first bad value or
skips it silently, and neither tells an analyst *which line* of the exhibit is wrong. Reading every
column as text keeps every record, so the parse checks can run as SQL afterwards and name the line.

Line numbers: the staging table keeps file order (DuckDB preserves insertion order), so a record's
``rowid`` (less the first one) is its number; a clean file gets ``_line`` from it through a view at
no cost (a window ``row_number()`` over the scan would double the read). Structurally broken
records (too many or too few columns, bad quoting) are captured with ``store_rejects`` and
reported; the good records after them are shifted so their numbers stay right. Quoted fields that
contain newlines make a record span several physical lines, and DuckDB skips blank lines without a
trace; when the file's newline count shows either happened, every record's first physical line is
read with Python's ``csv`` module (:func:`record_lines`), so ``line:N`` is always the line an editor
shows, for stored rows and bad rows alike.

Header names: DuckDB takes names that differ only in case or surrounding spaces for the same name
(as it binds them in SQL) and renames the later ones (``amount``, ``Amount`` → ``amount``,
``Amount_1``), so an adapter reading ``amount`` would silently get the first of two columns. When the
columns look renamed, :func:`file_header` reads the header line as written, and
:func:`check_unique_header` refuses a file that names a column an adapter reads more than once.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from palermo.errors import ImportDataError
from palermo.ingest.base import BadRow


@dataclass(frozen=True)
class Staged:
    """A staging table (``_line BIGINT`` + one VARCHAR column per source column).

    ``header`` is the header line as written in the file, one name per column, when DuckDB renamed
    some of them (see :func:`file_header`); None when the columns are the names as written.
    """

    table: str
    columns: tuple[str, ...]
    records: int
    header: tuple[str, ...] | None = None


def quote_ident(name: str) -> str:
    """Quote a column name from a file header for use in SQL."""
    return '"' + name.replace('"', '""') + '"'


def count_newlines(path: Path) -> int:
    """The file's physical lines, not counting empty lines at its end.

    Exporters often end a file with a blank line; counting it would make every such file look as if
    its records spanned extra lines, and send it down the slow paths that number them one by one.
    """
    count = 0
    last = b"\n"
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            count += chunk.count(b"\n")
            last = chunk[-1:]
        fh.seek(max(0, fh.tell() - (1 << 16)))
        tail = fh.read()
    body = tail.rstrip(b"\r\n")
    if not body:  # empty, only line breaks, or 64 KiB of them at the end (pathological): count them all
        return count + (0 if last == b"\n" else 1)
    return count - tail[len(body) :].count(b"\n") + 1


def _text(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def csv_source(path: Path, options: Mapping[str, Any] | None, rejects: str, rejects_scan: str) -> str:
    """The ``read_csv(...)`` call every CSV adapter reads with: all text, header, rejects kept.

    Values are inlined as literals (not ``?`` parameters) so the call can also sit in a view.
    ``options`` may give ``delimiter`` and ``encoding``.
    """
    opts = options or {}
    args = [
        _text(path),
        "all_varchar=true",
        "header=true",
        "store_rejects=true",
        f"rejects_table={_text(rejects)}",
        f"rejects_scan={_text(rejects_scan)}",
    ]
    if opts.get("delimiter"):
        args.append(f"delim={_text(opts['delimiter'])}")
    if opts.get("encoding"):
        args.append(f"encoding={_text(opts['encoding'])}")
    return f"read_csv({', '.join(args)})"


#: A name DuckDB may have made up for a repeated one: the repeated name, ``_``, a number.
_RENAMED = re.compile(r"(.+)_[0-9]+", re.DOTALL)


def same_name(name: str) -> str:
    """The form in which DuckDB compares header names: case and surrounding spaces do not count."""
    return name.strip().casefold()


def file_header(
    con: Any, path: Path, options: Mapping[str, Any] | None, columns: Sequence[str]
) -> tuple[str, ...] | None:
    """The header line as written, when DuckDB's ``columns`` look renamed; None otherwise.

    A renamed column is called ``<an earlier column>_<n>``, so a file without such a name costs
    nothing; one with it (a real ``amount_1`` too) is read once more, without a header, by the same
    reader and options, and its first record is the header. None too when that read fails or
    splits the line otherwise (then the duplicates cannot be told, and are not refused).
    """
    seen = {same_name(c) for c in columns}
    if not any((m := _RENAMED.fullmatch(c)) and same_name(m.group(1)) in seen for c in columns):
        return None
    opts = options or {}
    args = [_text(path), "all_varchar=true", "header=false", "ignore_errors=true"]
    if opts.get("delimiter"):
        args.append(f"delim={_text(opts['delimiter'])}")
    if opts.get("encoding"):
        args.append(f"encoding={_text(opts['encoding'])}")
    try:
        row = con.execute(f"SELECT * FROM read_csv({', '.join(args)}) LIMIT 1").fetchone()
    except Exception:  # duckdb raises several error classes; the main read reports unreadable files
        return None
    if row is None or len(row) != len(columns):
        return None
    return tuple("" if v is None else str(v) for v in row)


def check_unique_header(
    header: Sequence[str] | None, columns: Sequence[str], reads: Iterable[str], file_name: str, reader: str
) -> None:
    """Refuse a file whose header names a column ``reads`` more than once (in the way DuckDB compares
    names: see :func:`same_name`), naming the name and the positions of its columns.

    Two ``amount`` columns leave no way to know which holds the amounts; DuckDB would read the
    first and rename the other, and the choice would be made silently for the investigator.
    Repeated names of columns the adapter does not read are tolerated: nothing is read from them.
    A name to read that exists only because DuckDB made it up (``x_1`` for a second ``x``) is
    refused too. ``header`` is the line as written (``columns`` when None); ``reader`` says who
    reads the columns (``the bank_csv layout``).
    """
    names = list(columns if header is None else header)
    for wanted in dict.fromkeys(reads):
        key = same_name(wanted)
        at = [i + 1 for i, name in enumerate(names) if same_name(name) == key]
        if len(at) > 1:
            spelt = ", ".join(f"{i} ({names[i - 1]!r})" for i in at)
            raise ImportDataError(
                f"the header names column {wanted!r} {len(at)} times (columns {spelt}) and {reader} "
                "reads it: which one holds the data cannot be told; rename or remove the others",
                location=f"{file_name}:1",
            )
        made_up = header is not None and not at and wanted in columns
        i = list(columns).index(wanted) if made_up else 0
        if made_up and sum(same_name(n) == same_name(names[i]) for n in names) > 1:
            raise ImportDataError(
                f"the header has no column {wanted!r}: that is the name the CSV reader gave column "
                f"{i + 1}, a repeated {names[i].strip()!r}; rename the repeated columns",
                location=f"{file_name}:1",
            )


def unreadable(path: Path, exc: BaseException) -> ImportDataError:
    """The error for a file DuckDB cannot read as CSV at all (encoding, binary data)."""
    return ImportDataError(f"cannot read as CSV: {str(exc).splitlines()[0]}", location=path.name)


def stage_csv(
    con: Any,
    path: Path,
    *,
    options: Mapping[str, Any] | None = None,
    bad_rows: list[BadRow] | None = None,
) -> Staged:
    """Read ``path`` into a TEMP table of VARCHARs with a ``_line`` column; collect broken records.

    ``options`` may give ``delimiter`` and ``encoding``; the header row is required.
    """
    tag = uuid.uuid4().hex[:12]
    table, rej, scan = f"stg_{tag}", f"rej_{tag}", f"rejscan_{tag}"
    raw = f"{table}_raw"
    try:
        con.execute(f"CREATE TEMP TABLE {raw} AS SELECT * FROM {csv_source(path, options, rej, scan)}")
    except Exception as exc:  # duckdb raises several error classes for unreadable files
        raise unreadable(path, exc) from exc
    columns = tuple(r[0] for r in con.execute(f"DESCRIBE {raw}").fetchall())
    header = file_header(con, path, options, columns)
    rejects = con.execute(
        f"SELECT line, coalesce(column_name, '(record)'), error_type, error_message FROM {rej} ORDER BY line"
    ).fetchall()
    con.execute(f"DROP TABLE IF EXISTS {rej}")
    con.execute(f"DROP TABLE IF EXISTS {scan}")
    has_rowid = "rowid" in {c.lower() for c in columns}
    first, last, count = con.execute(f"SELECT min(rowid), max(rowid), count(*) FROM {raw}").fetchone()
    records = int(count)
    # rowids are storage positions, so in file order; inside a transaction they start at an offset
    number = f"rowid - {int(first)} + 2" if records and not has_rowid else "row_number() OVER () + 1"
    if records and int(last) - int(first) + 1 != records:
        number = "row_number() OVER () + 1"
    embedded = bool(columns) and count_newlines(path) > records + len({r[0] for r in rejects}) + 1
    if not rejects and not embedded and "_line" not in columns and number.startswith("rowid"):
        # the common case: no copy at all, record k (from 0) is on line k + 2
        con.execute(f"CREATE TEMP VIEW {table} AS SELECT {number} AS _line, * FROM {raw}")
        return Staged(table, columns, records, header)
    con.execute(f"CREATE TEMP TABLE {table} AS SELECT {number} AS _line, * FROM {raw}")
    con.execute(f"DROP TABLE {raw}")
    # _line is the record number (header = 1); shift the good records past the rejected ones
    if rejects:
        con.execute(f"CREATE TEMP TABLE {rej} (slot BIGINT)")
        lines = sorted({int(r[0]) for r in rejects})
        con.executemany(f"INSERT INTO {rej} VALUES (?)", [[line - i] for i, line in enumerate(lines)])
        con.execute(
            f"UPDATE {table} SET _line = _line + (SELECT count(*) FROM {rej} WHERE slot <= {table}._line)"
        )
        con.execute(f"DROP TABLE {rej}")
        if bad_rows is not None:
            seen: set[int] = set()
            for line, _column, kind, message in rejects:
                if int(line) in seen:
                    continue  # one broken record gives one error per missing column: report it once
                seen.add(int(line))
                problem = f"{str(kind).lower()}: {str(message).splitlines()[0]}"
                bad_rows.append(BadRow(path.name, int(line), "(record)", problem, f"line:{line}"))
    if embedded:
        found = record_lines(path, options, columns)
        if found is not None and len(found[0]) == records and len(found[1]) == len(seen_lines(rejects)):
            _renumber(con, table, found[0])
            if bad_rows is not None and rejects:
                _renumber_rejects(bad_rows, path.name, sorted(seen_lines(rejects)), found[1])
        else:  # Python read the records otherwise than DuckDB: correct for quoted newlines only
            _add_embedded_newlines(con, table, columns)
    return Staged(table, columns, records, header)


def seen_lines(rejects: list[tuple[Any, ...]]) -> set[int]:
    """The distinct lines DuckDB rejected (a record missing two columns gives two rejects)."""
    return {int(r[0]) for r in rejects}


def record_lines(
    path: Path, options: Mapping[str, Any] | None, columns: tuple[str, ...]
) -> tuple[list[int], list[int]] | None:
    """The first physical line of every good record and of every broken one (wrong number of
    fields), read with Python's ``csv`` module, or None when it cannot tell.

    DuckDB skips blank lines without a trace, and its rejects count lines differently around them,
    so once a file's newline count does not match its records only a reader that keeps count of
    physical lines can say where each record starts. The delimiter is the one that splits the
    header into the columns DuckDB found.
    """
    opts = options or {}
    encoding = str(opts.get("encoding") or "utf-8-sig")
    good: list[int] = []
    broken: list[int] = []
    try:
        with path.open(encoding=encoding, errors="replace", newline="") as fh:
            head = fh.read(1 << 16)
            given = opts.get("delimiter")
            candidates = [str(given).replace("\\t", "\t")] if given else [",", ";", "\t", "|"]
            delimiter = next(
                (
                    d
                    for d in candidates
                    if len(d) == 1
                    and len(next(csv.reader(io.StringIO(head), delimiter=d), [])) == len(columns)
                ),
                None,
            )
            if delimiter is None:  # a delimiter of several characters, or a header csv reads otherwise
                return None
            fh.seek(0)
            reader = csv.reader(fh, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
            next(reader, None)  # the header, however many lines it spans
            start = reader.line_num + 1
            for row in reader:
                if row:  # a blank line is no record, for DuckDB as for csv
                    (good if len(row) == len(columns) else broken).append(start)
                start = reader.line_num + 1
    except (OSError, LookupError, csv.Error, TypeError, ValueError):
        return None
    return good, broken


def _renumber(con: Any, table: str, lines: list[int]) -> None:
    """Give the k-th record of ``table`` (in file order) the physical line ``lines[k]``."""
    import pyarrow as pa

    name = f"{table}_lines"
    con.register(
        name, pa.table({"k": pa.array(range(len(lines)), pa.int64()), "line": pa.array(lines, pa.int64())})
    )
    try:
        con.execute(
            f"CREATE TEMP TABLE {table}_renumbered AS SELECT m.line AS _line, t.* EXCLUDE (_line) "
            f"FROM (SELECT row_number() OVER (ORDER BY _line) - 1 AS _k, * FROM {table}) t "
            f"JOIN {name} m ON m.k = t._k"
        )
    finally:
        con.unregister(name)
    con.execute(f"DELETE FROM {table}")
    con.execute(f"INSERT INTO {table} SELECT * EXCLUDE (_k) FROM {table}_renumbered ORDER BY _line")
    con.execute(f"DROP TABLE {table}_renumbered")


def _renumber_rejects(bad_rows: list[BadRow], file_name: str, duck: list[int], physical: list[int]) -> None:
    """Replace the lines DuckDB gave its rejects by their physical lines (both in file order)."""
    moved = dict(zip(duck, physical, strict=True))
    for i, bad in enumerate(bad_rows):
        if bad.file == file_name and bad.line in moved and bad.locator == f"line:{bad.line}":
            line = moved[bad.line]
            bad_rows[i] = BadRow(bad.file, line, bad.field, bad.problem, f"line:{line}")


def _add_embedded_newlines(con: Any, table: str, columns: tuple[str, ...]) -> None:
    """Shift line numbers past records whose quoted fields contain line breaks."""
    newlines = " + ".join(
        f"coalesce(length({quote_ident(c)}) - length(replace({quote_ident(c)}, chr(10), '')), 0)"
        for c in columns
    )
    con.execute(
        f"UPDATE {table} AS t SET _line = t._line + s.extra FROM ("
        f"SELECT _line, coalesce(sum({newlines}) OVER (ORDER BY _line ROWS BETWEEN UNBOUNDED PRECEDING "
        f"AND 1 PRECEDING), 0) AS extra FROM {table}) AS s WHERE s._line = t._line AND s.extra > 0"
    )


def drop(con: Any, *tables: str) -> None:
    """Drop staging tables once their batches have been inserted."""
    for t in tables:
        con.execute(f"DROP TABLE IF EXISTS {t}")


def iter_bad(bad: list[BadRow]) -> Iterator[BadRow]:
    """Yield collected bad rows in file order."""
    yield from sorted(bad, key=lambda b: (b.line or 0, b.field))


__all__ = [
    "Staged",
    "check_unique_header",
    "count_newlines",
    "csv_source",
    "drop",
    "file_header",
    "iter_bad",
    "quote_ident",
    "same_name",
    "stage_csv",
    "unreadable",
]
