"""Declarative YAML column mappings: the long tail of tabular sources without writing Python.

Every bank, carrier and forensic tool has its own export layout. An analyst describes one in a
small YAML file — which source column feeds which column of a target table, how to read it, which
values are constants — and the ordinary engine (DuckDB staging, parse checks with line numbers,
phone normalisation) does the rest. Mappings for the research data sets ship in ``mappings/``::

    name: vast2008_cdr
    target: calls
    source: {format: csv}              # csv (one record per line) or matrix (adjacency matrix)
    repeat: weight                     # optional: one statement per unit of this count column
    fields:
      ts:     {column: Datetime, type: timestamp, format: "%Y%m%d %H%M", required: true}
      caller: {column: From, type: phone, required: true}
      kind:   {const: voice}

Types: text, upper, lower, timestamp (``format`` one or a list of strptime formats, else ISO
8601), day_offset (a step count from ``origin``), int, decimal, double, phone, email, account.
``prefix`` is put before the raw value (to keep ids of different data sets apart); ``choices``
limits the allowed values; ``decimal_comma`` reads ``1.234,50``; ``absolute`` drops the sign.
Unknown keys are errors, so a typo cannot silently drop a column.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from palermo.errors import ImportDataError
from palermo.ingest.base import REGION_OPTION, BadRow, Batch, Dropped, read_through_stage
from palermo.ingest.normalise import DEFAULT_REGION
from palermo.ingest.schema import EVIDENCE_TABLES, IDENTIFIER_KINDS, TABLE_COLUMNS
from palermo.ingest.spec import KINDS, Field, IdentifierRule, TableSpec
from palermo.ingest.staging import Staged, check_unique_header, quote_ident, stage_csv
from palermo.ingest.tabular import batches


class FieldMap(BaseModel):
    """How one target column is filled."""

    model_config = ConfigDict(extra="forbid")
    column: str | None = None
    const: str | int | float | None = None
    type: str = "text"
    format: str | list[str] | None = None
    required: bool = False
    choices: list[str] = []
    prefix: str = ""
    absolute: bool = False
    origin: str | None = None
    decimal_comma: bool = False

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError(f"unknown type {value!r} (known: {', '.join(sorted(KINDS))})")
        return value


class SourceMap(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["csv", "matrix"] = "csv"
    delimiter: str | None = None
    encoding: str | None = None


class IdentifierMap(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str
    column: str
    name_column: str | None = None


class MappingFile(BaseModel):
    """A whole mapping file."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    target: str
    source: SourceMap = SourceMap()
    repeat: str | None = None
    fields: dict[str, FieldMap]
    identifiers: list[IdentifierMap] | None = None

    def check(self, where: str) -> None:
        """Cross-field checks pydantic cannot express: target table, column names, identifier kinds."""
        if self.target not in EVIDENCE_TABLES or self.target in ("identifiers", "ftm_entities"):
            raise ImportDataError(f"target {self.target!r} is not a table a mapping can fill", location=where)
        known = {c for c, _ in TABLE_COLUMNS[self.target]}
        for name, f in self.fields.items():
            if name not in known:
                raise ImportDataError(
                    f"{self.target} has no column {name!r} (columns: {', '.join(sorted(known))})",
                    location=f"{where}: fields.{name}",
                )
            if (f.column is None) == (f.const is None):
                raise ImportDataError(
                    "give exactly one of 'column' or 'const'", location=f"{where}: fields.{name}"
                )
        for ident in self.identifiers or []:
            if ident.kind not in IDENTIFIER_KINDS:
                raise ImportDataError(
                    f"identifier kind {ident.kind!r} is not one of {sorted(IDENTIFIER_KINDS)}",
                    location=f"{where}: identifiers",
                )

    def spec(self, region: str | None) -> TableSpec:
        fields = []
        for target, f in self.fields.items():
            formats = (f.format,) if isinstance(f.format, str) else tuple(f.format or ())
            fields.append(
                Field(
                    target,
                    f.column,
                    f.type,
                    formats,
                    f.const,
                    f.required,
                    tuple(f.choices),
                    f.prefix,
                    f.absolute,
                    f.origin,
                    f.decimal_comma,
                )
            )
        idents = tuple(IdentifierRule(i.kind, i.column, i.name_column) for i in self.identifiers or ())
        return TableSpec(self.target, tuple(fields), idents, self.repeat, region)


def builtin_mappings() -> list[str]:
    """Names of the mappings shipped with Palermo."""
    folder = resources.files("palermo.ingest") / "mappings"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_mapping(ref: str | Path) -> MappingFile:
    """A mapping from a YAML file path, or a built-in mapping by name (``vast2008_cdr``)."""
    path = Path(ref)
    if path.is_file():
        text, where = path.read_text(encoding="utf-8"), path.name
    else:
        res = resources.files("palermo.ingest") / "mappings" / f"{ref}.yaml"
        if not res.is_file():
            raise ImportDataError(
                f"no mapping file or built-in mapping named {ref!r} "
                f"(built-in: {', '.join(builtin_mappings())})",
                location="mapping",
            )
        text, where = res.read_text(encoding="utf-8"), f"{ref}.yaml"
    try:
        mapping = MappingFile.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise ImportDataError(f"not valid YAML: {exc}", location=where) from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ImportDataError(
            f"{first['msg']} ({exc.error_count()} problem(s))", location=f"{where}: {loc}"
        ) from exc
    mapping.check(where)
    return mapping


def _unpivot(con: Any, staged: Staged) -> Staged:
    """An adjacency matrix (first column = row ids, header = column ids) as (row_id, column_id, value)."""
    row_col, others = staged.columns[0], staged.columns[1:]
    cells = " UNION ALL ".join(
        f"SELECT _line, {quote_ident(row_col)} AS row_id, '{c.replace(chr(39), chr(39) * 2)}' AS column_id, "
        f"{quote_ident(c)} AS value FROM {staged.table}"
        for c in others
    )
    name = f"{staged.table}_cells"
    con.execute(
        f"CREATE TEMP TABLE {name} AS SELECT * FROM ({cells}) "
        "WHERE nullif(trim(value), '') IS NOT NULL AND trim(value) NOT IN ('0', '0.0')"
    )
    return Staged(name, ("row_id", "column_id", "value"), staged.records)


class MappingAdapter:
    """Any CSV (or adjacency matrix) through a YAML mapping (option ``mapping``: file or built-in name)."""

    name = "mapping"
    description = "Any tabular CSV through a declarative YAML mapping (--mapping FILE or built-in name)"
    accepts: ClassVar[Mapping[str, str]] = {
        "mapping": "the YAML mapping: a file or a built-in name (--mapping)",
        "delimiter": "field separator, instead of the mapping's source.delimiter",
        "encoding": "text encoding, instead of the mapping's source.encoding",
        **REGION_OPTION,
    }
    #: How a column is read is the mapping's business: such an option given with -o would do nothing.
    hints: ClassVar[Mapping[str, str]] = {
        key: f"is set per column in the mapping file (fields.<column>.{key})"
        for key in ("decimal_comma", "format", "absolute", "prefix", "origin", "choices", "required")
    }

    def stage(
        self, con: Any, path: Path, *, evidence_id: int, options: Mapping[str, Any]
    ) -> Iterator[Batch | BadRow]:
        if not options.get("mapping"):
            raise ImportDataError(
                "the mapping adapter needs a mapping (--mapping FILE or a built-in name)", location="mapping"
            )
        mapping = load_mapping(options["mapping"])
        csv_options = {"delimiter": mapping.source.delimiter, "encoding": mapping.source.encoding, **options}
        bad: list[BadRow] = []
        staged = stage_csv(con, path, options=csv_options, bad_rows=bad)
        yield from bad
        # a matrix reads every column (its header holds the column ids)
        reads = (
            staged.columns
            if mapping.source.format == "matrix"
            else [*(f.column for f in mapping.fields.values() if f.column), *filter(None, [mapping.repeat])]
        )
        check_unique_header(staged.header, staged.columns, reads, path.name, f"mapping {mapping.name}")
        prefix = "line:"
        if mapping.source.format == "matrix":
            staged, prefix = _unpivot(con, staged), "line:"
        missing = sorted(
            {f.column for f in mapping.fields.values() if f.column}
            - set(staged.columns)
            - ({mapping.repeat} if mapping.repeat in staged.columns else set())
        )
        if missing or (mapping.repeat and mapping.repeat not in staged.columns):
            gone = missing or [str(mapping.repeat)]
            raise ImportDataError(
                f"mapping {mapping.name} needs column(s) {', '.join(map(str, gone))}, "
                f"the file has {', '.join(staged.columns)}",
                location=f"{path.name}:1",
            )
        spec = mapping.spec(str(options.get("region") or DEFAULT_REGION))
        if mapping.source.format == "matrix":
            spec = TableSpec(
                spec.table, spec.fields, spec.identifiers, spec.repeat, spec.region, {"stmt_key": "column_id"}
            )
        yield from batches(
            con, spec, staged, evidence_id=evidence_id, file_name=path.name, locator_prefix=prefix
        )

    def read(
        self, path: Path, *, evidence_id: int, options: Mapping[str, Any]
    ) -> Iterator[Batch | BadRow | Dropped]:
        return read_through_stage(self, path, evidence_id=evidence_id, options=options)


__all__ = ["MappingAdapter", "MappingFile", "builtin_mappings", "load_mapping"]
