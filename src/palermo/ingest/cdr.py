"""Call-detail records (CDR) from a carrier, as calls between normalised phone numbers.

Carriers write numbers as dialled, so one phone appears as ``0612345678`` in one row and
``+31 6 12345678`` in the next; both become E.164 using the import's default region (``--region``),
otherwise the same person would split into two nodes of the network.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from palermo.errors import ImportDataError
from palermo.ingest.base import CSV_OPTIONS, REGION_OPTION, BadRow, Batch, Dropped, read_through_stage
from palermo.ingest.normalise import DEFAULT_REGION
from palermo.ingest.scan import scan_csv
from palermo.ingest.spec import Field, TableSpec
from palermo.ingest.staging import Staged, check_unique_header, stage_csv
from palermo.ingest.tabular import batches, statements

COLUMNS = ("record_id", "start_time", "caller", "callee", "duration_s", "type", "cell_id", "cell_city")


def spec(region: str | None) -> TableSpec:
    """The CDR column mapping for a default phone region."""
    return TableSpec(
        table="calls",
        fields=(
            Field("ts", "start_time", "timestamp", required=True),
            Field("caller", "caller", "phone", required=True),
            Field("callee", "callee", "phone", required=True),
            Field("duration_s", "duration_s", "int"),
            Field("kind", "type", "lower", choices=("voice", "sms")),
            Field("cell_id", "cell_id"),
            Field("city", "cell_city"),
        ),
        region=region,
    )


def check_header(columns: tuple[str, ...], file_name: str, header: tuple[str, ...] | None = None) -> None:
    """Refuse a file that names a CDR column twice or lacks one, naming the columns.

    ``header`` is the header as written when DuckDB renamed repeated names (``Staged.header``).
    """
    check_unique_header(header, columns, COLUMNS, file_name, "the cdr_csv layout")
    missing = [c for c in COLUMNS if c not in columns]
    if missing:
        raise ImportDataError(
            f"not a CDR file in the cdr_csv layout: missing column(s) {', '.join(missing)} "
            "(use --mapping for other layouts)",
            location=f"{file_name}:1",
        )


class CdrCsvAdapter:
    """Call-detail records CSV in the Palermo layout (see the analytics contract)."""

    name = "cdr_csv"
    description = "Call-detail records CSV: record_id,start_time,caller,callee,duration_s,type,… → calls"
    accepts: ClassVar[Mapping[str, str]] = {**CSV_OPTIONS, **REGION_OPTION}

    def __init__(self, fast: bool = True) -> None:
        #: Try the one-pass reader first (see ``palermo.ingest.scan``); False forces the careful path.
        self.fast = fast

    def stage(
        self, con: Any, path: Path, *, evidence_id: int, options: Mapping[str, Any]
    ) -> Iterator[Batch | BadRow]:
        region = str(options.get("region") or DEFAULT_REGION)

        def prepare(_con: Any, staged: Staged) -> tuple[TableSpec, Staged]:
            check_header(staged.columns, path.name, staged.header)
            return spec(region), staged

        if self.fast:
            done = scan_csv(con, path, options, prepare)
            if done is not None:
                yield from statements(done[0], done[1], None, evidence_id=evidence_id)
                return
        bad: list[BadRow] = []
        staged = stage_csv(con, path, options=options, bad_rows=bad)
        check_header(staged.columns, path.name, staged.header)
        yield from bad
        yield from batches(con, spec(region), staged, evidence_id=evidence_id, file_name=path.name)

    def read(
        self, path: Path, *, evidence_id: int, options: Mapping[str, Any]
    ) -> Iterator[Batch | BadRow | Dropped]:
        return read_through_stage(self, path, evidence_id=evidence_id, options=options)
