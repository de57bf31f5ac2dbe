"""Phone extractions (seized devices): messages, contacts and call logs, as JSON or CSV.

A seized phone is one of the richest exhibits: the contact list says what name the owner saved for
each number (``Boss``, ``Mira new``), which is how resolution links a phone to a person, and the
messages carry the threats, debts and quotas that support the *means* element. Every message and
contact keeps a locator into the extraction (``json:$.messages[4]`` or ``line:17``), so a prosecutor
can open the exact item in the forensic tool's report.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from palermo.errors import ImportDataError
from palermo.ingest.base import CSV_OPTIONS, REGION_OPTION, BadRow, Batch, Dropped, read_through_stage
from palermo.ingest.normalise import (
    DEFAULT_REGION,
    clean_text,
    normalise_email,
    normalise_phone,
    says_none,
    trim_sql,
)
from palermo.ingest.schema import TABLE_COLUMNS
from palermo.ingest.spec import Field, TableSpec, literal
from palermo.ingest.staging import Staged, check_unique_header, stage_csv
from palermo.ingest.tabular import IDENTIFYING, batches

PROV = ("evidence_id", "locator", "stmt_id")
DEVICE_OWNER = {"device_owner": "the seized device's own number (when the export does not give it)"}
IDENT = (*PROV, "kind", "raw", "norm", "name")


def cols(table: str) -> tuple[str, ...]:
    """Provenance columns plus the data columns of ``table``."""
    return (*PROV, *(c for c, _ in TABLE_COLUMNS[table]))


def parse_ts(value: Any) -> datetime | None:
    """An ISO 8601 time as a naive datetime: in UTC when it is written with a zone (``Z``,
    ``+02:00``), else as written (the device's clock), as ``spec.timestamp_sql`` reads CSV times.
    None when it cannot be read, or its zone moves it out of the years 1-9999."""
    if value is None or value == "":
        return None
    try:
        stamp = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        return stamp if stamp.tzinfo is None else stamp.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        return None


class _Rows:
    """Accumulates rows per table for one extraction.

    Only the device's own number goes into ``identifiers`` (a phone with no contacts has no other
    row that names its owner); the numbers in contacts, messages and calls are read from those
    tables by the analysis."""

    def __init__(self, evidence_id: int, region: str | None) -> None:
        self.eid, self.region = evidence_id, region
        self.rows: dict[str, list[tuple[Any, ...]]] = {
            t: [] for t in ("messages", "calls", "contacts", "identifiers")
        }

    def phone(self, raw: Any) -> str | None:
        return normalise_phone(None if raw is None else str(raw), self.region)

    def unreadable(self, item: Mapping[str, Any], keys: tuple[str, ...]) -> list[str]:
        """The keys of ``item`` that hold a phone number that is present but cannot be read.

        Such a number is a bad row, never None: a message or call would otherwise lose its party,
        or take the device owner's number in its place (see ``tabular.IDENTIFYING``)."""
        return [k for k in keys if _present(item.get(k)) and self.phone(item.get(k)) is None]

    def add(self, table: str, locator: str, suffix: str, values: tuple[Any, ...]) -> str:
        stmt = f"{self.eid}:{locator}{suffix}"
        self.rows[table].append((self.eid, locator, stmt, *values))
        return stmt

    def ident(
        self, locator: str, stmt: str, tag: str, kind: str, raw: Any, norm: str | None, name: Any
    ) -> None:
        if norm:
            self.rows["identifiers"].append((self.eid, locator, f"{stmt}:{tag}", kind, str(raw), norm, name))

    def batches(self) -> Iterator[Batch]:
        for table, rows in self.rows.items():
            if rows:
                yield Batch(table, IDENT if table == "identifiers" else cols(table), rows)


def _present(raw: Any) -> bool:
    """Whether a JSON value holds anything (blank text, null and a placeholder such as
    ``withheld`` are no value to lose: see ``normalise.NO_VALUE``)."""
    return not _blank(raw) and not says_none(raw)


def _blank(raw: Any) -> bool:
    """Whether a JSON value is left out: absent, null or blank text. Only such a side of a call or
    message is the device owner's; a placeholder (``withheld``) says the party is somebody unknown."""
    return raw is None or str(raw).strip() == ""


def _sides(
    item: Mapping[str, Any], out: _Rows, owner: str | None, owner_from: bool, owner_to: bool
) -> tuple[str | None, str | None]:
    """The ``from`` and ``to`` numbers of a call or message, with the owner's number on a side the
    export left blank where ``owner_from``/``owner_to`` say it is hers.

    A placeholder is stored as NULL, never as the owner (a call from ``withheld`` is not the owner
    calling herself), and the owner is never put on both sides.
    """
    sender, recipient = out.phone(item.get("from")), out.phone(item.get("to"))
    if owner_from and _blank(item.get("from")) and recipient != owner:
        sender = owner
    if owner_to and _blank(item.get("to")) and sender != owner:
        recipient = owner
    return sender, recipient


def device_owner(options: Mapping[str, Any], region: str) -> str | None:
    """The ``device_owner`` option, normalised; an option that holds no phone number is refused
    (every message and contact would otherwise lose the owner's side without a word)."""
    if not options.get("device_owner"):
        return None
    owner = normalise_phone(str(options["device_owner"]), region)
    if owner is None:
        raise ImportDataError(IDENTIFYING["phone"], location="option device_owner")
    return owner


def _load_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))  # a byte-order mark is not JSON
    except json.JSONDecodeError as exc:
        raise ImportDataError(
            f"not valid JSON: {exc.msg} (column {exc.colno})", location=f"{path.name}:{exc.lineno}"
        ) from exc
    except UnicodeDecodeError as exc:
        raise ImportDataError("not UTF-8 text", location=path.name) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("device"), dict):
        raise ImportDataError(
            "not a phone extraction: expected an object with a 'device' object", location=path.name
        )
    return doc


def _items(doc: dict[str, Any], key: str, file: str) -> list[Any]:
    value = doc.get(key) or []
    if not isinstance(value, list):
        raise ImportDataError(f"'{key}' must be a list", location=f"{file}:json:$.{key}")
    return value


class PhoneJsonAdapter:
    """One JSON document per seized device (see the analytics contract for the layout)."""

    name = "phone_json"
    description = "Phone extraction JSON: device, contacts, messages, calls → messages, contacts, calls"
    accepts: ClassVar[Mapping[str, str]] = {**REGION_OPTION, **DEVICE_OWNER}

    def read(self, path: Path, *, evidence_id: int, options: Mapping[str, Any]) -> Iterator[Batch | BadRow]:
        doc = _load_json(path)
        out = _Rows(evidence_id, str(options.get("region") or DEFAULT_REGION))
        owner_raw = doc["device"].get("owner_phone")
        if _present(owner_raw) and out.phone(owner_raw) is None:
            # not one bad row: every message and contact would lose the owner's side with it
            raise ImportDataError(IDENTIFYING["phone"], location=f"{path.name}:json:$.device.owner_phone")
        if not _present(owner_raw):
            owner_raw = options.get("device_owner")
            device_owner(options, out.region or DEFAULT_REGION)
        owner = out.phone(owner_raw)
        if owner:
            out.ident(
                "json:$.device",
                f"{evidence_id}:json:$.device",
                "owner_phone",
                "phone",
                owner_raw,
                owner,
                None,
            )
        for i, c in enumerate(_items(doc, "contacts", path.name)):
            loc = f"json:$.contacts[{i}]"
            if not isinstance(c, dict):
                yield BadRow(path.name, None, "contacts", "not an object", loc)
                continue
            name = clean_text(c.get("name"))
            given_phones = list(enumerate(c.get("phones") or []))  # indexed as in the file
            given_emails = list(enumerate(c.get("emails") or []))
            lost = [
                (f"phones[{j}]", "phone") for j, p in given_phones if _present(p) and out.phone(p) is None
            ]
            lost += [
                (f"emails[{j}]", "email")
                for j, e in given_emails
                if _present(e) and not normalise_email(str(e))
            ]
            phones = [p for _, p in given_phones if _present(p)]
            emails = [e for _, e in given_emails if _present(e)]
            for key, kind in lost:
                yield BadRow(path.name, None, key, IDENTIFYING[kind], loc)
            if lost:
                continue
            for j, raw in enumerate(phones):
                out.add("contacts", loc, f":phone{j}", (owner, name, out.phone(raw), None))
            for j, raw in enumerate(emails):
                email = normalise_email(str(raw))
                out.add("contacts", loc, f":email{j}", (owner, name, None, email))
            if not phones and not emails:
                out.add("contacts", loc, "", (owner, name, None, None))
        for i, m in enumerate(_items(doc, "messages", path.name)):
            loc = f"json:$.messages[{i}]"
            if not isinstance(m, dict):
                yield BadRow(path.name, None, "messages", "not an object", loc)
                continue
            ts = parse_ts(m.get("timestamp"))
            if ts is None:
                yield BadRow(path.name, None, "timestamp", "missing or not an ISO 8601 time", loc)
                continue
            wrong = out.unreadable(m, ("from", "to"))
            for key in wrong:
                yield BadRow(path.name, None, key, IDENTIFYING["phone"], loc)
            if wrong:
                continue
            out_going = str(m.get("direction") or "").strip().lower() in OUTGOING
            sender, recipient = _sides(m, out, owner, out_going, not out_going)
            out.add(
                "messages", loc, "", (ts, sender, recipient, m.get("body"), clean_text(m.get("app")), owner)
            )
        for i, k in enumerate(_items(doc, "calls", path.name)):
            loc = f"json:$.calls[{i}]"
            ts = parse_ts(k.get("timestamp")) if isinstance(k, dict) else None
            if ts is None:
                yield BadRow(path.name, None, "timestamp", "missing or not an ISO 8601 time", loc)
                continue
            wrong = out.unreadable(k, ("from", "to"))
            for key in wrong:
                yield BadRow(path.name, None, key, IDENTIFYING["phone"], loc)
            if wrong:
                continue
            caller, callee = _sides(k, out, owner, True, True)
            try:
                duration = None if k.get("duration_s") is None else int(k["duration_s"])
            except (TypeError, ValueError):
                yield BadRow(path.name, None, "duration_s", "not a whole number of seconds", loc)
                continue
            out.add("calls", loc, "", (ts, caller, callee, duration, "voice", None, None))
        yield from out.batches()


MESSAGE_COLUMNS = ("id", "timestamp", "from", "to", "body", "app", "direction")
#: How forensic tools write that the device's owner sent a message (anything else: she received it).
OUTGOING = ("out", "outgoing", "sent")


def _owner_filled(con: Any, staged: Staged, owner_raw: str) -> Staged:
    """The messages with the device owner's number where the export leaves her side empty.

    Forensic tools write only the other party's number: the sender of a message the owner received,
    the recipient of one she sent. Without her number on the other side the message links nobody to
    the owner and drops out of the network, as it would not in the JSON export (see
    :class:`PhoneJsonAdapter`). The owner's raw number is normalised with the others.
    """
    out = f"lower({trim_sql('direction')}) IN ({', '.join(literal(d) for d in OUTGOING)})"
    owner = literal(owner_raw)
    view = f"{staged.table}_owned"
    blank_from, blank_to = (f"nullif({trim_sql(q)}, '') IS NULL" for q in ('"from"', '"to"'))
    con.execute(
        f"""CREATE TEMP VIEW {view} AS SELECT * REPLACE (
              CASE WHEN {blank_from} AND {out} THEN {owner} ELSE "from" END AS "from",
              CASE WHEN {blank_to} AND NOT coalesce({out}, FALSE) THEN {owner}
                   ELSE "to" END AS "to")
            FROM {staged.table}"""
    )
    return replace(staged, table=view)


CONTACT_COLUMNS = ("id", "name", "phone", "email")


class PhoneCsvAdapter:
    """A forensic tool's CSV export: ``messages.csv`` or ``contacts.csv`` (told apart by the header).

    The CSV has no device section, so the owner's number comes from the ``device_owner`` option.
    """

    name = "phone_csv"
    description = (
        "Phone extraction CSV (messages.csv or contacts.csv; option device_owner) → messages, contacts"
    )
    accepts: ClassVar[Mapping[str, str]] = {**CSV_OPTIONS, **REGION_OPTION, **DEVICE_OWNER}

    def stage(
        self, con: Any, path: Path, *, evidence_id: int, options: Mapping[str, Any]
    ) -> Iterator[Batch | BadRow]:
        region = str(options.get("region") or DEFAULT_REGION)
        owner = device_owner(options, region)
        bad: list[BadRow] = []
        staged = stage_csv(con, path, options=options, bad_rows=bad)
        yield from bad
        if all(c in staged.columns for c in MESSAGE_COLUMNS):
            check_unique_header(staged.header, staged.columns, MESSAGE_COLUMNS, path.name, "messages.csv")
            if owner:
                staged = _owner_filled(con, staged, str(options["device_owner"]))
            spec = TableSpec(
                "messages",
                (
                    Field("ts", "timestamp", "timestamp", required=True),
                    Field("sender", "from", "phone"),
                    Field("recipient", "to", "phone"),
                    Field("body", "body"),
                    Field("app", "app", "lower"),
                    Field("device_owner", const=owner),
                ),
                region=region,
            )
        elif all(c in staged.columns for c in CONTACT_COLUMNS):
            check_unique_header(staged.header, staged.columns, CONTACT_COLUMNS, path.name, "contacts.csv")
            spec = TableSpec(
                "contacts",
                (
                    Field("device_owner", const=owner),
                    Field("name", "name"),
                    Field("phone", "phone", "phone"),
                    Field("email", "email", "email"),
                ),
                region=region,
            )
        else:
            raise ImportDataError(
                "not a phone export: expected the columns of messages.csv "
                f"({','.join(MESSAGE_COLUMNS)}) or contacts.csv ({','.join(CONTACT_COLUMNS)})",
                location=f"{path.name}:1",
            )
        yield from batches(con, spec, staged, evidence_id=evidence_id, file_name=path.name)

    def read(
        self, path: Path, *, evidence_id: int, options: Mapping[str, Any]
    ) -> Iterator[Batch | BadRow | Dropped]:
        return read_through_stage(self, path, evidence_id=evidence_id, options=options)
