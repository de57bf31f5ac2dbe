"""Bank statements: CSV and XLSX rows become directed payments with their lines as locators."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest

from palermo.errors import ImportDataError
from palermo.ingest.service import ingest


def test_debit_row_pays_from_the_account_holder(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    ingest(con, "C-1", 1, fx / "bank_ok.csv", "bank_csv")
    row = con.execute(
        "SELECT from_account, from_name, to_name, amount FROM payments WHERE locator = 'line:3'"
    ).fetchone()
    assert row == ("NL91ABNA0417164300", "Mara Velden", "HOTEL STELLA", Decimal("189.50"))


def test_credit_row_pays_into_the_account_holder(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    ingest(con, "C-1", 1, fx / "bank_ok.csv", "bank_csv")
    row = con.execute(
        "SELECT from_account, to_account, to_name FROM payments WHERE locator = 'line:2'"
    ).fetchone()
    assert row == ("DE89370400440532013000", "NL91ABNA0417164300", "Mara Velden")


def test_amounts_are_positive_and_thousands_separators_read(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    ingest(con, "C-1", 1, fx / "bank_ok.csv", "bank_csv")
    amounts = [r[0] for r in con.execute("SELECT amount FROM payments ORDER BY locator").fetchall()]
    assert amounts == [Decimal("1200.00"), Decimal("189.50"), Decimal("9500.00"), Decimal("300.00")]


def test_accounts_are_mentions_with_holder_names(
    con: duckdb.DuckDBPyConnection, mentions: Any, fx: Path
) -> None:
    ingest(con, "C-1", 1, fx / "bank_ok.csv", "bank_csv")
    found = mentions(con, "C-1", "norm = 'NL91ABNA0417164300' AND locator = 'line:2'")
    assert [(kind, name, locator) for kind, _, name, _, locator in found] == [
        ("account", "Mara Velden", "line:2")
    ]
    assert con.execute("SELECT count(*) FROM identifiers").fetchone() == (0,)


def test_bad_rows_fail_the_import_naming_file_and_line(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    with pytest.raises(ImportDataError) as err:
        ingest(con, "C-1", 2, fx / "bank_bad.csv", "bank_csv")
    text = str(err.value)
    assert (
        "bank_bad.csv:3: date: cannot read the value (19 characters: digits, spaces and - :) as timestamp"
        in text
    )
    assert "2025-02-30" not in text
    assert "bank_bad.csv:4: amount" in text and "bank_bad.csv:5: direction" in text
    assert "bank_bad.csv:6:" in text and "bank_bad.csv:9: account_iban: missing value" in text


def test_bad_rows_store_nothing(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    with pytest.raises(ImportDataError):
        ingest(con, "C-1", 2, fx / "bank_bad.csv", "bank_csv")
    assert con.execute("SELECT count(*) FROM payments").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM imports").fetchone() == (0,)


def test_skip_bad_rows_keeps_the_good_rows_at_their_physical_lines(
    con: duckdb.DuckDBPyConnection, fx: Path
) -> None:
    report = ingest(con, "C-1", 2, fx / "bank_bad.csv", "bank_csv", skip_bad_rows=True)
    lines = [r[0] for r in con.execute("SELECT locator FROM payments ORDER BY ts").fetchall()]
    # line 7 holds a quoted description spanning two lines, so the next record starts on line 10
    assert lines == ["line:2", "line:7", "line:10"]
    assert (report.status, report.rows_ok, report.rows_bad) == ("partial", 3, 5)


def test_missing_columns_are_refused_with_the_header_line(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    with pytest.raises(ImportDataError, match=r"cdr_ok.csv:1: .*missing column\(s\) date"):
        ingest(con, "C-1", 3, fx / "cdr_ok.csv", "bank_csv")


def _workbook(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Statement"
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


HEADER = [
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
]


def test_xlsx_rows_carry_sheet_and_row_locators(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    book = _workbook(
        tmp_path / "stmt.xlsx",
        [
            HEADER,
            [
                "2025-03-01",
                "09:15:00",
                "NL91ABNA0417164300",
                "Mara Velden",
                "",
                "ESCORTADS.EXAMPLE",
                49.0,
                "EUR",
                "debit",
                "online",
                "ad",
                "Springfield",
                100.0,
            ],
        ],
    )
    ingest(con, "C-1", 5, book, "bank_xlsx")
    row = con.execute("SELECT locator, to_name, amount FROM payments").fetchone()
    assert row == ("sheet:Statement!row:2", "ESCORTADS.EXAMPLE", Decimal("49.00"))


def test_xlsx_bad_cell_names_its_row(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    book = _workbook(
        tmp_path / "stmt.xlsx",
        [
            HEADER,
            [
                "2025-03-01",
                None,
                "NL91ABNA0417164300",
                "Mara Velden",
                None,
                "HOTEL",
                10,
                "EUR",
                "debit",
                "card",
                "",
                "",
                0,
            ],
            [
                "2025-03-02",
                None,
                "NL91ABNA0417164300",
                "Mara Velden",
                None,
                "HOTEL",
                "ten",
                "EUR",
                "debit",
                "card",
                "",
                "",
                0,
            ],
        ],
    )
    with pytest.raises(ImportDataError, match=r"stmt.xlsx:3: amount"):
        ingest(con, "C-1", 5, book, "bank_xlsx")


def test_xlsx_date_and_time_cells_combine_into_one_timestamp(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    book = _workbook(
        tmp_path / "stmt.xlsx",
        [
            HEADER,
            [
                datetime(2025, 3, 1),
                time(23, 5),
                "NL91ABNA0417164300",
                "Mara Velden",
                None,
                "HOTEL",
                10,
                "EUR",
                "debit",
                "card",
                "",
                "",
                0,
            ],
            [
                date(2025, 3, 2),
                None,
                "NL91ABNA0417164300",
                "Mara Velden",
                None,
                "HOTEL",
                10,
                "EUR",
                "debit",
                "card",
                "",
                "",
                0,
            ],
        ],
    )
    ingest(con, "C-1", 5, book, "bank_xlsx")
    stamps = [r[0] for r in con.execute("SELECT ts FROM payments ORDER BY ts").fetchall()]
    assert stamps == [datetime(2025, 3, 1, 23, 5), datetime(2025, 3, 2)]


def test_xlsx_stored_without_an_extension_is_read(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """The evidence store names an original by its hash, with no extension: openpyxl must get a file."""
    row = ["2025-03-01", "09:15:00", "NL91ABNA0417164300", "Mara Velden", "", "HOTEL", 80.0, "EUR"]
    book = _workbook(tmp_path / "stmt.xlsx", [HEADER, [*row, "debit", "card", "", "Springfield", 20.0]])
    stored = book.rename(tmp_path / "3f9a0c1e5b7d")
    ingest(con, "C-1", 5, stored, "bank_xlsx", display_name="stmt.xlsx")
    assert con.execute("SELECT locator, to_name FROM payments").fetchall() == [
        ("sheet:Statement!row:2", "HOTEL")
    ]


def _statement(path: Path, amounts: list[str], delimiter: str = ",") -> Path:
    quote = '"' if delimiter == "," else ""
    lines = [delimiter.join(HEADER)]
    for amount in amounts:
        cells = ["2025-03-01", "09:15:00", "NL91ABNA0417164300", "Mara Velden", "", "HOTEL"]
        cells += [f"{quote}{amount}{quote}", "EUR", "debit", "card", "", "Springfield", "1"]
        lines.append(delimiter.join(cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("amount", ["2177,89", "1.234,56", "12.345", "1,23,456.00", "12 EUR"])
def test_an_amount_in_another_convention_is_a_bad_row_not_a_misread(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, amount: str
) -> None:
    """Before, "2177,89" was stored as 217789.00 and "1.234,56" as 1.23, silently."""
    book = _statement(tmp_path / "stmt.csv", ["80.00", amount, "15"])
    with pytest.raises(ImportDataError, match=r"stmt.csv.*\n.*:3: amount: cannot read"):
        ingest(con, "C-1", 5, book, "bank_csv")
    report = ingest(con, "C-1", 5, book, "bank_csv", skip_bad_rows=True)
    assert report.rows_bad == 1
    assert [r[0] for r in con.execute("SELECT amount FROM payments ORDER BY locator").fetchall()] == [
        Decimal("80.00"),
        Decimal("15.00"),
    ]


def test_decimal_comma_reads_continental_amounts(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    book = _statement(tmp_path / "stmt.csv", ["2177,89", "1.234,56", "-15"], delimiter=";")
    ingest(con, "C-1", 5, book, "bank_csv", {"delimiter": ";", "decimal_comma": "true"})
    assert [r[0] for r in con.execute("SELECT amount FROM payments ORDER BY locator").fetchall()] == [
        Decimal("2177.89"),
        Decimal("1234.56"),
        Decimal("15.00"),
    ]


def test_a_formula_cell_float_is_read_as_its_amount(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    row = [
        "2025-03-01",
        "09:15:00",
        "NL91ABNA0417164300",
        "Mara Velden",
        "",
        "HOTEL",
        1234.5600000000002,
        "EUR",
    ]
    book = _workbook(tmp_path / "stmt.xlsx", [HEADER, [*row, "debit", "card", "", "Springfield", 20.0]])
    ingest(con, "C-1", 5, book, "bank_xlsx")
    assert con.execute("SELECT amount FROM payments").fetchone() == (Decimal("1234.56"),)


def _rows(*rows: str) -> str:
    return ",".join(HEADER) + "\n" + "".join(rows)


def _payment(day: int, payee: str, amount: str = "10.00", description: str = "") -> str:
    cells = [f"2025-03-0{day}", "09:15:00", "NL91ABNA0417164300", "Mara", "", payee, amount, "EUR"]
    return ",".join([*cells, "debit", "card", description, "X", "1"]) + "\n"


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_locators_and_bad_lines_are_physical_lines_past_blank_lines_and_quoted_newlines(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, newline: str
) -> None:
    """DuckDB skips blank lines without a trace; the line an editor shows is what a court is given."""
    text = _rows(
        _payment(1, "HOTEL A"),  # line 2
        "\n",  # line 3, blank
        _payment(2, "HOTEL B", description='"two\nlines"'),  # lines 4-5
        "short,row\n",  # line 6: too few columns
        _payment(3, "HOTEL C", amount="xx"),  # line 7: unreadable amount
        "\n\n",  # lines 8-9, blank
        _payment(4, "HOTEL D"),  # line 10
    )
    book = tmp_path / "stmt.csv"
    book.write_bytes(text.replace("\n", newline).encode())
    with pytest.raises(ImportDataError) as caught:
        ingest(con, "C-1", 5, book, "bank_csv")
    assert "stmt.csv:6: (record)" in str(caught.value) and "stmt.csv:7: amount" in str(caught.value)
    ingest(con, "C-1", 5, book, "bank_csv", skip_bad_rows=True)
    rows = con.execute("SELECT locator, to_name FROM payments ORDER BY ts").fetchall()
    assert rows == [("line:2", "HOTEL A"), ("line:4", "HOTEL B"), ("line:10", "HOTEL D")]


def test_xlsx_number_cells_keep_their_value_with_decimal_comma(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """A number cell is not text in a convention: 12.5 is twelve and a half with or without it."""
    row = ["2025-03-01", "09:15:00", "NL91ABNA0417164300", "Mara Velden", "", "HOTEL", 12.5, "EUR"]
    book = _workbook(tmp_path / "stmt.xlsx", [HEADER, [*row, "debit", "card", "", "Springfield", 20.0]])
    ingest(con, "C-1", 5, book, "bank_xlsx", {"decimal_comma": "true"})
    assert con.execute("SELECT amount FROM payments").fetchone() == (Decimal("12.50"),)


def _signed(fx: Path, folder: Path) -> Path:
    """``bank_ok.csv`` as the many banks write it: no direction column, debits negative."""
    import csv

    with (fx / "bank_ok.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = folder / "signed.csv"
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, [c for c in rows[0] if c != "direction"])
        writer.writeheader()
        for row in rows:
            direction = row.pop("direction")
            if direction == "debit" and row["amount"] and not row["amount"].startswith("-"):
                row["amount"] = "-" + row["amount"]
            writer.writerow(row)
    return out


_FLOW = (
    "SELECT locator, ts, from_account, from_name, to_account, to_name, amount FROM payments ORDER BY locator"
)


@pytest.mark.parametrize("fast", [True, False])
def test_signed_amounts_give_the_direction_when_the_statement_has_no_direction_column(
    con: duckdb.DuckDBPyConnection, fx: Path, tmp_path: Path, fast: bool
) -> None:
    """A negative amount left the holder's account, a positive one arrived: the same money flows as
    the statement with a debit/credit column, on the one-pass reader and the careful one."""
    from palermo.ingest.bank import BankCsvAdapter

    ingest(con, "C-1", 1, fx / "bank_ok.csv", "bank_csv", {}, skip_bad_rows=True)
    expected = con.execute(_FLOW).fetchall()
    other = duckdb.connect()
    ingest(
        other,
        "C-1",
        1,
        _signed(fx, tmp_path),
        BankCsvAdapter(fast=fast),
        {"signed_amounts": "true"},
        skip_bad_rows=True,
    )
    assert other.execute(_FLOW).fetchall() == expected and expected


def test_a_statement_with_a_direction_column_is_not_read_by_sign(
    con: duckdb.DuckDBPyConnection, fx: Path, tmp_path: Path
) -> None:
    with pytest.raises(ImportDataError, match=r"direction column.*signed_amounts"):
        ingest(con, "C-1", 1, fx / "bank_ok.csv", "bank_csv", {"signed_amounts": "true"})
    with pytest.raises(ImportDataError, match=r"missing column.*direction"):
        ingest(con, "C-1", 2, _signed(fx, tmp_path), "bank_csv", {})


def test_xlsx_signed_amounts(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    header = [c for c in HEADER if c != "direction"]
    row = [
        "2025-03-01",
        "09:15:00",
        "NL91ABNA0417164300",
        "Mara Velden",
        "",
        "ESCORTADS.EXAMPLE",
        -49.0,
        "EUR",
        "online",
        "ad",
        "Springfield",
        100.0,
    ]
    ingest(
        con,
        "C-1",
        5,
        _workbook(tmp_path / "stmt.xlsx", [header, row]),
        "bank_xlsx",
        {"signed_amounts": "yes"},
    )
    assert con.execute("SELECT from_name, to_name, amount FROM payments").fetchone() == (
        "Mara Velden",
        "ESCORTADS.EXAMPLE",
        Decimal("49.00"),
    )


def test_signed_amounts_refuse_a_direction_column_in_any_case_and_name_a_blank_amount_once(
    con: duckdb.DuckDBPyConnection, fx: Path, tmp_path: Path
) -> None:
    """``Direction`` is the direction column as surely as ``direction``: read by sign, its debits would
    silently become credits. A blank amount is one problem, the amount's."""
    text = (fx / "bank_ok.csv").read_text(encoding="utf-8")
    capital = tmp_path / "capital.csv"
    capital.write_text(text.replace(",direction,", ",Direction,", 1), encoding="utf-8")
    with pytest.raises(ImportDataError, match="direction column"):
        ingest(con, "C-1", 1, capital, "bank_csv", {"signed_amounts": "true"})
    blank = tmp_path / "blank.csv"
    lines = _signed(fx, tmp_path).read_text(encoding="utf-8").splitlines()
    head = lines[0].split(",")
    cells = lines[1].split(",")
    cells[head.index("amount")] = ""
    blank.write_text("\n".join([lines[0], ",".join(cells)]) + "\n", encoding="utf-8")
    with pytest.raises(ImportDataError) as raised:
        ingest(con, "C-1", 2, blank, "bank_csv", {"signed_amounts": "true"})
    assert "amount: missing value" in str(raised.value) and "_direction" not in str(raised.value)


def _directed(amount: object, direction: str, holder: str = "Mara") -> list[object]:
    return ["2025-03-01", "09:15:00", "NL91ABNA0417164300", holder, "", "HOTEL", amount, "EUR", direction]


@pytest.mark.parametrize("fast", [True, False])
def test_a_negative_amount_that_agrees_with_debit_is_the_same_payment_and_one_on_credit_a_bad_row(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, fast: bool
) -> None:
    """Before, "-50" on a credit row was stored as 50 arriving, its sign dropped without a word."""
    from palermo.ingest.bank import BankCsvAdapter

    path = tmp_path / "stmt.csv"
    rows = [_directed("-50.00", "debit"), _directed("-20.00", "credit"), _directed("30.00", "credit")]
    path.write_text(
        "\n".join([",".join(HEADER)] + [",".join(map(str, [*r, "card", "", "X", "1"])) for r in rows]) + "\n",
        encoding="utf-8",
    )
    adapter = BankCsvAdapter(fast=fast)
    with pytest.raises(ImportDataError, match=r"stmt.csv:3: amount: negative amount on a credit row") as err:
        ingest(con, "C-1", 5, path, adapter)
    assert "20.00" not in str(err.value)
    assert con.execute("SELECT count(*) FROM payments").fetchone() == (0,)
    report = ingest(con, "C-1", 5, path, adapter, skip_bad_rows=True)
    assert report.rows_bad == 1 and report.bad_rows[0].startswith("stmt.csv:3: amount: negative amount")
    assert con.execute("SELECT locator, from_name, to_name, amount FROM payments ORDER BY 1").fetchall() == [
        ("line:2", "Mara", "HOTEL", Decimal("50.00")),
        ("line:4", "HOTEL", "Mara", Decimal("30.00")),
    ]


def test_xlsx_negative_amount_on_a_credit_row_is_a_bad_row(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = [[*_directed(-50.0, "debit"), "card"], [*_directed(-20.0, "credit"), "card"]]
    book = _workbook(tmp_path / "stmt.xlsx", [HEADER, *rows])
    with pytest.raises(ImportDataError, match=r"stmt.xlsx:3: amount: negative amount on a credit row"):
        ingest(con, "C-1", 5, book, "bank_xlsx")
    ingest(con, "C-1", 5, book, "bank_xlsx", skip_bad_rows=True)
    assert con.execute("SELECT locator, amount FROM payments").fetchall() == [
        ("sheet:Statement!row:2", Decimal("50.00"))
    ]


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("zero", ["-0", "-0.00", " -0.0"])
def test_a_negative_zero_on_a_credit_row_is_no_contradiction(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, fast: bool, zero: str
) -> None:
    """Before, ``-0.00`` on a credit row was a bad row: no money went either way."""
    from palermo.ingest.bank import BankCsvAdapter

    path = tmp_path / "stmt.csv"
    rows = [_directed(zero, "credit"), _directed("30.00", "credit")]
    path.write_text(
        "\n".join([",".join(HEADER)] + [",".join(map(str, [*r, "card", "", "X", "1"])) for r in rows]) + "\n",
        encoding="utf-8",
    )
    assert ingest(con, "C-1", 5, path, BankCsvAdapter(fast=fast)).status == "imported"
    assert con.execute("SELECT amount FROM payments ORDER BY locator").fetchall() == [
        (Decimal("0.00"),),
        (Decimal("30.00"),),
    ]
