"""FollowTheMoney entity streams in and out, so Palermo talks to Aleph / OpenAleph and friends.

Import keeps each entity (id, schema, caption, properties) in ``ftm_entities`` as FollowTheMoney
holds it once read, not byte for byte as given: full times are written in UTC and national phone
numbers in E.164 before FtM reads them (below), because FtM would otherwise cut or drop them; an
export therefore gives these values in that form. ``identifiers.raw`` keeps each phone as the
exhibit wrote it. Import lifts the phones, emails and account numbers into ``identifiers``, where
resolution joins them with the
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
(``2021-03-04T05:06:07Z`` → ``2021-03-04T05:06``), the minutes off ``05:06Z``, and ignores the zone
after a fraction of three digits or after a time to the minute, so full times are first written as
FtM means to hold them (UTC, to the second or minute given; see :func:`_precise`). A call's start to
the second is evidence (it orders the calls of one night). A time whose offset moves it out of the
calendar (``0001-01-01T00:30+01:00``) is a bad row.

Phone numbers are written in E.164 with the import's region before FtM reads them (FtM keeps only
international numbers, so a national one was dropped whatever ``--region`` said). A Call's caller
and callee in ``calls`` are read from the entity as given, as the CDR adapter reads them: a
placeholder (``withheld``) is no number, possible-but-invalid numbers and short codes are kept
(FtM's own phone type drops them from the entity, which is counted as dropped). A Payment or Call
whose row in ``payments`` or ``calls`` would lose a party or misread an amount (a number with
nothing to read, ``1.234,56``, a negative amount, a duration that is no number) is a bad row naming
the property (:func:`_flow_problems`); messages describe a value's shape, never the value.

Other values FtM cannot read (a phone without digits, an e-mail without a domain, a property the
schema does not have) are dropped by FtM while the entity is kept; the import counts them per
property (:class:`~palermo.ingest.base.Dropped`, "values dropped: N (phone: 1)" in the summary)
without repeating them, as they may be a victim's number; properties the schema does not have are
counted together as ``properties.(not in schema)``, as their names are the file's and may be
anything (a name and a number written as a key).
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
from palermo.ingest.normalise import (
    DEFAULT_REGION,
    normalise_account,
    normalise_email,
    normalise_phone,
    says_none,
    shape,
)
from palermo.ingest.phone import IDENT, cols, parse_ts
from palermo.ingest.tabular import IDENTIFYING

CHUNK = 50_000
#: FtM properties holding account numbers (typed ``identifier``, so they are picked by name).
ACCOUNT_PROPS = frozenset({"iban", "accountNumber"})
#: What FtM reads as a date, for the bad-row message.
DATE_SHAPES = "FollowTheMoney reads ISO 8601, whole or partial: 2015, 2015-03, 2015-03-04T10:30"
#: Why a time is refused that Python reads but whose UTC offset takes it out of the years 1-9999.
OUT_OF_RANGE = "cannot read the value as a date: its UTC offset moves it out of the years 1 to 9999"


#: A date with a time to the minute or second, and whatever follows (a fraction, a zone): what
#: :func:`_precise` rewrites when there are seconds or a zone; anything shorter FtM reads right.
_TIME = re.compile(r"\s*\d{4}-\d{1,2}-\d{1,2}[T ]\d{1,2}:\d{2}(?P<seconds>:\d{2})?(?P<rest>\S*)\s*")


class _OutOfRange(ValueError):
    """A time whose UTC offset moves it out of the years a date can hold (``0001-01-01T00:30+01:00``)."""


def _precise(value: str) -> str:
    """A full date-time as FtM holds one when it reads it right: UTC, no zone, to the second or to
    the minute as it was given.

    FtM's parser drops the seconds before a ``Z``, the zone after a three-digit fraction, and the
    minutes of ``05:06Z``; a time to the minute with an offset (``05:06+02:00``) it keeps as local
    time while ``05:06:30+02:00`` becomes UTC. The same instant written without a zone it reads
    whole. Values that are no full time, or that Python cannot read, are left for FtM to read (or
    refuse) as before; one that the offset moves out of range raises :class:`_OutOfRange`.
    """
    found = _TIME.fullmatch(value)
    if found is None or not (found["seconds"] or found["rest"]):
        return value
    try:
        stamp = datetime.fromisoformat(value.strip())
    except ValueError:
        return value
    if stamp.tzinfo is not None:
        try:
            stamp = stamp.astimezone(UTC).replace(tzinfo=None)
        except OverflowError as exc:
            raise _OutOfRange(value) from exc
    return stamp.replace(microsecond=0).isoformat(timespec="seconds" if found["seconds"] else "minutes")


def _international(value: str, region: str) -> str:
    """A phone number in E.164 when Palermo reads it so with the import's region, else as given.

    FtM's phone type keeps only numbers written internationally (``+1 202 …``), so a national
    ``(202) 555-0178`` in an Aleph export was dropped from the Person and left a Call without its
    caller, whatever ``--region`` said. Written as E.164 first, FtM keeps it.
    """
    norm = normalise_phone(value, region)
    return norm if norm is not None and norm.startswith("+") else value


class _Prepared:
    """An entity's data as FtM is given it, with what the rewriting found on the way."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        #: Date properties with a time the offset moves out of range (a bad row each).
        self.out_of_range: list[str] = []
        #: Each rewritten phone (E.164) → the number as the exhibit wrote it, for ``identifiers.raw``.
        self.given: dict[str, str] = {}


def _prepared(data: dict[str, Any], region: str) -> _Prepared:
    """``data`` with its full times written as :func:`_precise` says and its phone numbers as
    :func:`_international` says, so FtM's cleaning keeps what the exhibit gave."""
    out = _Prepared(data)
    schema = model.get(data["schema"]) if isinstance(data.get("schema"), str) else None
    properties = data.get("properties")
    if schema is None or not isinstance(properties, dict):
        return out
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
        written = []
        for value in [values] if isinstance(values, str) else values:
            try:
                new = rewrite(value) if isinstance(value, str) else value
            except _OutOfRange:
                out.out_of_range.append(name)
                new = value
            if prop.type == registry.phone and new != value:
                out.given.setdefault(new, value)
            written.append(new)
        fixed[name] = written
    out.data = {**data, "properties": fixed}
    return out


#: An FtM amount Palermo reads: 1234.56 or 1,234.56, at most two decimals (as a bank statement's).
_AMOUNT = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:[.][0-9]{1,2})?")
#: Why a Call's number is refused (the value is never quoted: it may be a victim's number).
_NO_PHONE = IDENTIFYING["phone"]


def _given(data: dict[str, Any], name: str) -> list[str]:
    """The values of property ``name`` as the exhibit gave them, blanks and placeholders left out
    (``withheld`` is no number, as in every other adapter: see ``normalise.NO_VALUE``)."""
    properties = data.get("properties")
    if not isinstance(properties, dict):
        return []
    values = (v.strip() for v in string_list(properties.get(name), sanitize=True))
    return [v for v in values if v and not says_none(v)]


def _flow_problems(data: dict[str, Any], proxy: EntityProxy, region: str) -> Iterator[tuple[str, str]]:
    """``(property, problem)`` for each value of a Payment or Call (``data`` as the exhibit gave
    it) that its row in ``payments`` or ``calls`` would otherwise lose or misread without a word.

    A Call's number is read as the CDR adapter reads one (:func:`normalise_phone` with the region,
    possible numbers and short codes kept), so only a number with nothing to read in it would
    leave the call without a party; a Payment's amount of ``1.234,56`` was read as 1.23 and ``-50``
    as 50 paid (the payer and beneficiary already give the direction, so a negative amount
    contradicts them, as on a bank statement's credit row; ``-0`` is no amount either way); a
    duration that is no number of seconds was stored as none. Values are described by their shape
    only: they may be a victim's number typed in the wrong property.
    """
    if proxy.schema.name == "Call":
        for name in ("callerNumber", "receiverNumber"):
            if any(normalise_phone(v, region) is None for v in _given(data, name)):
                yield name, _NO_PHONE
        for value in _given(data, "duration"):
            if not re.fullmatch(r"[0-9]+(?:[.][0-9]+)?", value):
                yield "duration", f"cannot read the value ({shape(value)}) as a number of seconds"
    elif proxy.schema.name == "Payment":
        for value in _given(data, "amount"):
            if not _AMOUNT.fullmatch(value):
                yield "amount", f"cannot read the value ({shape(value)}) as an amount (1234.56 or 1,234.56)"
            elif value.startswith("-") and re.search("[1-9]", value):
                yield (
                    "amount",
                    "negative amount: the payer and beneficiary give the direction, and the sign says "
                    "the opposite",
                )


#: Where values of properties the schema does not have are counted: the name is the file's, and
#: may be anything (``Maria Rossi +39…`` as a key), so it is never repeated.
NOT_IN_SCHEMA = "(not in schema)"


def _dropped(data: dict[str, Any], proxy: EntityProxy) -> Counter[str]:
    """Per property, the values of the entity as given that building it dropped without a word.

    A property the schema does not have (or only holds the other end of, a stub) loses all its
    values; a value its type cleans to nothing, or that did not make it into the entity (FtM caps a
    property's total size), is lost too. Dates are not counted here: they make the line a bad row;
    nor are placeholders in phone and e-mail properties (``withheld`` is no value to lose). A
    property whose values were all kept as given is not cleaned a second time (``phonenumbers``
    is the slow part of an import).
    """
    lost: Counter[str] = Counter()
    properties = data.get("properties")
    if not isinstance(properties, dict):
        return lost
    for name, values in properties.items():
        given = [v for v in string_list(values, sanitize=True) if v.strip()]
        prop = proxy.schema.properties.get(name) if isinstance(name, str) else None
        if prop is None:
            lost[NOT_IN_SCHEMA] += len(given)
            continue
        if prop.stub:
            lost[prop.name] += len(given)
            continue
        if prop.type == registry.date:
            continue
        if prop.type in (registry.phone, registry.email):
            given = [v for v in given if not says_none(v)]
        kept = set(proxy.get(prop, quiet=True))
        if kept.issuperset(given):
            continue
        for value in given:
            cleaned = prop.type.clean(value, format=prop.format, proxy=proxy)
            if cleaned is None or cleaned not in kept:
                lost[name] += 1
    return +lost


def _identifiers(
    proxy: EntityProxy, eid: int, loc: str, region: str, given: Mapping[str, str]
) -> Iterator[tuple[Any, ...]]:
    """The entity's phones, e-mails and accounts for ``identifiers``; ``raw`` is the value as the
    exhibit wrote it (``given`` maps a phone written in E.164 for FtM back to it)."""
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
            yield (eid, loc, f"{eid}:{loc}:{prop.name}{n}", kind, given.get(value, value), norm, name)


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
        self.pending: list[tuple[str, EntityProxy, tuple[str | None, ...]]] = []

    def see(self, proxy: EntityProxy, loc: str, data: dict[str, Any]) -> None:
        """Note an entity; ``data`` is the entity as the exhibit gave it (a Call's numbers are
        read from there, as a CDR's are, not from what FtM's phone type kept)."""
        assert proxy.id is not None
        self.captions[proxy.id] = proxy.caption
        if proxy.schema.name == "BankAccount":
            numbers = proxy.get("iban") + proxy.get("accountNumber")
            account = normalise_account(numbers[0]) if numbers else None
            if account:
                self.accounts[proxy.id] = account
        if proxy.schema.name in ("Payment", "Call"):
            parties = tuple(
                next((normalise_phone(v, self.region) for v in _given(data, name)), None)
                for name in ("callerNumber", "receiverNumber")
            )
            self.pending.append((loc, proxy, parties))

    def _first(self, proxy: EntityProxy, prop: str, table: dict[str, str]) -> str | None:
        return next((table[ref] for ref in proxy.get(prop) if ref in table), None)

    def batches(self) -> Iterator[Batch]:
        payments, calls = [], []
        for loc, p, (caller, callee) in self.pending:
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
                        caller,
                        callee,
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
                        given = data
                        prepared = _prepared(data, region)
                        data = prepared.data
                        proxy = model.get_proxy(data, cleaned=False)
                        if not proxy.id:
                            raise InvalidData("entity has no id")
                    except json.JSONDecodeError as exc:
                        yield BadRow(path.name, line, "(line)", f"not valid JSON: {exc.msg}", loc)
                        continue
                    except InvalidData as exc:
                        yield BadRow(path.name, line, "schema", f"not a FollowTheMoney entity: {exc}", loc)
                        continue
                    dates = [(prop, OUT_OF_RANGE) for prop in dict.fromkeys(prepared.out_of_range)]
                    dates += [
                        (prop, f"cannot read the value ({shape(value)}) as a date ({DATE_SHAPES})")
                        for prop, value in _unreadable_dates(data, proxy)
                        if prop not in prepared.out_of_range
                    ]
                    for prop, problem in dates:
                        yield BadRow(path.name, line, f"properties.{prop}", problem, loc)
                    if dates:
                        continue
                    flow = list(_flow_problems(given, proxy, region))
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
                        idents.extend(_identifiers(proxy, evidence_id, loc, region, prepared.given))
                    flows.see(proxy, loc, given)
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
