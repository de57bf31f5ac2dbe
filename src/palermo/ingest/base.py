"""What an ingest adapter is, what it yields, and how adapters are found.

An adapter turns one evidence file into *statements*: rows for the analytics tables, each with the
evidence id and a locator into the original. It yields :class:`Batch` objects (rows to insert) and
:class:`BadRow` objects (lines it could not read); the service decides, in one transaction, whether
the import goes ahead. Adapters never write to the database themselves, so an import stays atomic
whatever an adapter (including an agency's own, found through the ``palermo.adapters`` entry-point
group) does.

Large tabular sources are read *inside DuckDB* for speed: such adapters also implement
``stage(con, ...)``, which may create temporary staging tables on the import's connection and yield
batches whose rows are a SQL ``SELECT`` over them instead of Python tuples.

Each built-in adapter declares the ``-o KEY=VALUE`` options it reads in ``accepts`` (key → what it
does), and :func:`check_options` refuses any other key before anything is read: a typo such as
``decimal_coma=true`` would otherwise do nothing, and the amounts would be misread or rejected with
no word about why. An agency's adapter without ``accepts`` is not checked (it may read anything).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from palermo.errors import ImportDataError, NotFoundError
from palermo.ingest.normalise import phone_region

ENTRY_POINT_GROUP = "palermo.adapters"

#: Options shared by several adapters (``accepts`` of each adapter picks the ones it reads).
REGION_OPTION = {"region": "default phone region for numbers written without a country code (--region)"}
CSV_OPTIONS = {
    "delimiter": "field separator (default: detected; \\t for a tab)",
    "encoding": "text encoding (default: utf-8)",
}


@dataclass(frozen=True)
class Batch:
    """Rows for one table: Python ``rows`` or a SQL ``SELECT`` over staging tables.

    ``columns`` are the target columns *without* ``case_ref`` (the service adds it), so they start
    with ``evidence_id, locator, stmt_id``.
    """

    table: str
    columns: tuple[str, ...]
    rows: Sequence[tuple[Any, ...]] = field(default_factory=tuple)
    sql: str | None = None


@dataclass(frozen=True)
class BadRow:
    """A source record that could not be read, with where it is and what is wrong with it."""

    file: str
    line: int | None
    field: str
    problem: str
    locator: str | None = None

    def __str__(self) -> str:
        where = str(self.line) if self.line is not None else (self.locator or "?")
        return f"{self.file}:{where}: {self.field}: {self.problem}"


@dataclass(frozen=True)
class Dropped:
    """``count`` values of ``field`` the source format's own cleaning threw away from rows that were
    otherwise read (FollowTheMoney drops a phone or e-mail its type cannot read, and properties its
    schema does not have). The row is kept; the import summary says how many values were lost and
    where, never the values themselves (they may be a victim's number)."""

    field: str
    count: int


@runtime_checkable
class Adapter(Protocol):
    """Reads one evidence file into statements (the interface agencies implement for their formats)."""

    name: str
    description: str
    # ``accepts: Mapping[str, str]`` (option key → what it does) is optional and so not declared
    # here: a runtime-checkable protocol would then reject an agency's adapter that lacks it.

    def read(
        self, path: Path, *, evidence_id: int, options: Mapping[str, Any]
    ) -> Iterator[Batch | BadRow | Dropped]:
        """Yield the statements and bad rows of ``path`` (and, if any, the values it dropped)."""
        ...


@runtime_checkable
class StagedAdapter(Adapter, Protocol):
    """An adapter that does its heavy lifting in SQL on the import's own DuckDB connection."""

    def stage(
        self, con: Any, path: Path, *, evidence_id: int, options: Mapping[str, Any]
    ) -> Iterator[Batch | BadRow | Dropped]:
        """Like ``read``, but may create TEMP tables on ``con`` and yield SQL batches over them."""
        ...


def read_through_stage(
    adapter: StagedAdapter, path: Path, *, evidence_id: int, options: Mapping[str, Any]
) -> Iterator[Batch | BadRow | Dropped]:
    """``read`` for a staged adapter: stage in a private in-memory DuckDB and return Python rows.

    This keeps every adapter usable through the plain protocol (e.g. by a notebook or another
    store) without duplicating its logic.
    """
    import duckdb

    con = duckdb.connect()
    try:
        for item in adapter.stage(con, path, evidence_id=evidence_id, options=options):
            if isinstance(item, Batch) and item.sql is not None:
                rows = con.execute(item.sql).fetchall()
                yield Batch(item.table, item.columns, rows)
            else:
                yield item
    finally:
        con.close()


def check_options(adapter: Adapter, options: Mapping[str, Any]) -> None:
    """Refuse option keys ``adapter`` does not read, naming the key, the adapter and what it accepts.

    An adapter that declares no ``accepts`` (an agency's own, written before options were declared)
    is not checked. ``hints`` (key → why it is no option here) lets an adapter explain a familiar
    key: the mapping adapter reads ``decimal_comma`` per column of its YAML file.
    """
    region = options.get("region")
    if region is not None and phone_region(str(region)) is None:  # for any adapter, its own too
        raise ImportDataError(
            f"{region!r} is not a phone region: give an ISO 3166 country code such as NL or US "
            "(national numbers would otherwise stay bare digits that match nothing)",
            location="option region",
        )
    accepts: Mapping[str, str] | None = getattr(adapter, "accepts", None)
    if accepts is None:
        return
    unknown = sorted(str(k) for k in options if k not in accepts)
    if not unknown:
        return
    key = unknown[0]
    hints: Mapping[str, str] = getattr(adapter, "hints", {})
    close = difflib.get_close_matches(key, list(accepts), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    if key in hints:
        hint = f"; {key} {hints[key]}"
    allowed = ", ".join(sorted(accepts)) or "none"
    more = f" (and {', '.join(map(repr, unknown[1:]))})" if len(unknown) > 1 else ""
    raise ImportDataError(
        f"the {adapter.name} adapter has no option {key!r}{more}; it accepts: {allowed}{hint}",
        location=f"option {key}",
    )


#: Built-in adapters, loaded lazily so ``palermo ingest adapters`` works without the entry points
#: being installed (an editable checkout, a zipapp).
BUILTINS: dict[str, str] = {
    "bank_csv": "palermo.ingest.bank:BankCsvAdapter",
    "bank_xlsx": "palermo.ingest.bank:BankXlsxAdapter",
    "cdr_csv": "palermo.ingest.cdr:CdrCsvAdapter",
    "phone_json": "palermo.ingest.phone:PhoneJsonAdapter",
    "phone_csv": "palermo.ingest.phone:PhoneCsvAdapter",
    "ads_jsonl": "palermo.ingest.ads:AdsJsonlAdapter",
    "ftm": "palermo.ingest.ftm:FtmAdapter",
    "mapping": "palermo.ingest.mapping:MappingAdapter",
}


def _load(target: str) -> Adapter:
    module_name, _, attr = target.partition(":")
    obj = getattr(importlib.import_module(module_name), attr)
    return obj() if isinstance(obj, type) else obj  # type: ignore[no-any-return]


def _registry() -> dict[str, str]:
    targets = dict(BUILTINS)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        targets[ep.name] = ep.value
    return targets


def get_adapter(name: str) -> Adapter:
    """The adapter registered under ``name`` (built-in or from the entry-point group)."""
    targets = _registry()
    if name not in targets:
        known = ", ".join(sorted(targets))
        raise NotFoundError(f"no ingest adapter named {name!r} (known: {known})", location="adapter")
    return _load(targets[name])


def list_adapters() -> list[Adapter]:
    """Every available adapter, sorted by name."""
    return [_load(target) for _, target in sorted(_registry().items())]


__all__ = [
    "BUILTINS",
    "CSV_OPTIONS",
    "ENTRY_POINT_GROUP",
    "REGION_OPTION",
    "Adapter",
    "BadRow",
    "Batch",
    "Dropped",
    "StagedAdapter",
    "check_options",
    "get_adapter",
    "list_adapters",
    "read_through_stage",
]
