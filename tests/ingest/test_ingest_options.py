"""``-o KEY=VALUE``: each adapter says which options it reads, and any other key is refused.

A typo (``decimal_coma=true``) used to do nothing: the amounts were then read in the other
convention or rejected, and nobody said why.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from palermo.cli.main import app
from palermo.errors import ImportDataError, InputError
from palermo.ingest.base import BadRow, Batch, list_adapters
from palermo.ingest.schema import create_schema
from palermo.ingest.service import ingest
from palermo.workspace import Workspace

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _nothing_stored(con: duckdb.DuckDBPyConnection) -> bool:
    create_schema(con)  # the options are checked before the import touches the database
    return con.execute(
        "SELECT (SELECT count(*) FROM payments) + (SELECT count(*) FROM imports)"
    ).fetchone() == (0,)


def test_a_misspelt_option_is_refused_naming_key_adapter_and_accepted_keys(
    con: duckdb.DuckDBPyConnection, fx: Path
) -> None:
    with pytest.raises(ImportDataError) as caught:
        ingest(con, "C-1", 1, fx / "bank_ok.csv", "bank_csv", {"decimal_coma": "true"})
    text = str(caught.value)
    assert "'decimal_coma'" in text and "bank_csv" in text
    assert "accepts: decimal_comma, delimiter, encoding" in text and "did you mean 'decimal_comma'" in text
    assert _nothing_stored(con)


def test_an_unknown_option_is_refused_even_when_the_file_was_imported_before(
    con: duckdb.DuckDBPyConnection, fx: Path
) -> None:
    ingest(con, "C-1", 1, fx / "cdr_ok.csv", "cdr_csv", {"region": "US"})
    with pytest.raises(ImportDataError, match="'regoin'"):
        ingest(con, "C-1", 1, fx / "cdr_ok.csv", "cdr_csv", {"regoin": "US"})


def test_region_is_refused_where_no_phone_is_read(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    with pytest.raises(ImportDataError, match=r"no option 'region'.*no phone numbers"):
        ingest(con, "C-1", 1, fx / "bank_ok.csv", "bank_csv", {"region": "US"})


@pytest.mark.parametrize("region", ["XX", "Netherlands", ""])
def test_a_region_phonenumbers_does_not_know_is_refused(
    con: duckdb.DuckDBPyConnection, fx: Path, region: str
) -> None:
    """National numbers read in an unknown region stay bare digits that match nothing."""
    with pytest.raises(ImportDataError, match="not a phone region") as raised:
        ingest(con, "C-1", 1, fx / "cdr_ok.csv", "cdr_csv", {"region": region})
    assert raised.value.location == "option region"


def test_a_mapping_says_where_a_column_option_belongs(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    with pytest.raises(ImportDataError) as caught:
        ingest(
            con,
            "C-1",
            1,
            fx / "otherbank.csv",
            "mapping",
            {"mapping": str(fx / "otherbank.yaml"), "decimal_comma": "true"},
        )
    assert "mapping adapter has no option 'decimal_comma'" in str(caught.value)
    assert "fields.<column>.decimal_comma" in str(caught.value)


def test_a_mapping_file_with_an_unknown_key_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """The YAML's own options are checked too: pydantic forbids keys it does not know."""
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "name: m\ntarget: calls\nsource: {format: csv, delimter: ';'}\nfields:\n  caller: {column: a}\n",
        encoding="utf-8",
    )
    edges = tmp_path / "e.csv"
    edges.write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(ImportDataError, match=r"m\.yaml: source\.delimter"):
        ingest(con, "C-1", 1, edges, "mapping", {"mapping": str(mapping)})


@pytest.mark.parametrize("value", ["ture", "2", "comma"])
def test_decimal_comma_must_be_yes_or_no(con: duckdb.DuckDBPyConnection, fx: Path, value: str) -> None:
    with pytest.raises(ImportDataError, match=f"decimal_comma must be true or false, not '{value}'"):
        ingest(con, "C-1", 1, fx / "bank_ok.csv", "bank_csv", {"decimal_comma": value})
    assert _nothing_stored(con)


def test_decimal_comma_false_is_the_default(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    assert ingest(con, "C-1", 1, fx / "bank_ok.csv", "bank_csv", {"decimal_comma": "false"}).rows_ok == 4


def test_an_unknown_worksheet_is_named(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.title = "Statement"
    wb.save(tmp_path / "stmt.xlsx")
    with pytest.raises(ImportDataError, match=r"stmt\.xlsx: option sheet: no worksheet named 'Statment'"):
        ingest(con, "C-1", 1, tmp_path / "stmt.xlsx", "bank_xlsx", {"sheet": "Statment"})


class _Agency:
    """An agency's adapter written before options were declared: it is not checked."""

    name = "agency"
    description = "test adapter"

    def read(self, path: Path, *, evidence_id: int, options: Mapping[str, Any]) -> Iterator[Batch | BadRow]:
        yield from ()


def test_an_adapter_that_declares_no_options_is_not_checked(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    assert ingest(con, "C-1", 1, fx / "cdr_ok.csv", _Agency(), {"anything": "1"}).status == "imported"


def test_every_built_in_adapter_declares_its_options() -> None:
    for adapter in list_adapters():
        assert isinstance(getattr(adapter, "accepts", None), Mapping), adapter.name
        assert all(isinstance(v, str) and v for v in adapter.accepts.values()), adapter.name  # type: ignore[attr-defined]


def test_the_command_reference_lists_each_adapters_options() -> None:
    """docs/cli.md has one line per adapter (``- `bank_csv`: …``) naming every option it accepts."""
    text = DOCS.read_text(encoding="utf-8")
    for adapter in list_adapters():
        line = re.search(rf"^\s*- `{adapter.name}`:(.*)$", text, re.MULTILINE)
        assert line is not None, f"docs/cli.md has no line for {adapter.name}"
        documented = set(re.findall(r"`([a-z_]+)", line.group(1)))
        assert documented == set(adapter.accepts), adapter.name  # type: ignore[attr-defined]


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    key = tmp_path / "keys" / "master.key"
    monkeypatch.setenv("PALERMO_MASTER_KEY_FILE", str(key))
    workspace = Workspace.init(tmp_path / "ws", master_key_file=key)
    workspace.cases.create("C-1", "Synthetic ring")
    yield workspace
    workspace.close()


def test_cli_refuses_a_misspelt_option_with_exit_code_2(ws: Any, fx: Path) -> None:
    evidence_id = int(ws.evidence.add("C-1", fx / "bank_ok.csv", source="test", acquired_by="analyst").id)
    args = [
        "ingest",
        "C-1",
        str(evidence_id),
        "-a",
        "bank_csv",
        "-o",
        "decimal_coma=true",
        "-w",
        str(ws.path),
    ]
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, InputError) and result.exception.exit_code == 2
    assert "no option 'decimal_coma'" in str(result.exception)
    analytics = ws.analytics
    assert analytics.imports("C-1") == []
    analytics.close()


def test_cli_lists_the_options_of_each_adapter() -> None:
    listed = json.loads(CliRunner().invoke(app, ["ingest", "adapters", "--json"]).stdout)
    options = {a["name"]: a["options"] for a in listed["adapters"]}
    assert options["bank_csv"] == ["decimal_comma", "delimiter", "encoding", "signed_amounts"]
    assert options["mapping"] == ["delimiter", "encoding", "mapping", "region"]
