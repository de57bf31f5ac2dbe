"""FollowTheMoney entity streams in and out, so Palermo talks to Aleph / OpenAleph and friends.

Import keeps each entity as given (id, schema, caption, properties) in ``ftm_entities`` and lifts
its phones, emails and account numbers into ``identifiers``, where resolution joins them with the
call records and bank statements. FtM ``Payment`` and ``Call`` entities also become rows of
``payments`` and ``calls`` (accounts and names looked up from the entities they point to), so money
and calls known to Aleph join the network like any bank statement or CDR. Export is in
``ftm_export`` (re-exported here as ``export_entities``).

FollowTheMoney cleans every value as the entity is built and drops what its type cannot read. For
dates that would lose a fact of the exhibit without a word (a payment's ``date: 03/04/2015`` read as
no date at all), so a line with a date FtM cannot read is a bad row naming ``properties.<prop>``:
the import fails, or skips the line with ``--skip-bad-rows``. What FtM reads is read as FtM reads it,
partial dates included (``2015``, ``2015-03``): that is how Aleph would hold the same entity, with
one exception: FtM's date parser cuts the seconds off a time written with ``Z``
(``2021-03-04T05:06:07Z`` → ``2021-03-04T05:06``) and ignores the zone after a fraction of three
digits, so full times are first written as FtM means to hold them (UTC, to the second; see
:func:`_precise`). A call's start to the second is evidence (it orders the calls of one night).

Phone numbers are written in E.164 with the import's region before FtM reads them (FtM keeps only
international numbers, so a national one was dropped whatever ``--region`` said). A Payment or Call
whose row in ``payments`` or ``calls`` would lose a party or misread an amount (a number FtM cannot
keep, ``1.234,56``, a negative amount, a duration that is no number) is a bad row naming the
property (:func:`_flow_problems`).

Other values FtM cannot read (a phone without digits, an e-mail without a domain, a property the
schema does not have) are dropped by FtM while the entity is kept; the import counts them per
property (:class:`~palermo.ingest.base.Dropped`, "values dropped: N (phone: 1)" in the summary)
without repeating them, as they may be a victim's number.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from followthemoney import model
from followthemoney.exc import InvalidData
from followthemoney.proxy import EntityProxy
from followthemoney.types import registry
from followthemoney.value import string_list

from palermo.errors import ImportDataError
from palermo.ingest.base import REGION_OPTION, BadRow, Batch, Dropped
from palermo.ingest.ftm_export import export_entities
from palermo.ingest.normalise import DEFAULT_REGION, normalise_account, normalise_email, normalise_phone
from palermo.ingest.phone import IDENT, cols, parse_ts

CHUNK = 50_000
#: FtM properties holding account numbers (typed ``identifier``, so they are picked by name).
ACCOUNT_PROPS = frozenset({"iban", "accountNumber"})
#: What FtM reads as a date, for the bad-row message.
DATE_SHAPES = "FollowTheMoney reads ISO 8601, whole or partial: 2015, 2015-03, 2015-03-04T10:30"


#: A date with a time to the second (what :func:`_precise` rewrites; anything shorter FtM reads right).
_TO_THE_SECOND = re.compile(r"\s*\d{4}-\d{1,2}-\d{1,2}[T ]\d{1,2}:\d{2}:\d{2}")


def _precise(value: str) -> str:
    """A full date-time as FtM holds one when it reads it right: UTC, to the second, no zone.

    FtM's parser drops the seconds before a ``Z`` and the zone after a three-digit fraction; the
    same instant written ``2021-03-04T05:06:07`` it reads whole. Values that are no full time, or
    that Python cannot read, are left for FtM to read (or refuse) as before.
    """
    if not _TO_THE_SECOND.match(value):
        return value
    try:
        stamp = datetime.fromisoformat(value.strip())
    except ValueError:
        return value
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC).replace(tzinfo=None)
    return stamp.replace(microsecond=0).isoformat()


def _international(value: str, region: str) -> str:
    """A phone number in E.164 when Palermo reads it so with the import's region, else as given.

    FtM's phone type keeps only numbers written internationally (``+1 202 …``), so a national
    ``(202) 555-0178`` in an Aleph export was dropped from the Person and left a Call without its
    caller, whatever ``--region`` said. Written as E.164 first, FtM keeps it.
    """
    norm = normalise_phone(value, region)
    return norm if norm is not None and norm.startswith("+") else value


def _prepared(data: dict[str, Any], region: str) -> dict[str, Any]:
    """``data`` with its full times written as :func:`_precise` says and its phone numbers as
    :func:`_international` says, so FtM's cleaning keeps what the exhibit gave."""
    schema = model.get(data["schema"]) if isinstance(data.get("schema"), str) else None
    properties = data.get("properties")
    if schema is None or not isinstance(properties, dict):
        return data
    fixed = dict(properties)
    for name, values in properties.items():
        prop = schema.properties.get(name)
        if prop is None or not isinstance(values, list | str):
            continue
        rewrite: Callable[[str], str]
        if prop.type == registry.date:
            rewrite = _precise
        elif prop.type == registry.phone:
            rewrite = partial(_international, region=region)
        else:
            continue
        fixed[name] = [
            rewrite(v) if isinstance(v, str) else v for v in ([values] if isinstance(values, str) else values)
        ]
    return {**data, "properties": fixed}


#: An FtM amount Palermo reads: 1234.56 or 1,234.56, at most two decimals (as a bank statement's).
_AMOUNT = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:[.][0-9]{1,2})?")
#: Why a Call's number is refused (the value is never quoted: it may be a victim's number).
_NO_PHONE = (
    "cannot read the value as a phone number (FollowTheMoney keeps international numbers; give "
    "--region for national ones); the value is not shown"
)


def _flow_problems(data: dict[str, Any], proxy: EntityProxy) -> Iterator[tuple[str, str]]:
    """``(property, problem)`` for each value of a Payment or Call that its row in ``payments`` or
    ``calls`` would otherwise lose or misread without a word.

    A Call's number that FtM dropped would leave the call without a party; a Payment's amount of
    ``1.234,56`` was read as 1.23 and ``-50`` as 50 paid (the payer and beneficiary already give
    the direction, so a negative amount contradicts them, as on a bank statement's credit row);
    a duration that is no number of seconds was stored as none.
    """
    properties = data.get("properties")
    if not isinstance(properties, dict) or proxy.schema.name not in ("Payment", "Call"):
        return

    def given(name: str) -> list[str]:
        return [v.strip() for v in string_list(properties.get(name), sanitize=True) if v.strip()]

    if proxy.schema.name == "Call":
        for name in ("callerNumber", "receiverNumber"):
            if given(name) and not proxy.get(name):
                yield name, _NO_PHONE
        for value in given("duration"):
            if not re.fullmatch(r"[0-9]+(?:[.][0-9]+)?", value):
                yield "duration", f"cannot read {value[:40]} as a number of seconds"
        return
    for value in given("amount"):
        if not _AMOUNT.fullmatch(value):
            yield "amount", f"cannot read {value[:40]} as an amount (1234.56 or 1,234.56)"
        elif value.startswith("-"):
            yield (
                "amount",
                (
                    f"negative amount {value[:40]}: the payer and beneficiary give the direction, "
                    "and the sign says the opposite"
                ),
            )


def _dropped(data: dict[str, Any], proxy: EntityProxy) -> Counter[str]:
    """Per property, the values of the entity as given that building it dropped without a word.

    A property the schema does not have (or only holds the other end of, a stub) loses all its
    values; a value its type cleans to nothing, or that did not make it into the entity (FtM caps a
    property's total size), is lost too. Dates are not counted here: they make the line a bad row.
    """
    lost: Counter[str] = Counter()
    properties = data.get("properties")
    if not isinstance(properties, dict):
        return lost
    for name, values in properties.items():
        given = [v for v in string_list(values, sanitize=True) if v.strip()]
        prop = proxy.schema.properties.get(name)
        if prop is None or prop.stub:
            lost[str(name)] += len(given)
            continue
        if prop.type == registry.date:
            continue
        kept = set(proxy.get(prop, quiet=True))
        for value in given:
            cleaned = prop.type.clean(value, format=prop.format, proxy=proxy)
            if cleaned is None or cleaned not in kept:
                lost[name] += 1
    return +lost


def _identifiers(proxy: EntityProxy, eid: int, loc: str, region: str) -> Iterator[tuple[Any, ...]]:
    name = proxy.caption if proxy.schema.is_a("LegalEntity") or proxy.schema.name == "BankAccount" else None
    for n, (prop, value) in enumerate(proxy.itervalues()):
        if prop.type.name == "phone":
            kind, norm = "phone", normalise_phone(value, region)
        elif prop.type.name == "email":
            kind, norm = "email", normalise_email(value)
        elif prop.name in ACCOUNT_PROPS:
            kind, norm = "account", normalise_account(value)
        else:
            continue
        if norm:
            yield (eid, loc, f"{eid}:{loc}:{prop.name}{n}", kind, value, norm, name)


def _unreadable_dates(data: dict[str, Any], proxy: EntityProxy) -> Iterator[tuple[str, str]]:
    """``(property, value)`` for each date of the entity as given that FtM could not read.

    The test is FtM's own (the property's type cleans the value to nothing), so a line is refused
    exactly when building the entity dropped one of its dates; blank values are no dates to lose.
    """
    properties = data.get("properties")
    if not isinstance(properties, dict):
        return
    for name, values in properties.items():
        prop = proxy.schema.properties.get(name)
        if prop is None or prop.stub or prop.type != registry.date:
            continue
        for value in string_list(values, sanitize=True):
            if value.strip() and prop.type.clean(value, format=prop.format, proxy=proxy) is None:
                yield name, value


def _when(proxy: EntityProxy) -> datetime | None:
    """The first full or partial FtM date of a Payment or Call (``2025-03`` → 1 March)."""
    for value in proxy.get("date") + proxy.get("startDate"):
        for candidate in (value, f"{value}-01", f"{value}-01-01"):
            stamp = parse_ts(candidate)
            if stamp is not None:
                return stamp
    return None


def _amount(proxy: EntityProxy) -> Decimal | None:
    """The first amount (its shape checked by :func:`_flow_problems`)."""
    for value in proxy.get("amount"):
        try:
            return abs(Decimal(str(value).strip().replace(",", ""))).quantize(Decimal("0.01"))
        except InvalidOperation:
            continue
    return None


class _Flows:
    """Payments and calls among the entities of one stream, resolved once the whole stream is read."""

    def __init__(self, evidence_id: int, region: str) -> None:
        self.eid, self.region = evidence_id, region
        self.captions: dict[str, str] = {}
        self.accounts: dict[str, str] = {}
        self.pending: list[tuple[str, EntityProxy]] = []

    def see(self, proxy: EntityProxy, loc: str) -> None:
        assert proxy.id is not None
        self.captions[proxy.id] = proxy.caption
        if proxy.schema.name == "BankAccount":
            numbers = proxy.get("iban") + proxy.get("accountNumber")
            account = normalise_account(numbers[0]) if numbers else None
            if account:
                self.accounts[proxy.id] = account
        if proxy.schema.name in ("Payment", "Call"):
            self.pending.append((loc, proxy))

    def _first(self, proxy: EntityProxy, prop: str, table: dict[str, str]) -> str | None:
        return next((table[ref] for ref in proxy.get(prop) if ref in table), None)

    def batches(self) -> Iterator[Batch]:
        payments, calls = [], []
        for loc, p in self.pending:
            if p.schema.name == "Payment":
                stmt = f"{self.eid}:{loc}:payment"
                payments.append(
                    (
                        self.eid,
                        loc,
                        stmt,
                        _when(p),
                        self._first(p, "payerAccount", self.accounts),
                        self._first(p, "payer", self.captions),
                        self._first(p, "beneficiaryAccount", self.accounts),
                        self._first(p, "beneficiary", self.captions),
                        _amount(p),
                        p.first("currency"),
                        None,
                        p.first("purpose") or p.first("description"),
                        None,
                    )
                )
            else:
                duration = p.first("duration")
                seconds = (
                    int(float(duration)) if duration and duration.replace(".", "", 1).isdigit() else None
                )
                calls.append(
                    (
                        self.eid,
                        loc,
                        f"{self.eid}:{loc}:call",
                        _when(p),
                        normalise_phone(p.first("callerNumber"), self.region),
                        normalise_phone(p.first("receiverNumber"), self.region),
                        seconds,
                        "voice",
                        None,
                        None,
                    )
                )
        if payments:
            yield Batch("payments", cols("payments"), payments)
        if calls:
            yield Batch("calls", cols("calls"), calls)


class FtmAdapter:
    """FollowTheMoney JSON lines (``{"id", "schema", "properties"}`` per line), as Aleph exports them."""

    name = "ftm"
    description = "FollowTheMoney entity stream (JSON lines, Aleph/OpenAleph) → ftm_entities + identifiers"
    accepts: ClassVar[Mapping[str, str]] = dict(REGION_OPTION)

    def read(
        self, path: Path, *, evidence_id: int, options: Mapping[str, Any]
    ) -> Iterator[Batch | BadRow | Dropped]:
        region = str(options.get("region") or DEFAULT_REGION)
        flows = _Flows(evidence_id, region)
        entities: list[tuple[Any, ...]] = []
        idents: list[tuple[Any, ...]] = []
        lost: Counter[str] = Counter()
        try:
            with path.open(encoding="utf-8-sig") as fh:  # a byte-order mark is not JSON
                for line, text in enumerate(fh, start=1):
                    if not text.strip():
                        continue
                    loc = f"jsonl:line:{line}"
                    try:
                        data = json.loads(text)
                        if not isinstance(data, dict):
                            raise InvalidData("not a JSON object")
                        data = _prepared(data, region)
                        proxy = model.get_proxy(data, cleaned=False)
                        if not proxy.id:
                            raise InvalidData("entity has no id")
                    except json.JSONDecodeError as exc:
                        yield BadRow(path.name, line, "(line)", f"not valid JSON: {exc.msg}", loc)
                        continue
                    except InvalidData as exc:
                        yield BadRow(path.name, line, "schema", f"not a FollowTheMoney entity: {exc}", loc)
                        continue
                    dates = list(_unreadable_dates(data, proxy))
                    for prop, value in dates:
                        problem = f"cannot read {value[:40]} as a date ({DATE_SHAPES})"
                        yield BadRow(path.name, line, f"properties.{prop}", problem, loc)
                    if dates:
                        continue
                    flow = list(_flow_problems(data, proxy))
                    for prop, problem in flow:
                        yield BadRow(path.name, line, f"properties.{prop}", problem, loc)
                    if flow:
                        continue
                    lost.update(_dropped(data, proxy))
                    entities.append(
                        (
                            evidence_id,
                            loc,
                            f"{evidence_id}:{loc}",
                            proxy.id,
                            proxy.schema.name,
                            proxy.caption,
                            json.dumps(proxy.to_dict()["properties"], ensure_ascii=False),
                        )
                    )
                    if proxy.schema.name != "Call":  # its numbers are the caller/callee of ``calls``
                        idents.extend(_identifiers(proxy, evidence_id, loc, region))
                    flows.see(proxy, loc)
                    if len(entities) >= CHUNK:
                        yield Batch("ftm_entities", cols("ftm_entities"), entities)
                        yield Batch("identifiers", IDENT, idents)
                        entities, idents = [], []
        except UnicodeDecodeError as exc:
            raise ImportDataError("not UTF-8 text", location=path.name) from exc
        yield Batch("ftm_entities", cols("ftm_entities"), entities)
        yield Batch("identifiers", IDENT, idents)
        yield from flows.batches()
        for prop, count in sorted(lost.items()):
            yield Dropped(f"properties.{prop}", count)


__all__ = ["FtmAdapter", "export_entities"]
