"""Writing a case's entities as a FollowTheMoney stream, for Aleph / OpenAleph and partners.

Imported FtM entities come out unchanged; payments, calls and contacts are added as FtM Payment,
BankAccount, LegalEntity, Call and Person entities, each carrying ``evidence:<id>:<locator>`` (in
``recordId`` where the schema has one, in ``notes`` for Person, which has none) so a partner agency can ask
for exactly the exhibit row behind it.
Ids are derived from the case and statement ids, so exporting twice gives the same entities.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from followthemoney import model
from followthemoney.proxy import EntityProxy


def _id(*parts: Any) -> str:
    return "palermo-" + hashlib.sha1("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:24]


def _party(case_ref: str, name: str | None, account: str | None) -> EntityProxy | None:
    """A LegalEntity for a payer/payee, keyed by account (else by name) so repeats collapse."""
    if not name and not account:
        return None
    entity = model.make_entity("LegalEntity")
    entity.id = _id(case_ref, "party", account or name)
    entity.add("name", name or account)
    return entity


def _statement_entities(con: Any, case_ref: str) -> Iterator[EntityProxy]:
    """Payment, BankAccount, LegalEntity, Call and Person entities built from the case's statements."""
    for row in con.execute(
        "SELECT stmt_id, evidence_id, locator, ts, from_account, from_name, to_account, to_name, amount, "
        "currency, "
        "description FROM payments WHERE case_ref = ? ORDER BY stmt_id",
        [case_ref],
    ).fetchall():
        stmt, eid, loc, ts, fa, fn, ta, tn, amount, currency, desc = row
        pay = model.make_entity("Payment")
        pay.id = _id(case_ref, stmt)
        for side, account, name in (("payer", fa, fn), ("beneficiary", ta, tn)):
            party = _party(case_ref, name, account)
            if party is not None:
                pay.add(side, party.id)
                yield party
            if account:
                acct = model.make_entity("BankAccount")
                acct.id = _id(case_ref, "account", account)
                acct.add("accountNumber", account)
                yield acct
                pay.add(f"{side}Account", acct.id)
        pay.add("amount", str(amount))
        pay.add("currency", currency)
        pay.add("date", ts.isoformat() if ts else None)
        pay.add("purpose", desc)
        pay.add("recordId", f"evidence:{eid}:{loc}")
        yield pay
    for stmt, eid, loc, ts, caller, callee, duration in con.execute(
        "SELECT stmt_id, evidence_id, locator, ts, caller, callee, duration_s FROM calls WHERE case_ref = ? "
        "ORDER BY stmt_id",
        [case_ref],
    ).fetchall():
        call = model.make_entity("Call")
        call.id = _id(case_ref, stmt)
        call.add("callerNumber", caller)
        call.add("receiverNumber", callee)
        call.add("date", ts.isoformat() if ts else None)
        call.add("duration", None if duration is None else str(duration))
        call.add("recordId", f"evidence:{eid}:{loc}")
        yield call
    for stmt, eid, loc, name, phone, email in con.execute(
        "SELECT stmt_id, evidence_id, locator, name, phone, email FROM contacts WHERE case_ref = ? "
        "ORDER BY stmt_id",
        [case_ref],
    ).fetchall():
        person = model.make_entity("Person")
        person.id = _id(case_ref, stmt)
        person.add("name", name or phone or email)
        person.add("phone", phone)
        person.add("email", email)
        person.add("notes", f"recordId evidence:{eid}:{loc}")  # Person has no recordId property in FtM
        yield person


def export_entities(con: Any, case_ref: str, out: Path | str, *, statements: bool = True) -> int:
    """Write the case's entities to ``out`` as FtM JSON lines; return how many were written.

    Imported FtM entities come out exactly as they went in; with ``statements`` the payments, calls
    and contacts are added as FtM entities too. Entities that repeat (one BankAccount used by many
    payments) are merged by id, as FtM's own aggregators do.
    """
    merged: dict[str, EntityProxy] = {}
    for entity_id, schema, props in con.execute(
        "SELECT entity_id, schema, properties FROM ftm_entities WHERE case_ref = ? ORDER BY stmt_id",
        [case_ref],
    ).fetchall():
        proxy = model.get_proxy(
            {"id": entity_id, "schema": schema, "properties": json.loads(props)}, cleaned=False
        )
        merged[entity_id] = merged[entity_id].merge(proxy) if entity_id in merged else proxy
    if statements:
        for proxy in _statement_entities(con, case_ref):
            assert proxy.id is not None
            merged[proxy.id] = merged[proxy.id].merge(proxy) if proxy.id in merged else proxy
    with Path(out).open("w", encoding="utf-8") as fh:
        for proxy in merged.values():
            fh.write(json.dumps(proxy.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
    return len(merged)


__all__ = ["export_entities"]
