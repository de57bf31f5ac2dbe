"""Writing a case's entities as a FollowTheMoney stream, for Aleph / OpenAleph and partners.

Imported FtM entities come out unchanged; payments, calls, contacts, messages and ads are added as FtM
Payment, BankAccount, LegalEntity, Call, Person, Message (sender and recipient as LegalEntity) and
Article entities, each carrying ``evidence:<id>:<locator>`` (in ``recordId`` where the schema has one, in
``notes`` for Person and Article, which have none) so a partner agency can ask for exactly the exhibit
row behind it. FtM marks Message's ``sender`` and ``bodyText`` as required; a message with no sender
number, or with no body, is written without them (Aleph imports such entities; a strict validator
would refuse them).
Ids are derived from the case and statement ids, so exporting twice gives the same entities.

The caller decides who may be named (this layer knows nothing of the analysis): ``mask(kind, value)``
returns None for a value that may be written, or a pseudonymous stand-in. Masked names become the
stand-in; masked phones, e-mails and accounts are left out (an account's entity id is derived from the
stand-in, never from the number, so the id cannot be reversed by trying numbers); ``kind`` ``"text"``
gets free text (purposes, notes, message bodies, apps, ads, their sites and cities) with the stand-ins
already substituted. Payments,
calls and messages keep their structure either way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from followthemoney import model
from followthemoney.proxy import EntityProxy
from followthemoney.types import registry

from palermo.ingest.marking import ExportMarking, is_marking
from palermo.ingest.schema import stmt_order_sql

#: ``mask(kind, value)`` with kind in name | person | phone | email | account | text: None to keep, else
#: the stand-in. ``person`` is the name of an imported Person, which the caller may withhold even when
#: no resolved entity has it (deny by default: an unknown person may be a victim).
Mask = Callable[[str, str], "str | None"]

#: FtM property type name → mask kind (``iban`` only in FtM versions that still have the type).
_PROPERTY_KINDS = {"name": "name", "phone": "phone", "email": "email", "iban": "account"}


#: Statements in exhibit order, numbers read as numbers (``7:line:9`` before ``7:line:10``), so the
#: stream reads like the exhibits and the first of several fragments of one entity is the first one
#: the exhibit gave; ``stmt_id`` last breaks the ties the key leaves (``line:09`` and ``line:9``).
_IN_ORDER = f"evidence_id, {stmt_order_sql('stmt_id')}, stmt_id"


#: How a withheld message or ad says so (the web timeline's words).
DETAILS_WITHHELD = "(details withheld)"
#: A message's side with no number, or an ad with no contact: nobody known, so nothing quoted.
UNKNOWN_PARTY = "an unknown party"


def _keep(_kind: str, _value: str) -> str | None:
    return None


def _masked(mask: Mask, kind: str, value: str | None) -> tuple[str | None, bool]:
    """``(value to write, was masked)``; identifiers that are masked are dropped, names replaced."""
    if not value:
        return value, False
    stand_in = mask(kind, value)
    if stand_in is None:
        return value, False
    return (stand_in if kind in ("name", "person", "text") else None), True


def _id(*parts: Any) -> str:
    return "palermo-" + hashlib.sha1("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:24]


def _party(case_ref: str, name: str | None, account: str | None, mask: Mask) -> EntityProxy | None:
    """A LegalEntity for a payer/payee, keyed by account (else by name) so repeats collapse."""
    if not name and not account:
        return None
    shown_name, name_masked = _masked(mask, "name", name)
    account_stand_in = mask("account", account) if account else None
    if name and not name_masked and account_stand_in is not None:
        stand_in = mask("name", name)
        shown_name = stand_in or shown_name  # the holder of a masked account is masked too
        name_masked = stand_in is not None
    key = account_stand_in or account if account else shown_name
    entity = model.make_entity("LegalEntity")
    entity.id = _id(case_ref, "party", key)
    entity.add("name", shown_name or account_stand_in or account)
    return entity


def _account(case_ref: str, account: str, mask: Mask) -> EntityProxy:
    stand_in = mask("account", account)
    acct = model.make_entity("BankAccount")
    acct.id = _id(case_ref, "account", stand_in or account)
    if stand_in is None:
        acct.add("accountNumber", account)
    else:
        acct.add("notes", f"account of {stand_in} (withheld)")
    return acct


#: What is left of an imported person or organisation whose name is masked: everything else about
#: them (first and last names, birth date, address, passport and id numbers, notes) would name them.
_SAFE_WHEN_MASKED = frozenset({"name", "nationality", "country", "topics"})
#: Entities that only describe somebody (where they live, their papers, who their family and friends
#: are, notes about them): dropped with a masked person.
_PRIVATE_SCHEMATA = (
    "Address",
    "Identification",
    "Family",
    "Associate",
    "Note",
    "Documentation",
    "UnknownLink",
)


def _mask_proxy(proxy: EntityProxy, mask: Mask) -> tuple[EntityProxy, bool]:
    """An imported entity with masked names replaced, masked identifiers dropped, text scrubbed;
    and whether it is a person or organisation whose name was masked (then only
    :data:`_SAFE_WHEN_MASKED` properties are kept: deny by default)."""
    data = proxy.to_dict()
    props: dict[str, list[str]] = {}
    named_masked = False
    for name, values in data.get("properties", {}).items():
        prop = proxy.schema.get(name)
        kind = _PROPERTY_KINDS.get(prop.type.name) if prop is not None else None
        if kind is None and name in ("accountNumber", "bankAccountNumber"):
            kind = "account"
        if kind is None and prop is not None and prop.type in (registry.string, registry.text):
            kind = "text"
        if kind == "name" and proxy.schema.is_a("Person"):
            kind = "person"
        kept = []
        for value in values:
            shown, masked = _masked(mask, kind, value) if kind else (value, False)
            named_masked = named_masked or (masked and kind in ("name", "person"))
            if shown:
                kept.append(shown)
        if kept:
            props[name] = kept
    masked_party = named_masked and proxy.schema.is_a("LegalEntity")
    if masked_party:
        props = {k: v for k, v in props.items() if k in _SAFE_WHEN_MASKED}
    data["properties"] = props
    return model.get_proxy(data, cleaned=False), masked_party


def _describes(proxy: EntityProxy, masked: set[str], referenced: set[str]) -> bool:
    """An address or identity document of a masked person (it points at her, or she at it)."""
    if not any(proxy.schema.is_a(name) for name in _PRIVATE_SCHEMATA):
        return False
    return proxy.id in referenced or any(v in masked for v in proxy.get_type_values(registry.entity))


def _statement_entities(
    con: Any, case_ref: str, mask: Mask = _keep, *, withhold: bool = False
) -> Iterator[EntityProxy]:
    """Payment, BankAccount, LegalEntity, Call, Person, Message and Article (ads) entities built from
    the case's statements. ``withhold``: see :func:`export_entities`."""
    for row in con.execute(
        "SELECT stmt_id, evidence_id, locator, ts, from_account, from_name, to_account, to_name, amount, "
        "currency, "
        f"description FROM payments WHERE case_ref = ? ORDER BY {_IN_ORDER}",
        [case_ref],
    ).fetchall():
        stmt, eid, loc, ts, fa, fn, ta, tn, amount, currency, desc = row
        pay = model.make_entity("Payment")
        pay.id = _id(case_ref, stmt)
        for side, account, name in (("payer", fa, fn), ("beneficiary", ta, tn)):
            party = _party(case_ref, name, account, mask)
            if party is not None:
                pay.add(side, party.id)
                yield party
            if account:
                acct = _account(case_ref, account, mask)
                yield acct
                pay.add(f"{side}Account", acct.id)
        pay.add("amount", str(amount))
        pay.add("currency", currency)
        pay.add("date", ts.isoformat() if ts else None)
        pay.add("purpose", _masked(mask, "text", desc)[0])
        pay.add("recordId", f"evidence:{eid}:{loc}")
        yield pay
    for stmt, eid, loc, ts, caller, callee, duration in con.execute(
        "SELECT stmt_id, evidence_id, locator, ts, caller, callee, duration_s FROM calls WHERE case_ref = ? "
        f"ORDER BY {_IN_ORDER}",
        [case_ref],
    ).fetchall():
        call = model.make_entity("Call")
        call.id = _id(case_ref, stmt)
        call.add("callerNumber", _masked(mask, "phone", caller)[0])
        call.add("receiverNumber", _masked(mask, "phone", callee)[0])
        call.add("date", ts.isoformat() if ts else None)
        call.add("duration", None if duration is None else str(duration))
        call.add("recordId", f"evidence:{eid}:{loc}")
        yield call
    for stmt, eid, loc, name, phone, email in con.execute(
        "SELECT stmt_id, evidence_id, locator, name, phone, email FROM contacts WHERE case_ref = ? "
        f"ORDER BY {_IN_ORDER}",
        [case_ref],
    ).fetchall():
        person = model.make_entity("Person")
        person.id = _id(case_ref, stmt)
        shown_name, name_masked = _masked(mask, "name", name)
        shown_phone, phone_masked = _masked(mask, "phone", phone)
        shown_email, email_masked = _masked(mask, "email", email)
        if (phone_masked or email_masked) and name and not name_masked:
            shown_name = mask("phone" if phone_masked else "email", phone or email or "") or shown_name
        person.add("name", shown_name or shown_phone or shown_email or _stand_in(mask, phone, email))
        person.add("phone", shown_phone)
        person.add("email", shown_email)
        person.add("notes", f"recordId evidence:{eid}:{loc}")  # Person has no recordId property in FtM
        yield person
    for stmt, eid, loc, ts, sender, recipient, body, app in con.execute(
        "SELECT stmt_id, evidence_id, locator, ts, sender, recipient, body, app FROM messages "
        f"WHERE case_ref = ? ORDER BY {_IN_ORDER}",
        [case_ref],
    ).fetchall():
        message = model.make_entity("Message")
        message.id = _id(case_ref, stmt)
        involved: list[str] = []  # who the message is between, as the export names them
        private = False  # a masked or unknown party: the body may describe her
        for prop, number in (("sender", sender), ("recipients", recipient)):
            party = _phone_party(case_ref, number, mask, (stmt, prop))
            if party is None:
                involved.append(UNKNOWN_PARTY)
                private = True
                continue
            involved.append(str(party.first("name")))
            private = private or mask("phone", number or "") is not None
            message.add(prop, party.id)
            yield party
        if withhold and private and body:
            message.add("bodyText", f"message involving {' → '.join(involved)} {DETAILS_WITHHELD}")
        else:
            message.add("bodyText", _masked(mask, "text", body)[0])
        message.add("date", ts.isoformat() if ts else None)
        message.add("generator", _masked(mask, "text", app)[0])  # the messaging app that carried it
        message.add("recordId", f"evidence:{eid}:{loc}")
        yield message
    for row in con.execute(
        "SELECT stmt_id, evidence_id, locator, ts, site, city, title, body, phone, email, price, currency, "
        f"age_claimed FROM ads WHERE case_ref = ? ORDER BY {_IN_ORDER}",
        [case_ref],
    ).fetchall():
        yield _ad(case_ref, row, mask, withhold)


def _phone_party(case_ref: str, number: str | None, mask: Mask, place: tuple[str, str]) -> EntityProxy | None:
    """The LegalEntity behind a message's number (FtM's Message needs a sender entity).

    A number that may be shown names and keys its entity, so one person's messages meet in one
    entity. A withheld number is named by its stand-in and keyed by the message and side (``place``):
    never by the number (an id could be reversed by trying numbers), nor by the stand-in, which is
    the same ``[number withheld]`` for every unknown number and would join strangers into one hub;
    a possible victim's messages still share her pseudonym as their name."""
    if not number:
        return None
    stand_in = mask("phone", number)
    party = model.make_entity("LegalEntity")
    party.id = _id(case_ref, "phone", number) if stand_in is None else _id(case_ref, "withheld", *place)
    party.add("name", stand_in or number)
    if stand_in is None:
        party.add("phone", number, cleaned=True)  # synthetic/reserved numbers fail FtM's validation
    return party


def _ad(case_ref: str, row: tuple[Any, ...], mask: Mask, withhold: bool = False) -> EntityProxy:
    """An online ad as an FtM ``Article`` (FtM has no schema for ads; an Article is a published text
    with a title, a publisher and a date, which an ad is). Its contact number and address are kept
    only when they may be shown; a withheld one is named by its stand-in in ``notes`` (a possible
    victim's pseudonym links her ads together without her number). With ``withhold``, the title and
    text of an ad whose contact is withheld, or that gives none, are left out: an ad describes the
    woman it sells (her body, her age, where she is)."""
    stmt, eid, loc, ts, site, city, title, body, phone, email, price, currency, age = row
    ad = model.make_entity("Article")
    ad.id = _id(case_ref, stmt)
    stand_ins: list[str] = []
    for prop, kind, value in (("phoneMentioned", "phone", phone), ("emailMentioned", "email", email)):
        shown, withheld = _masked(mask, kind, value)
        ad.add(prop, shown, cleaned=True)
        if withheld and value:
            stand_in = str(mask(kind, value))
            if stand_in not in stand_ins:
                stand_ins.append(stand_in)
            ad.add("notes", f"{kind}: {stand_in}")
    if withhold and (stand_ins or not (phone or email)):
        if title or body:
            ad.add("title", f"ad involving {' and '.join(stand_ins) or UNKNOWN_PARTY} {DETAILS_WITHHELD}")
    else:
        ad.add("title", _masked(mask, "text", title)[0])
        ad.add("bodyText", _masked(mask, "text", body)[0])
    ad.add("publisher", _masked(mask, "text", site)[0])  # a site's address can hold her number
    ad.add("publishedAt", ts.isoformat() if ts else None)
    ad.add("address", _masked(mask, "text", city)[0])
    facts = [f"price {price:g} {currency or ''}".strip() if price is not None else None]
    facts.append(f"claimed age {age}" if age is not None else None)
    ad.add("summary", "; ".join(f for f in facts if f) or None)
    ad.add("notes", f"recordId evidence:{eid}:{loc}")  # Article has no recordId property in FtM
    return ad


def _stand_in(mask: Mask, *values: str | None) -> str | None:
    for value in values:
        if value:
            stand_in = mask("phone" if "@" not in value else "email", value)
            if stand_in:
                return stand_in
    return None


def export_entities(
    con: Any,
    case_ref: str,
    out: Path | str,
    *,
    statements: bool = True,
    mask: Mask | None = None,
    marking: ExportMarking | None = None,
    withhold_details: bool = True,
) -> int:
    """Write the case's entities to ``out`` as FtM JSON lines; return how many were written.

    Imported FtM entities come out exactly as they went in; with ``statements`` the payments, calls
    and contacts are added as FtM entities too. Entities that repeat (one BankAccount used by many
    payments) are merged by id, as FtM's own aggregators do. ``mask`` (see the module docstring)
    withholds who must not be named; without it everything is written as imported. ``marking``
    opens the stream as a ``Note`` (:mod:`palermo.ingest.marking`; not counted); the marking of an
    earlier export that came in with an imported stream is left out, as it names another recipient.

    ``withhold_details`` (with a ``mask``; the command line's default, off with an audited
    ``--reveal-identities``): the body of a message with a masked or unknown party, and the title and
    text of an ad whose contact is masked or missing, are replaced by ``message involving
    possible victim 3fa2c1 → person 9b1e20 (details withheld)``, as the web timeline shows them. What
    is written to or about a possible victim describes her (where she is, what is done to her),
    whoever's names are scrubbed out of it.
    """
    masker: Mask = mask or _keep
    merged: dict[str, EntityProxy] = {}
    masked: set[str] = set()  # imported people and organisations whose name is withheld
    referenced: set[str] = set()  # the entities those point at (their addresses, their papers)
    for entity_id, schema, props in con.execute(
        f"SELECT entity_id, schema, properties FROM ftm_entities WHERE case_ref = ? ORDER BY {_IN_ORDER}",
        [case_ref],
    ).fetchall():
        if is_marking(entity_id):  # an earlier export's marking names another export and recipient
            continue
        proxy = model.get_proxy(
            {"id": entity_id, "schema": schema, "properties": json.loads(props)}, cleaned=False
        )
        merged[entity_id] = merged[entity_id].merge(proxy) if entity_id in merged else proxy
    if mask is not None:  # after merging: a fragment without her name must not keep her birth date
        for entity_id, original in list(merged.items()):
            merged[entity_id], withheld = _mask_proxy(original, mask)
            if withheld:
                masked.add(entity_id)
                referenced.update(original.get_type_values(registry.entity))
    for entity_id in [e for e, proxy in merged.items() if _describes(proxy, masked, referenced)]:
        del merged[entity_id]
    if statements:
        withhold = mask is not None and withhold_details
        for proxy in _statement_entities(con, case_ref, masker, withhold=withhold):
            assert proxy.id is not None
            merged[proxy.id] = merged[proxy.id].merge(proxy) if proxy.id in merged else proxy
    with Path(out).open("w", encoding="utf-8") as fh:
        if marking is not None:
            fh.write(json.dumps(marking.ftm_entity(), ensure_ascii=False, sort_keys=True) + "\n")
        for proxy in merged.values():
            fh.write(json.dumps(proxy.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
    return len(merged)


__all__ = ["Mask", "export_entities"]
