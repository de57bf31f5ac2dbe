"""Online ads (escort and classified sites), one JSON object per line.

Ads are where trafficking becomes visible from outside: the same phone behind ads in many cities,
the same photos reused, third-person wording, age-suggestive terms. The adapter keeps the text as
posted (indicators read it) with its phone and email normalised and its image hashes as a list, so
resolution can tie ads to the phones in the call records and the seized devices.

Only ``ad_id``, ``posted_at`` and ``text`` are required; scraped data is patchy and a missing price
or city must not cost us the ad. The careful path splits the file into physical lines and parses
each with DuckDB's JSON functions, so ``jsonl:line:N`` is exactly the line an editor shows, blank
lines included. A clean scrape (one object per line, nothing flagged) is read by ``read_json`` in
one pass instead, several times faster; the two give identical tables (``test_ingest_scan.py``).
"""

from __future__ import annotations

import codecs
import json
import uuid
from collections.abc import Generator, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import duckdb

from palermo.errors import ImportDataError
from palermo.ingest.base import REGION_OPTION, BadRow, Batch, Dropped, read_through_stage
from palermo.ingest.normalise import DEFAULT_REGION, says_none_sql, trim_sql
from palermo.ingest.spec import Field, TableSpec, email_sql, timestamp_sql, value_sql
from palermo.ingest.staging import Staged
from palermo.ingest.tabular import IDENTIFYING, phone_map

#: Every field read as text (numbers keep their digits), so one parse per line serves all checks.
_SHAPE = (
    '{"ad_id": "VARCHAR", "site": "VARCHAR", "posted_at": "VARCHAR", "city": "VARCHAR", "title": "VARCHAR", '
    '"text": "VARCHAR", "phone": "VARCHAR", "email": "VARCHAR", "price": "VARCHAR", "currency": "VARCHAR", '
    '"image_hashes": "JSON", "age_claimed": "VARCHAR"}'
)


def _text(key: str) -> str:
    return f"nullif({trim_sql('a.' + key)}, '')"


def _clean(key: str) -> str:
    return f"nullif(trim(regexp_replace(a.{key}, '\\s+', ' ', 'g')), '')"


#: ``(field, condition, problem)``: every way an ad line can be bad, over the parsed struct ``a``.
PROBLEMS: tuple[tuple[str, str, str], ...] = (
    ("(line)", "j IS NULL", "not valid JSON"),
    ("(line)", "j IS NOT NULL AND NOT is_obj", "not a JSON object"),
    ("ad_id", f"is_obj AND {_text('ad_id')} IS NULL", "missing value"),
    ("posted_at", f"is_obj AND {_text('posted_at')} IS NULL", "missing value"),
    ("text", f"is_obj AND {_text('text')} IS NULL", "missing value"),
    (
        "posted_at",
        f"{_text('posted_at')} IS NOT NULL AND {timestamp_sql(_text('posted_at'))} IS NULL",
        "not an ISO 8601 time",
    ),
    (
        "price",
        f"{_text('price')} IS NOT NULL AND TRY_CAST({_text('price')} AS DOUBLE) IS NULL",
        "not a number",
    ),
    (
        "age_claimed",
        f"{_text('age_claimed')} IS NOT NULL AND (TRY_CAST({_text('age_claimed')} AS DOUBLE) IS NULL OR "
        f"TRY_CAST({_text('age_claimed')} AS DOUBLE) <> floor(TRY_CAST({_text('age_claimed')} AS DOUBLE)))",
        "not a whole number",
    ),
    ("image_hashes", "json_type(a.image_hashes) NOT IN ('ARRAY', 'NULL')", "not a list"),
    (
        "email",
        f"{_text('email')} IS NOT NULL AND NOT {says_none_sql(_text('email'))} "
        f"AND {email_sql(_text('email'))} IS NULL",
        IDENTIFYING["email"],
    ),
)

_COLUMNS = f"""
    {timestamp_sql(_text("posted_at"))} AS ts,
    {_clean("site")} AS site,
    {_clean("city")} AS city,
    a.title AS title,
    a.text AS body,
    {_text("phone")} AS raw_phone,
    {_text("email")} AS raw_email,
    TRY_CAST({_text("price")} AS DOUBLE) AS price,
    {_clean("currency")} AS currency,
    coalesce(list_filter(list_transform(json_transform(a.image_hashes, '["VARCHAR"]'), h -> lower(trim(h))),
                         h -> h IS NOT NULL AND h <> ''), []) AS image_hashes,
    TRY_CAST(TRY_CAST({_text("age_claimed")} AS DOUBLE) AS INTEGER) AS age_claimed
"""


#: DuckDB's JSON reader refuses longer lines (its ``maximum_object_size``); those go the careful way.
MAX_FAST_LINE = 16 * 1024 * 1024 - 1


def _line_counts(path: Path) -> tuple[int | None, int]:
    """Physical lines and blank lines of a UTF-8 file; ``(None, 0)`` when it is not UTF-8 or has
    a line too long for the JSON reader."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = blank = 0
    tail = b""
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return None, 0
            parts = (tail + chunk).split(b"\n")
            tail = parts.pop()
            if len(tail) > MAX_FAST_LINE or any(len(part) > MAX_FAST_LINE for part in parts):
                return None, 0
            lines += len(parts)
            blank += sum(1 for part in parts if not part.strip())
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None, 0
    if tail:
        lines += 1
        blank += 0 if tail.strip() else 1
    return lines, blank


class AdsJsonlAdapter:
    """Scraped online ads as JSON lines (see the analytics contract for the fields)."""

    name = "ads_jsonl"
    description = (
        "Online ads JSON lines: ad_id, posted_at, text, phone, email, price, city, image_hashes → ads"
    )
    accepts: ClassVar[Mapping[str, str]] = dict(REGION_OPTION)

    def __init__(self, fast: bool = True) -> None:
        #: Try DuckDB's JSON reader first (see ``_scan``); False forces the careful line-by-line path.
        self.fast = fast

    def _scan(self, con: Any, path: Path, parsed: str) -> bool:
        """Fill ``parsed`` straight from ``read_json`` if the file is clean; False if it is not.

        Clean means: valid UTF-8, one JSON object on every physical line (no blank lines, so the
        record number is the line number), and no ad the checks would flag. Anything else is left
        to the careful path, which names the lines; what was created here is dropped first.
        """
        lines, blank = _line_counts(path)
        if lines is None or blank:
            return False
        raw = f"{parsed}_json"
        columns = ", ".join(f"'{k}': '{v}'" for k, v in json.loads(_SHAPE).items())
        con.execute(
            f"CREATE TEMP TABLE {raw} AS SELECT * FROM read_json(?, format='newline_delimited', "
            f"records=true, columns={{{columns}}}, ignore_errors=true)",
            [str(path)],
        )
        first, last, records = con.execute(f"SELECT min(rowid), max(rowid), count(*) FROM {raw}").fetchone()
        if not records or int(last) - int(first) + 1 != records or records != lines:
            con.execute(f"DROP TABLE {raw}")
            return False
        checks = " OR ".join(f"coalesce({cond}, FALSE)" for _, cond, _ in PROBLEMS[2:])
        fields = ", ".join(f"{k} := {k}" for k in json.loads(_SHAPE))
        con.execute(
            f"CREATE TEMP TABLE {parsed} AS SELECT *, {checks} AS _bad FROM ("
            f"SELECT rowid - {int(first)} + 1 AS _line, NULL::JSON AS j, TRUE AS is_obj, "
            f"struct_pack({fields}) AS a FROM {raw})"
        )
        con.execute(f"DROP TABLE {raw}")
        if con.execute(f"SELECT bool_or(_bad) FROM {parsed}").fetchone()[0]:
            con.execute(f"DROP TABLE {parsed}")
            return False
        return True

    def stage(
        self, con: Any, path: Path, *, evidence_id: int, options: Mapping[str, Any]
    ) -> Iterator[Batch | BadRow]:
        tag = uuid.uuid4().hex[:12]
        lines, parsed = f"ads_{tag}", f"ads_{tag}_parsed"
        if not (self.fast and self._scan(con, path, parsed)):
            yield from self._careful(con, path, lines, parsed)
        region = str(options.get("region") or DEFAULT_REGION)
        phones = yield from self._phones(con, path, parsed, region)
        yield from self._statements(con, parsed, phones, evidence_id=evidence_id)

    def _phones(self, con: Any, path: Path, parsed: str, region: str) -> Generator[BadRow, None, str]:
        """Normalise the good ads' phones into a TEMP mapping table (returned), and make each ad whose
        phone is present but unreadable a bad row: stored as NULL it would read as an ad with no
        number, and the ad would silently drop out of the network (see ``tabular.IDENTIFYING``)."""
        raws = f"{parsed}_raw_phones"
        con.execute(
            f"CREATE TEMP TABLE {raws} AS SELECT _line, {_text('phone')} AS raw_phone FROM {parsed} "
            f"WHERE NOT _bad AND {_text('phone')} IS NOT NULL"
        )
        spec = TableSpec("ads", (Field("phone", "raw_phone", "phone"),), region=region)
        phones = phone_map(con, spec, Staged(raws, ("raw_phone",), 0), region)
        assert phones is not None  # the spec has a phone field
        bad = [
            int(r[0])
            for r in con.execute(
                f"SELECT r._line FROM {raws} r JOIN {phones} m ON m.raw = r.raw_phone "
                f"WHERE m.unreadable ORDER BY 1"
            ).fetchall()
        ]
        con.execute(f"DROP TABLE {raws}")
        if bad:
            con.execute(f"UPDATE {parsed} SET _bad = TRUE WHERE _line IN ({', '.join(map(str, bad))})")
        for line in bad:
            yield BadRow(path.name, line, "phone", IDENTIFYING["phone"], f"jsonl:line:{line}")
        return phones

    def _careful(self, con: Any, path: Path, lines: str, parsed: str) -> Iterator[BadRow]:
        """Split the file into physical lines and parse each, so every bad line can be named."""
        try:
            con.execute(
                # a byte-order mark before the first object is not part of it (Windows tools write one)
                f"CREATE TEMP TABLE {lines} AS SELECT _line, "
                "CASE WHEN _line = 1 THEN ltrim(rtrim(line, chr(13)), chr(65279)) "
                "ELSE rtrim(line, chr(13)) END AS line FROM ("
                "SELECT unnest(generate_series(1, len(parts))) AS _line, unnest(parts) AS line "
                "FROM (SELECT string_split(content, chr(10)) AS parts FROM read_text(?))) "
                "WHERE trim(line) <> ''",
                [str(path)],
            )
        except duckdb.Error as exc:  # not UTF-8, unreadable
            raise ImportDataError(
                f"cannot read as text: {str(exc).splitlines()[0]}", location=path.name
            ) from exc
        con.execute(
            f"CREATE TEMP TABLE {parsed} AS SELECT _line, j, is_obj, a, "
            f"{' OR '.join(f'coalesce({cond}, FALSE)' for _, cond, _ in PROBLEMS)} AS _bad FROM ("
            "SELECT _line, j, coalesce(json_type(j) = 'OBJECT', FALSE) AS is_obj, "
            f"CASE WHEN json_type(j) = 'OBJECT' THEN json_transform(j, '{_SHAPE}') END AS a FROM ("
            f"SELECT _line, TRY_CAST(line AS JSON) AS j FROM {lines}))"
        )
        found = con.execute(
            " UNION ALL ".join(
                f"SELECT _line, '{field}', '{problem}' FROM {parsed} WHERE _bad AND coalesce({cond}, FALSE)"
                for field, cond, problem in PROBLEMS
            )
            + " ORDER BY 1"
        ).fetchall()
        for line, field, problem in found:
            yield BadRow(path.name, int(line), field, problem, f"jsonl:line:{line}")

    def _statements(self, con: Any, parsed: str, phones: str, *, evidence_id: int) -> Iterator[Batch]:
        """Ads from the good lines of ``parsed``, phones from the mapping table ``phones``. Their
        phones, e-mails and image hashes are read from ``ads`` itself by the analysis, so nothing is
        copied into ``identifiers``."""
        ads = f"{parsed}_rows"
        con.execute(f"CREATE TEMP TABLE {ads} AS SELECT _line, {_COLUMNS} FROM {parsed} WHERE NOT _bad")
        eid = int(evidence_id)
        email = value_sql(Field("email", "raw_email", "email"), None)
        rows = (
            f"SELECT s.*, pm.norm AS phone, {email} AS email, 'jsonl:line:' || s._line AS locator, "
            f"'{eid}:jsonl:line:' || s._line AS stmt_id "
            f"FROM {ads} s LEFT JOIN {phones} pm ON pm.raw = s.raw_phone"
        )
        yield Batch(
            "ads",
            (
                "evidence_id",
                "locator",
                "stmt_id",
                "ts",
                "site",
                "city",
                "title",
                "body",
                "phone",
                "email",
                "price",
                "currency",
                "image_hashes",
                "age_claimed",
            ),
            sql=f"SELECT {eid}, locator, stmt_id, ts, site, city, title, body, phone, email, price, "
            f"currency, image_hashes, age_claimed FROM ({rows})",
        )

    def read(
        self, path: Path, *, evidence_id: int, options: Mapping[str, Any]
    ) -> Iterator[Batch | BadRow | Dropped]:
        return read_through_stage(self, path, evidence_id=evidence_id, options=options)
