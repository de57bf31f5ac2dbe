"""The import service: idempotent, atomic, and adapters found by name."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import duckdb
import pytest

from palermo.errors import ImportDataError, NotFoundError
from palermo.ingest.base import Adapter, BadRow, Batch, get_adapter, list_adapters
from palermo.ingest.phone import cols
from palermo.ingest.schema import create_schema
from palermo.ingest.service import ingest, list_imports

COUNTS = (
    "SELECT (SELECT count(*) FROM calls), (SELECT count(*) FROM identifiers), (SELECT count(*) FROM imports)"
)


def test_same_evidence_twice_adds_nothing(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    ingest(con, "C-1", 1, fx / "cdr_ok.csv", "cdr_csv")
    before = con.execute(COUNTS).fetchone()
    again = ingest(con, "C-1", 1, fx / "cdr_ok.csv", "cdr_csv")
    assert again.status == "already_imported" and con.execute(COUNTS).fetchone() == before


def test_same_file_under_another_evidence_id_adds_nothing(
    con: duckdb.DuckDBPyConnection, fx: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.csv"
    shutil.copy(fx / "cdr_ok.csv", copy)
    ingest(con, "C-1", 1, fx / "cdr_ok.csv", "cdr_csv")
    assert ingest(con, "C-1", 2, copy, "cdr_csv").status == "already_imported"


def test_same_file_in_another_case_is_imported(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    ingest(con, "C-1", 1, fx / "cdr_ok.csv", "cdr_csv")
    assert ingest(con, "C-2", 9, fx / "cdr_ok.csv", "cdr_csv").rows_ok == 3


class _FailsHalfway:
    """A real adapter that writes a batch and then breaks, as a crashing plug-in would."""

    name = "fails_halfway"
    description = "test adapter"

    def read(self, path: Path, *, evidence_id: int, options: Mapping[str, Any]) -> Iterator[Batch | BadRow]:
        row = (evidence_id, "line:2", f"{evidence_id}:line:2", None, "+1", "+2", 1, "voice", None, None)
        yield Batch("calls", cols("calls"), [row])
        raise RuntimeError("disk on fire")


def test_failure_mid_import_leaves_tables_as_before(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    ingest(con, "C-1", 1, fx / "cdr_ok.csv", "cdr_csv")
    before = con.execute(COUNTS).fetchone()
    with pytest.raises(RuntimeError):
        ingest(con, "C-1", 2, fx / "ads.jsonl", _FailsHalfway())
    assert con.execute(COUNTS).fetchone() == before


def test_failed_import_can_be_run_again(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    with pytest.raises(RuntimeError):
        ingest(con, "C-1", 2, fx / "cdr_ok.csv", _FailsHalfway())
    assert ingest(con, "C-1", 2, fx / "cdr_ok.csv", "cdr_csv").status == "imported"


def test_staging_tables_are_dropped_after_import(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    ingest(con, "C-1", 1, fx / "bank_ok.csv", "bank_csv")
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone() == (0,)


def test_imports_are_listed_with_counts_and_options(con: duckdb.DuckDBPyConnection, fx: Path) -> None:
    ingest(con, "C-1", 1, fx / "cdr_ok.csv", "cdr_csv", {"region": "US"})
    [record] = list_imports(con, "C-1")
    assert (record.adapter, record.rows_ok, record.options, record.status) == (
        "cdr_csv",
        3,
        {"region": "US"},
        "imported",
    )


def test_database_path_works_as_well_as_a_connection(fx: Path, tmp_path: Path) -> None:
    db = tmp_path / "analytics.duckdb"
    ingest(db, "C-1", 1, fx / "cdr_ok.csv", "cdr_csv")
    with duckdb.connect(str(db)) as check:
        assert check.execute("SELECT count(*) FROM calls").fetchone() == (3,)


def test_unknown_adapter_names_the_known_ones() -> None:
    with pytest.raises(NotFoundError, match="bank_csv"):
        get_adapter("telepathy")


def test_every_built_in_adapter_follows_the_protocol() -> None:
    adapters = list_adapters()
    assert {a.name for a in adapters} >= {
        "bank_csv",
        "bank_xlsx",
        "cdr_csv",
        "phone_json",
        "phone_csv",
        "ads_jsonl",
        "ftm",
        "mapping",
    }
    assert all(isinstance(a, Adapter) for a in adapters)


def test_staged_adapter_also_reads_without_a_connection(fx: Path) -> None:
    items = list(get_adapter("cdr_csv").read(fx / "cdr_ok.csv", evidence_id=3, options={}))
    calls = [i for i in items if isinstance(i, Batch) and i.table == "calls"]
    assert [r[1] for r in calls[0].rows] == ["line:2", "line:3", "line:4"]


def test_old_workspaces_lose_only_the_identifier_copies(fx: Path) -> None:
    """Before ``identifiers`` was narrowed, imports copied the evidence tables' identifier columns
    into it. Opening such a database drops exactly those copies (and FtM Calls' numbers, which are in
    ``calls``); identifiers that exist nowhere else stay: a mapping's extra identifier column, a
    device's own number, the people of an FtM stream."""
    from palermo.ingest.schema import ddl

    con = duckdb.connect()
    con.execute(ddl())  # the old layout: no analytics_meta yet
    imports = (
        "INSERT INTO imports (case_ref, evidence_id, adapter, sha256, rows_ok, rows_bad, status, started_at, "
        "finished_at) VALUES ('C-1', ?, ?, 'x', 1, 0, 'imported', now(), now())"
    )
    for evidence_id, adapter in ((1, "cdr_csv"), (2, "ftm"), (3, "mapping:bank_extra"), (4, "phone_json")):
        con.execute(imports, [evidence_id, adapter])
    con.execute(
        "INSERT INTO ftm_entities (case_ref, evidence_id, locator, stmt_id, entity_id, schema) VALUES "
        "('C-1', 2, 'jsonl:line:1', '2:jsonl:line:1', 'p1', 'Person'), "
        "('C-1', 2, 'jsonl:line:2', '2:jsonl:line:2', 'c1', 'Call')"
    )
    rows = [
        (1, "line:2", "1:line:2:caller", "phone", False),  # a copy of calls.caller
        (1, "line:2", "1:line:2:callee", "phone", False),
        (3, "line:2", "3:line:2:from_account", "account", False),  # a copy of payments.from_account
        (3, "line:2", "3:line:2:description", "email", True),  # a mapping's extra column: nowhere else
        (4, "json:$.device", "4:json:$.device:owner_phone", "phone", True),  # the device's own number
        (4, "json:$.messages[0]", "4:json:$.messages[0]:sender", "phone", False),
        (4, "json:$.contacts[0]", "4:json:$.contacts[0]:email0:email", "email", False),
        (2, "jsonl:line:1", "2:jsonl:line:1:phone0", "phone", True),  # an FtM Person's phone
        (2, "jsonl:line:2", "2:jsonl:line:2:callerNumber0", "phone", False),  # an FtM Call's: in calls
    ]
    for evidence_id, locator, stmt_id, kind, _ in rows:
        con.execute(
            "INSERT INTO identifiers (case_ref, evidence_id, locator, stmt_id, kind, raw, norm, name) "
            "VALUES ('C-1', ?, ?, ?, ?, 'x', 'x', NULL)",
            [evidence_id, locator, stmt_id, kind],
        )
    create_schema(con)
    kept = {r[0] for r in con.execute("SELECT stmt_id FROM identifiers").fetchall()}
    assert kept == {stmt_id for _, _, stmt_id, _, keep in rows if keep}
    con.execute(  # written after the change: kept from now on, the clean-up runs once
        "INSERT INTO identifiers (case_ref, evidence_id, locator, stmt_id, kind, raw, norm, name) "
        "VALUES ('C-1', 1, 'line:3', '1:line:3:caller', 'phone', 'x', 'x', NULL)"
    )
    create_schema(con)
    assert con.execute("SELECT count(*) FROM identifiers").fetchone() == (len(kept) + 1,)
    con.close()


def test_an_import_keeps_insertion_order_to_itself(fx: Path, tmp_path: Path) -> None:
    """Line numbers need insertion order; turning it on must not change it for another import
    running beside this one (the setting is per session, and put back afterwards)."""
    con = duckdb.connect(str(tmp_path / "a.duckdb"))
    create_schema(con)
    con.execute("SET GLOBAL preserve_insertion_order = false")
    other = con.cursor()
    other.execute("SET SESSION preserve_insertion_order = false")
    report = ingest(other, "C-1", 1, fx / "cdr_ok.csv", "cdr_csv")
    assert report.rows_ok == 3
    assert other.execute("SELECT locator FROM calls ORDER BY ts").fetchall() == [
        ("line:2",),
        ("line:3",),
        ("line:4",),
    ]
    setting = "SELECT value, scope FROM duckdb_settings() WHERE name = 'preserve_insertion_order'"
    seen: list[tuple[Any, ...]] = []

    class Probe:
        """An adapter that looks at the setting from inside an import and from beside it."""

        name, description = "probe", "test"

        def stage(self, cur: Any, path: Path, **_: Any) -> Any:
            seen.extend([cur.execute(setting).fetchone(), con.execute(setting).fetchone()])
            yield Batch("calls", cols("calls")[:3], [(9, "line:2", "9:line:2")])

        def read(self, path: Path, **_: Any) -> Any:
            raise NotImplementedError

    ingest(other, "C-1", 9, fx / "cdr_bad.csv", Probe())
    assert seen == [("true", "LOCAL"), ("false", "GLOBAL")]  # on for the import, not for the others
    assert other.execute(setting).fetchone() == ("false", "LOCAL")  # its own session value, back
    assert con.execute(setting).fetchone() == ("false", "GLOBAL")  # the database's, untouched
    other.close()
    con.close()


def test_a_rule_on_a_column_the_analysis_reads_is_not_copied_whatever_its_name_column() -> None:
    from palermo.ingest.spec import Field, IdentifierRule, TableSpec
    from palermo.ingest.tabular import stored_rules

    spec = TableSpec(
        "payments",
        (Field("from_account", "a", "account"), Field("description", "d")),
        identifiers=(
            IdentifierRule("account", "from_account"),  # payments.from_account is read, with from_name
            IdentifierRule("email", "description", "from_name"),  # nowhere else: kept
        ),
    )
    assert stored_rules(spec) == (IdentifierRule("email", "description", "from_name"),)


@pytest.mark.parametrize("adapter", ["bank_csv", "cdr_csv"])
def test_a_file_duckdb_cannot_read_is_a_clear_error_and_changes_nothing(
    con: duckdb.DuckDBPyConnection, fx: Path, tmp_path: Path, adapter: str
) -> None:
    """Reading fails inside the import's transaction, which DuckDB then aborts: the error must be
    the reading error (naming the file), not a TransactionException from tidying up after it."""
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 64)
    ingest(con, "C-1", 1, fx / "cdr_ok.csv", "cdr_csv")
    before = con.execute(COUNTS).fetchone()
    with pytest.raises(ImportDataError) as caught:
        ingest(con, "C-1", 2, junk, adapter, display_name="seized.csv")
    assert "seized.csv" in str(caught.value)
    assert con.execute(COUNTS).fetchone() == before
    setting = "SELECT scope FROM duckdb_settings() WHERE name = 'preserve_insertion_order'"
    assert con.execute(setting).fetchone() == ("GLOBAL",)  # the session setting was put back


@pytest.mark.parametrize(
    ("fixture", "adapter", "table"),
    [
        ("ads.jsonl", "ads_jsonl", "ads"),
        ("phone_device.json", "phone_json", "messages"),
        ("entities.ftm.json", "ftm", "ftm_entities"),
    ],
)
def test_a_byte_order_mark_changes_nothing(
    con: duckdb.DuckDBPyConnection, fx: Path, tmp_path: Path, fixture: str, adapter: str, table: str
) -> None:
    """Windows tools write a UTF-8 byte-order mark; it is not part of the first JSON object."""
    plain = ingest(con, "C-1", 1, fx / fixture, adapter)
    marked = tmp_path / fixture
    marked.write_bytes(b"\xef\xbb\xbf" + (fx / fixture).read_bytes())
    again = ingest(con, "C-2", 2, marked, adapter)
    assert again.rows_ok == plain.rows_ok > 0 and again.rows_bad == 0
    count = f"SELECT count(*) FROM {table} WHERE case_ref = ?"
    assert con.execute(count, ["C-2"]).fetchone() == con.execute(count, ["C-1"]).fetchone()
