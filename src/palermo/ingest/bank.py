"""Bank statements (CSV and XLSX) as directed payments.

A statement row is written from the account holder's side: ``debit`` means money left
``account_iban``, ``credit`` that it arrived there. The analysis wants money *flows*, so each row
becomes a payment from payer to payee: debit → from the holder to the counterparty, credit → from
the counterparty to the holder. Amounts are stored positive because the direction already carries
the sign (banks disagree on whether debits are negative). Many banks export no debit/credit column
at all, only a signed amount: with ``signed_amounts`` the sign is the direction (see :func:`layout_for`).

With a direction column a negative amount is read against it (:data:`CONTRADICTION`): ``-50`` on a
``debit`` row is the usual way of writing the same outgoing payment and is stored as 50, but ``-50``
on a ``credit`` row says the money went both ways at once (a reversal, a refund, a mis-export).
Dropping the sign would store it as 50 arriving, the opposite of what the statement may mean, so
the line is a bad row naming ``amount``: the import fails, or skips it with ``--skip-bad-rows``.

Card and cash rows have no counterparty IBAN; the merchant name (``HOTEL …``, ``ESCORTADS…``) is
kept as the counterparty name, which is what the money indicators look at.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, ClassVar

from palermo.errors import ImportDataError
from palermo.ingest.base import CSV_OPTIONS, BadRow, Batch, Dropped, read_through_stage
from palermo.ingest.scan import scan_csv
from palermo.ingest.spec import Field, TableSpec
from palermo.ingest.staging import Staged, check_unique_header, same_name, stage_csv
from palermo.ingest.tabular import batches, statements

COLUMNS = (
    "date",
    "time",
    "account_iban",
    "account_holder",
    "counterparty_iban",
    "counterparty_name",
    "amount",
    "currency",
    "direction",
    "channel",
    "description",
    "city",
    "balance",
)
REQUIRED = ("date", "account_iban", "amount", "direction")
_YES, _NO = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")
DECIMAL_COMMA = {"decimal_comma": "true: amounts are written 1.234,56 (default false: 1,234.56)"}
SIGNED_AMOUNTS = {
    "signed_amounts": "true: the amount's sign gives the direction (negative: money left the account) "
    "and the statement has no direction column (default false: the direction column does)"
}
#: Why ``--region`` is refused: it would do nothing, and an option that does nothing hides a mistake.
NO_PHONES = {"region": "is not used: a bank statement holds no phone numbers"}

SPEC = TableSpec(
    table="payments",
    fields=(
        Field("ts", "date", "timestamp", required=True),
        Field("from_account", "_from_account", "account"),
        Field("from_name", "_from_name"),
        Field("to_account", "_to_account", "account"),
        Field("to_name", "_to_name"),
        Field("amount", "amount", "decimal", required=True, absolute=True),
        Field("currency", "currency", "upper"),
        Field("channel", "channel", "lower"),
        Field("description", "description"),
        Field("city", "city"),
        Field("_direction", "direction", required=True, choices=("debit", "credit")),
        Field("_account", "account_iban", required=True),
    ),
)

#: Derived columns: the payer/payee sides chosen by direction, and date + time as one timestamp.
_DIRECTED = """
CREATE TEMP VIEW {view} AS SELECT * REPLACE (
    trim(date) || CASE WHEN nullif(trim(time), '') IS NULL THEN '' ELSE ' ' || trim(time) END AS date),
  {direction} AS _direction_read,
  CASE WHEN {direction} = 'debit' THEN account_iban ELSE counterparty_iban END AS _from_account,
  CASE WHEN {direction} = 'debit' THEN account_holder ELSE counterparty_name END AS _from_name,
  CASE WHEN {direction} = 'debit' THEN counterparty_iban ELSE account_iban END AS _to_account,
  CASE WHEN {direction} = 'debit' THEN counterparty_name ELSE account_holder END AS _to_name
FROM {table}
"""
#: A negative amount on a ``credit`` row: which way the money went cannot be told (module docstring).
#: ``-0`` or ``-0.00`` is no money either way, so no contradiction. The amount is not repeated: a
#: misplaced column may put a phone number (``-`` and digits) here.
CONTRADICTION = (
    "amount",
    "ltrim(s.amount) LIKE '-%' AND regexp_matches(s.amount, '[1-9]') AND s._direction_read = 'credit'",
    "'negative amount on a credit row: the sign says the money left the account, the direction says "
    "it arrived (a negative amount is accepted only with debit)'",
)
#: Where the direction comes from: the ``direction`` column, or (``signed_amounts``) the amount's sign.
_DIRECTION = {
    False: "lower(trim(direction))",
    True: "CASE WHEN ltrim(amount) LIKE '-%' THEN 'debit' "
    "WHEN nullif(trim(amount), '') IS NOT NULL THEN 'credit' END",
}


@dataclass(frozen=True)
class Layout:
    """How one statement is read: its spec, and the two conventions the options choose."""

    spec: TableSpec
    decimal_comma: bool = False
    signed_amounts: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns the statement must have (no ``direction`` when the sign gives it)."""
        return tuple(c for c in COLUMNS if not (self.signed_amounts and c == "direction"))


#: The layout with no options: amounts as ``1,234.56``, direction from its column.
LAYOUT = Layout(replace(SPEC, checks=(CONTRADICTION,)))


def check_header(
    columns: tuple[str, ...],
    file_name: str,
    header: tuple[str, ...] | None = None,
    layout: Layout | None = None,
) -> None:
    """Refuse a file that names a statement column twice or lacks one, naming the columns.

    ``header`` is the header as written when DuckDB renamed repeated names (``Staged.header``).
    """
    wanted = (layout or LAYOUT).columns
    check_unique_header(header, columns, wanted, file_name, "the bank statement layout")
    if layout is not None and layout.signed_amounts and any(same_name(c) == "direction" for c in columns):
        raise ImportDataError(
            "the statement has a direction column, and signed_amounts=true reads the direction from the "
            "amount's sign: use one or the other (leave signed_amounts out to read the column)",
            location=f"{file_name}:1",
        )
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise ImportDataError(
            f"not a bank statement in the bank_csv layout: missing column(s) {', '.join(missing)} "
            "(use --mapping for other layouts)",
            location=f"{file_name}:1",
        )


def directed(con: Any, staged: Staged, file_name: str, layout: Layout | None = None) -> Staged:
    """Check the header and add the payer/payee columns (a view over ``staged``)."""
    layout = layout or LAYOUT
    check_header(staged.columns, file_name, staged.header, layout)
    view = f"{staged.table}_directed"
    con.execute(_DIRECTED.format(view=view, table=staged.table, direction=_DIRECTION[layout.signed_amounts]))
    return Staged(view, staged.columns, staged.records)


def _flag(options: Mapping[str, Any], key: str) -> bool:
    """A yes/no option. A value that is neither (``decimal_comma=ture``) is refused rather than taken
    for no: the amounts would then be read in the other convention, or rejected, without a word why."""
    value = str(options.get(key, "")).strip().lower()
    if value not in _YES + _NO:
        raise ImportDataError(f"{key} must be true or false, not {options[key]!r}", location=f"option {key}")
    return value in _YES


def layout_for(options: Mapping[str, Any]) -> Layout:
    """The statement layout the options describe: amounts read as ``1.234,56`` with ``decimal_comma``;
    the direction read from the amount's sign with ``signed_amounts`` (negative: the money left the
    account, a debit; positive or zero: it arrived, a credit), for the many banks whose exports have a
    signed amount and no debit/credit column. Amounts are stored positive either way; with the
    direction column a negative amount must agree with it (debit), see :data:`CONTRADICTION`."""
    comma, signed = _flag(options, "decimal_comma"), _flag(options, "signed_amounts")
    fields = tuple(
        replace(f, decimal_comma=True) if comma and f.kind == "decimal" else f for f in SPEC.fields
    )
    if signed:  # the direction read from the sign; a blank amount is a bad row already, named as such
        fields = tuple(
            replace(f, source="_direction_read", required=False) if f.target == "_direction" else f
            for f in fields
        )
    checks = () if signed else (CONTRADICTION,)
    return Layout(replace(SPEC, fields=fields, checks=checks), comma, signed)


def spec_for(options: Mapping[str, Any]) -> TableSpec:
    """The statement's spec (see :func:`layout_for`)."""
    return layout_for(options).spec


def payments_from_staging(
    con: Any,
    staged: Staged,
    *,
    evidence_id: int,
    file_name: str,
    locator_prefix: str = "line:",
    layout: Layout | None = None,
) -> Iterator[Batch | BadRow]:
    """Payments (and account identifiers) from a staged statement, bad rows first."""
    layout = layout or LAYOUT
    yield from batches(
        con,
        layout.spec,
        directed(con, staged, file_name, layout),
        evidence_id=evidence_id,
        file_name=file_name,
        locator_prefix=locator_prefix,
    )


class BankCsvAdapter:
    """Bank statement CSV in the Palermo layout (see the analytics contract)."""

    name = "bank_csv"
    description = "Bank statement CSV: date,time,account_iban,…,direction (debit/credit) → payments"
    accepts: ClassVar[Mapping[str, str]] = {**CSV_OPTIONS, **DECIMAL_COMMA, **SIGNED_AMOUNTS}
    hints: ClassVar[Mapping[str, str]] = NO_PHONES

    def __init__(self, fast: bool = True) -> None:
        #: Try the one-pass reader first (see ``palermo.ingest.scan``); False forces the careful path.
        self.fast = fast

    def stage(
        self, con: Any, path: Path, *, evidence_id: int, options: Mapping[str, Any]
    ) -> Iterator[Batch | BadRow]:
        layout = layout_for(options)
        if self.fast:
            done = scan_csv(con, path, options, lambda c, s: (layout.spec, directed(c, s, path.name, layout)))
            if done is not None:
                yield from statements(done[0], done[1], None, evidence_id=evidence_id)
                return
        bad: list[BadRow] = []
        staged = stage_csv(con, path, options=options, bad_rows=bad)
        yield from bad
        yield from payments_from_staging(
            con, staged, evidence_id=evidence_id, file_name=path.name, layout=layout
        )

    def read(
        self, path: Path, *, evidence_id: int, options: Mapping[str, Any]
    ) -> Iterator[Batch | BadRow | Dropped]:
        return read_through_stage(self, path, evidence_id=evidence_id, options=options)


def _cell(value: Any, decimal_comma: bool = False) -> str | None:
    """An Excel cell as the text a CSV export would have held.

    A number cell is unambiguous, so it is written in the convention the amounts are read in
    (``12,5`` with ``decimal_comma``): ``12.345`` must not become twelve thousand.
    """
    if value is None:
        return None
    if isinstance(value, datetime):  # Excel stores dates as datetimes at midnight
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):  # 15 significant digits: no 1234.5600000000002 from a formula cell
        text = format(value, ".15g")
        return text.replace(".", ",") if decimal_comma else text
    return str(value)


def _unique(header: tuple[str, ...]) -> tuple[str, ...]:
    """Column names for a sheet's header, repeats renamed as DuckDB renames them in a CSV.

    The statement columns are never repeated (:func:`check_header`); a repeated column nothing
    reads (two ``notes``) must still get a name of its own, or its cells would land in the other's.
    """
    used: set[str] = {"_line"}
    names = []
    for h in header:
        name, n = h, 0
        while same_name(name) in used:
            n += 1
            name = f"{h}_{n}"
        used.add(same_name(name))
        names.append(name)
    return tuple(names)


class BankXlsxAdapter:
    """The same statement layout in an Excel workbook (first sheet, or ``sheet`` option)."""

    name = "bank_xlsx"
    description = "Bank statement XLSX with the bank_csv columns (openpyxl, read-only) → payments"
    accepts: ClassVar[Mapping[str, str]] = {
        "sheet": "the worksheet to read (default: the first)",
        **DECIMAL_COMMA,
        **SIGNED_AMOUNTS,
    }
    hints: ClassVar[Mapping[str, str]] = NO_PHONES

    def stage(
        self, con: Any, path: Path, *, evidence_id: int, options: Mapping[str, Any]
    ) -> Iterator[Batch | BadRow]:
        import openpyxl
        import pyarrow as pa

        layout = layout_for(options)
        # an open file, not the path: openpyxl judges a path by its extension, and an exhibit's
        # stored original is named by its hash, without one
        fh = path.open("rb")
        try:
            wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException
            fh.close()
            raise ImportDataError(f"cannot open as an XLSX workbook: {exc}", location=path.name) from exc
        comma = layout.decimal_comma
        try:
            if options.get("sheet") and options["sheet"] not in wb.sheetnames:
                raise ImportDataError(
                    f"no worksheet named {options['sheet']!r} (the workbook has: {', '.join(wb.sheetnames)})",
                    location=f"{path.name}: option sheet",
                )
            sheet = wb[options["sheet"]] if options.get("sheet") else wb.worksheets[0]
            rows = sheet.iter_rows(values_only=True)
            header = tuple(str(h).strip() if h is not None else "" for h in next(rows, ()))
            check_header(header, path.name, None, layout)
            lines: list[str] = []
            cells: list[list[str | None]] = [[] for _ in header]
            for number, row in enumerate(rows, start=2):
                if all(v is None for v in row):
                    continue
                lines.append(str(number))
                for i, values in enumerate(cells):
                    values.append(_cell(row[i], comma) if i < len(row) else None)
            title = sheet.title
        finally:
            wb.close()
            fh.close()
        columns = _unique(header)
        table = pa.table(
            {"_line": pa.array(lines, pa.string())}
            | {c: pa.array(v, pa.string()) for c, v in zip(columns, cells, strict=True)}
        )
        name = f"xlsx_{uuid.uuid4().hex[:12]}"
        con.register(f"{name}_arrow", table)
        con.execute(
            f"CREATE TEMP TABLE {name} AS SELECT * REPLACE (CAST(_line AS BIGINT) AS _line) FROM {name}_arrow"
        )
        con.unregister(f"{name}_arrow")
        staged = Staged(name, columns, table.num_rows)
        yield from payments_from_staging(
            con,
            staged,
            evidence_id=evidence_id,
            file_name=path.name,
            locator_prefix=f"sheet:{title}!row:",
            layout=layout,
        )

    def read(
        self, path: Path, *, evidence_id: int, options: Mapping[str, Any]
    ) -> Iterator[Batch | BadRow | Dropped]:
        return read_through_stage(self, path, evidence_id=evidence_id, options=options)
