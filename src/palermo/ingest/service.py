"""Running an adapter over one evidence file: atomic, idempotent, and honest about bad rows.

* **Atomic**: everything an import writes happens in one DuckDB transaction, so a failure (or a
  kill) mid-import leaves the tables exactly as before; there is never a half-imported exhibit.
* **Idempotent**: the ``imports`` table remembers (case, evidence item, adapter) and the file's
  SHA-256; importing the same thing again adds nothing and says so.
* **Bad rows**: by default one unreadable row fails the whole import with ``file:line: field:
  problem`` for the first 20, because silently dropping rows from an exhibit is how evidence gets
  challenged. With ``skip_bad_rows`` the good rows are kept and the bad ones are listed in the report.
* **Undoable**: every row carries the id of the import that wrote it, so :func:`forget` removes one
  import (its rows and its record, in one transaction) and the exhibit can be read again, with
  another adapter or other options; idempotency would otherwise block the correction for good.

This module works on a bare DuckDB connection and a file path, without the case store, so it can
be tested and benchmarked alone; ``palermo.analytics.service.Analytics`` adds the evidence lookup.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from palermo.errors import ImportDataError, InputError, IntegrityError, NotFoundError
from palermo.ingest.base import Adapter, BadRow, Batch, Dropped, check_options, get_adapter
from palermo.ingest.schema import EVIDENCE_TABLES, IMPORT_COLUMN, create_schema

#: How many bad rows an error message lists before it only gives the count.
MAX_LISTED = 20
#: How many bad rows a report keeps when they are skipped (the count is always exact).
MAX_KEPT = 1000

Progress = Callable[[str, int], None]


@dataclass
class ImportReport:
    """What one ``ingest`` call did."""

    case_ref: str
    evidence_id: int
    adapter: str
    file: str
    sha256: str
    status: str  # imported | partial (bad rows skipped) | already_imported
    rows_ok: int = 0
    rows_bad: int = 0
    import_id: int | None = None
    tables: dict[str, int] = field(default_factory=dict)
    bad_rows: list[str] = field(default_factory=list)
    #: values the source format's cleaning dropped from rows that were kept (field → count; see
    #: :class:`~palermo.ingest.base.Dropped`), never the values themselves
    dropped: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ImportRecord:
    """One row of the ``imports`` table."""

    import_id: int
    case_ref: str
    evidence_id: int
    adapter: str
    sha256: str
    options: dict[str, Any]
    rows_ok: int
    rows_bad: int
    status: str
    started_at: datetime
    finished_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, streamed (evidence files can be gigabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _previous(con: Any, case_ref: str, evidence_id: int, adapter: str, sha: str) -> tuple[int, str] | None:
    row = con.execute(
        "SELECT import_id, status FROM imports WHERE case_ref = ? AND adapter = ? "
        "AND (evidence_id = ? OR sha256 = ?) "
        "ORDER BY import_id LIMIT 1",
        [case_ref, adapter, evidence_id, sha],
    ).fetchone()
    return (int(row[0]), str(row[1])) if row else None


def _insert(con: Any, case_ref: str, import_id: int, batch: Batch) -> int:
    if batch.table not in EVIDENCE_TABLES:
        raise ImportDataError(f"adapter wrote to unknown table {batch.table!r}", location="adapter")
    if IMPORT_COLUMN in batch.columns:
        raise ImportDataError(f"adapter wrote the service's own column {IMPORT_COLUMN!r}", location="adapter")
    cols = ", ".join(batch.columns)
    into = f"INSERT INTO {batch.table} (case_ref, {IMPORT_COLUMN}, {cols})"
    if batch.sql is not None:
        return int(
            con.execute(f"{into} SELECT ?, ?, * FROM ({batch.sql})", [case_ref, import_id]).fetchone()[0]
        )
    if not batch.rows:
        return 0
    arrays = {c: pa.array([r[i] for r in batch.rows]) for i, c in enumerate(batch.columns)}
    view = f"batch_{id(batch)}"
    con.register(view, pa.table(arrays))
    try:
        return int(
            con.execute(f"{into} SELECT ?, ?, {cols} FROM {view}", [case_ref, import_id]).fetchone()[0]
        )
    finally:
        con.unregister(view)


def _temporaries(con: Any) -> set[tuple[str, str]]:
    tables = con.execute("SELECT 'TABLE', table_name FROM duckdb_tables() WHERE temporary").fetchall()
    views = con.execute(
        "SELECT 'VIEW', view_name FROM duckdb_views() WHERE temporary AND NOT internal"
    ).fetchall()
    return {(str(k), str(n)) for k, n in [*tables, *views]}


def _drop_new(con: Any, before: set[tuple[str, str]]) -> None:
    """Drop the staging tables and views an import created (the connection may live on)."""
    for kind, name in sorted(_temporaries(con) - before, key=lambda t: t[0] != "VIEW"):
        con.execute(f'DROP {kind} IF EXISTS temp.main."{name}"')


def _error(file: str, bad: list[BadRow]) -> ImportDataError:
    listed = "\n".join(f"  {b}" for b in bad[:MAX_LISTED])
    more = f"\n  … and {len(bad) - MAX_LISTED} more" if len(bad) > MAX_LISTED else ""
    lines = len({b.locator or str(b.line) for b in bad})
    return ImportDataError(
        f"{lines} bad row(s), nothing imported (use --skip-bad-rows to keep the good rows):\n{listed}{more}",
        location=file,
    )


def ingest(
    con_or_path: Any,
    case_ref: str,
    evidence_id: int,
    file_path: Path | str,
    adapter: str | Adapter,
    options: Mapping[str, Any] | None = None,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
    display_name: str | None = None,
    *,
    expected_sha256: str | None = None,
) -> ImportReport:
    """Import ``file_path`` (evidence item ``evidence_id`` of ``case_ref``) through ``adapter``.

    ``display_name`` is the name people know the file by (the original filename of an exhibit
    whose stored copy is named by its hash); messages and the report use it.
    ``expected_sha256`` is the exhibit's SHA-256 recorded at acquisition: when given, a file that
    no longer hashes to it raises :class:`IntegrityError` before anything is read or stored, so
    statements never come from an original altered after it was acquired (EV-02).
    """
    path = Path(file_path)
    shown = display_name or path.name
    if not path.is_file():
        raise NotFoundError(f"no such file: {path}", location="file")
    opts = dict(options or {})
    impl = get_adapter(adapter) if isinstance(adapter, str) else adapter
    check_options(impl, opts)  # before the import is looked up: a typo must not pass as "already imported"
    own = isinstance(con_or_path, (str, Path))
    con: Any = duckdb.connect(str(con_or_path)) if own else con_or_path
    try:
        create_schema(con)
        con.execute("SET enable_progress_bar = false")  # DuckDB's own bar would corrupt --json output
        sha = file_sha256(path)
        if expected_sha256 is not None and sha != expected_sha256.lower():
            raise IntegrityError(
                f"exhibit {evidence_id} ({shown}) hashes to {sha}, but its recorded SHA-256 is "
                f"{expected_sha256}; the original changed after acquisition, nothing imported"
            )
        # a mapping is part of the adapter's identity: one file may be read through two mappings
        key = f"{impl.name}:{Path(str(opts['mapping'])).stem}" if opts.get("mapping") else impl.name
        report = ImportReport(case_ref, int(evidence_id), key, shown, sha, "imported")
        previous = _previous(con, case_ref, int(evidence_id), key, sha)
        if previous is not None:
            report.status, report.import_id = "already_imported", previous[0]
            return report
        before = _temporaries(con)
        started = datetime.now()
        restore = _insertion_order_kept(con)
        con.execute("BEGIN TRANSACTION")
        try:
            # the id is taken first: every row written carries it (``forget`` removes exactly these)
            import_id = int(con.execute("SELECT nextval('imports_seq')").fetchone()[0])
            _consume(con, impl, path, report, opts, skip_bad_rows, progress, import_id)
            report.import_id = int(
                con.execute(
                    "INSERT INTO imports (import_id, case_ref, evidence_id, adapter, sha256, options_json, "
                    "rows_ok, rows_bad, status, started_at, finished_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING import_id",
                    [
                        import_id,
                        case_ref,
                        int(evidence_id),
                        key,
                        sha,
                        json.dumps(opts, default=str, sort_keys=True),
                        report.rows_ok,
                        report.rows_bad,
                        report.status,
                        started,
                        datetime.now(),
                    ],
                ).fetchone()[0]
            )
            con.execute("COMMIT")
        except ImportDataError as exc:
            con.execute("ROLLBACK")
            where = exc.location or ""
            if where.startswith(path.name):
                raise ImportDataError(exc.message, location=shown + where[len(path.name) :]) from exc
            raise
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            # after COMMIT or ROLLBACK: inside a transaction DuckDB has aborted (a file it could not
            # read) the statement would fail and hide the real error behind a TransactionException
            con.execute(restore)
            _drop_new(con, before)
        return report
    finally:
        if own:
            con.close()


def _insertion_order_kept(con: Any) -> str:
    """Keep file order for this connection's session; return the statement that puts it back.

    Line numbers come from the order DuckDB stores rows in (``rowid``), which is file order only
    while ``preserve_insertion_order`` is on. It is turned on for this connection's session only
    (a plain ``SET`` would change it for the whole database, under another import running beside
    this one) and put back as it was: the session's own value, or the database's again.
    """
    row = con.execute(
        "SELECT value, scope FROM duckdb_settings() WHERE name = 'preserve_insertion_order'"
    ).fetchone()
    own = row is not None and str(row[1]).upper() == "LOCAL"
    back = (
        f"SET SESSION preserve_insertion_order = {str(row[0]).lower() == 'true'}"
        if own and row is not None
        else "RESET SESSION preserve_insertion_order"
    )
    con.execute("SET SESSION preserve_insertion_order = true")
    return back


def _consume(
    con: Any,
    impl: Adapter,
    path: Path,
    report: ImportReport,
    opts: dict[str, Any],
    skip_bad_rows: bool,
    progress: Progress | None,
    import_id: int,
) -> None:
    """Consume the adapter inside the open transaction, filling ``report``."""
    bad: list[BadRow] = []
    stage = getattr(impl, "stage", None)
    items = (
        stage(con, path, evidence_id=report.evidence_id, options=opts)
        if callable(stage)
        else impl.read(path, evidence_id=report.evidence_id, options=opts)
    )
    for item in items:
        if isinstance(item, BadRow):
            bad.append(replace(item, file=report.file) if item.file == path.name else item)
            continue
        if isinstance(item, Dropped):
            report.dropped[item.field] = report.dropped.get(item.field, 0) + item.count
            continue
        if bad and not skip_bad_rows:
            continue  # the import will fail: skip the work, keep collecting bad rows
        added = _insert(con, report.case_ref, import_id, item)
        report.tables[item.table] = report.tables.get(item.table, 0) + added
        if item.table != "identifiers":
            report.rows_ok += added
        if progress is not None:
            progress(item.table, added)
    bad.sort(key=lambda b: b.line or 0)
    if bad and not skip_bad_rows:
        raise _error(report.file, bad)
    report.rows_bad = len({b.locator or str(b.line) for b in bad})
    report.bad_rows = [str(b) for b in bad[:MAX_KEPT]]
    if bad:
        report.status = "partial"


@dataclass
class ForgetReport:
    """What one ``forget`` call removed: rows per table (never their values) and the import record."""

    case_ref: str
    import_id: int
    evidence_id: int
    adapter: str
    options: dict[str, Any]
    rows_removed: int = 0
    tables: dict[str, int] = field(default_factory=dict)
    #: rows of the case's analysis results cleared with it, per table (filled by the analytics layer)
    analysis_cleared: dict[str, int] = field(default_factory=dict)
    #: the exhibit's other imports, forgotten with it (``whole_exhibit``)
    also_forgotten: list[int] = field(default_factory=list)
    #: leads withdrawn (all their support was forgotten) and accepted leads flagged for review
    #: (filled by the analytics layer, which writes them to the case store)
    leads_withdrawn: list[int] = field(default_factory=list)
    leads_flagged: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Entered inside ``forget``'s transaction once the rows are gone, exited around its COMMIT.
Finish = Callable[[Any, ForgetReport], AbstractContextManager[object]]


def forget(
    con: Any, case_ref: str, import_id: int, *, finish: Finish | None = None, whole_exhibit: bool = False
) -> ForgetReport:
    """Remove every row import ``import_id`` of ``case_ref`` wrote, and its import record: the undo of
    :func:`ingest`, so an exhibit read with the wrong adapter, mapping or options can be read again.

    All or nothing, in one DuckDB transaction: a failure anywhere leaves every table as it was. Rows
    are found by the import id each carries, so another import of the same exhibit (another
    mapping of the same file) keeps its rows. ``finish(con, report)`` is entered inside the
    transaction after the deletes and exited around the COMMIT: the analytics layer clears the
    case's analysis there (same transaction) and writes its audit record in a case-store
    transaction that commits only if DuckDB's did. An unknown import id, or one of another case,
    is a :class:`NotFoundError`.

    ``whole_exhibit`` forgets every import of the import's exhibit and every row of that exhibit in
    the case, whichever import wrote it: the way out for an exhibit read by several imports before
    rows carried their import, whose rows nothing can attribute (without it, such a forget is
    refused and the message names this option).
    """
    create_schema(con)
    record = _record_of(con, case_ref, int(import_id))
    report = ForgetReport(case_ref, record.import_id, record.evidence_id, record.adapter, record.options)
    con.execute("BEGIN TRANSACTION")
    try:
        if whole_exhibit:
            where, params = "case_ref = ? AND evidence_id = ?", [case_ref, record.evidence_id]
            report.also_forgotten = [i for i in _imports_of(con, record) if i != record.import_id]
        else:
            where, params = _rows_of(con, record), [case_ref, record.import_id, record.evidence_id]
        for table in EVIDENCE_TABLES:
            removed = int(con.execute(f"DELETE FROM {table} WHERE {where}", params).fetchone()[0])
            if removed:
                report.tables[table] = removed
                if table != "identifiers":
                    report.rows_removed += removed
        for forgotten in (record.import_id, *report.also_forgotten):
            con.execute("DELETE FROM imports WHERE import_id = ?", [forgotten])
        with finish(con, report) if finish is not None else nullcontext():
            con.execute("COMMIT")
    except BaseException:
        _rollback(con)
        raise
    return report


def _record_of(con: Any, case_ref: str, import_id: int) -> ImportRecord:
    """The import record, checked to belong to ``case_ref``."""
    row = con.execute("SELECT case_ref FROM imports WHERE import_id = ?", [import_id]).fetchone()
    if row is None:
        raise NotFoundError(
            f"no import {import_id} in case {case_ref} (see `palermo ingest imports {case_ref}`)",
            location="import_id",
        )
    if str(row[0]) != case_ref:
        raise NotFoundError(
            f"import {import_id} belongs to case {row[0]}, not to {case_ref}", location="import_id"
        )
    return next(r for r in list_imports(con, case_ref) if r.import_id == import_id)


def _rows_of(con: Any, record: ImportRecord) -> str:
    """The ``WHERE`` clause (parameters: case, import id, evidence id) selecting the import's rows.

    Rows written before rows carried their import (``import_id`` NULL, see
    ``palermo.ingest.schema``) belong to it only if it is the one import of its exhibit; when the
    exhibit has others too, nothing tells whose those rows are, and guessing would delete another
    import's statements or leave stale ones behind, so this refuses.
    """
    params = [record.case_ref, record.evidence_id]
    unattributed = sum(
        int(
            con.execute(
                f"SELECT count(*) FROM {table} WHERE case_ref = ? AND evidence_id = ? "
                f"AND {IMPORT_COLUMN} IS NULL",
                params,
            ).fetchone()[0]
        )
        for table in EVIDENCE_TABLES
    )
    mine = f"case_ref = ? AND {IMPORT_COLUMN} = ?"
    if not unattributed:
        return f"{mine} AND evidence_id = ?"
    others = [i for i in _imports_of(con, record) if i != record.import_id]
    if others:
        every = ", ".join(map(str, sorted([record.import_id, *others])))
        raise InputError(
            f"evidence {record.evidence_id} has {unattributed} row(s) imported before Palermo recorded "
            f"which import wrote each row, and import(s) {', '.join(map(str, others))} read it too: "
            f"import {record.import_id}'s rows cannot be told apart from theirs, nothing forgotten. "
            f"To forget imports {every} and every row of evidence {record.evidence_id} at once, run "
            f"`palermo ingest forget {record.case_ref} {record.import_id} --whole-exhibit`, then import "
            "the exhibit again",
            location="import_id",
        )
    return f"case_ref = ? AND ({IMPORT_COLUMN} = ? OR ({IMPORT_COLUMN} IS NULL AND evidence_id = ?))"


def _imports_of(con: Any, record: ImportRecord) -> list[int]:
    """Every import of the record's exhibit in its case (the record's own included), oldest first."""
    rows = con.execute(
        "SELECT import_id FROM imports WHERE case_ref = ? AND evidence_id = ? ORDER BY import_id",
        [record.case_ref, record.evidence_id],
    ).fetchall()
    return [int(r[0]) for r in rows]


def _rollback(con: Any) -> None:
    """Roll back, unless DuckDB already has (a COMMIT that failed ends the transaction itself)."""
    with suppress(duckdb.TransactionException):
        con.execute("ROLLBACK")


def list_imports(con: Any, case_ref: str) -> list[ImportRecord]:
    """The imports recorded for a case, oldest first."""
    create_schema(con)
    rows = con.execute(
        "SELECT import_id, case_ref, evidence_id, adapter, sha256, options_json, rows_ok, rows_bad, status, "
        "started_at, finished_at FROM imports WHERE case_ref = ? ORDER BY import_id",
        [case_ref],
    ).fetchall()
    return [ImportRecord(r[0], r[1], r[2], r[3], r[4], json.loads(r[5] or "{}"), *r[6:]) for r in rows]


__all__ = ["ForgetReport", "ImportRecord", "ImportReport", "file_sha256", "forget", "ingest", "list_imports"]
